"""Projection's handlers: each event's facts, applied inside the consumer's inbox transaction."""

from __future__ import annotations

from typing import Any

import asyncpg

from projection import store
from projection.domain import FACTS_OF, facts_of
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope


async def on_event(conn: asyncpg.Connection, envelope: Envelope, payload: Any) -> None:
    await store.apply(conn, facts_of(envelope, payload))


def register_handlers(consumer: EventConsumer) -> None:
    """Subscribe to every event projection has facts for (``domain.FACTS_OF``)."""
    for payload_type in FACTS_OF:
        consumer.handles(payload_type)(on_event)
