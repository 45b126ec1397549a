"""Notification's issue end to end on real Kafka and PostgreSQL, with identity, intake,
triage, mediation and notification as processes, the Tencent SMS and WeChat test servers
and a real SMTP server (aiosmtpd), nothing written behind the services' backs.

Three cases against one employer: a hotline call two days ago (the operator records the
employer's contact on the form), a hotline call an hour ago (the contact added from the
case page, ``PUT /api/v1/cases/{n}/employer-contact``) and a worker writing on WeChat now,
the third case in 90 days: triage flags the employer. The second case goes through
mediation: a session with the employer's representative, moved, an agreement, paid, closed.
Every message on the three providers is then checked per recipient, in order, each once.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.test_intake_channels import AES_KEY, APP_ID, TOKEN, FakeWeChatServer
from tests.support.mediation_service import coordinator, query
from tests.support.notification_providers import running, smtp_server
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
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration

DISTRICT = "440305"
SHENZHEN = ZoneInfo("Asia/Shanghai")
EMPLOYER = "深圳市鹏程建筑劳务有限公司"
CONTACT = {"name": "李经理", "mobile": "139 1234 0000", "email": "hr@pengcheng.example.cn"}
EMPLOYER_PHONE = "+8613912340000"
ROOM = "南山区职工服务中心调解室"
PUBLIC_URL = "https://12351.example.org/notification"
# A termination without notice: a claim, no group, no migrant-wage rule: mediation.union.
STORY = 2
EMPLOYER_SMS = ["sms/employer_session_scheduled", "sms/employer_session_moved"]
EMPLOYER_EMAIL = [
    "email/employer_reminder_letter",
    "email/employer_session_scheduled",
    "email/employer_session_moved",
]
SMS_TEMPLATE = {provider: ours for ours, provider in SMS_TEMPLATE_IDS.items()}
WECHAT_TEMPLATE = {provider: ours for ours, provider in WECHAT_TEMPLATE_IDS.items()}


class Inbox:
    """What the three providers received, per recipient, in the order it arrived: the test
    waits for each step's messages before the next step, so arrival order is the order."""

    def __init__(self, sms: Any, wechat: Any, smtp: Any) -> None:
        self.sms, self.wechat, self.smtp = sms, wechat, smtp
        self.got: dict[str, list[tuple[str, Any]]] = {}
        self._sms_seen = self._wechat_seen = 0
        self._mail_seen: set[str] = set()
        self.names: dict[str, str] = {}  # a short name -> the phone, OpenID or address

    def collect(self) -> None:
        for sent in self.sms.sent[self._sms_seen :]:
            self.got.setdefault(sent.phone, []).append((SMS_TEMPLATE[sent.template_id], sent))
        self._sms_seen = len(self.sms.sent)
        for sent in self.wechat.sent[self._wechat_seen :]:
            template = WECHAT_TEMPLATE[sent.template_id]
            self.got.setdefault(sent.openid, []).append((template, sent))
        self._wechat_seen = len(self.wechat.sent)
        for mail in self.smtp.messages():
            if mail["Message-ID"] not in self._mail_seen:
                self._mail_seen.add(mail["Message-ID"])
                self.got.setdefault(mail["To"], []).append((str(mail["Subject"]), mail))

    def expect(self, what: str, **counts: int) -> None:
        """Wait until each recipient (by its short name) has had this many messages."""

        def arrived() -> bool:
            self.collect()
            return all(len(self.got.get(self.names[k], [])) >= n for k, n in counts.items())

        wait_until(arrived, timeout_s=120, what=what)
        for k, n in counts.items():
            assert len(self.got[self.names[k]]) == n, (what, k, self.templates(k))

    def templates(self, who: str) -> list[str]:
        return [t for t, _ in self.got.get(self.names[who], [])]


def _local(day: int, hour: int, minute: int) -> datetime:
    today = datetime.now(SHENZHEN).date()
    return datetime.combine(today + timedelta(days=day), datetime.min.time(), SHENZHEN).replace(
        hour=hour, minute=minute
    )


def test_three_cases_one_mediated_to_closure_tell_workers_and_employer_in_order_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path)
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    deployment.start("triage", "mediation")
    intake, mediation = deployment["intake"].url, deployment["mediation"].url
    registered = httpx.put(
        f"{mediation}/api/v1/mediators/mediator-li",
        json={"name": "李调解", "organisation": "union", "districts": [DISTRICT]},
        headers=coordinator(),
        timeout=15,
    )
    assert registered.status_code == 200, registered.text

    with (
        running(sms_server()) as sms,
        running(wechat_server()) as wechat,
        smtp_server(tmp_path) as smtp,
    ):
        env = notification_env(
            deployment,
            sms,
            wechat,
            secret,
            WEIQUAN_NOTIFICATION_SMTP_HOST=smtp.host,
            WEIQUAN_NOTIFICATION_SMTP_PORT=str(smtp.port),
            WEIQUAN_NOTIFICATION_SMTP_SENDER="weiquan@union.example.cn",
            WEIQUAN_NOTIFICATION_SURVEY_KEY=secrets.token_hex(32),
            WEIQUAN_NOTIFICATION_PUBLIC_URL=PUBLIC_URL,
            # The mediated worker gets six SMS within the hour; the production limit (5 an
            # hour) would hold the sixth for an hour: the rate is tested on its own.
            WEIQUAN_NOTIFICATION_RATE_MESSAGES="20",
        )
        deployment.start("notification", **env)
        inbox = Inbox(sms, wechat, smtp)
        operator = signed_in(Role.OPERATOR, districts=(DISTRICT,))

        def call(seed: int, called_at: datetime, contact: dict[str, str] | None) -> tuple[str, str]:
            body = hotline_call(
                random.Random(seed), story=STORY, employer=0, district=DISTRICT, called_at=called_at
            )
            if contact is not None:
                body["employer"]["contact"] = contact
            answer = httpx.post(
                f"{intake}/api/v1/hotline-calls", json=body, headers=operator, timeout=15
            )
            assert answer.status_code == 201, answer.text
            mobile = body["workers"][0]["mobile"]
            return answer.json()["case_number"], f"+86{mobile}"

        # 1. Two days ago: the employer's contact recorded on the hotline form.
        first, first_phone = call(151, datetime.now(UTC) - timedelta(days=2), CONTACT)
        # 2. An hour ago, without the contact; the operator adds it from the case page.
        second, second_phone = call(152, datetime.now(UTC) - timedelta(hours=1), None)
        inbox.names = {
            "first": first_phone,
            "second": second_phone,
            "employer_sms": EMPLOYER_PHONE,
            "employer_email": CONTACT["email"],
        }
        inbox.expect("accepted and routed", first=2, second=2)
        put = httpx.put(
            f"{intake}/api/v1/cases/{second}/employer-contact",
            json=CONTACT,
            headers=operator,
            timeout=15,
        )
        assert put.status_code == 200, put.text
        shown = put.json()
        assert (shown["name"], shown["mobile"], shown["email"]) == (
            "李*理",
            "139****0000",
            "h***@pengcheng.example.cn",
        )

        # Notification knows by which channels both cases' employer can be reached (never
        # the contact itself) before the third case comes.
        wait_until(
            lambda: len(query_notification(deployment, "SELECT 1 FROM employer_contacts")) == 2,
            what="both cases' employer contacts known to notification",
        )

        # 3. Now, on WeChat, without the contact: the employer's third case in 90 days.
        openid = "oWkr" + secrets.token_urlsafe(20)
        worker = FakeWeChatServer(intake, openid)
        answers = ["登记", "张伟", "137 0000 1530", EMPLOYER, DISTRICT]
        answers += [
            "被公司突然解除劳动合同，没有提前三十天通知，要求支付赔偿金。",
            "要求支付违法解除劳动合同赔偿金12000元",
            "12000",
            "同意",
        ]
        replies = [worker.send(text) for text in answers]
        assert "您的案件编号是 " in replies[-1], replies[-1]
        third = replies[-1].split("您的案件编号是 ")[1].split("，")[0]
        inbox.names |= {"third": "+8613700001530", "third_wechat": openid}
        inbox.expect(
            "the WeChat case told, the employer's reminder letter",
            third=2,
            third_wechat=2,
            employer_email=1,
        )

        # The second case through mediation.
        def opened() -> list[dict[str, Any]]:
            return query(
                deployment,
                "SELECT m.mediation_number FROM mediations m JOIN cases c USING (mediation_id) "
                "WHERE c.case_number = $1 AND m.closed_at IS NULL "
                "AND m.lead_mediator_id IS NOT NULL",
                second,
            )

        wait_until(lambda: bool(opened()), what="the second case's mediation with its lead")
        api = f"/api/v1/mediations/{opened()[0]['mediation_number']}"
        li = signed_in(
            Role.MEDIATOR,
            subject="mediator-li",
            organisation=Organisation.UNION,
            name="李调解",
            districts=(DISTRICT,),
        )
        starts, moved_to = _local(1, 14, 30), _local(2, 10, 0)
        with httpx.Client(base_url=mediation, timeout=30, headers=li) as med:
            assert med.post(f"{api}/accept", json={}).status_code == 200
            room = med.post(
                "/api/v1/rooms",
                json={
                    "name": ROOM,
                    "kind": "union_room",
                    "district_code": DISTRICT,
                    "location": "南山区南海大道职工服务中心二楼",
                    "capacity": 10,
                },
                headers=coordinator(),
            )
            assert room.status_code == 201, room.text
            booked = med.post(
                f"{api}/sessions",
                json={
                    "room_id": room.json()["room_id"],
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=2)).isoformat(),
                },
            )
            assert booked.status_code == 201, booked.text
            inbox.expect("the invitations", second=3, employer_sms=1, employer_email=2)
            moved = med.post(
                f"/api/v1/sessions/{booked.json()['session_id']}/move",
                json={
                    "starts_at": moved_to.isoformat(),
                    "ends_at": (moved_to + timedelta(hours=2)).isoformat(),
                    "reason": "party_request_employer",
                },
            )
            assert moved.status_code == 200, moved.text
            inbox.expect("the moves", second=4, employer_sms=2, employer_email=3)

            [case] = med.get(api).json()["cases"]
            [ref] = [w["worker_ref"] for w in case["workers"]]
            today = datetime.now(SHENZHEN).date()
            agreed = med.post(
                f"{api}/agreement",
                json={
                    "items": [{"worker_ref": ref, "item": "compensation", "amount": "12000.00"}],
                    "effective_on": today.isoformat(),
                    "instalments": [
                        {"due_on": (today + timedelta(days=10)).isoformat(), "amount": "12000.00"}
                    ],
                },
            )
            assert agreed.status_code == 201, agreed.text
            inbox.expect("the agreement", second=5)
            paid = med.post(
                f"{api}/instalments/1/payment",
                json={
                    "amount": "12000.00",
                    "paid_on": today.isoformat(),
                    "evidence": "bank_transfer",
                },
            )
            assert paid.status_code == 200 and paid.json()["closed"] is True, paid.text
            inbox.expect("the survey at closure", second=6)

        time.sleep(3)  # anything more (a duplicate, a stray message) would arrive by now
        inbox.collect()

    # Every recipient, in order, each message once.
    assert set(inbox.got) == set(inbox.names.values())
    assert inbox.templates("first") == ["sms/case_accepted", "sms/case_routed_mediation"]
    assert inbox.templates("third") == ["sms/case_accepted", "sms/case_routed_mediation"]
    assert inbox.templates("third_wechat") == ["wechat/case_accepted", "wechat/case_routed"]
    assert inbox.templates("second") == [
        "sms/case_accepted",
        "sms/case_routed_mediation",
        "sms/mediation_session_scheduled",
        "sms/mediation_session_moved",
        "sms/mediation_agreement_reached",
        "sms/mediation_survey",
    ]
    assert inbox.templates("employer_sms") == EMPLOYER_SMS
    got = {who: [m for _, m in inbox.got[phone]] for who, phone in inbox.names.items()}

    # The case numbers, the session's place and times, the survey link.
    assert got["first"][0].params == [first]
    assert got["third"][0].params == [third]
    assert got["third_wechat"][0].data["keyword1"] == third
    mediated = got["second"]
    assert mediated[0].params == [second]
    assert mediated[2].params == [f"{starts.month}月{starts.day}日", "14:30", ROOM]
    assert mediated[3].params == [f"{moved_to.month}月{moved_to.day}日", "10:00", ROOM]
    number, link = mediated[5].params
    assert number == second and link.startswith(f"{PUBLIC_URL}/survey/")
    employer_sms = got["employer_sms"]
    assert employer_sms[0].params == [f"{starts.month}月{starts.day}日", "14:30", ROOM]
    assert employer_sms[1].params == [f"{moved_to.month}月{moved_to.day}日", "10:00", ROOM]

    assert inbox.templates("employer_email") == [
        f"工会劳动法律监督提示函（{EMPLOYER}）",
        f"劳动争议调解通知（案件编号 {second}）",
        f"劳动争议调解改期通知（案件编号 {second}）",
    ]
    letter, invitation, move = got["employer_email"]
    body = letter.get_body(preferencelist=("plain",)).get_content()
    assert f"{EMPLOYER}：" in body and "已有3件" in body and "深圳市南山区总工会" in body
    [pdf] = list(letter.iter_attachments())
    assert pdf.get_filename() == "工会劳动法律监督提示函.pdf"
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF-")
    assert f"{starts.month}月{starts.day}日 14:30在{ROOM}进行" in invitation.get_content()
    assert f"改为{moved_to.month}月{moved_to.day}日 10:00在{ROOM}进行" in move.get_content()
    assert f"原定{starts.month}月{starts.day}日 14:30的调解取消" in move.get_content()
    # The letter is recorded on the latest flagged case with an employer email: the second.
    rows = query_notification(
        deployment,
        "SELECT case_number, recipient_kind, status FROM messages "
        "WHERE template_id = 'email/employer_reminder_letter'",
    )
    assert rows == [{"case_number": second, "recipient_kind": "employer", "status": "sent"}]
    # Intake audited each lookup of the employer's contact as notification, with its purpose.
    employer_lookups = [
        e["payload"]
        for e in events(deployment, "audit.recorded")
        if e["payload"]["action"] == "pii.looked_up" and "employer" in e["payload"]["reason"]
    ]
    assert sorted(p["reason"] for p in employer_lookups) == sorted([*EMPLOYER_SMS, *EMPLOYER_EMAIL])
    assert all("employer_contact" in p["detail"] for p in employer_lookups)
    # The employer's contact never crossed Kafka: its events name the channels only.
    recorded = events(deployment, "case.employer_contact_recorded")
    assert sorted((e["payload"]["recorded_by"], e["payload"]["channels"]) for e in recorded) == [
        ("case_page", ["mobile", "email"]),
        ("intake_form", ["mobile", "email"]),
    ]
    for event_type in ("case.employer_contact_recorded", "case.reported", "notification.sent"):
        for raw in raw_events(deployment, event_type):
            assert b"13912340000" not in raw and b"pengcheng.example.cn" not in raw
            assert "李经理".encode() not in raw


def query_notification(deployment: Deployment, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await deployment.connect("notification")
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())
