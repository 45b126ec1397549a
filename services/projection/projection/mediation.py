"""Mediation's figures: disputes mediated, success rate, workers covered, money agreed and
money recovered, days to resolution, by district and period, with the mediations behind
them (DOMAIN.md §12).

Every mediation event names its mediation, district and cases, so any of them makes the
row (in order per mediation: events are keyed by the mediation id). A mediation counts in
the period it was opened in; money recovered in the period its instalment was paid; a
mediation closed as ``merged``, ``voided`` or ``handed_on`` counts nowhere
(``handling.LEFT_RESULTS``: merged into its group's, registered in error, or retriaged to a
route that counts it).
Money recovered is one row per paid instalment (keyed by the instalment), so a replayed or
repeated event adds nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from projection import handling, labels
from projection.periods import figure_filter, rate
from weiquan_shared import labels as shared_labels
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events.mediation import (
    MediationAgreementReached,
    MediationAssigned,
    MediationCasesChanged,
    MediationClosed,
    MediationConfirmationDecided,
    MediationConfirmationRequested,
    MediationEvent,
    MediationExpired,
    MediationFailed,
    MediationInstalmentOverdue,
    MediationInstalmentPaid,
    MediationOpened,
    MediationPaymentOrderApplied,
    MediationSessionCancelled,
    MediationSessionHeld,
    MediationSessionMoved,
    MediationSessionScheduled,
    MediationWithdrawn,
)
from weiquan_shared.uow import UnitOfWork

# The events the figures read; every handled one adds its line to its cases' timelines and
# says whether the mediation still handles them (projection.handling).
COUNTED = (
    MediationOpened,
    MediationCasesChanged,
    MediationAgreementReached,
    MediationFailed,
    MediationExpired,
    MediationInstalmentPaid,
    MediationClosed,
)
HANDLED = (
    *COUNTED,
    MediationAssigned,
    MediationSessionScheduled,
    MediationSessionMoved,
    MediationSessionCancelled,
    MediationSessionHeld,
    MediationWithdrawn,
    MediationConfirmationRequested,
    MediationConfirmationDecided,
    MediationPaymentOrderApplied,
    MediationInstalmentOverdue,
)
SUCCESS = ("agreement", "fulfilled")
CONCLUDED = ("agreement", "fulfilled", "failed", "withdrawn", "expired")

_UPSERT = """
INSERT INTO mediation_summary AS m (mediation_id, mediation_number, district_code, case_ids,
    case_numbers, first_seen_on)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (mediation_id) DO UPDATE SET case_ids = excluded.case_ids,
    case_numbers = excluded.case_numbers"""


async def on_events(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    await apply_all(uow.conn, events)


async def apply_all(conn: asyncpg.Connection, events: list[tuple[Any, Any]]) -> None:
    """Apply events in order (the live consumer's batch, or a rebuild's replay). Each row
    ends the same whatever order events of different types arrive in (they travel on
    different topics): dates of resolution take the earliest, results only move forward."""
    for envelope, payload in events:
        assert isinstance(payload, MediationEvent)
        await handling.apply(conn, envelope, payload)
        if not isinstance(payload, COUNTED):
            continue
        day = envelope.occurred_at.date()
        await conn.execute(
            _UPSERT,
            payload.mediation_id,
            payload.mediation_number,
            payload.district_code,
            payload.case_ids,
            payload.case_numbers,
            day,
        )
        await _apply(conn, payload)


async def _apply(conn: asyncpg.Connection, p: MediationEvent) -> None:
    mid = p.mediation_id
    if isinstance(p, MediationOpened):
        await conn.execute(
            "UPDATE mediation_summary SET opened_on = $2, worker_count = $3, route_detail = $4 "
            "WHERE mediation_id = $1",
            mid,
            p.opened_at.date(),
            len(p.workers),
            p.route_detail,
        )
    elif isinstance(p, MediationCasesChanged):
        await conn.execute(
            "UPDATE mediation_summary SET worker_count = $2 WHERE mediation_id = $1",
            mid,
            len(p.workers),
        )
    elif isinstance(p, MediationAgreementReached):
        await conn.execute(
            """UPDATE mediation_summary SET agreed_on = $2, amount_agreed = $3, partial = $4,
                   result = coalesce(result, 'agreement'),
                   resolved_on = least(resolved_on, $2),
                   worker_count = greatest(worker_count, $5)
               WHERE mediation_id = $1""",
            mid,
            p.effective_on,
            p.total_amount,
            p.partial,
            len({i.worker_ref for i in p.items}),
        )
    elif isinstance(p, MediationFailed):
        await conn.execute(
            "UPDATE mediation_summary SET result = 'failed', "
            "resolved_on = least(resolved_on, $2) WHERE mediation_id = $1",
            mid,
            p.failed_at.date(),
        )
    elif isinstance(p, MediationExpired) and p.deemed_failed:
        await conn.execute(
            "UPDATE mediation_summary SET result = coalesce(result, 'expired'), "
            "resolved_on = least(resolved_on, $2) WHERE mediation_id = $1",
            mid,
            p.expired_on,
        )
    elif isinstance(p, MediationInstalmentPaid):
        await conn.execute(
            "INSERT INTO mediation_payment (instalment_id, mediation_id, amount, paid_on) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (instalment_id) DO NOTHING",
            p.instalment_id,
            mid,
            p.amount_paid,
            p.paid_on,
        )
    elif isinstance(p, MediationClosed):
        # fulfilled keeps an agreement's success; the others say how it ended.
        await conn.execute(
            """UPDATE mediation_summary SET
                   result = CASE WHEN $2 = 'agreement' THEN coalesce(result, 'agreement')
                                 ELSE $2 END,
                   closed_on = $3, uncounted = ($2 = ANY($6::text[])),
                   resolved_on = CASE WHEN $2 IN ('failed', 'withdrawn', 'expired', 'fulfilled',
                                                  'agreement')
                                      THEN least(resolved_on, $3) ELSE resolved_on END,
                   opened_on = coalesce(opened_on, $4),
                   worker_count = CASE WHEN $5 > 0 THEN $5 ELSE worker_count END
               WHERE mediation_id = $1""",
            mid,
            p.result,
            p.closed_at.date(),
            p.opened_on,
            p.worker_count,
            list(handling.LEFT_RESULTS),
        )


def register(consumer: EventConsumer) -> None:
    consumer.handles_batch(*HANDLED)(on_events)


# --------------------------------------------------------------------------- figures


def _where(
    districts: tuple[str, ...] | None, since: date | None, until: date | None, day: str
) -> tuple[str, list[object]]:
    return figure_filter("NOT m.uncounted", "m.district_code", districts, since, until, day)


OPENED = "coalesce(m.opened_on, m.first_seen_on)"


async def figures(
    conn: asyncpg.Connection,
    districts: tuple[str, ...] | None,
    since: date | None,
    until: date | None,
) -> dict[str, Any]:
    where, args = _where(districts, since, until, OPENED)
    row = await conn.fetchrow(
        f"""SELECT count(*) AS disputes,
                   coalesce(sum(m.worker_count), 0) AS workers,
                   count(*) FILTER (WHERE m.result = ANY($%d::text[])) AS concluded,
                   count(*) FILTER (WHERE m.result = ANY($%d::text[])) AS succeeded,
                   coalesce(sum(m.amount_agreed), 0) AS agreed,
                   avg(m.resolved_on - {OPENED}) FILTER (WHERE m.resolved_on IS NOT NULL)
                       AS days
            FROM mediation_summary m WHERE {where}"""
        % (len(args) + 1, len(args) + 2),
        *args,
        list(CONCLUDED),
        list(SUCCESS),
    )
    paid_where, paid_args = _where(districts, since, until, "p.paid_on")
    recovered = await conn.fetchval(
        f"""SELECT coalesce(sum(p.amount), 0) FROM mediation_payment p
            JOIN mediation_summary m USING (mediation_id) WHERE {paid_where}""",
        *paid_args,
    )
    concluded, succeeded = int(row["concluded"]), int(row["succeeded"])
    return {
        "disputes_mediated": int(row["disputes"]),
        "workers_covered": int(row["workers"]),
        "concluded": concluded,
        "succeeded": succeeded,
        "success_rate": rate(succeeded, concluded),
        "money_agreed": Decimal(row["agreed"]),
        "money_recovered": Decimal(recovered),
        "days_to_resolution": round(float(row["days"]), 1) if row["days"] is not None else None,
    }


FIGURES = ("disputes_mediated", "succeeded", "concluded", "money_recovered")


async def mediations(
    conn: asyncpg.Connection,
    districts: tuple[str, ...] | None,
    since: date | None,
    until: date | None,
    figure: str = "disputes_mediated",
) -> list[dict[str, Any]]:
    """The mediations behind a figure, with their cases (the drill-down)."""
    if figure == "money_recovered":
        where, args = _where(districts, since, until, "p.paid_on")
        sql = f"""SELECT m.*, sum(p.amount) AS recovered FROM mediation_payment p
                  JOIN mediation_summary m USING (mediation_id) WHERE {where}
                  GROUP BY m.mediation_id ORDER BY m.mediation_number"""
    else:
        where, args = _where(districts, since, until, OPENED)
        if figure in ("succeeded", "concluded"):
            args.append(list(SUCCESS if figure == "succeeded" else CONCLUDED))
            where += f" AND m.result = ANY(${len(args)}::text[])"
        sql = f"""SELECT m.*, (SELECT coalesce(sum(p.amount), 0) FROM mediation_payment p
                      WHERE p.mediation_id = m.mediation_id) AS recovered
                  FROM mediation_summary m WHERE {where} ORDER BY m.mediation_number"""
    rows = await conn.fetch(sql, *args)
    return [
        {
            "mediation_number": r["mediation_number"],
            "district_code": r["district_code"],
            "district_name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
            "case_numbers": list(r["case_numbers"]),
            "worker_count": r["worker_count"],
            "opened_on": r["opened_on"] or r["first_seen_on"],
            "result": r["result"],
            "result_name": shared_labels.MEDIATION_RESULTS.get(r["result"] or "", "调解中"),
            "amount_agreed": r["amount_agreed"],
            "recovered": r["recovered"],
            "resolved_on": r["resolved_on"],
        }
        for r in rows
    ]
