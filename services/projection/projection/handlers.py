"""Projection's handlers: fold each event into the read models (inside the inbox transaction)."""

from __future__ import annotations

import asyncpg

from projection import labels
from projection.store import add_to_timeline
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import CaseReported, CaseTriaged


def register_handlers(consumer: EventConsumer) -> None:
    @consumer.handles(CaseReported)
    async def on_case_reported(
        conn: asyncpg.Connection, envelope: Envelope, case: CaseReported
    ) -> None:
        await conn.execute(
            """
            INSERT INTO case_summary (case_id, case_number, channel, district_code,
                employer_name, worker_count, claim_amount, reported_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (case_id) DO UPDATE SET
                channel = excluded.channel, district_code = excluded.district_code,
                employer_name = excluded.employer_name, worker_count = excluded.worker_count,
                claim_amount = excluded.claim_amount, reported_at = excluded.reported_at,
                updated_at = now()
            """,
            case.case_id,
            case.case_number,
            case.channel,
            case.district_code,
            case.employer.name,
            len(case.workers),
            case.claim_amount,
            case.reported_at,
        )
        await add_to_timeline(
            conn,
            envelope,
            f"经{labels.CHANNELS[case.channel]}受理，{len(case.workers)}名职工投诉"
            f"{case.employer.name}，案件编号 {case.case_number}",
        )

    @consumer.handles(CaseTriaged)
    async def on_case_triaged(
        conn: asyncpg.Connection, envelope: Envelope, triaged: CaseTriaged
    ) -> None:
        # Only a newer decision replaces an older one, whatever order they arrive in.
        await conn.execute(
            """
            INSERT INTO case_summary (case_id, case_number, category, urgency, route, triaged_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (case_id) DO UPDATE SET
                category = excluded.category, urgency = excluded.urgency,
                route = excluded.route, triaged_at = excluded.triaged_at, updated_at = now()
            WHERE case_summary.triaged_at IS NULL
               OR case_summary.triaged_at <= excluded.triaged_at
            """,
            triaged.case_id,
            triaged.case_number,
            triaged.category,
            triaged.urgency,
            triaged.route,
            triaged.triaged_at,
        )
        await add_to_timeline(
            conn,
            envelope,
            f"分流：{labels.CATEGORIES[triaged.category]}，{labels.URGENCIES[triaged.urgency]}，"
            f"转{labels.ROUTES[triaged.route]}（{'；'.join(r.text for r in triaged.reasons)}）",
        )
