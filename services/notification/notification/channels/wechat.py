"""WeChat official-account template messages (``/cgi-bin/message/template/send``).

The access token comes from ``/cgi-bin/token`` (client_credential) and is cached until
shortly before WeChat says it expires; an answer of errcode 40001 / 40014 / 42001 (token
invalid or expired: another process fetched a new one, or WeChat rotated it) drops the
cached token, fetches a new one and sends once more. Plain HTTPS and JSON with httpx:
wechatpy's client is synchronous and adds nothing here.

Idempotency: the API has none (each call is a new message, answered with a msgid).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from notification.channels.base import Delivery, PermanentFailure, Sent, TransientFailure

TOKEN_INVALID = {40001, 40014, 42001}
# The recipient cannot receive it: not following the account, blocked, wrong OpenID.
PERMANENT_ERRCODES = {40003, 43004, 43101, 40037}
RENEW_BEFORE_S = 300.0


class WeChatSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_NOTIFICATION_WECHAT_", extra="ignore")

    app_id: str = ""
    app_secret: SecretStr = SecretStr("")
    api_base: str = "https://api.weixin.qq.com"
    timeout_s: float = Field(default=10.0, gt=0)
    # Our template id -> the template id chosen in the official account's console.
    template_ids: dict[str, str] = Field(default_factory=dict)


class WeChatTemplateMessages:
    name = "wechat"

    def __init__(
        self,
        settings: WeChatSettings,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._http = http or httpx.AsyncClient(
            base_url=settings.api_base, timeout=settings.timeout_s
        )
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0

    @property
    def missing(self) -> list[str]:
        s = self.settings
        needed = {
            "WEIQUAN_NOTIFICATION_WECHAT_APP_ID": s.app_id,
            "WEIQUAN_NOTIFICATION_WECHAT_APP_SECRET": s.app_secret.get_secret_value(),
            "WEIQUAN_NOTIFICATION_WECHAT_TEMPLATE_IDS": "x" if s.template_ids else "",
        }
        return [name for name, value in needed.items() if not value]

    async def access_token(self, *, renew: bool = False) -> str:
        async with self._lock:
            if renew or self._token is None or self._clock() >= self._renew_at:
                body = await self._call(
                    "GET",
                    "/cgi-bin/token",
                    params={
                        "grant_type": "client_credential",
                        "appid": self.settings.app_id,
                        "secret": self.settings.app_secret.get_secret_value(),
                    },
                )
                if "access_token" not in body:
                    raise TransientFailure(f"token refused: {_error(body)}")
                self._token = str(body["access_token"])
                lifetime = float(body.get("expires_in", 7200))
                self._renew_at = self._clock() + max(lifetime - RENEW_BEFORE_S, lifetime / 2)
                self.tokens_fetched += 1
            return self._token

    async def send(self, delivery: Delivery) -> Sent:
        template = self.settings.template_ids.get(delivery.template_id)
        if template is None:
            raise TransientFailure(f"no WeChat template id for {delivery.template_id}")
        message = {
            "touser": delivery.address,
            "template_id": template,
            "data": {key: {"value": value} for key, value in delivery.fields.items()},
        }
        for renew in (False, True):
            token = await self.access_token(renew=renew)
            body = await self._call(
                "POST",
                "/cgi-bin/message/template/send",
                params={"access_token": token},
                json=message,
            )
            code = int(body.get("errcode", 0))
            if code == 0:
                return Sent(str(body.get("msgid")) if body.get("msgid") is not None else None)
            if code in TOKEN_INVALID and not renew:
                continue
            if code in PERMANENT_ERRCODES:
                raise PermanentFailure(_error(body))
            raise TransientFailure(_error(body))
        raise TransientFailure("access token refused twice")

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TransientFailure(f"WeChat unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise TransientFailure(f"WeChat answered HTTP {response.status_code}")
        body = response.json()
        if not isinstance(body, dict):
            raise TransientFailure("WeChat answered without a JSON object")
        return body

    async def aclose(self) -> None:
        await self._http.aclose()


def _error(body: dict[str, Any]) -> str:
    return f"errcode {body.get('errcode')}: {body.get('errmsg', '')}"[:300]
