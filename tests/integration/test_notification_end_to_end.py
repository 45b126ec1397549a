"""Notification's issue end to end on real Kafka and PostgreSQL, with identity, intake,
triage, mediation and notification as processes, the Tencent SMS and WeChat test servers
and a real SMTP server (aiosmtpd), nothing written behind the services' backs.

Three cases against one employer: a hotline call two days ago (the operator records the
employer's contact on the form), a hotline call an hour ago (the contact added from the
case page, ``PUT /api/v1/cases/{n}/employer-contact``) and a worker writing on WeChat now,
the third case in 90 days: triage flags the employer. The second case goes through
mediation: a session with the employer's representative, moved, an agreement, paid, closed.
Every message on the three providers is then checked per recipient, in order, each once.

The staff too: the lead mediator is identity's demo union mediator of 南山区 (seeded by
``python -m identity demo-accounts``, as ``make up`` does, with a work email), registered
in mediation's roster; notification asks identity for the address at send time. The
mediator gets by email the three mediations' assignments; a deadline at risk (the second
case was reported 330 days after the worker knew of the dismissal: its arbitration
limitation enters its 30-day window a few days on, and triage's clock sweep of that day
names it; within the window already, triage would route the case to the labour bureau's
room, which a labour-bureau mediator leads); the reminder of tomorrow's session (the
reminder hour set to midnight: whatever the time of day, a session tomorrow is due for its
reminder at the next look) and, the session moved to another time tomorrow, a second
reminder for the new time (a moved session is reminded of its new time). Each once, with
its content; the delivery log shows 调解员 and the masked address.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import identity
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
    wechat_server,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from triage.domain import Policy
from triage.sweeper import sweep
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.db import create_pool
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
# The lead mediator: identity's demo account (services/identity/identity/demo.py).
MEDIATOR = "demo-mediator"
MEDIATOR_NAME = "演示工会调解员"
MEDIATOR_EMAIL = "zhang.min@nsftu.org.cn"
MEDIATOR_TEMPLATES = [
    "email/mediator_assigned",
    "email/mediator_assigned",
    "email/mediator_assigned",
    "email/mediator_deadline_at_risk",
    "email/mediator_session_reminder",
    "email/mediator_session_reminder",
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

        try:
            wait_until(arrived, timeout_s=120, what=what)
        except AssertionError as exc:
            got = {k: self.templates(k) for k in self.names}
            raise AssertionError(f"{exc}; received so far: {got}") from None
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
    # identity's demo accounts with their work contacts, as `make up` seeds them; while the
    # other services start.
    seeding = subprocess.Popen(
        [sys.executable, "-m", "identity", "demo-accounts", str(tmp_path / "accounts.txt")],
        env=deployment.service_env("identity"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(identity.__file__).parents[3],
    )
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    deployment.start("triage", "mediation")
    _, seed_errors = seeding.communicate(timeout=120)
    assert seeding.returncode == 0, seed_errors
    lead = identity_subject(deployment, MEDIATOR)
    intake, mediation = deployment["intake"].url, deployment["mediation"].url
    # The union's mediator of the district in mediation's roster: the lead of its mediations.
    registered = httpx.put(
        f"{mediation}/api/v1/mediators/{lead}",
        json={"name": MEDIATOR_NAME, "organisation": "union", "districts": [DISTRICT]},
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
            # Staff addresses at identity; tomorrow's sessions reminded from midnight, so a
            # session tomorrow is due at the next look whatever the time of day.
            WEIQUAN_NOTIFICATION_IDENTITY_URL=deployment["identity"].url,
            WEIQUAN_NOTIFICATION_REMINDER_AT="00:00",
            WEIQUAN_NOTIFICATION_REMINDER_POLL_S="0.5",
        )
        deployment.start("notification", **env)
        inbox = Inbox(sms, wechat, smtp)
        operator = signed_in(Role.OPERATOR, districts=(DISTRICT,))

        def call(
            seed: int,
            called_at: datetime,
            contact: dict[str, str] | None,
            knew_on: date | None = None,
        ) -> tuple[str, str]:
            body = hotline_call(
                random.Random(seed), story=STORY, employer=0, district=DISTRICT, called_at=called_at
            )
            if contact is not None:
                body["employer"]["contact"] = contact
            if knew_on is not None:
                body["knew_of_infringement_on"] = knew_on.isoformat()
            answer = httpx.post(
                f"{intake}/api/v1/hotline-calls", json=body, headers=operator, timeout=15
            )
            assert answer.status_code == 201, answer.text
            mobile = body["workers"][0]["mobile"]
            return answer.json()["case_number"], f"+86{mobile}"

        # 1. Two days ago: the employer's contact recorded on the hotline form.
        first, first_phone = call(151, datetime.now(UTC) - timedelta(days=2), CONTACT)
        # 2. An hour ago, without the contact; the operator adds it from the case page. The
        # worker knew of the dismissal 330 days ago: the arbitration limitation (one year)
        # is due in about 35 days, a few days before its 30-day at-risk window (within it
        # triage would send the case to the labour bureau's "工会+仲裁" room instead).
        knew_on = datetime.now(SHENZHEN).date() - timedelta(days=330)
        second, second_phone = call(152, datetime.now(UTC) - timedelta(hours=1), None, knew_on)
        inbox.names = {
            "first": first_phone,
            "second": second_phone,
            "employer_sms": EMPLOYER_PHONE,
            "employer_email": CONTACT["email"],
            "mediator": MEDIATOR_EMAIL,
        }
        # Both cases routed to the union's mediation: the lead is told of each.
        # Both cases routed to the union's own mediation: the lead is told of each.
        inbox.expect("accepted and routed", first=2, second=2, mediator=2)
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
            "the WeChat case told, the employer's reminder letter, its mediation's lead",
            third=2,
            third_wechat=2,
            employer_email=1,
            mediator=3,
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
        mediation_number = opened()[0]["mediation_number"]
        api = f"/api/v1/mediations/{mediation_number}"

        # The daily re-evaluation of the clocks on the day the second case's limitation
        # enters its window (today's ran when triage started, before any case): triage's own
        # sweep, with its rules, calendar and database role, as triage runs it that day; its
        # case.deadlines_updated leaves through triage's outbox. The lead mediator is warned.
        [triaged] = [
            e["payload"]
            for e in events(deployment, "case.triaged")
            if e["payload"]["case_number"] == second
        ]
        assert triaged["route_detail"] == "mediation.union", triaged["route_detail"]
        [limitation] = [c for c in triaged["clocks"] if c["kind"] == "arbitration_limitation"]
        enters_window = date.fromisoformat(limitation["at_risk_from"])
        assert enters_window > datetime.now(SHENZHEN).date()
        assert clock_sweep(deployment, enters_window) == 1  # the second case only
        inbox.expect("the deadline at risk", mediator=4)

        lead_mediator = signed_in(
            Role.MEDIATOR,
            subject=lead,
            organisation=Organisation.UNION,
            name=MEDIATOR_NAME,
            districts=(DISTRICT,),
        )
        # Tomorrow at 14:30, moved to tomorrow at 10:00: the mediator is reminded of each.
        starts, moved_to = _local(1, 14, 30), _local(1, 10, 0)
        with httpx.Client(base_url=mediation, timeout=30, headers=lead_mediator) as med:
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
            inbox.expect(
                "the invitations, the mediator's reminder",
                second=3,
                employer_sms=1,
                employer_email=2,
                mediator=5,
            )
            moved = med.post(
                f"/api/v1/sessions/{booked.json()['session_id']}/move",
                json={
                    "starts_at": moved_to.isoformat(),
                    "ends_at": (moved_to + timedelta(hours=2)).isoformat(),
                    "reason": "party_request_employer",
                },
            )
            assert moved.status_code == 200, moved.text
            inbox.expect(
                "the moves, the mediator's reminder of the new time",
                second=4,
                employer_sms=2,
                employer_email=3,
                mediator=6,
            )

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

    # The lead mediator, at the work address identity holds, each message once: the three
    # mediations' assignments (the first two cases were routed together: either order),
    # the second case's deadline at risk, tomorrow's session at its first time, then at its
    # new time.
    [deadlines] = [
        e["payload"]
        for e in events(deployment, "case.deadlines_updated")
        if e["payload"]["case_number"] == second
    ]
    assert deadlines["at_risk"] == ["arbitration_limitation"]
    assert deadlines["evaluated_on"] == enters_window.isoformat()
    [swept] = [c for c in deadlines["clocks"] if c["kind"] == "arbitration_limitation"]
    due_on = date.fromisoformat(swept["due_on"])  # a year on, or the next working day
    assert due_on == date.fromisoformat(limitation["due_on"]) >= knew_on + timedelta(days=365)
    assert inbox.templates("mediator")[3:] == [
        f"期限预警：案件 {second} 的仲裁时效将于{due_on.month}月{due_on.day}日届满",
        f"明日调解提醒：{starts.month}月{starts.day}日 14:30 {mediation_number}",
        f"明日调解提醒：{moved_to.month}月{moved_to.day}日 10:00 {mediation_number}",
    ]
    mails = [
        (str(m["Subject"]), str(m.get_body(preferencelist=("plain",)).get_content()))
        for m in got["mediator"]
    ]
    told_of = []  # the case each assignment names
    for subject, body in mails[:3]:
        assert subject.startswith(f"调解案件指派通知：TJ-{DISTRICT}-"), subject
        assert "已指派您为主调解员" in body and "牵头单位：工会（按规则指派）" in body, body
        [case_number] = [n for n in (first, second, third) if f"（涉及案件：{n}）" in body]
        told_of.append(case_number)
        if case_number == second:
            assert subject == f"调解案件指派通知：{mediation_number}"
    assert sorted(told_of[:2]) == sorted([first, second]) and told_of[2] == third
    assert (
        f"您主持调解的案件 {second}，仲裁时效将于{due_on.month}月{due_on.day}日届满" in mails[3][1]
    )
    for (_, body), at, clock in ((mails[4], starts, "14:30"), (mails[5], moved_to, "10:00")):
        assert f"您参加的调解 {mediation_number}（涉及案件：{second}）" in body, body
        assert f"定于明天（{at.month}月{at.day}日）{clock}在{ROOM}进行" in body, body
    # The case's delivery log shows them to the people working it: 调解员, the address masked.
    log = httpx.get(
        f"{deployment['notification'].url}/api/v1/cases/{second}/deliveries",
        headers=lead_mediator,
        timeout=15,
    )
    assert log.status_code == 200, log.text
    staff_rows = [d for d in log.json() if d["recipient_kind"] == "mediator"]
    assert sorted(d["template_id"] for d in staff_rows) == [
        "email/mediator_assigned",
        "email/mediator_deadline_at_risk",
        "email/mediator_session_reminder",
        "email/mediator_session_reminder",
    ]
    for d in staff_rows:
        assert (d["recipient"], d["recipient_to"], d["status"]) == (
            "调解员",
            "z***@nsftu.org.cn",
            "sent",
        ), d
    # identity audited each lookup of the mediator's address as notification, with its
    # purpose; the address never crossed Kafka.
    staff_lookups = [
        e["payload"]
        for e in events(deployment, "audit.recorded")
        if e["payload"]["action"] == "pii.looked_up" and e["payload"]["service"] == "identity"
    ]
    assert sorted(p["reason"] for p in staff_lookups) == MEDIATOR_TEMPLATES
    assert all(lead in p["detail"] for p in staff_lookups)
    for event_type in ("mediation.assigned", "notification.sent", "audit.recorded"):
        for raw in raw_events(deployment, event_type):
            assert b"zhang.min" not in raw, event_type


def identity_subject(deployment: Deployment, username: str) -> str:
    """The subject (identity's user id) of an account: what tokens and events name."""

    async def run() -> str:
        conn = await deployment.connect("identity")
        try:
            return str(await conn.fetchval("SELECT id FROM users WHERE username = $1", username))
        finally:
            await conn.close()

    return asyncio.run(run())


def clock_sweep(deployment: Deployment, day: date) -> int | None:
    """Triage's daily re-evaluation of the clocks as of ``day`` (China time), with triage's
    own code, rules, calendar and database role; its ``case.deadlines_updated`` leaves
    through triage's outbox. Returns how many cases it updated."""

    async def run() -> int | None:
        settings = deployment.settings("triage")
        pool = await create_pool(settings)
        try:
            return await sweep(pool, settings, Policy.load(), day)
        finally:
            await pool.close()

    return asyncio.run(run())


def query_notification(deployment: Deployment, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await deployment.connect("notification")
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())
