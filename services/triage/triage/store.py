"""Triage's store: the decision history, written in the consumer's transaction."""

from __future__ import annotations

import uuid

import asyncpg

from triage.domain import Decision


async def record_initial_decision(
    conn: asyncpg.Connection,
    *,
    case_id: uuid.UUID,
    case_number: str,
    decision: Decision,
    source_event_id: uuid.UUID,
) -> None:
    await conn.execute(
        """
        INSERT INTO decisions (case_id, case_number, kind, category, secondary_categories,
            urgency, route, reasons, source_event_id)
        VALUES ($1, $2, 'initial', $3, $4, $5, $6, $7, $8)
        """,
        case_id,
        case_number,
        decision.category,
        list(decision.secondary_categories),
        decision.urgency,
        decision.route,
        [r.model_dump() for r in decision.reasons],
        source_event_id,
    )


async def count_decisions(pool: asyncpg.Pool) -> dict[str, int]:
    row = await pool.fetchrow(
        "SELECT count(*) AS decisions, count(DISTINCT case_id) AS cases FROM decisions"
    )
    return dict(row)
