"""The survey at legal aid's closure, answered by a WeChat reply, on the real stack.

A union has one official account, and an account has one server address: intake's
callback. A worker reports on WeChat (intake's real dialog, signed and AES-encrypted as
WeChat's servers send it), the case goes to legal aid (triage's decision on its topic), the
officer grants aid and closes it (legal_aid's API); notification sends the worker the
survey by SMS and WeChat (local Tencent and WeChat servers). The worker replies
``5 律师很负责`` to the official account: intake sees a score from an OpenID with no dialog
in progress and hands it to notification's internal route with its own service token;
the worker gets notification's thanks, encrypted by intake. ``survey.answered`` (about legal
aid, by WeChat) is on Kafka once, legal aid records the application's satisfaction, and
projection's legal-aid satisfaction rate counts it. A "5" typed in the middle of a
registration is the dialog's; a "5" from an OpenID without a survey goes on to the dialog
as before; the internal route refuses a person's token; the OpenID is nowhere in clear
(events, notification's tables, both services' logs). With notification down (a port that
never answers), intake still registers a case by WeChat, a "1" starting the dialog.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from intake.domain_wechat import QUESTIONS, WELCOME
from tests.integration.test_intake_channels import AES_KEY, APP_ID, TOKEN, FakeWeChatServer
from tests.support.legal_aid import decide, queued_application, triage
from tests.support.notification_providers import running
from tests.support.notification_stack import (
    SMS_TEMPLATE_IDS,
    WECHAT_TEMPLATE_IDS,
    events,
    notification_env,
    raw_events,
    sms_server,
    start_backends,
    wechat_server,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import wechat_answers

pytestmark = pytest.mark.integration

WECHAT_ACCOUNT = {
    "WEIQUAN_WECHAT_TOKEN": TOKEN,
    "WEIQUAN_WECHAT_ENCODING_AES_KEY": AES_KEY,
    "WEIQUAN_WECHAT_APP_ID": APP_ID,
}


def intake_env(deployment: Deployment, intake_secret: str, notification_url: str) -> dict[str, str]:
    """Intake as the official account's one address, with its own service credentials."""
    return {
        **WECHAT_ACCOUNT,
        "WEIQUAN_SERVICE_SECRET_INTAKE": intake_secret,
        "WEIQUAN_INTAKE_TOKEN_URL": f"{deployment['identity'].url}/api/v1/token",
        "WEIQUAN_INTAKE_NOTIFICATION_URL": notification_url,
    }


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that takes connections and never answers: notification hung."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_legal_aid_survey_answered_by_a_wechat_reply_counts_for_legal_aid(
    deployment: Deployment, tmp_path: Path
) -> None:
    intake_secret = secrets.token_hex(32)
    secret = start_backends(
        deployment, tmp_path, "legal_aid", "projection", intake_secret=intake_secret
    )
    # Intake first (notification asks it for contacts), then notification, then intake
    # again on its port knowing where notification is: each needs the other's address.
    with silent_server() as nowhere:
        deployment.start("intake", **intake_env(deployment, intake_secret, nowhere))
    with running(sms_server()) as sms, running(wechat_server()) as wechat:
        deployment.start(
            "notification",
            **notification_env(
                deployment,
                sms,
                wechat,
                secret,
                WEIQUAN_NOTIFICATION_SURVEY_KEY=secrets.token_hex(32),
            ),
        )
        intake_port = deployment["intake"].port
        deployment["intake"].stop()
        deployment.start(
            "intake",
            **intake_env(deployment, intake_secret, deployment["notification"].url),
            WEIQUAN_HTTP_PORT=str(intake_port),
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

        app = queued_application(base, officer, number, "the application in the officer's queue")
        api = f"{base}/applications/{app['application_number']}"
        decided = decide(api, officer, household_size=3, income="3000.00")
        assert decided.json()["outcome"] == "granted", decided.text

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

        before = wait_until(
            lambda: (f := legal_aid_figures())["aided"] == 1 and f, what="aid counted"
        )
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

        # Notification's internal route: intake's service token only, never a person's.
        internal = f"{deployment['notification'].url}/api/v1/internal/wechat-replies"
        handed = {"openid": openid, "text": "1", "msg_id": "1"}
        person = httpx.post(internal, json=handed, headers=signed_in(Role.ADMIN))
        assert person.status_code == 403, person.text
        assert httpx.post(internal, json=handed).status_code == 401
        # One account, one address: notification has no callback of its own any more.
        gone = httpx.post(f"{deployment['notification'].url}/wechat/callback", content="<xml/>")
        assert gone.status_code == 404

        # Not a score: intake's dialog answers (its welcome), the survey stays open.
        assert worker.send("律师很好") == WELCOME
        # A "5" in the middle of a registration is the dialog's answer (a bad name), not
        # the survey's; the worker then cancels.
        assert worker.send("登记") == QUESTIONS["name"]
        assert worker.send("5").endswith(QUESTIONS["name"])
        assert worker.send("取消").startswith("已取消本次登记")
        # The answer, through intake's callback (WeChat adds the OpenID to the query too).
        thanks = worker.send("5 律师很负责")
        assert "感谢您的评价（5 分：很满意）" in thanks
        # WeChat's redelivery of the same message: the same reply, recorded once.
        assert worker.send("5 律师很负责", msg_id=worker.msg_id) == thanks
        assert "您已评价过" in worker.send("1")
        # An OpenID without an open survey: the digits go on to intake's dialog as before.
        stranger = FakeWeChatServer(deployment["intake"].url, "oStranger" + "x" * 20)
        assert stranger.send("5") == WELCOME
        assert stranger.send("1") == QUESTIONS["name"]
        # The same survey's link (SMS) is used up too: one answer per survey.
        used = httpx.get(deployment["notification"].url + link.split("/notification")[1])
        assert used.status_code == 410 and "已提交" in used.text

        wait_until(lambda: len(events(deployment, "survey.answered")) == 1, what="the event")
        time.sleep(1)  # a second event (a redelivery recorded twice) would be there by now
        [event] = events(deployment, "survey.answered")
        payload = event["payload"]
        assert payload["score"] == 5 and payload["has_comment"] is True
        assert payload["about"] == "legal_aid" and payload["answered_by"] == "wechat"
        assert payload["about_number"] == app["application_number"]
        assert payload["case_number"] == number
        assert event["actor"] == {"kind": "public", "id": "survey-wechat", "role": None}

        # Legal aid records it as the application's satisfaction; projection counts it.
        recorded = wait_until(
            lambda: [
                e
                for e in events(deployment, "legal_aid.satisfaction_recorded")
                if e["payload"]["application_number"] == app["application_number"]
            ],
            what="legal_aid.satisfaction_recorded",
        )
        assert recorded[0]["payload"]["satisfaction"] == 5
        assert httpx.get(api, headers=officer).json()["satisfaction"] == 5
        after = wait_until(
            lambda: (f := legal_aid_figures())["answered"] == 1 and f, what="counted"
        )
        assert after["satisfied"] == 1 and after["satisfaction_rate"] == 1.0

        for event_type in ("survey.answered", "notification.sent", "audit.recorded"):
            assert not any(openid.encode() in raw for raw in raw_events(deployment, event_type))
        assert openid not in deployment["notification"].log_text()
        assert "wechat survey answer handed to notification" in deployment["intake"].log_text()
        assert openid not in deployment["intake"].log_text()

        async def openid_stored() -> bool:
            conn = await deployment.connect("notification")
            try:
                rows = await conn.fetch("SELECT * FROM surveys")
                return any(openid in str(dict(r)) for r in rows)
            finally:
                await conn.close()

        assert not asyncio.run(openid_stored())


def test_intake_registers_a_case_by_wechat_while_notification_is_down(
    deployment: Deployment, tmp_path: Path
) -> None:
    intake_secret = secrets.token_hex(32)
    start_backends(deployment, tmp_path, intake_secret=intake_secret)
    with silent_server() as hung:
        deployment.start(
            "intake",
            **intake_env(deployment, intake_secret, hung),
            WEIQUAN_INTAKE_SURVEY_REPLY_TIMEOUT_S="1",
        )
        openid = "oDown" + secrets.token_urlsafe(20)
        worker = FakeWeChatServer(deployment["intake"].url, openid)
        # "1" reads as a score and as the dialog's start: notification cannot say, so
        # intake's dialog goes on, well within WeChat's 5 seconds.
        began = time.monotonic()
        assert worker.send("1") == QUESTIONS["name"]
        assert time.monotonic() - began < 4
        answers = wechat_answers(random.Random(21), story=1)
        done = [worker.send(text) for text in answers[1:]][-1]
        assert done.startswith("登记成功！您的案件编号是 ")
    number = done.split("您的案件编号是 ")[1].split("，")[0]
    wait_until(
        lambda: any(
            e["payload"]["case_number"] == number for e in events(deployment, "case.reported")
        ),
        what="case.reported",
    )
    log = deployment["intake"].log_text()
    assert "survey answer not handed over: notification too slow" in log
    assert openid not in log
