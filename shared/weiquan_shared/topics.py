"""The Kafka topics: one per event type, plus one dead-letter topic per consuming service.

Topics are created explicitly (``python -m weiquan_shared.topics create``); the broker's
auto-create is off. Case events are kept forever (``retention.ms=-1``) because projection
rebuilds its read models by replaying them from the beginning; compaction would keep only
the last event per case and lose the history the timeline and figures need.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

import weiquan_shared.events  # noqa: F401  (registers every event type)
from weiquan_shared.envelope import registered_payloads
from weiquan_shared.settings import Settings

CASE_EVENT_PARTITIONS = 6


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def event_topics() -> list[str]:
    return sorted({event_type for event_type, _ in registered_payloads()})


def consuming_services() -> list[str]:
    return sorted({c for payload in registered_payloads().values() for c in payload.consumers})


def dead_letter_topic(service: str) -> str:
    return f"dlq.{service}"


def topic_specs() -> list[TopicSpec]:
    keep_forever = {"retention.ms": "-1", "min.insync.replicas": "1"}
    specs = [TopicSpec(name, CASE_EVENT_PARTITIONS, keep_forever) for name in event_topics()]
    # Dead letters wait for a person; 30 days is long enough to notice and replay them.
    specs += [
        TopicSpec(dead_letter_topic(s), 1, {"retention.ms": str(30 * 24 * 3600 * 1000)})
        for s in consuming_services()
    ]
    return specs


async def ensure_topics(settings: Settings) -> list[str]:
    """Create any missing topic of ``settings.namespace``; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(settings.topic(s.name), s.partitions, 1, topic_configs=s.config)
            for s in topic_specs()
            if settings.topic(s.name) not in existing
        ]
        if missing:
            # Another process may create them between list and create: that is fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def delete_namespace_topics(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(settings.namespace + ".")]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


def main() -> None:
    if sys.argv[1:] != ["create"]:
        sys.exit("usage: python -m weiquan_shared.topics create")
    settings = Settings()
    created = asyncio.run(ensure_topics(settings))
    print(f"topics: {len(created)} created, {len(topic_specs()) - len(created)} already there")


if __name__ == "__main__":
    main()
