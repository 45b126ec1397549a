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
from weiquan_shared.events import ConsultationRecorded
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
        assert [r["key"] for r in rows] == [str(first_id)] * 2
        assert {r["topic"] for r in rows} == {settings.topic("consultation.recorded")}
        published = [decode(bytes(r["body"]))[0] for r in rows]
        assert [e.event_id for e in published] == [first.event_id, second.event_id]
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
