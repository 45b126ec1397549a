"""Reading and writing raw Kafka messages in tests, with a real broker."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def read_topic(bootstrap: str, topic: str, idle_s: float = 1.5) -> list[ConsumerRecord]:
    """Every message on ``topic`` from the beginning, until none arrives for ``idle_s``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            if not batch:
                return records
            for partition_records in batch.values():
                records.extend(partition_records)
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
        records = await read_topic(bootstrap, topic, idle_s=0.5)
        if len(records) >= count or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.5)
