"""The shared consumer when idle, on a real Kafka and PostgreSQL, run as a service runs it
(FastStream's broker, ``quiet_when_idle``): an idle consumer's fetches wait for the first
byte, a lone event is handled at once, and a burst still arrives in batches."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from tests.integration.test_consumer_batches import reported
from tests.support.stack import Deployment
from weiquan_shared.consumer import IDLE_FETCH, EventConsumer
from weiquan_shared.db import prepare_database
from weiquan_shared.envelope import Envelope, encode
from weiquan_shared.events import CaseReported
from weiquan_shared.settings import Settings
from weiquan_shared.topics import ensure_topics
from weiquan_shared.uow import UnitOfWork

pytestmark = pytest.mark.integration


def test_an_idle_consumer_waits_for_the_first_byte_and_batches_a_burst(
    deployment: Deployment, tmp_path: Path
) -> None:
    asyncio.run(_scenario(deployment.settings("triage"), tmp_path))


async def _scenario(settings: Settings, no_service_migrations: Path) -> None:
    await ensure_topics(settings)
    pool = await prepare_database(settings, no_service_migrations)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    await producer.start()
    batches: list[list[tuple[float, Envelope]]] = []
    consumer = EventConsumer(settings, lambda: pool, lambda: producer, _no_renewal)

    @consumer.handles_batch(CaseReported)
    async def on_reported(_: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        batches.append([(time.monotonic(), envelope) for envelope, _ in events])

    broker = KafkaBroker(settings.kafka_bootstrap, log_level=10)
    consumer.subscribe(broker)
    await broker.start()
    consumer.quiet_when_idle()
    try:
        subscriber = consumer._subscriber
        assert subscriber is not None and subscriber.consumer is not None
        fetcher = subscriber.consumer._fetcher

        def fetching() -> tuple[int, int]:
            return fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms

        # Started busy (16 KB or 500 ms); the first empty fetch makes it idle.
        await _until(lambda: fetching() == IDLE_FETCH, "the consumer never went idle")

        # A lone event: the broker answers the idle fetch at its first byte and FastStream's
        # wait for records ends with it, well before either's 5 s.
        lone = reported()
        sent = time.monotonic()
        await producer.send_and_wait(
            settings.topic(lone.event_type), encode(lone), key=lone.subject.encode()
        )
        await _until(lambda: bool(batches), "the lone event was not handled")
        (handled_at, envelope), *_ = batches[0]
        assert envelope.event_id == lone.event_id
        assert handled_at - sent < 2.0, f"lone event handled after {handled_at - sent:.2f} s"

        # Idle again once nothing more comes.
        await _until(lambda: fetching() == IDLE_FETCH, "the consumer never went idle again")

        # A burst: the fetch that brings records switches back to batches (16 KB or 500 ms),
        # so 600 events arrive in batches of many, not a fetch per record or two.
        batches.clear()
        burst = [reported() for _ in range(600)]
        sends = [
            await producer.send(settings.topic(e.event_type), encode(e), key=e.subject.encode())
            for e in burst
        ]
        await asyncio.gather(*sends)
        await _until(
            lambda: sum(len(b) for b in batches) >= len(burst), "the burst was not handled"
        )
        assert {e.event_id for b in batches for _, e in b} == {e.event_id for e in burst}
        assert len(batches) <= 30, f"600 events in {len(batches)} batches"
    finally:
        await broker.stop()
        await producer.stop()
        await pool.close()


async def _until(condition: Any, failure: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        await asyncio.sleep(0.05)


async def _no_renewal(_: AIOKafkaProducer) -> None:
    raise AssertionError("the producer should not need renewing")
