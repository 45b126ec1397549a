"""Projection's handler: a batch's facts, applied inside the consumer's inbox transaction.

The events of a batch become one set of facts, written table by table, and the cases they
touch are re-derived once (``refresh_cases``): a case reported and triaged in one batch
costs one derivation, not two.
"""

from __future__ import annotations

from typing import Any

from projection import legal_aid, mediation, store
from projection.domain import FACTS_OF, Facts, facts_of
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.uow import UnitOfWork


async def on_events(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    facts = Facts()
    for envelope, payload in events:
        facts.extend(facts_of(envelope, payload))
    await store.apply(uow.conn, facts)


def register_handlers(consumer: EventConsumer) -> None:
    """Subscribe to every event projection has facts for (``domain.FACTS_OF``)."""
    consumer.handles_batch(*FACTS_OF)(on_events)
    mediation.register(consumer)
    legal_aid.register(consumer)
