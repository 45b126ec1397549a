"""Intake's event handler: the current route of each case, from triage's decisions."""

from __future__ import annotations

from typing import Any

from intake.routes import current_routes
from intake.store import record_routes
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import CaseRetriaged, CaseTriaged
from weiquan_shared.uow import UnitOfWork


async def on_decisions(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    await record_routes(uow.conn, current_routes([payload for _, payload in events]))


def register_handlers(consumer: EventConsumer) -> None:
    consumer.handles_batch(CaseTriaged, CaseRetriaged)(on_decisions)
