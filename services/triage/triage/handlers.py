"""Triage's event handlers: decide, record, and announce the decision, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from triage.domain import Lexicon, triage
from triage.store import record_initial_decision
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope, new_event
from weiquan_shared.events import CaseReported, CaseTriaged
from weiquan_shared.outbox import add_to_outbox
from weiquan_shared.settings import Settings


def register_handlers(consumer: EventConsumer, settings: Settings, lexicon: Lexicon) -> None:
    @consumer.handles(CaseReported)
    async def on_case_reported(
        conn: asyncpg.Connection, envelope: Envelope, case: CaseReported
    ) -> None:
        decision = triage(case, lexicon)
        await record_initial_decision(
            conn,
            case_id=case.case_id,
            case_number=case.case_number,
            decision=decision,
            source_event_id=envelope.event_id,
        )
        triaged = CaseTriaged(
            case_id=case.case_id,
            case_number=case.case_number,
            category=decision.category,
            secondary_categories=decision.secondary_categories,
            urgency=decision.urgency,
            route=decision.route,
            reasons=decision.reasons,
            triaged_at=datetime.now(UTC),
        )
        await add_to_outbox(
            conn,
            settings,
            new_event(triaged, subject=envelope.subject, producer="triage", caused_by=envelope),
        )
