"""Rebuild every read model from the topics, from the beginning (``python -m projection rebuild``).

Design: stop the world, one transaction.

1. Refuse to run while projection's live consumer group has members: the live consumer and
   the rebuild must never write the read models at the same time.
2. Capture each partition's end offset; read every consumed topic from the beginning up to
   those offsets with a plain consumer (no group), in batches (``getmany``).
3. In ONE PostgreSQL transaction: empty the facts, timeline, derived tables and projection's
   inbox rows; COPY the facts of every valid event (the same :func:`facts_of` the live
   consumer uses) and one inbox row per event; derive the case rows, deadlines and figures
   with ``rebuild_derived()`` (the same SQL view the live consumer's ``refresh_cases``
   uses); clear the ``rebuild_required`` flag; commit. A rebuild that fails or is
   interrupted rolls back and leaves the old read models untouched.
4. Commit the live consumer group's offsets at the captured end offsets, so the service,
   started again, continues with the first event the rebuild did not see. If this last step
   fails, the service re-reads from its old offsets and the rebuilt inbox skips every event
   already applied.

Events that cannot be decoded are skipped and counted (the live consumer has already put
them on the dead-letter topic); an event id seen twice is applied once. COPY of one batch
overlaps with decoding the next, so PostgreSQL and Python each keep one core busy.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from projection import legal_aid as legal_aid_model
from projection import mediation as mediation_model
from projection.domain import FACT_COLUMNS, FACTS_OF, Facts, facts_of
from weiquan_shared.envelope import EventEnvelope, EventPayload, InvalidEvent, decode
from weiquan_shared.logging import get_logger
from weiquan_shared.retry import wait_for_dependency
from weiquan_shared.settings import Settings

log = get_logger(__name__)

BATCH_ROWS = 50_000
YIELD_EVERY = 200  # events decoded between turns of the event loop during a replay
DERIVED_TABLES = ("case_summary", "case_deadline", "case_rollup")
# Mediation's and legal aid's rows are made by their handlers' SQL (projection.mediation,
# projection.legal_aid), replayed in order.
HANDLER_TABLES = (
    "mediation_summary",
    "mediation_payment",
    "legal_aid_summary",
    "case_handling",
    "case_handling_line",
)
READ_MODEL_TABLES = (*FACT_COLUMNS, *DERIVED_TABLES, *HANDLER_TABLES)
CONSUMED: tuple[type[EventPayload], ...] = (
    *FACTS_OF,
    *mediation_model.HANDLED,
    *legal_aid_model.HANDLED,
)


class LiveConsumerRunning(RuntimeError):
    """The live consumer group has members: stop projection before rebuilding."""


@dataclass
class RebuildReport:
    events: int = 0
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def consumed_topics(settings: Settings) -> list[str]:
    return sorted({settings.topic(payload.event_type) for payload in CONSUMED})


async def rebuild_required(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM projection_state WHERE key = $1)", _FLAG)
    )


_FLAG = "rebuild_required"


async def _live_members(settings: Settings) -> int:
    """Members of the live consumer group (a broker that has just started may not have
    elected the group's coordinator yet: that is waited out like any unreachable Kafka)."""

    async def count() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            responses = await admin.describe_consumer_groups([settings.consumer_group])
            # Each group: (error_code, group, state, protocol_type, protocol, members)
            return sum(len(group[5]) for response in responses for group in response.groups)
        finally:
            await admin.close()

    return await wait_for_dependency(
        "Kafka group coordinator", settings.kafka_bootstrap, count, settings.startup_timeout_s
    )


async def _connect(settings: Settings) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password.get_secret_value() or None,
        database=settings.database,
    )


class _Batches:
    """Facts and inbox rows waiting for COPY; one COPY runs while the next batch decodes."""

    def __init__(self, conn: asyncpg.Connection, consumer_group: str) -> None:
        self.conn = conn
        self.group = consumer_group
        self.facts = Facts()
        self.inbox: list[tuple[uuid.UUID, str, str]] = []
        self.mediation: list[tuple[EventEnvelope[Any], EventPayload]] = []
        self.legal_aid: list[tuple[EventEnvelope[Any], EventPayload]] = []
        self.running: asyncio.Task[None] | None = None

    async def flush(self, wait: bool = False) -> None:
        if self.running is not None:
            await self.running
            self.running = None
        if self.inbox:
            facts, inbox = self.facts, self.inbox
            self.facts, self.inbox = Facts(), []
            self.running = asyncio.create_task(self._copy(facts, inbox))
        if wait and self.running is not None:
            await self.running
            self.running = None

    async def _copy(self, facts: Facts, inbox: list[tuple[uuid.UUID, str, str]]) -> None:
        for table, rows in facts.rows.items():
            if table == "fact_clocks":  # COPY takes jsonb as text
                rows = [(*row[:3], orjson.dumps(row[3]).decode()) for row in rows]
            await self.conn.copy_records_to_table(
                table, records=rows, columns=list(FACT_COLUMNS[table])
            )
        await self.conn.copy_records_to_table(
            "inbox", records=inbox, columns=["event_id", "consumer", "event_type"]
        )


async def rebuild(settings: Settings, wait_for_idle_group_s: float = 0) -> RebuildReport:
    deadline = time.monotonic() + wait_for_idle_group_s
    while members := await _live_members(settings):
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(2)
    if members:
        raise LiveConsumerRunning(
            f"consumer group {settings.consumer_group} is active: stop projection first"
        )
    started = time.perf_counter()
    report = RebuildReport()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=f"{settings.consumer_group}.rebuild",
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    conn = await _connect(settings)
    try:
        partitions = await _partitions(settings, consumed_topics(settings))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        start = await consumer.beginning_offsets(partitions)
        log.info("rebuild started", partitions=len(partitions), events=_span(start, end))
        async with conn.transaction():
            # Big sorts and hashes in memory; no JIT (it compiles for seconds to save less).
            await conn.execute(
                "SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '256MB'; "
                "SET LOCAL jit = off"
            )
            await conn.execute(f"TRUNCATE {', '.join(READ_MODEL_TABLES)}")
            await conn.execute("DELETE FROM inbox WHERE consumer = $1", settings.consumer_group)
            restore_facts = await _drop_indexes(conn, FACT_COLUMNS)
            batches = _Batches(conn, settings.consumer_group)
            # Millions of long-lived rows make the cyclic GC rescan them over and over,
            # tripling the time of the replay; nothing it builds holds a reference cycle.
            gc.disable()
            try:
                await _replay(consumer, settings, start, end, batches, report)
            finally:
                gc.enable()
            await batches.flush(wait=True)
            await mediation_model.apply_all(conn, batches.mediation)
            await legal_aid_model.apply_all(conn, batches.legal_aid)
            replayed = time.perf_counter()
            log.info("facts stored", events=report.events, seconds=round(replayed - started, 1))
            for statement in restore_facts:
                await conn.execute(statement)
            restore_derived = await _drop_indexes(conn, DERIVED_TABLES)
            await conn.execute("SELECT rebuild_derived()")
            for statement in restore_derived:
                await conn.execute(statement)
            log.info("read models derived", seconds=round(time.perf_counter() - replayed, 1))
            await conn.execute("DELETE FROM projection_state WHERE key = $1", _FLAG)
        await conn.execute(f"ANALYZE {', '.join(READ_MODEL_TABLES)}")
    finally:
        await conn.close()
        await consumer.stop()
    await _hand_over(settings, end)
    report.seconds = time.perf_counter() - started
    log.info(
        "rebuild finished",
        events=report.events,
        applied=report.applied,
        duplicates=report.duplicates,
        invalid=report.invalid,
        seconds=round(report.seconds, 1),
        events_per_second=round(report.events_per_second),
    )
    return report


async def _drop_indexes(conn: asyncpg.Connection, tables: Iterable[str]) -> list[str]:
    """Drop the indexes and keys of ``tables``; returns the statements that recreate them.

    Loading millions of rows into empty tables and then building each index in one sorted
    pass is several times faster than maintaining random-UUID b-trees row by row. All of it
    happens inside the rebuild's transaction, so the names and definitions come back as they
    were, and a key the data violates fails the rebuild instead of being lost.
    """
    names = list(tables)
    keys = await conn.fetch(
        """SELECT conrelid::regclass::text AS table_name, conname,
                  pg_get_constraintdef(oid) AS definition
           FROM pg_constraint
           WHERE conrelid = ANY ($1::regclass[]) AND contype IN ('p', 'u')""",
        names,
    )
    indexes = await conn.fetch(
        """SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition
           FROM pg_index
           WHERE indrelid = ANY ($1::regclass[])
             AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)""",
        names,
    )
    for index in indexes:
        await conn.execute(f"DROP INDEX {index['name']}")
    for key in keys:
        await conn.execute(f'ALTER TABLE {key["table_name"]} DROP CONSTRAINT "{key["conname"]}"')
    return [
        *(
            f'ALTER TABLE {key["table_name"]} ADD CONSTRAINT "{key["conname"]}" {key["definition"]}'
            for key in keys
        ),
        *(index["definition"] for index in indexes),
    ]


def _span(start: dict[TopicPartition, int], end: dict[TopicPartition, int]) -> int:
    return sum(end[tp] - start[tp] for tp in end)


async def _partitions(settings: Settings, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = []
    for topic in described:
        if topic["error_code"]:
            raise RuntimeError(f"topic {topic['topic']} unavailable (error {topic['error_code']})")
        partitions += [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
    return sorted(partitions)


async def _replay(
    consumer: AIOKafkaConsumer,
    settings: Settings,
    start: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
    batches: _Batches,
    report: RebuildReport,
) -> None:
    pending = {tp for tp in end if end[tp] > start[tp]}
    seen: set[uuid.UUID] = set()
    seen_consultations: set[uuid.UUID] = set()
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=1000, max_records=20_000)
        for tp, records in fetched.items():
            for record in records:
                if record.offset >= end[tp]:
                    break
                report.events += 1
                _apply(record, settings, batches, report, seen, seen_consultations)
                if report.events % YIELD_EVERY == 0:
                    # Let the running COPY send its next chunk: PostgreSQL then stores one
                    # batch on the other core while this one decodes the next.
                    await asyncio.sleep(0)
        for tp in list(pending):
            if await consumer.position(tp) >= end[tp]:
                pending.discard(tp)
        if len(batches.facts) >= BATCH_ROWS:
            await batches.flush()


# Envelope and payload validated in one pass from the JSON bytes, by the topic's event type.
def _typed_envelope(payload: type[EventPayload]) -> type[EventEnvelope[Any]]:
    generic: Any = EventEnvelope  # parametrised at run time, which mypy cannot follow
    typed: type[EventEnvelope[Any]] = generic[payload]
    return typed


_TYPED: dict[tuple[str, bytes | None], type[EventEnvelope[Any]]] = {
    (payload.event_type, str(payload.schema_version).encode()): _typed_envelope(payload)
    for payload in CONSUMED
}


def _decode(record: ConsumerRecord, event_type: str) -> tuple[EventEnvelope[Any], EventPayload]:
    """What :func:`decode` returns, about twice as fast for a valid event.

    The typed envelope is chosen by the topic's event type and the ``schema_version``
    header, and used only when the event says it is of the type and schema version the
    typed model is for; anything else goes through the shared decoder, which accepts
    exactly the same events and gives the reason for the others.
    """
    version = next((v for k, v in record.headers or () if k == "schema_version"), None)
    typed = _TYPED.get((event_type, version))
    if typed is not None and record.value:
        try:
            envelope = typed.model_validate_json(record.value)
        except ValidationError:
            pass
        else:
            payload: EventPayload = envelope.payload
            if (envelope.event_type, envelope.schema_version) == (
                payload.event_type,
                payload.schema_version,
            ):
                return envelope, payload
    return decode(record.value)


def _apply(
    record: ConsumerRecord,
    settings: Settings,
    batches: _Batches,
    report: RebuildReport,
    seen: set[uuid.UUID],
    seen_consultations: set[uuid.UUID],
) -> None:
    try:
        envelope, payload = _decode(record, record.topic.removeprefix(settings.namespace + "."))
        if record.topic != settings.topic(envelope.event_type):
            raise InvalidEvent(f"{envelope.event_type} on {record.topic}")
    except InvalidEvent as exc:
        report.invalid += 1
        log.warning(
            "rebuild skipped an invalid event",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=str(exc),
        )
        return
    if envelope.event_id in seen:
        report.duplicates += 1
        return
    seen.add(envelope.event_id)
    if isinstance(payload, (mediation_model.HANDLED, legal_aid_model.HANDLED)):
        in_order = (
            batches.mediation if isinstance(payload, mediation_model.HANDLED) else batches.legal_aid
        )
        in_order.append((envelope, payload))
        batches.inbox.append((envelope.event_id, batches.group, envelope.event_type))
        report.applied += 1
        return
    facts = facts_of(envelope, payload)
    for row in facts.rows.get("fact_consultation", ()):
        if row[1] in seen_consultations:
            report.duplicates += 1
            return
        seen_consultations.add(row[1])
    batches.facts.extend(facts)
    batches.inbox.append((envelope.event_id, batches.group, envelope.event_type))
    report.applied += 1


async def _hand_over(settings: Settings, end: dict[TopicPartition, int]) -> None:
    """Set the live consumer group's offsets to where the rebuild stopped."""
    if not end:
        return
    committer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.consumer_group,
        enable_auto_commit=False,
        client_id=f"{settings.consumer_group}.rebuild-handover",
    )
    await committer.start()
    try:
        committer.assign(list(end))
        await committer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in end.items()})
    finally:
        await committer.stop()
