"""Mediators and lawyers told by notification, on real Kafka, PostgreSQL, identity and the
aiosmtpd process (and the local Tencent SMS server): an assignment, a deadline at risk and
tomorrow's session reach the right work address once, in Chinese; identity answers the
staff-contact lookup to notification's token only, and audits it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import identity
from identity import store as identity_store
from notification.reminders import ReminderTime, enqueue_reminders
from notification.rules import rule_book
from tests.support.kafka import produce_raw
from tests.support.notification_providers import SmtpServer, running, smtp_server
from tests.support.notification_stack import (
    SMS_TEMPLATE_IDS,
    events,
    messages,
    notification_env,
    sms_server,
    start_backends,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.db import create_pool
from weiquan_shared.envelope import Actor, EventPayload, encode, new_event
from weiquan_shared.events._common import WorkerRef
from weiquan_shared.events.legal_aid import LegalAidLawyerAssigned
from weiquan_shared.events.mediation import (
    MediationAssigned,
    MediationCasesChanged,
    MediationSessionCancelled,
    MediationSessionMoved,
    MediationSessionScheduled,
    Party,
    SessionPlace,
)
from weiquan_shared.events.triage import CaseDeadlinesUpdated, StatutoryClock
from weiquan_shared.pii import PiiCipher
from weiquan_shared.settings import PiiSettings

pytestmark = pytest.mark.integration

CHINA = ZoneInfo("Asia/Shanghai")
SENDER = "weiquan@szftu.org.cn"
ROOM = "南山区职工服务中心调解室"


def add_staff(
    deployment: Deployment, username: str, name: str, role: Role, email: str, mobile: str
) -> str:
    """A staff account at identity with its work contacts (encrypted, as the demo seed
    writes them); returns its subject."""

    async def run() -> str:
        conn = await deployment.connect("identity")
        try:
            subject = await identity_store.upsert_user(
                conn,
                username=username,
                display_name=name,
                role=role,
                organisation=Organisation.LAW_FIRM if role == Role.LAWYER else Organisation.UNION,
                districts=["440305"],
                password_hash="$argon2id$not-used",
            )
            pii = deployment.pii
            cipher = PiiCipher.from_settings(
                PiiSettings(
                    pii_keys=pii["WEIQUAN_PII_KEYS"],
                    pii_active_key_id=pii["WEIQUAN_PII_ACTIVE_KEY_ID"],
                    pii_index_key=pii["WEIQUAN_PII_INDEX_KEY"],
                )
            )
            await identity_store.set_work_contact(
                conn, subject, email=email, mobile=mobile, cipher=cipher
            )
            return subject
        finally:
            await conn.close()

    return asyncio.run(run())


def two_mediators(deployment: Deployment) -> tuple[str, str]:
    """张敏 and 刘洋, union mediators with work addresses at identity: their subjects."""
    return (
        add_staff(
            deployment, "zhang.min", "张敏", Role.MEDIATOR, "zhang.min@nsftu.org.cn", "13923450104"
        ),
        add_staff(
            deployment, "liu.yang", "刘洋", Role.MEDIATOR, "liu.yang@nsftu.org.cn", "13923450105"
        ),
    )


def publish(
    deployment: Deployment, payload: EventPayload, key: str, producer: str, times: int = 1
) -> None:
    """One event, delivered ``times`` times (a redelivery: the same envelope again)."""
    envelope = new_event(payload, subject=key, producer=producer, actor=Actor.system(producer))
    asyncio.run(
        produce_raw(
            deployment.infra.kafka_bootstrap,
            deployment.settings().topic(payload.event_type),
            [encode(envelope)] * times,
            key=key.encode(),
        )
    )


def start_notification(deployment: Deployment, secret: str, smtp: SmtpServer, **extra: Any) -> None:
    env = notification_env(
        deployment,
        extra.pop("sms", None),
        None,
        secret,
        intake_url="http://127.0.0.1:9",  # no worker is told here: intake is not asked
        WEIQUAN_NOTIFICATION_IDENTITY_URL=deployment["identity"].url,
        WEIQUAN_NOTIFICATION_SMTP_HOST=smtp.host,
        WEIQUAN_NOTIFICATION_SMTP_PORT=str(smtp.port),
        WEIQUAN_NOTIFICATION_SMTP_SENDER=SENDER,
    )
    deployment.start("notification", **env)


def inbox(deployment: Deployment, event_type: str) -> int:
    """How many distinct events of the type notification's consumer has read."""

    async def run() -> int:
        conn = await deployment.connect("notification")
        try:
            return int(
                await conn.fetchval("SELECT count(*) FROM inbox WHERE event_type = $1", event_type)
            )
        finally:
            await conn.close()

    return asyncio.run(run())


def mails(smtp: SmtpServer) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every message the SMTP server received."""
    found = []
    for message in smtp.messages():
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        found.append((str(message["To"]), str(message["Subject"]), str(body.get_content())))
    return sorted(found)


def assigned(mediation_id: uuid.UUID, cases: list[tuple[uuid.UUID, str]], **more: Any) -> Any:
    return MediationAssigned(
        mediation_id=mediation_id,
        mediation_number="TJ-440305-2026-000031",
        district_code="440305",
        case_ids=[c for c, _ in cases],
        case_numbers=[n for _, n in cases],
        lead_organisation="union",
        organisations=["union"],
        five_party=False,
        rule_ids=["assign.union_default"],
        assigned_at=datetime.now(UTC),
        **{"assigned_by": "rules", **more},
    )


def deadlines(case_id: uuid.UUID, number: str, due: date) -> CaseDeadlinesUpdated:
    return CaseDeadlinesUpdated(
        case_id=case_id,
        case_number=number,
        clocks=[
            StatutoryClock(
                kind="arbitration_limitation",
                rule_id="ldaml.art27.v1",
                starts_on=due - timedelta(days=365),
                due_on=due,
                at_risk_from=due - timedelta(days=30),
                review=[],
                note="劳动争议申请仲裁的时效期间为一年。",
            )
        ],
        at_risk=["arbitration_limitation"],
        moved=[],
        evaluated_on=due - timedelta(days=30),
    )


def test_the_staff_contact_route_answers_notification_only_and_audits_each_lookup(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path)
    # The demo accounts carry their work contacts (make up's seed).
    seeded = subprocess.run(
        [sys.executable, "-m", "identity", "demo-accounts", str(tmp_path / "accounts.txt")],
        env=deployment.service_env("identity"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(identity.__file__).parents[3],
    )
    assert seeded.returncode == 0, seeded.stderr

    async def demo_mediator() -> tuple[str, bytes]:
        conn = await deployment.connect("identity")
        try:
            row = await conn.fetchrow(
                "SELECT id, work_email_enc FROM users WHERE username = 'demo-mediator'"
            )
            return str(row["id"]), bytes(row["work_email_enc"])
        finally:
            await conn.close()

    subject, stored = asyncio.run(demo_mediator())
    assert b"zhang.min" not in stored and b"nsftu" not in stored  # encrypted at rest

    identity_url = deployment["identity"].url
    url = f"{identity_url}/api/v1/internal/staff/{subject}/contact"
    purpose = {"purpose": "email/mediator_assigned"}
    granted = httpx.post(
        f"{identity_url}/api/v1/token",
        data={"grant_type": "client_credentials"},
        auth=("notification", secret),
    )
    assert granted.status_code == 200, granted.text
    service_auth = {"Authorization": f"Bearer {granted.json()['access_token']}"}

    answer = httpx.get(url, params=purpose, headers=service_auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["email"], body["mobile"]) == ("zhang.min@nsftu.org.cn", "13923450104")
    assert body["name"] == "演示工会调解员" and answer.headers["cache-control"] == "no-store"

    # People, even an administrator, never read a colleague's contacts here.
    for role in (Role.ADMIN, Role.MEDIATOR, Role.SUPERVISOR):
        refused = httpx.get(url, params=purpose, headers=signed_in(role))
        assert refused.status_code == 403, (role, refused.text)
        assert "服务" in refused.json()["detail"]
    assert httpx.get(url, params=purpose).status_code == 401
    unknown = httpx.get(
        f"{identity_url}/api/v1/internal/staff/{uuid.uuid4()}/contact",
        params=purpose,
        headers=service_auth,
    )
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith("没有这个")
    bad_purpose = httpx.get(url, params={"purpose": "随便"}, headers=service_auth)
    assert bad_purpose.status_code in (400, 422)

    def lookups() -> list[dict[str, Any]]:
        return [
            e
            for e in events(deployment, "audit.recorded")
            if e["payload"]["action"] == "pii.looked_up" and e["payload"]["service"] == "identity"
        ]

    wait_until(lambda: len(lookups()) >= 1, what="the lookup's audit record")
    [record] = lookups()  # one lookup answered, one record (refusals read nothing)
    assert record["actor"]["kind"] == "system" and record["actor"]["id"] == "notification"
    assert record["payload"]["reason"] == "email/mediator_assigned"
    assert subject in record["payload"]["detail"]
    assert "nsftu" not in str(record) and "13923450104" not in str(record)


def test_an_assigned_mediator_is_emailed_once_and_a_new_lead_and_deadlines_too(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path)
    zhang, liu = two_mediators(deployment)
    with smtp_server(tmp_path) as smtp:
        start_notification(deployment, secret, smtp)
        mediation = uuid.uuid4()
        case = (uuid.uuid4(), "440305-2026-000101")
        first = assigned(mediation, [case], lead_mediator_id=zhang, lead_mediator_name="张敏")
        key = str(mediation)
        publish(deployment, first, key, "mediation", times=2)  # redelivered: nothing new
        wait_until(lambda: len(smtp.messages()) == 1, what="the assignment email")
        [(to, subject, body)] = mails(smtp)
        assert to == "zhang.min@nsftu.org.cn"
        assert subject == "调解案件指派通知：TJ-440305-2026-000031"
        assert "已指派您为主调解员" in body and "440305-2026-000101" in body
        assert "牵头单位：工会（按规则指派）" in body

        # A coordinator changes the lead: the new lead is told; the old one nothing more.
        change = assigned(
            mediation,
            [case],
            lead_mediator_id=liu,
            lead_mediator_name="刘洋",
            assigned_by="coordinator",
            previous_lead_mediator_id=zhang,
            reason="原调解员休假",
        )
        publish(deployment, change, key, "mediation")
        wait_until(lambda: len(smtp.messages()) == 2, what="the new lead's email")
        assert [m[0] for m in mails(smtp)] == ["liu.yang@nsftu.org.cn", "zhang.min@nsftu.org.cn"]
        assert "（协调人调整）" in next(m[2] for m in mails(smtp) if m[0].startswith("liu"))

        # The case's arbitration limitation enters its at-risk window: the lead is told,
        # once per case, clock and due date (the next day's re-evaluation adds nothing).
        due = date(2027, 1, 15)
        publish(deployment, deadlines(case[0], case[1], due), str(case[0]), "triage", times=2)
        publish(deployment, deadlines(case[0], case[1], due), str(case[0]), "triage")
        wait_until(lambda: len(smtp.messages()) == 3, what="the deadline warning")
        [(to, subject, body)] = [m for m in mails(smtp) if m[1].startswith("期限预警")]
        assert to == "liu.yang@nsftu.org.cn"
        assert subject == "期限预警：案件 440305-2026-000101 的仲裁时效将于1月15日届满"
        assert "劳动争议申请仲裁的时效期间为一年" in body
        # Both re-evaluations read (the inbox holds each event once): still one warning.
        wait_until(lambda: inbox(deployment, "case.deadlines_updated") == 2, what="both read")
        assert len([m for m in mails(smtp) if m[1].startswith("期限预警")]) == 1
        # A case joins (the group grew); an older change of the case set, read after it,
        # does not undo it: the joined case's deadline reaches the lead too.
        joined = (uuid.uuid4(), "440305-2026-000105")

        def cases_changed(cases: list[tuple[uuid.UUID, str]], at: datetime) -> Any:
            return MediationCasesChanged(
                mediation_id=mediation,
                mediation_number="TJ-440305-2026-000031",
                district_code="440305",
                case_ids=[c for c, _ in cases],
                case_numbers=[n for _, n in cases],
                change="joined",
                reason="group_grew",
                changed_case_ids=[joined[0]],
                changed_case_numbers=[joined[1]],
                workers=[WorkerRef(worker_ref="c" * 64)],
                changed_at=at,
            )

        now = datetime.now(UTC)
        publish(deployment, cases_changed([case, joined], now), key, "mediation")
        publish(deployment, cases_changed([case], now - timedelta(hours=1)), key, "mediation")
        wait_until(lambda: inbox(deployment, "mediation.cases_changed") == 2, what="changes")
        publish(deployment, deadlines(joined[0], joined[1], due), str(joined[0]), "triage")
        wait_until(lambda: len(smtp.messages()) == 4, what="the joined case's warning")
        [warning] = [m for m in mails(smtp) if joined[1] in m[1]]
        assert warning[0] == "liu.yang@nsftu.org.cn"

        # The lead changed back: the mediator is told again (a new assignment).
        back = assigned(
            mediation,
            [case],
            lead_mediator_id=zhang,
            lead_mediator_name="张敏",
            assigned_by="coordinator",
            previous_lead_mediator_id=liu,
        )
        publish(deployment, back, key, "mediation")
        wait_until(lambda: len(smtp.messages()) == 5, what="the third assignment email")
        rows = messages(deployment, "recipient_kind = 'mediator'")
        assert len(rows) == 5 and {r["status"] for r in rows} == {"sent"}
        assert {r["recipient_masked"] for r in rows} == {"z***@nsftu.org.cn", "l***@nsftu.org.cn"}
        wait_until(lambda: len(events(deployment, "notification.sent")) == 5, what="events")
        sent = [e["payload"] for e in events(deployment, "notification.sent")]
        assert {p["recipient_kind"] for p in sent} == {"mediator"}


def test_an_assigned_lawyer_gets_an_email_and_an_sms_and_the_case_deadline(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path)
    huang = add_staff(
        deployment, "huang.wei", "黄伟", Role.LAWYER, "huang.wei@pengchenglaw.cn", "13923450107"
    )
    with smtp_server(tmp_path) as smtp, running(sms_server()) as sms:
        start_notification(deployment, secret, smtp, sms=sms)
        application = uuid.uuid4()
        case_id, number = uuid.uuid4(), "440305-2026-000202"
        event = LegalAidLawyerAssigned(
            application_id=application,
            application_number="FY-440305-2026-000009",
            district_code="440305",
            case_id=case_id,
            case_number=number,
            lawyer_code="LS-440305-003",
            lawyer_kind="contracted_firm",
            firm_code="LF-440305-01",
            lawyer_subject=huang,
            provisional=False,
            assigned_on=date(2026, 12, 3),
            within_deadline=True,
            assigned_at=datetime.now(UTC),
        )
        publish(deployment, event, str(application), "legal_aid", times=2)
        wait_until(lambda: len(smtp.messages()) == 1 and len(sms.sent) == 1, what="both")
        [(to, subject, body)] = mails(smtp)
        assert to == "huang.wei@pengchenglaw.cn"
        assert subject == "法律援助案件指派通知：FY-440305-2026-000009"
        assert "已于12月3日指派您承办" in body and number in body
        [text] = sms.sent
        assert text.phone == "+8613923450107"
        assert text.template_id == SMS_TEMPLATE_IDS["sms/lawyer_assigned"]
        assert text.params == ["FY-440305-2026-000009"]

        publish(deployment, deadlines(case_id, number, date(2027, 2, 1)), str(case_id), "triage")
        wait_until(lambda: len(smtp.messages()) == 2, what="the lawyer's deadline warning")
        [(to, subject, body)] = [m for m in mails(smtp) if m[1].startswith("期限预警")]
        assert to == "huang.wei@pengchenglaw.cn" and "2月1日" in subject
        assert "您承办法律援助的案件 440305-2026-000202" in body
        # An event without the lawyer's account (before lawyer_subject): nobody to tell.
        older = event.model_copy(update={"lawyer_subject": None, "application_id": uuid.uuid4()})
        publish(deployment, older, str(application), "legal_aid")
        publish(
            deployment,
            event.model_copy(update={"assigned_at": datetime.now(UTC)}),
            str(application),
            "legal_aid",
        )
        # The email and the SMS leave on separate senders: wait for both.
        wait_until(
            lambda: len(smtp.messages()) == 3 and len(sms.sent) == 2,
            what="a later assignment's email and SMS",
        )
        assert len(messages(deployment, "recipient_kind = 'lawyer'")) == 5


def session(session_id: uuid.UUID, mediation: uuid.UUID, starts: datetime, ids: list[str]) -> Any:
    return {
        "mediation_id": mediation,
        "mediation_number": "TJ-440305-2030-000007",
        "district_code": "440305",
        "case_ids": [uuid.uuid4()],
        "case_numbers": ["440305-2030-000070"],
        "session_id": session_id,
        "place": SessionPlace(
            room_id=uuid.uuid4(),
            room_name=ROOM,
            room_kind="union_room",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
        ),
        "parties": Party(
            workers=["a" * 64],
            representatives_elected=False,
            employer_representative=True,
            mediator_ids=ids,
            organisations=["union"],
        ),
    }


def test_mediators_are_reminded_the_day_before_a_session_once_at_its_latest_time(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path)
    zhang, liu = two_mediators(deployment)
    with smtp_server(tmp_path) as smtp:
        start_notification(deployment, secret, smtp)
        mediation = uuid.uuid4()
        key = str(mediation)
        now = datetime.now(UTC)
        earlier = now - timedelta(hours=1)
        # In 2030, so the service's own daily task (on the real clock) never reaches them.
        a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        at = datetime(2030, 3, 5, 14, 30, tzinfo=CHINA)
        b_first = datetime(2030, 3, 5, 10, 0, tzinfo=CHINA)
        b_moved = datetime(2030, 3, 6, 10, 0, tzinfo=CHINA)
        b_session = session(b, mediation, b_first, [zhang])
        moved = {
            **b_session,
            "place": b_session["place"].model_copy(
                update={"starts_at": b_moved, "ends_at": b_moved + timedelta(hours=2)}
            ),
        }
        c_session = session(c, mediation, datetime(2030, 3, 5, 16, 0, tzinfo=CHINA), [liu])
        # Each event type has its own topic: a move or a cancellation may be read before
        # the scheduling it follows. Here they are published first, on purpose.
        for event in (
            MediationSessionScheduled(**session(a, mediation, at, [zhang, liu]), scheduled_at=now),
            MediationSessionMoved(
                **moved, previous=b_session["place"], reason="party_request_worker", moved_at=now
            ),
            MediationSessionCancelled(**c_session, reason="mediation_closed", cancelled_at=now),
            MediationSessionScheduled(**b_session, scheduled_at=earlier),
            MediationSessionScheduled(**c_session, scheduled_at=earlier),
        ):
            publish(deployment, event, key, "mediation")

        async def consumed() -> int:
            """Session events read (each waits for its case, unknown here, once)."""
            conn = await deployment.connect("notification")
            try:
                return int(await conn.fetchval("SELECT count(*) FROM waiting_events"))
            finally:
                await conn.close()

        wait_until(lambda: asyncio.run(consumed()) == 5, what="the five session events read")

        async def sessions() -> dict[uuid.UUID, tuple[datetime, bool]]:
            conn = await deployment.connect("notification")
            try:
                rows = await conn.fetch("SELECT session_id, starts_at, cancelled FROM sessions")
                return {r["session_id"]: (r["starts_at"], r["cancelled"]) for r in rows}
            finally:
                await conn.close()

        known = asyncio.run(sessions())
        assert known[a] == (at, False) and known[b] == (b_moved, False) and known[c][1]

        when = ReminderTime(time(9, 0), CHINA)

        async def remind(local: datetime) -> int:
            """The daily task's step at a given time, on the service's database (a pool
            with the service's codecs)."""
            pool = await create_pool(deployment._own_settings("notification"))
            try:
                async with pool.acquire() as conn:
                    return await enqueue_reminders(conn, rule_book(), when, local)
            finally:
                await pool.close()

        assert asyncio.run(remind(datetime(2030, 3, 4, 8, 59, tzinfo=CHINA))) == 0  # too early
        assert asyncio.run(remind(datetime(2030, 3, 4, 9, 0, tzinfo=CHINA))) == 2  # a: both
        assert asyncio.run(remind(datetime(2030, 3, 4, 9, 1, tzinfo=CHINA))) == 0  # once
        assert asyncio.run(remind(datetime(2030, 3, 4, 22, 0, tzinfo=CHINA))) == 0
        wait_until(lambda: len(smtp.messages()) == 2, what="tomorrow's session reminders")
        got = mails(smtp)
        assert [m[0] for m in got] == ["liu.yang@nsftu.org.cn", "zhang.min@nsftu.org.cn"]
        for _, subject, body in got:
            assert subject == "明日调解提醒：3月5日 14:30 TJ-440305-2030-000007"
            assert f"定于明天（3月5日）14:30在{ROOM}进行" in body

        # The next day: b at its new time (c, cancelled, never).
        assert asyncio.run(remind(datetime(2030, 3, 5, 9, 0, tzinfo=CHINA))) == 1
        wait_until(lambda: len(smtp.messages()) == 3, what="the moved session's reminder")
        [moved_mail] = [m for m in mails(smtp) if "3月6日" in m[1]]
        assert moved_mail[0] == "zhang.min@nsftu.org.cn"
        assert "定于明天（3月6日）10:00" in moved_mail[2]
        assert asyncio.run(remind(datetime(2030, 3, 5, 9, 0, tzinfo=CHINA))) == 0
        reminders = messages(deployment, "event_type = 'notification.session_reminder'")
        assert len(reminders) == 3 and {r["status"] for r in reminders} == {"sent"}
