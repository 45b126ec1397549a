"""The shared unit of work on a real PostgreSQL: state and events commit together, name
their actor, producer, correlation and causation, and an error leaves neither behind."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.support.stack import Deployment
from weiquan_shared.db import prepare_database
from weiquan_shared.envelope import Actor, decode
from weiquan_shared.events import AuditRecorded, ConsultationRecorded
from weiquan_shared.settings import Settings
from weiquan_shared.uow import unit_of_work

pytestmark = pytest.mark.integration


def consulted() -> ConsultationRecorded:
    return ConsultationRecorded(
        consultation_id=uuid.uuid4(),
        channel="hotline",
        channel_ref="12351-uow",
        occurred_at=datetime.now(UTC),
        district_code="440305",
        topic="overtime",
        summary="周末加班只给调休合法吗",
    )


def test_state_and_events_commit_together_with_their_actor(
    deployment: Deployment, tmp_path: Path
) -> None:
    asyncio.run(_scenario(deployment.settings("intake"), tmp_path))


async def _scenario(settings: Settings, no_service_migrations: Path) -> None:
    pool = await prepare_database(settings, no_service_migrations)
    try:
        await pool.execute("CREATE TABLE notes (id uuid PRIMARY KEY)")
        officer = Actor.user("u-4711", "triage_officer")
        request = uuid.uuid4()

        async with unit_of_work(pool, settings, officer, correlation_id=request) as uow:
            first_id = uuid.uuid4()
            await uow.conn.execute("INSERT INTO notes VALUES ($1)", first_id)
            first = uow.emit(consulted(), subject=str(first_id))
            second = uow.emit(consulted(), subject=str(first_id), caused_by=first)

        rows = await pool.fetch("SELECT topic, key, body FROM outbox ORDER BY id")
        assert [r["topic"] for r in rows] == [settings.topic("consultation.recorded")] * 2 + [
            settings.topic("audit.recorded")
        ] * 2
        assert [r["key"] for r in rows[:2]] == [str(first_id)] * 2
        events = [decode(bytes(r["body"])) for r in rows]
        published = [envelope for envelope, _ in events[:2]]
        assert [e.event_id for e in published] == [first.event_id, second.event_id]
        # A person's state change is followed by its audit records, one per event.
        audits = [payload for _, payload in events[2:] if isinstance(payload, AuditRecorded)]
        assert len(audits) == 2
        assert [(a.action, a.service, a.detail) for a in audits] == [
            ("consultation.recorded", "intake", f"event {first.event_id}"),
            ("consultation.recorded", "intake", f"event {second.event_id}"),
        ]
        assert {envelope.actor for envelope, _ in events[2:]} == {officer}
        for event in published:
            assert event.envelope_version == 2
            assert event.actor == officer
            assert event.producer == "intake"
            assert event.correlation_id == request
        assert published[0].causation_id is None
        assert published[1].causation_id == first.event_id
        assert orjson.loads(bytes(rows[0]["body"]))["actor"] == {
            "kind": "user",
            "id": "u-4711",
            "role": "triage_officer",
        }

        # A read of personal data records itself; a service acting alone audits nothing.
        await pool.execute("DELETE FROM outbox")
        case_id = uuid.uuid4()
        async with unit_of_work(pool, settings, officer) as uow:
            uow.audit(
                "pii.revealed",
                case_id=case_id,
                case_number="440305-2026-000001",
                district_code="440305",
                reason="call_back",
                detail="workers.0.mobile",
            )
        async with unit_of_work(pool, settings, Actor.system("intake")) as uow:
            uow.emit(consulted(), subject="s")
        rows = await pool.fetch("SELECT topic, key, body FROM outbox ORDER BY id")
        assert [r["topic"] for r in rows] == [
            settings.topic("audit.recorded"),
            settings.topic("consultation.recorded"),
        ]
        assert rows[0]["key"] == str(case_id)
        _, reveal = decode(bytes(rows[0]["body"]))
        assert isinstance(reveal, AuditRecorded)
        assert (reveal.action, reveal.reason, reveal.detail) == (
            "pii.revealed",
            "call_back",
            "workers.0.mobile",
        )

        # An error inside the unit of work: neither the row nor its event remains.
        lost_id = uuid.uuid4()
        with pytest.raises(RuntimeError, match="refused"):
            async with unit_of_work(pool, settings, officer) as uow:
                await uow.conn.execute("INSERT INTO notes VALUES ($1)", lost_id)
                uow.emit(consulted(), subject=str(lost_id))
                raise RuntimeError("refused")
        assert await pool.fetchval("SELECT count(*) FROM notes WHERE id = $1", lost_id) == 0
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", str(lost_id)) == 0
    finally:
        await pool.close()
