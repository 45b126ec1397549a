"""Consuming events: inbox idempotency, bounded retries and a dead-letter topic.

What FastStream and aiokafka do not give us (see ENGINEERING.md), this module adds:

- Manual acknowledgement. An offset is committed only after the transaction that recorded
  the event's effect *and* its inbox row has committed. A crash before the commit means
  redelivery; the inbox row makes the redelivery a no-op.
- A message is never passed over. Because a commit moves the partition's position past
  every earlier message, each message is settled before the next: applied, recognised as a
  duplicate, or written to the service's dead-letter topic.
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
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.envelope import Envelope, EventPayload, InvalidEvent, decode
from weiquan_shared.logging import get_logger
from weiquan_shared.metrics import EVENTS_CONSUMED, HANDLER_RETRIES
from weiquan_shared.settings import Settings
from weiquan_shared.topics import dead_letter_topic

log = get_logger(__name__)

PayloadT = TypeVar("PayloadT", bound=EventPayload)
Handler = Callable[[asyncpg.Connection, Envelope, Any], Awaitable[None]]


class EventConsumer:
    """Routes a service's events to its handlers, each run in one transaction with the inbox.

    Usage::

        consumer = EventConsumer(settings, runtime)

        @consumer.handles(CaseReported)
        async def on_case_reported(conn, envelope, payload: CaseReported) -> None: ...

        consumer.subscribe(broker)
    """

    def __init__(
        self,
        settings: Settings,
        pool: Callable[[], asyncpg.Pool],
        producer: Callable[[], AIOKafkaProducer],
        max_attempts: int = 3,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._producer = producer
        self._max_attempts = max_attempts
        self._handlers: dict[str, tuple[type[EventPayload], Handler]] = {}

    def handles(
        self, payload_type: type[PayloadT]
    ) -> Callable[[Callable[[asyncpg.Connection, Envelope, PayloadT], Awaitable[None]]], Handler]:
        def register(handler: Handler) -> Handler:
            self._handlers[payload_type.event_type] = (payload_type, handler)
            return handler

        return register

    @property
    def topics(self) -> list[str]:
        return [self._settings.topic(event_type) for event_type in self._handlers]

    def subscribe(self, broker: KafkaBroker) -> None:
        broker.subscriber(
            *self.topics,
            group_id=self._settings.consumer_group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            title=f"{self._settings.service_name} events",
        )(self.on_message)

    async def on_message(self, msg: KafkaMessage) -> None:
        record: ConsumerRecord = msg.raw_message
        await self.process(record)
        try:
            await msg.ack()
        except Exception as exc:  # e.g. CommitFailedError during a rebalance
            log.warning("offset commit failed; the inbox absorbs the redelivery", error=repr(exc))

    async def process(self, record: ConsumerRecord) -> str:
        """Settle one record; returns the outcome (applied, duplicate, dead_lettered)."""
        try:
            envelope, payload = decode(record.value)
            expected_topic = self._settings.topic(envelope.event_type)
            if record.topic != expected_topic:
                raise InvalidEvent(
                    f"{envelope.event_type} does not belong on {record.topic} "
                    f"(expected {expected_topic})"
                )
        except InvalidEvent as exc:
            await self._dead_letter(record, str(exc))
            EVENTS_CONSUMED.labels("invalid", "dead_lettered").inc()
            return "dead_lettered"
        outcome = await self._apply(record, envelope, payload)
        EVENTS_CONSUMED.labels(envelope.event_type, outcome).inc()
        return outcome

    async def _apply(
        self, record: ConsumerRecord, envelope: Envelope, payload: EventPayload
    ) -> str:
        _, handler = self._handlers[envelope.event_type]
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
                    await handler(conn, envelope, payload)
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
            try:
                await self._producer().send_and_wait(
                    topic, value=record.value or b"", key=record.key, headers=headers
                )
                return
            except Exception as exc:
                log.warning("dead-letter publish failed, retrying", error=repr(exc))
                await asyncio.sleep(1.0)
