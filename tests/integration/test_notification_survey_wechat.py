"""The survey at legal aid's closure, answered by a WeChat reply, on the real stack.

A worker reports on WeChat (intake's real dialog), the case goes to legal aid (triage's
decision on its topic), the officer grants aid and closes it (legal_aid's API);
notification sends the worker the survey by SMS and WeChat (local Tencent and WeChat
servers). The worker replies ``5 律师很负责`` to the official account: a real HTTP POST of
signed plaintext XML to notification's callback. ``survey.answered`` (about legal aid, by
WeChat) is on Kafka, legal aid records the application's satisfaction, and projection's
legal-aid satisfaction rate counts it. A bad signature is refused (403); a second reply
and the SMS link of the same survey are refused as already answered; the OpenID is
nowhere in clear (events, notification's tables and log).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.test_intake_channels import AES_KEY, APP_ID, TOKEN, FakeWeChatServer
from tests.support.legal_aid import triage, until
from tests.support.notification_providers import running
from tests.support.notification_stack import (
    SMS_TEMPLATE_IDS,
    WECHAT_TEMPLATE_IDS,
    events,
    notification_env,
    raw_events,
    sms_server,
    start_backends,
    wait_until,
    wechat_server,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import wechat_answers

pytestmark = pytest.mark.integration

CALLBACK_TOKEN = "notificationCallbackToken"
ACCOUNT = "gh_union_account"


def signed(token: str = CALLBACK_TOKEN, at: float | None = None) -> dict[str, str]:
    timestamp, nonce = str(int(at if at is not None else time.time())), secrets.token_hex(6)
    digest = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": digest, "timestamp": timestamp, "nonce": nonce}


def text_message(openid: str, content: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{random.randrange(10**16, 10**17)}</MsgId></xml>"
    )


def reply_text(response: httpx.Response, openid: str) -> str:
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert root.findtext("ToUserName") == openid and root.findtext("FromUserName") == ACCOUNT
    assert root.findtext("MsgType") == "text"
    return root.findtext("Content") or ""


def test_a_legal_aid_survey_answered_by_a_wechat_reply_counts_for_legal_aid(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "legal_aid", "projection")
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    with running(sms_server()) as sms, running(wechat_server()) as wechat:
        deployment.start(
            "notification",
            **notification_env(
                deployment,
                sms,
                wechat,
                secret,
                WEIQUAN_NOTIFICATION_SURVEY_KEY=secrets.token_hex(32),
                WEIQUAN_NOTIFICATION_WECHAT_CALLBACK_TOKEN=CALLBACK_TOKEN,
            ),
        )
        openid = "oWkr" + secrets.token_urlsafe(20)
        worker = FakeWeChatServer(deployment["intake"].url, openid)
        replies = [worker.send(text) for text in wechat_answers(random.Random(8), story=0)]
        number = replies[-1].split("您的案件编号是 ")[1].split("，")[0]
        reported = next(
            e["payload"]
            for e in events(deployment, "case.reported")
            if e["payload"]["case_number"] == number
        )
        case_id, district = uuid.UUID(reported["case_id"]), reported["district_code"]
        triage(deployment, case_id, number, "legal_aid")

        base = deployment["legal_aid"].url + "/api/v1"
        officer = signed_in(Role.LEGAL_AID_OFFICER, districts=(district,))

        def queued() -> list[dict[str, Any]]:
            items = httpx.get(f"{base}/applications", headers=officer).json()["applications"]
            return [a for a in items if a["case_number"] == number]

        [app] = until(queued, "the application in the officer's queue")
        api = f"{base}/applications/{app['application_number']}"
        facts = {
            "household_size": 3,
            "monthly_household_income": "3000.00",
            "documents_received": [
                "identity",
                "application_form",
                "employment_proof",
                "hardship_pledge",
                "wage_evidence",
            ],
        }
        assert httpx.put(f"{api}/facts", json=facts, headers=officer).status_code == 200
        decided = httpx.post(f"{api}/decision", headers=officer)
        assert decided.status_code == 200 and decided.json()["outcome"] == "granted", decided.text

        projection = deployment["projection"].url
        supervisor = signed_in(Role.SUPERVISOR, districts=(district,))
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        window = {
            "district": district,
            "from": (today - timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=1)).isoformat(),
        }

        def legal_aid_figures() -> dict[str, Any]:
            answer = httpx.get(f"{projection}/api/v1/dashboard", params=window, headers=supervisor)
            assert answer.status_code == 200, answer.text
            return dict(answer.json()["legal_aid"])

        before = until(lambda: (f := legal_aid_figures())["aided"] == 1 and f, "aid counted")
        assert before["answered"] == 0 and before["satisfaction_rate"] is None

        closed = httpx.post(
            f"{api}/close",
            json={"reason": "concluded_settlement", "amount_recovered": "12000.00"},
            headers=officer,
        )
        assert closed.status_code == 200, closed.text

        # The survey by SMS (its link) and by WeChat (telling the worker to reply a digit).
        survey_sms = SMS_TEMPLATE_IDS["sms/legal_aid_survey"]
        wait_until(lambda: any(s.template_id == survey_sms for s in sms.sent), what="SMS")
        [by_sms] = [s for s in sms.sent if s.template_id == survey_sms]
        assert by_sms.params[0] == number
        link = by_sms.params[1]
        survey_wechat = WECHAT_TEMPLATE_IDS["wechat/legal_aid_survey"]
        wait_until(lambda: any(m.template_id == survey_wechat for m in wechat.sent), what="WeChat")
        [by_wechat] = [m for m in wechat.sent if m.template_id == survey_wechat]
        assert by_wechat.openid == openid and "回复数字1-5" in by_wechat.data["remark"]

        async def wechat_ref_kept() -> bool:
            conn = await deployment.connect("notification")
            try:
                return bool(
                    await conn.fetchval(
                        "SELECT wechat_ref IS NOT NULL FROM surveys WHERE about = 'legal_aid'"
                    )
                )
            finally:
                await conn.close()

        wait_until(lambda: asyncio.run(wechat_ref_kept()), what="the OpenID's keyed hash kept")

        callback = f"{deployment['notification'].url}/wechat/callback"
        with httpx.Client(timeout=10) as client:
            # WeChat's URL verification, then messages signed with the configured token.
            echo = client.get(callback, params={**signed(), "echostr": "8421579"})
            assert echo.status_code == 200 and echo.text == "8421579"
            forged = client.post(
                callback, params=signed("wrong-token"), content=text_message(openid, "1")
            )
            assert forged.status_code == 403 and "签名无效" in forged.json()["detail"]
            stale = client.post(
                callback,
                params=signed(at=time.time() - 3600),
                content=text_message(openid, "1"),
            )
            assert stale.status_code == 403
            unsigned = client.post(callback, content=text_message(openid, "1"))
            assert unsigned.status_code == 403

            # Hostile or broken XML, even correctly signed: a 400 with a Chinese message.
            for body in (
                '<!DOCTYPE xml [<!ENTITY a "5">]><xml><Content>&a;</Content></xml>',
                '<?xml version="1.0" encoding="x-unknown"?><xml/>',
                "<xml><Content>5",
            ):
                broken = client.post(callback, params=signed(), content=body)
                assert broken.status_code == 400 and "微信 XML" in broken.json()["detail"], body

            not_a_score = client.post(
                callback, params=signed(), content=text_message(openid, "律师很好")
            )
            assert "请回复数字 1 到 5" in reply_text(not_a_score, openid)
            # WeChat adds the sender's OpenID to the query too: it must not reach the log.
            answered = client.post(
                callback,
                params={**signed(), "openid": openid},
                content=text_message(openid, "5 律师很负责"),
            )
            assert "感谢您的评价（5 分：很满意）" in reply_text(answered, openid)
            again = client.post(callback, params=signed(), content=text_message(openid, "1"))
            assert "您已评价过" in reply_text(again, openid)
            stranger = client.post(
                callback, params=signed(), content=text_message("oStranger" + "x" * 20, "5")
            )
            assert "没有待评价" in reply_text(stranger, "oStranger" + "x" * 20)
            # The same survey's link (SMS) is used up too: one answer per survey.
            used = client.get(deployment["notification"].url + link.split("/notification")[1])
            assert used.status_code == 410 and "已提交" in used.text

        wait_until(lambda: len(events(deployment, "survey.answered")) == 1, what="the event")
        [event] = events(deployment, "survey.answered")
        payload = event["payload"]
        assert payload["score"] == 5 and payload["has_comment"] is True
        assert payload["about"] == "legal_aid" and payload["answered_by"] == "wechat"
        assert payload["about_number"] == app["application_number"]
        assert payload["case_number"] == number
        assert event["actor"] == {"kind": "public", "id": "survey-wechat", "role": None}

        # Legal aid records it as the application's satisfaction; projection counts it.
        recorded = until(
            lambda: [
                e
                for e in events(deployment, "legal_aid.satisfaction_recorded")
                if e["payload"]["application_number"] == app["application_number"]
            ],
            "legal_aid.satisfaction_recorded",
        )
        assert recorded[0]["payload"]["satisfaction"] == 5
        assert httpx.get(api, headers=officer).json()["satisfaction"] == 5
        after = until(lambda: (f := legal_aid_figures())["answered"] == 1 and f, "counted")
        assert after["satisfied"] == 1 and after["satisfaction_rate"] == 1.0

        for event_type in ("survey.answered", "notification.sent", "audit.recorded"):
            assert not any(openid.encode() in raw for raw in raw_events(deployment, event_type))
        assert openid not in deployment["notification"].log_text()

        async def openid_stored() -> bool:
            conn = await deployment.connect("notification")
            try:
                rows = await conn.fetch("SELECT * FROM surveys")
                return any(openid in str(dict(r)) for r in rows)
            finally:
                await conn.close()

        assert not asyncio.run(openid_stored())
