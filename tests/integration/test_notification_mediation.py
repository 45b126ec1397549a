"""Notification of mediation events on real Kafka and PostgreSQL: a session scheduled for a
case registered at intake reaches its worker by SMS (the local Tencent SMS test server)
with the date, the time and the place; the same batch replayed sends nothing new."""

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
    wait_until,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events.mediation import MediationSessionScheduled, Party, SessionPlace

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
