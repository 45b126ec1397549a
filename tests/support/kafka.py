"""Reading and writing raw Kafka messages in tests, with a real broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from weiquan_shared.envelope import EventEnvelope, encode, kafka_headers


async def read_topic(bootstrap: str, topic: str, timeout_s: float = 60) -> list[ConsumerRecord]:
    """Every message on ``topic`` up to its end as of this call (later arrivals excluded)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,  # no group: every partition is assigned to us once metadata is in
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout_s
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partitions of {topic} assigned in {timeout_s}s")
            await asyncio.sleep(0.05)
        partitions = sorted(consumer.assignment())
        end = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout_s}s")
            batch = await consumer.getmany(*partitions, timeout_ms=500)
            for tp, partition_records in batch.items():
                records.extend(r for r in partition_records if r.offset < end[tp])
        return records
    finally:
        await consumer.stop()


async def produce_raw(
    bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key or uuid.uuid4().bytes)
    finally:
        await producer.stop()


async def wait_for_records(
    bootstrap: str, topic: str, count: int, timeout_s: float = 30
) -> list[ConsumerRecord]:
    deadline = time.monotonic() + timeout_s
    while True:
        records = await read_topic(bootstrap, topic)
        if len(records) >= count or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.5)


async def publish_events(bootstrap: str, namespace: str, events: list[EventEnvelope[Any]]) -> None:
    """Events on their topics, as their producer would publish them (key: the subject)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for envelope in events:
            await producer.send_and_wait(
                f"{namespace}.{envelope.event_type}",
                value=encode(envelope),
                key=envelope.subject.encode(),
                headers=kafka_headers(envelope),
            )
    finally:
        await producer.stop()
