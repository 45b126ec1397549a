"""Notification of mediation events on real Kafka and PostgreSQL: a session scheduled for a
case registered at intake reaches its worker by SMS (the local Tencent SMS test server)
with the date, the time and the place; the same batch replayed sends nothing new. A
mediation closed with an outcome sends the worker a survey link, once."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.kafka import produce_raw
from tests.support.notification_providers import running
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
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events.mediation import (
    MediationClosed,
    MediationSessionScheduled,
    Party,
    SessionPlace,
)

pytestmark = pytest.mark.integration

ROOM = "南山区职工服务中心调解室"


def test_a_scheduled_session_reaches_the_worker_by_sms_once_with_date_and_place(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake")
    with running(sms_server()) as sms:
        deployment.start("notification", **notification_env(deployment, sms, None, secret))
        call = hotline_call(random.Random(15), story=0, district="440305")
        mobile = call["workers"][0]["mobile"]
        with httpx.Client(base_url=deployment["intake"].url, timeout=10) as client:
            response = client.post(
                "/api/v1/hotline-calls", json=call, headers=signed_in(Role.OPERATOR)
            )
        assert response.status_code == 201, response.text
        number = response.json()["case_number"]
        wait_until(lambda: len(sms.sent) == 1, what="the case number by SMS")
        reported = events(deployment, "case.reported")[0]["payload"]
        refs = [w["worker_ref"] for w in reported["workers"]]

        session = MediationSessionScheduled(
            mediation_id=uuid.uuid4(),
            mediation_number="TJ-440305-2026-000001",
            district_code="440305",
            case_ids=[uuid.UUID(reported["case_id"])],
            case_numbers=[number],
            session_id=uuid.uuid4(),
            place=SessionPlace(
                room_id=uuid.uuid4(),
                room_name=ROOM,
                room_kind="union_room",
                # 06:30 UTC: 14:30 in Shenzhen.
                starts_at=datetime(2026, 12, 9, 6, 30, tzinfo=UTC),
                ends_at=datetime(2026, 12, 9, 8, 30, tzinfo=UTC),
            ),
            parties=Party(
                workers=refs,
                representatives_elected=False,
                employer_representative=True,
                mediator_ids=["mediator-1"],
                organisations=["union"],
            ),
            scheduled_at=datetime.now(UTC),
        )
        envelope = new_event(
            session,
            subject=str(session.mediation_id),
            producer="mediation",
            actor=Actor.system("mediation"),
        )
        raw = encode(envelope)
        topic = deployment.settings().topic(session.event_type)

        def publish(payload: bytes = raw) -> None:
            asyncio.run(
                produce_raw(
                    deployment.infra.kafka_bootstrap,
                    topic,
                    [payload],
                    key=str(session.mediation_id).encode(),
                )
            )

        publish()
        wait_until(lambda: len(sms.sent) == 2, what="the session invitation by SMS")
        invitation = sms.sent[1]
        assert invitation.template_id == SMS_TEMPLATE_IDS["sms/mediation_session_scheduled"]
        assert invitation.params == ["12月9日", "14:30", ROOM]
        assert invitation.phone == f"+86{mobile}"
        rows = messages(deployment, "event_type = 'mediation.session_scheduled'")
        assert len(rows) == 1 and rows[0]["case_number"] == number
        wait_until(
            lambda: (
                messages(deployment, "event_type = $1", session.event_type)[0]["status"] == "sent"
            )
        )

        # The same batch again (a redelivery, a reset group): nothing new recorded or sent.
        publish()
        publish()
        # A later session of the same mediation (same key, same partition, so read after
        # the replays): its SMS arriving means the replays were read and added nothing.
        later = session.model_copy(update={"session_id": uuid.uuid4()})
        publish(
            encode(
                new_event(
                    later,
                    subject=str(session.mediation_id),
                    producer="mediation",
                    actor=Actor.system("mediation"),
                )
            )
        )
        wait_until(lambda: len(sms.sent) == 3, what="the later session's SMS")
        time.sleep(2)
        assert len(messages(deployment)) == 3
        assert len(sms.sent) == 3


def test_a_closed_mediation_sends_its_worker_a_working_survey_link_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake")
    with running(sms_server()) as sms:
        env = notification_env(deployment, sms, None, secret)
        env["WEIQUAN_NOTIFICATION_SURVEY_KEY"] = "k" * 32
        env["WEIQUAN_NOTIFICATION_PUBLIC_URL"] = "https://12351.example.org/notification"
        deployment.start("notification", **env)
        call = hotline_call(random.Random(16), story=0, district="440305")
        with httpx.Client(base_url=deployment["intake"].url, timeout=10) as client:
            response = client.post(
                "/api/v1/hotline-calls", json=call, headers=signed_in(Role.OPERATOR)
            )
        assert response.status_code == 201, response.text
        number = response.json()["case_number"]
        wait_until(lambda: len(sms.sent) == 1, what="the case number by SMS")
        reported = events(deployment, "case.reported")[0]["payload"]
        mediation_id = uuid.uuid4()

        def closed(result: str) -> bytes:
            payload = MediationClosed(
                mediation_id=mediation_id,
                mediation_number="TJ-440305-2026-000002",
                district_code="440305",
                case_ids=[uuid.UUID(reported["case_id"])],
                case_numbers=[number],
                result=result,
                worker_count=1,
                opened_on=datetime.now(UTC).date(),
                closed_at=datetime.now(UTC),
            )
            return encode(
                new_event(
                    payload,
                    subject=str(mediation_id),
                    producer="mediation",
                    actor=Actor.system("mediation"),
                )
            )

        def publish(*raws: bytes) -> None:
            asyncio.run(
                produce_raw(
                    deployment.infra.kafka_bootstrap,
                    deployment.settings().topic("mediation.closed"),
                    list(raws),
                    key=str(mediation_id).encode(),
                )
            )

        agreement = closed("agreement")
        publish(agreement)
        wait_until(lambda: len(sms.sent) == 2, what="the survey link by SMS")
        survey = sms.sent[1]
        assert survey.template_id == SMS_TEMPLATE_IDS["sms/mediation_survey"]
        case_number, link = survey.params
        assert case_number == number
        prefix = "https://12351.example.org/notification/survey/"
        assert link.startswith(prefix)
        # The link opens the survey page (the service's own address for the public one).
        page = httpx.get(f"{deployment['notification'].url}/survey/{link[len(prefix) :]}")
        assert page.status_code == 200 and "满意" in page.text
        # The delivery log shows the message, never the link (a credential).
        with httpx.Client(base_url=deployment["notification"].url, timeout=10) as client:
            log = client.get(
                f"/api/v1/cases/{number}/deliveries", headers=signed_in(Role.SUPERVISOR)
            )
        assert log.status_code == 200 and link not in log.text and "满意度调查链接" in log.text

        # Once per case and worker: the closure replayed, a second closure event, and a
        # closure without a dispute of its own (merged) issue nothing more.
        publish(agreement, closed("fulfilled"), closed("merged"))
        time.sleep(5)
        assert len(sms.sent) == 2
        surveys = messages(deployment, "template_id = 'sms/mediation_survey'")
        assert len(surveys) == 1

        async def count() -> int:
            conn = await deployment.connect("notification")
            try:
                return int(await conn.fetchval("SELECT count(*) FROM surveys"))
            finally:
                await conn.close()

        assert asyncio.run(count()) == 1
