"""Consuming events: inbox idempotency, bounded retries and a dead-letter topic.

What FastStream and aiokafka do not give us (see ENGINEERING.md), this module adds:

- Manual acknowledgement. An offset is committed only after the transaction that recorded
  the event's effect *and* its inbox row has committed. A crash before the commit means
  redelivery; the inbox row makes the redelivery a no-op.
- A message is never passed over. Because a commit moves the partition's position past
  every earlier message, every message of a batch is settled before the batch's offsets
  are committed: applied, recognised as a duplicate, or written to the dead-letter topic.
- Batches. Messages arrive in batches (up to ``batch_size``) and a batch is applied in one
  transaction; a failing batch is replayed event by event to isolate the faulty one. A
  handler registered with ``handles_batch`` receives each run of consecutive events it
  handles as one list, so it can read and write set-wise (a few statements per batch
  instead of several per event); ``handles`` registers a handler of one event at a time.
- A unit of work per transaction. Handlers receive a
  :class:`~weiquan_shared.uow.UnitOfWork` acting as ``system:<service>``: its connection is
  the batch's transaction, and the events they emit reach the outbox in it.
- Classification of failures. A message that cannot be parsed or validated is dead-lettered
  at once, with the reason. A database outage is transient: retried until it ends, without
  dead-lettering anything. Any other handler error is retried a few times, then
  dead-lettered with the exception as the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.envelope import Actor, Envelope, EventPayload, InvalidEvent, decode
from weiquan_shared.logging import get_logger
from weiquan_shared.metrics import EVENTS_CONSUMED, HANDLER_RETRIES
from weiquan_shared.settings import Settings
from weiquan_shared.topics import dead_letter_topic
from weiquan_shared.uow import UnitOfWork

log = get_logger(__name__)

# Idle cost (see ``quiet_when_idle``). A fetch's (fetch_min_bytes, fetch_max_wait_ms)
# while records flow, and once a fetch has come back empty.
BUSY_FETCH = (16 * 1024, 500)
IDLE_FETCH = (1, 5000)
# How long FastStream's consume loop waits for records before it sleeps BATCH_TIMEOUT_MS
# and asks again; records that arrive end the wait at once.
IDLE_GETMANY_MS = 5000
BATCH_TIMEOUT_MS = 250
# How often aiokafka's fetch loop looks over every assigned partition unprompted (its
# default 200 ms); a fetch's answer, records consumed or a new assignment wake it at once.
FETCH_LOOP_TIMEOUT_MS = 2000

PayloadT = TypeVar("PayloadT", bound=EventPayload)
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]


class EventConsumer:
    """Routes a service's events to its handlers, each run in one transaction with the inbox.

    Usage::

        consumer = runtime.consumer()

        @consumer.handles(CaseReported)
        async def on_case_reported(uow, envelope, payload: CaseReported) -> None: ...

        @consumer.handles_batch(CaseTriaged, CaseRetriaged)
        async def on_decisions(uow, events: list[tuple[Envelope, EventPayload]]) -> None: ...

        consumer.subscribe(broker)
    """

    def __init__(
        self,
        settings: Settings,
        pool: Callable[[], asyncpg.Pool],
        producer: Callable[[], AIOKafkaProducer],
        renew_producer: Callable[[AIOKafkaProducer], Awaitable[None]],
        max_attempts: int = 3,
        batch_size: int = 256,
    ) -> None:
        self._settings = settings
        self._batch_size = batch_size
        self._pool = pool
        self._producer = producer
        self._renew_producer = renew_producer
        self._max_attempts = max_attempts
        self._handlers: dict[str, BatchHandler] = {}
        self._subscriber: BatchSubscriber | None = None

    def handles(
        self, payload_type: type[PayloadT]
    ) -> Callable[[Callable[[UnitOfWork, Envelope, PayloadT], Awaitable[None]]], Handler]:
        """Register a handler of one event at a time."""

        def register(handler: Handler) -> Handler:
            async def one_by_one(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
                for envelope, payload in events:
                    await handler(uow, envelope, payload)

            self._handlers[payload_type.event_type] = one_by_one
            return handler

        return register

    def handles_batch(
        self, *payload_types: type[EventPayload]
    ) -> Callable[[BatchHandler], BatchHandler]:
        """Register a handler of runs of events, in the order they arrived.

        Events of one partition arrive in order; a run mixes partitions, and holds events
        of ``payload_types`` only (an event of another type ends it).
        """

        def register(handler: BatchHandler) -> BatchHandler:
            for payload_type in payload_types:
                self._handlers[payload_type.event_type] = handler
            return handler

        return register

    @property
    def topics(self) -> list[str]:
        return [self._settings.topic(event_type) for event_type in self._handlers]

    def subscribe(self, broker: KafkaBroker) -> None:
        self._subscriber = broker.subscriber(
            *self.topics,
            group_id=self._settings.consumer_group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=self._batch_size,
            # Records already fetched are handed over at once. When none are, FastStream
            # waits for them (IDLE_GETMANY_MS, see ``quiet_when_idle``), then sleeps this
            # long before asking again.
            batch_timeout_ms=BATCH_TIMEOUT_MS,
            # Under load, a fetch answered at the first byte carries a record or two, and
            # the broker's CPU goes on requests, not records: the broker holds a fetch
            # until 16 KB (about a dozen events) or 500 ms. Once a fetch comes back empty,
            # the next ones are answered at the first byte (``quiet_when_idle``).
            fetch_min_bytes=BUSY_FETCH[0],
            fetch_max_wait_ms=BUSY_FETCH[1],
            consumer_timeout_ms=FETCH_LOOP_TIMEOUT_MS,
            title=f"{self._settings.service_name} events",
        )
        self._subscriber(self.on_batch)

    def quiet_when_idle(self) -> None:
        """Once the broker has started: see :func:`quiet_when_idle`."""
        if self._subscriber is not None and self._subscriber.consumer is not None:
            quiet_when_idle(self._subscriber.consumer)

    async def on_batch(self, msg: KafkaMessage) -> None:
        records: tuple[ConsumerRecord, ...] = msg.raw_message
        await self.process_batch(list(records))
        try:
            await msg.ack()
        except Exception as exc:  # e.g. CommitFailedError during a rebalance
            log.warning("offset commit failed; the inbox absorbs the redelivery", error=repr(exc))

    async def process_batch(self, records: list[ConsumerRecord]) -> None:
        """Settle every record, in order, before the batch's offsets are committed.

        The happy path is one transaction for the whole batch (one inbox insert, one
        commit): that is where throughput comes from. If any handler fails, that
        transaction rolls back and the batch is settled again one event at a time, so
        only the faulty event is retried and, in the end, dead-lettered.
        """
        valid: list[tuple[ConsumerRecord, Envelope, EventPayload]] = []
        for record in records:
            try:
                valid.append((record, *self._decode(record)))
            except InvalidEvent as exc:
                await self._dead_letter(record, str(exc))
                EVENTS_CONSUMED.labels("invalid", "dead_lettered").inc()
        while valid:
            try:
                outcomes = await self._apply_together(valid)
            except DATABASE_UNAVAILABLE as exc:
                HANDLER_RETRIES.labels("database_unavailable").inc()
                log.warning(
                    "database unavailable while handling events, retrying",
                    events=len(valid),
                    error=f"{type(exc).__name__}: {exc}",
                )
                await asyncio.sleep(1.0)
                continue
            except Exception as exc:
                log.warning(
                    "batch failed; settling its events one by one",
                    events=len(valid),
                    error=f"{type(exc).__name__}: {exc}",
                )
                outcomes = [await self._apply(*item) for item in valid]
            for (_, envelope, _), outcome in zip(valid, outcomes, strict=True):
                EVENTS_CONSUMED.labels(envelope.event_type, outcome).inc()
            return

    def _decode(self, record: ConsumerRecord) -> tuple[Envelope, EventPayload]:
        envelope, payload = decode(record.value)
        expected_topic = self._settings.topic(envelope.event_type)
        if record.topic != expected_topic:
            raise InvalidEvent(
                f"{envelope.event_type} does not belong on {record.topic} "
                f"(expected {expected_topic})"
            )
        return envelope, payload

    async def _apply_together(
        self, items: list[tuple[ConsumerRecord, Envelope, EventPayload]]
    ) -> list[str]:
        async with self._pool().acquire() as conn, conn.transaction():
            claimed = {
                row["event_id"]
                for row in await conn.fetch(
                    "INSERT INTO inbox (event_id, consumer, event_type) "
                    "SELECT e, $2, t FROM unnest($1::uuid[], $3::text[]) AS u(e, t) "
                    "ON CONFLICT DO NOTHING RETURNING event_id",
                    [envelope.event_id for _, envelope, _ in items],
                    self._settings.consumer_group,
                    [envelope.event_type for _, envelope, _ in items],
                )
            }
            outcomes = []
            runs: list[tuple[BatchHandler, list[tuple[Envelope, Any]]]] = []
            for _, envelope, payload in items:
                if envelope.event_id not in claimed:
                    outcomes.append("duplicate")
                    continue
                claimed.discard(envelope.event_id)  # the same event twice in one batch
                handler = self._handlers[envelope.event_type]
                if runs and runs[-1][0] is handler:
                    runs[-1][1].append((envelope, payload))
                else:
                    runs.append((handler, [(envelope, payload)]))
                outcomes.append("applied")
            uow = self._unit_of_work(conn)
            for handler, events in runs:
                await handler(uow, events)
            await uow.flush()
            return outcomes

    async def _apply(
        self, record: ConsumerRecord, envelope: Envelope, payload: EventPayload
    ) -> str:
        handler = self._handlers[envelope.event_type]
        attempt = 0
        while True:
            try:
                async with self._pool().acquire() as conn, conn.transaction():
                    claimed = await conn.fetchval(
                        "INSERT INTO inbox (event_id, consumer, event_type) VALUES ($1, $2, $3) "
                        "ON CONFLICT DO NOTHING RETURNING true",
                        envelope.event_id,
                        self._settings.consumer_group,
                        envelope.event_type,
                    )
                    if not claimed:
                        return "duplicate"
                    uow = self._unit_of_work(conn)
                    await handler(uow, [(envelope, payload)])
                    await uow.flush()
                return "applied"
            except DATABASE_UNAVAILABLE as exc:
                HANDLER_RETRIES.labels("database_unavailable").inc()
                log.warning(
                    "database unavailable while handling event, retrying",
                    event_id=str(envelope.event_id),
                    error=f"{type(exc).__name__}: {exc}",
                )
                await asyncio.sleep(1.0)
            except Exception as exc:
                attempt += 1
                reason = f"handler failed after {attempt} attempt(s): {type(exc).__name__}: {exc}"
                if attempt >= self._max_attempts:
                    log.exception("giving up on event", event_id=str(envelope.event_id))
                    await self._dead_letter(record, reason)
                    return "dead_lettered"
                HANDLER_RETRIES.labels("handler_error").inc()
                log.warning(
                    "handler failed, retrying", event_id=str(envelope.event_id), error=reason
                )
                await asyncio.sleep(0.2 * 2**attempt)

    def _unit_of_work(self, conn: asyncpg.Connection) -> UnitOfWork:
        return UnitOfWork(conn, self._settings, Actor.system(self._settings.service_name))

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        """Publish the original bytes to this service's dead-letter topic with the reason.

        Retried until Kafka takes it: acknowledging the offset without it would lose the event.
        """
        topic = self._settings.topic(dead_letter_topic(self._settings.service_name))
        headers = [
            *(record.headers or ()),
            ("dlq.reason", reason.encode()),
            ("dlq.source.topic", record.topic.encode()),
            ("dlq.source.partition", str(record.partition).encode()),
            ("dlq.source.offset", str(record.offset).encode()),
            ("dlq.consumer", self._settings.consumer_group.encode()),
            ("dlq.failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        log.error(
            "event dead-lettered",
            reason=reason,
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            dead_letter_topic=topic,
        )
        while True:
            producer = self._producer()
            try:
                await producer.send_and_wait(
                    topic, value=record.value or b"", key=record.key, headers=headers
                )
                return
            except Exception as exc:
                log.warning("dead-letter publish failed, retrying", error=repr(exc))
                await asyncio.sleep(1.0)
                if isinstance(exc, KafkaError):
                    await self._renew_producer(producer)


def quiet_when_idle(consumer: AIOKafkaConsumer) -> None:
    """Batches while records flow; when none do, few wake-ups and the first record at once.

    Fetching. A busy consumer asks the broker for 16 KB or 500 ms (``BUSY_FETCH``): fewer,
    fuller fetches, which is where the broker's CPU goes under load. Idle, that was two
    empty fetches a second per service, each naming every assigned partition (up to a
    hundred and more: a few KB and a couple of milliseconds of CPU in the service, and
    some in Kafka). After a fetch that brought nothing, the next asks for the first byte
    and lets the broker hold it up to 5 s (``IDLE_FETCH``): an idle service fetches once
    every 5 s, and a lone event is handed over as soon as it is written instead of after
    up to 500 ms. The fetch that brings records switches back to batches, so under load
    nothing changes.

    Waiting. FastStream's loop asks for records with ``batch_timeout_ms`` and, given none,
    sleeps as long again: four wake-ups a second at 250 ms. Its wait is lengthened to
    ``IDLE_GETMANY_MS``; records that arrive end it at once, so only the short sleep after
    an empty wait can delay one (at most ``BATCH_TIMEOUT_MS``, as before).

    aiokafka reads the fetch parameters from its fetcher each time it builds a request;
    this wraps the fetcher's per-request coroutine and the consumer's ``getmany`` (aiokafka
    and FastStream pinned in uv.lock; tests/integration/test_consumer_idle.py checks both
    modes on a real broker).
    """
    fetcher = consumer._fetcher
    fetch = fetcher._proc_fetch_request

    async def fetch_then_adapt(assignment: Any, node_id: int, request: Any) -> bool:
        got_records: bool = await fetch(assignment, node_id, request)
        fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = (
            BUSY_FETCH if got_records else IDLE_FETCH
        )
        return got_records

    fetcher._proc_fetch_request = fetch_then_adapt
    getmany = consumer.getmany

    async def getmany_waiting_longer(
        *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        return await getmany(
            *partitions, timeout_ms=max(timeout_ms, IDLE_GETMANY_MS), max_records=max_records
        )

    consumer.getmany = getmany_waiting_longer
