"""Transactional outbox: write events with the state change, publish them after commit.

``add_to_outbox`` runs inside the caller's transaction; ``NOTIFY`` is delivered only if
that transaction commits, which wakes the relay at once. The relay publishes with an
idempotent producer (acks=all), waits for Kafka's acknowledgement, and only then deletes
the rows: a crash in between republishes them, and consumers drop the duplicate by
event id (the inbox). An advisory lock keeps one relay per database publishing, so events
leave in the order they were written. A poll every few seconds is only the safety net for a missed
NOTIFY; it is what the relay costs when idle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from weiquan_shared.envelope import Envelope, encode, kafka_headers
from weiquan_shared.logging import get_logger
from weiquan_shared.metrics import OUTBOX_PUBLISHED
from weiquan_shared.settings import Settings

NOTIFY_CHANNEL = "weiquan_outbox"
RELAY_LOCK_ID = 0x5745_4951  # "WEIQ": any constant shared by every instance of a service

log = get_logger(__name__)


async def add_to_outbox(conn: asyncpg.Connection, settings: Settings, *envelopes: Envelope) -> None:
    """Queue ``envelopes`` for publishing; call inside the transaction that changes state.

    One statement: the rows (in order) and the NOTIFY that wakes the relay on commit.
    """
    if not envelopes:
        return
    await conn.execute(
        f"""WITH queued AS (
                INSERT INTO outbox (event_id, topic, key, headers, body)
                SELECT e, t, k, h::jsonb, b
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])
                    AS u(e, t, k, h, b)
                RETURNING id)
            SELECT pg_notify('{NOTIFY_CHANNEL}', '') WHERE EXISTS (SELECT FROM queued)""",
        [envelope.event_id for envelope in envelopes],
        [settings.topic(envelope.event_type) for envelope in envelopes],
        [envelope.subject for envelope in envelopes],
        # As JSON text: asyncpg would read a list of pairs as more array dimensions.
        [
            orjson.dumps([[k, v.decode()] for k, v in kafka_headers(envelope)]).decode()
            for envelope in envelopes
        ],
        [encode(envelope) for envelope in envelopes],
    )


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: Callable[[], AIOKafkaProducer],
        renew_producer: Callable[[AIOKafkaProducer], Awaitable[None]],
        batch_size: int = 500,
        poll_interval_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._renew_producer = renew_producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wakeup = asyncio.Event()

    async def run(self) -> None:
        """Publish until cancelled; never gives up on a failure, only waits and retries.

        A failure (Kafka or PostgreSQL away) drops the listening connection too, so a
        database restart is followed by a fresh ``LISTEN``, not by polling alone.
        """
        delay = 0.5
        while True:
            try:
                async with self._pool.acquire() as listener:
                    await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
                    try:
                        while not listener.is_closed():
                            # Cleared before reading, so a NOTIFY during the pass is not lost.
                            self._wakeup.clear()
                            published = await self.publish_pending()
                            delay = 0.5
                            if published < self._batch_size:
                                with contextlib.suppress(TimeoutError):
                                    await asyncio.wait_for(
                                        self._wakeup.wait(), self._poll_interval_s
                                    )
                    finally:
                        # The pool does not UNLISTEN (db._keep_session): do it here.
                        if not listener.is_closed():
                            with contextlib.suppress(Exception):
                                await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
                raise ConnectionError("outbox listener connection closed")
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:
                failed_producer = self._producer()
                log.warning("outbox relay failed, retrying", error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                if isinstance(exc, KafkaError):
                    await self._renew_producer(failed_producer)

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many events went out."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK_ID):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, key, headers, body FROM outbox ORDER BY id LIMIT $1",
                self._batch_size,
            )
            if not rows:
                return 0
            producer = self._producer()
            deliveries = [
                await producer.send(
                    row["topic"],
                    value=bytes(row["body"]),
                    key=row["key"].encode(),
                    headers=[(k, v.encode()) for k, v in row["headers"]],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await conn.execute(
                "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        for row in rows:
            OUTBOX_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)
