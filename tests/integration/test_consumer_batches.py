"""The shared consumer's batches on a real PostgreSQL and Kafka: runs by handler, the inbox
across and within batches, and a failing event isolated from the rest of its batch."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.db import prepare_database
from weiquan_shared.envelope import Actor, Envelope, EventPayload, encode, new_event
from weiquan_shared.events import CaseReported, ConsultationRecorded, EmployerRef, WorkerRef
from weiquan_shared.settings import Settings
from weiquan_shared.topics import dead_letter_topic, ensure_topics
from weiquan_shared.uow import UnitOfWork

pytestmark = pytest.mark.integration


def reported(summary: str = "拖欠工资三个月") -> Envelope:
    case_id = uuid.uuid4()
    payload = CaseReported(
        case_id=case_id,
        case_number=f"440305-2026-{case_id.int % 10**6:06d}",
        channel="hotline",
        channel_ref=str(case_id),
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(name="深圳市恒信精密五金制品厂", district_code="440305"),
        workers=[WorkerRef(worker_ref="0" * 64)],
        summary=summary,
    )
    return new_event(payload, subject=str(case_id), producer="intake", actor=Actor.system("intake"))


def consulted() -> Envelope:
    payload = ConsultationRecorded(
        consultation_id=uuid.uuid4(),
        channel="hotline",
        channel_ref="12351-test",
        occurred_at=datetime.now(UTC),
        district_code="440305",
        topic="overtime",
        summary="周末加班只给调休合法吗",
    )
    return new_event(
        payload,
        subject=str(payload.consultation_id),
        producer="intake",
        actor=Actor.system("intake"),
    )


def record(settings: Settings, envelope: Envelope, offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic=settings.topic(envelope.event_type),
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=envelope.subject.encode(),
        value=encode(envelope),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )


def test_batches_run_by_handler_skip_duplicates_and_isolate_a_failure(
    deployment: Deployment, tmp_path: Path
) -> None:
    asyncio.run(_scenario(deployment.settings("triage"), tmp_path))


async def _scenario(settings: Settings, no_service_migrations: Path) -> None:
    await ensure_topics(settings)
    pool = await prepare_database(settings, no_service_migrations)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await pool.execute("CREATE TABLE applied (event_id uuid NOT NULL, handler text NOT NULL)")
        runs: list[list[uuid.UUID]] = []
        consumer = EventConsumer(
            settings, lambda: pool, lambda: producer, _no_renewal, max_attempts=1
        )

        @consumer.handles_batch(CaseReported)
        async def on_reported(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
            runs.append([envelope.event_id for envelope, _ in events])
            assert uow.actor == Actor.system("triage")
            for envelope, payload in events:
                if payload.summary == "无法处理":
                    raise RuntimeError("this case cannot be handled")
                await uow.conn.execute(
                    "INSERT INTO applied VALUES ($1, 'reported')", envelope.event_id
                )

        @consumer.handles(ConsultationRecorded)
        async def on_consulted(uow: UnitOfWork, envelope: Envelope, _: EventPayload) -> None:
            await uow.conn.execute(
                "INSERT INTO applied VALUES ($1, 'consulted')", envelope.event_id
            )

        a, b, c, d = reported(), reported(), consulted(), reported()
        batch = [a, b, c, a, d]  # a twice: a redelivery inside one batch
        await consumer.process_batch([record(settings, e, i) for i, e in enumerate(batch)])
        # a and b form one run; the consultation ends it; the second a is a duplicate.
        assert runs == [[a.event_id, b.event_id], [d.event_id]]
        assert await _applied(pool) == sorted(str(e.event_id) for e in (a, b, c, d))

        # The same batch again (a restart before the offsets were committed): nothing new.
        runs.clear()
        await consumer.process_batch([record(settings, e, i) for i, e in enumerate(batch)])
        assert runs == []
        assert len(await _applied(pool)) == 4

        # A failing event rolls its batch back; the batch is settled event by event, so
        # only the failing one is dead-lettered, with its reason.
        e, poison, f = reported(), reported("无法处理"), reported()
        runs.clear()
        await consumer.process_batch(
            [record(settings, x, 10 + i) for i, x in enumerate((e, poison, f))]
        )
        assert runs[0] == [e.event_id, poison.event_id, f.event_id]  # the batch, rolled back
        applied = await _applied(pool)
        assert str(e.event_id) in applied and str(f.event_id) in applied
        assert str(poison.event_id) not in applied and len(applied) == 6
        dead = await read_topic(
            settings.kafka_bootstrap, settings.topic(dead_letter_topic("triage"))
        )
        assert [r.value for r in dead] == [encode(poison)]
        reason = dict(dead[0].headers)["dlq.reason"].decode()
        assert "this case cannot be handled" in reason
    finally:
        await producer.stop()
        await pool.close()


async def _applied(pool: asyncpg.Pool) -> list[str]:
    return sorted(str(r["event_id"]) for r in await pool.fetch("SELECT event_id FROM applied"))


async def _no_renewal(_: AIOKafkaProducer) -> None:
    raise AssertionError("the producer should not need renewing")
