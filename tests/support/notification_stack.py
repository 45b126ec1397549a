"""The notification service in a test deployment: identity (for its service token),
intake (for contacts), triage (for routes), and local SMS and WeChat providers."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import orjson

from notification.rules import placeholders, rule_book
from tests.support.kafka import read_topic
from tests.support.notification_providers import TencentSmsServer, WeChatServer
from tests.support.stack import Deployment

SMS_APP = {"secret_id": "AKIDnotification", "secret_key": "k" * 32, "sdk_app_id": "1400009999"}
SIGNATURE = "深圳市总工会"
# Our template id -> the provider's approved id (as a union's console would list them).
SMS_TEMPLATE_IDS = {
    rule.template: str(3000 + n)
    for n, rule in enumerate(
        sorted({r.template: r for r in rule_book().rules}.values(), key=lambda r: r.template)
    )
    if rule.channel == "sms"
}
WECHAT_TEMPLATE_IDS = {
    rule.template: f"TPL-{rule.template.split('/')[1]}"
    for rule in rule_book().rules
    if rule.channel == "wechat"
}


def sms_server() -> TencentSmsServer:
    return TencentSmsServer(
        sign_name=SIGNATURE,
        templates={pid: len(placeholders(t)) for t, pid in SMS_TEMPLATE_IDS.items()},
        **SMS_APP,
    )


def wechat_server() -> WeChatServer:
    return WeChatServer(
        app_id="wxnotification",
        app_secret="wechat-secret",
        templates=set(WECHAT_TEMPLATE_IDS.values()),
    )


def notification_env(
    deployment: Deployment,
    sms: TencentSmsServer | None,
    wechat: WeChatServer | None,
    client_secret: str,
    *,
    intake_url: str | None = None,
    **extra: str,
) -> dict[str, str]:
    env = {
        "WEIQUAN_NOTIFICATION_INTAKE_URL": intake_url or deployment["intake"].url,
        "WEIQUAN_NOTIFICATION_TOKEN_URL": f"{deployment['identity'].url}/api/v1/token",
        "WEIQUAN_SERVICE_SECRET_NOTIFICATION": client_secret,
        # No quiet hours unless a test sets them (start = end: never quiet).
        "WEIQUAN_NOTIFICATION_QUIET_START": "00:00",
        "WEIQUAN_NOTIFICATION_QUIET_END": "00:00",
        "WEIQUAN_NOTIFICATION_RETRY_FIRST_DELAY_S": "1",
        "WEIQUAN_NOTIFICATION_POLL_S": "0.2",
    }
    if sms is not None:
        env |= {
            "WEIQUAN_NOTIFICATION_SMS_SECRET_ID": sms.secret_id,
            "WEIQUAN_NOTIFICATION_SMS_SECRET_KEY": sms.secret_key,
            "WEIQUAN_NOTIFICATION_SMS_SDK_APP_ID": sms.sdk_app_id,
            "WEIQUAN_NOTIFICATION_SMS_SIGNATURE": SIGNATURE,
            "WEIQUAN_NOTIFICATION_SMS_ENDPOINT": sms.endpoint,
            "WEIQUAN_NOTIFICATION_SMS_SCHEME": "http",
            "WEIQUAN_NOTIFICATION_SMS_TIMEOUT_S": "5",
            "WEIQUAN_NOTIFICATION_SMS_TEMPLATE_IDS": json.dumps(SMS_TEMPLATE_IDS),
        }
    if wechat is not None:
        env |= {
            "WEIQUAN_NOTIFICATION_WECHAT_APP_ID": wechat.app_id,
            "WEIQUAN_NOTIFICATION_WECHAT_APP_SECRET": wechat.app_secret,
            "WEIQUAN_NOTIFICATION_WECHAT_API_BASE": wechat.url,
            "WEIQUAN_NOTIFICATION_WECHAT_TEMPLATE_IDS": json.dumps(WECHAT_TEMPLATE_IDS),
        }
    return env | extra


def start_backends(
    deployment: Deployment, tmp_path: Path, *services: str, intake_secret: str | None = None
) -> str:
    """identity (knowing notification's client secret, and intake's when given), then
    ``services`` (intake, triage…); returns the client secret notification must be started
    with."""
    client_secret = secrets.token_hex(32)
    intake = {"WEIQUAN_SERVICE_SECRET_INTAKE": intake_secret} if intake_secret else {}
    deployment.start(
        "identity",
        WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "signing-keys.json"),
        WEIQUAN_SERVICE_SECRET_NOTIFICATION=client_secret,
        **intake,
    )
    if services:
        deployment.start(*services)
    return client_secret


def events(deployment: Deployment, event_type: str) -> list[dict[str, Any]]:
    topic = deployment.settings().topic(event_type)
    records = asyncio.run(read_topic(deployment.infra.kafka_bootstrap, topic))
    return [orjson.loads(r.value) for r in records]


def raw_events(deployment: Deployment, event_type: str) -> list[bytes]:
    topic = deployment.settings().topic(event_type)
    return [r.value for r in asyncio.run(read_topic(deployment.infra.kafka_bootstrap, topic))]


def messages(deployment: Deployment, where: str = "true", *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await deployment.connect("notification")
        try:
            rows = await conn.fetch(
                f"SELECT * FROM messages WHERE {where} ORDER BY created_at, template_id", *args
            )
            return [dict(r) for r in rows]
        finally:
            await conn.close()

    return asyncio.run(run())
