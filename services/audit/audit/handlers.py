"""The one event the audit service consumes: audit.recorded, stored a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from audit import store
from audit.domain import partition_for, retention_cutoff
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import AuditRecorded
from weiquan_shared.logging import get_logger
from weiquan_shared.uow import UnitOfWork

log = get_logger(__name__)


def register_handlers(consumer: EventConsumer, retention_days: int) -> None:
    @consumer.handles_batch(AuditRecorded)
    async def on_audit_records(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        """One INSERT per batch, in the batch's transaction with its inbox rows (a
        redelivered event is a duplicate there; a record seen twice under two event ids
        is skipped by its record id). A record already past retention (a replay of old
        events) is not stored: the retention task would drop it anyway."""
        cutoff = retention_cutoff(datetime.now(UTC), retention_days)
        kept = [(e, r) for e, r in events if r.occurred_at >= cutoff]
        if len(kept) < len(events):
            log.info("audit records past retention not stored", records=len(events) - len(kept))
        if not kept:
            return
        months = {partition_for(record.occurred_at) for _, record in kept}
        await store.add_partitions(uow.conn, sorted(months, key=lambda p: p.starts))
        await store.insert_records(uow.conn, kept)
