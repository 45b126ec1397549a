"""Legal aid's figures (DOMAIN.md §12): applications, grants and denials by the rule that
decided them, provisional aid, completion rate (办结率), satisfaction rate (满意率), money
awarded and recovered, by district and period, with the applications behind each figure.

One row per application, keyed by its id: every legal-aid event names it, so a replayed
event changes nothing twice (updates set values, they never add). Definitions:

- an application counts in the period it was applied in (``applied_on``);
- **办结率** = aided applications (granted, or given provisional aid) closed as concluded
  (award, settlement, judgment, enforcement) ÷ aided applications, in the period;
- **满意率** = satisfaction 4 or 5 ÷ satisfaction answers, among applications of the period;
- money awarded and recovered count in the period the application closed in;
- an application closed because its case was voided (registered in error) counts nowhere.
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
from weiquan_shared.events.legal_aid import (
    LegalAidApplied,
    LegalAidClosed,
    LegalAidDenied,
    LegalAidDocumentsRequested,
    LegalAidEvent,
    LegalAidGranted,
    LegalAidLawyerAssigned,
    LegalAidLawyerDeclined,
    LegalAidProvisionalStarted,
    LegalAidSatisfactionRecorded,
    LegalAidStepRecorded,
)
from weiquan_shared.uow import UnitOfWork

# The events the figures read; every handled one but the satisfaction adds its line to the
# case's timeline and says whether the application still handles it (projection.handling).
COUNTED = (
    LegalAidApplied,
    LegalAidProvisionalStarted,
    LegalAidGranted,
    LegalAidDenied,
    LegalAidLawyerAssigned,
    LegalAidStepRecorded,
    LegalAidClosed,
    LegalAidSatisfactionRecorded,
)
HANDLED = (
    *COUNTED,
    LegalAidDocumentsRequested,
    LegalAidLawyerDeclined,
)
SATISFIED = 4
CLOSURE_LABELS = shared_labels.LEGAL_AID_CLOSURES

_UPSERT = """
INSERT INTO legal_aid_summary (application_id, application_number, district_code,
    case_number, first_seen_on)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (application_id) DO NOTHING"""


async def on_events(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    await apply_all(uow.conn, events)


async def apply_all(conn: asyncpg.Connection, events: list[tuple[Any, Any]]) -> None:
    """Apply events (the live consumer's batch, or a rebuild's replay): every update sets
    values, so a replayed event changes nothing twice."""
    for envelope, payload in events:
        assert isinstance(payload, LegalAidEvent)
        await handling.apply(conn, envelope, payload)
        if not isinstance(payload, COUNTED):
            continue
        await conn.execute(
            _UPSERT,
            payload.application_id,
            payload.application_number,
            payload.district_code,
            payload.case_number,
            envelope.occurred_at.date(),
        )
        await _apply(conn, payload)


async def _apply(conn: asyncpg.Connection, p: LegalAidEvent) -> None:
    aid = p.application_id
    if isinstance(p, LegalAidApplied):
        await conn.execute(
            "UPDATE legal_aid_summary SET applied_on = $2, source = $3, matter = $4, "
            "provisional = provisional OR $5 WHERE application_id = $1",
            aid,
            p.received_on,
            p.source,
            p.matter,
            p.provisional,
        )
    elif isinstance(p, LegalAidProvisionalStarted):
        await conn.execute(
            "UPDATE legal_aid_summary SET provisional = true, aided = true "
            "WHERE application_id = $1",
            aid,
        )
    elif isinstance(p, LegalAidGranted | LegalAidDenied):
        outcome = "granted" if isinstance(p, LegalAidGranted) else "denied"
        await conn.execute(
            """UPDATE legal_aid_summary SET decision = $2, decision_rules = $3, decided_on = $4,
                   aided = (aided OR $2 = 'granted'), matter = $5 WHERE application_id = $1""",
            aid,
            outcome,
            [r.rule_id for r in p.rules],
            p.decided_on,
            p.matter,
        )
    elif isinstance(p, LegalAidLawyerAssigned):
        await conn.execute(
            "UPDATE legal_aid_summary SET lawyer_code = $2 WHERE application_id = $1",
            aid,
            p.lawyer_code,
        )
    elif isinstance(p, LegalAidStepRecorded) and p.amount_awarded is not None:
        await conn.execute(
            "UPDATE legal_aid_summary SET amount_awarded = $2 WHERE application_id = $1",
            aid,
            p.amount_awarded,
        )
    elif isinstance(p, LegalAidClosed):
        await conn.execute(
            """UPDATE legal_aid_summary SET closed_on = $2, closure_reason = $3, concluded = $4,
                   aided = aided OR $5, amount_awarded = $6, amount_recovered = $7,
                   satisfaction = coalesce($8, satisfaction)
               WHERE application_id = $1""",
            aid,
            p.closed_on,
            p.reason,
            p.concluded,
            p.granted,
            p.amount_awarded,
            p.amount_recovered,
            p.satisfaction,
        )
    elif isinstance(p, LegalAidSatisfactionRecorded):
        await conn.execute(
            "UPDATE legal_aid_summary SET satisfaction = $2 WHERE application_id = $1",
            aid,
            p.satisfaction,
        )


def register(consumer: EventConsumer) -> None:
    consumer.handles_batch(*HANDLED)(on_events)


# --------------------------------------------------------------------------- figures

APPLIED = "coalesce(a.applied_on, a.first_seen_on)"


def _where(
    districts: tuple[str, ...] | None, since: date | None, until: date | None, day: str
) -> tuple[str, list[object]]:
    return figure_filter(
        "a.closure_reason IS DISTINCT FROM 'voided'",
        "a.district_code",
        districts,
        since,
        until,
        day,
    )


async def figures(
    conn: asyncpg.Connection,
    districts: tuple[str, ...] | None,
    since: date | None,
    until: date | None,
) -> dict[str, Any]:
    where, args = _where(districts, since, until, APPLIED)
    row = await conn.fetchrow(
        f"""SELECT count(*) AS applications,
                   count(*) FILTER (WHERE a.decision = 'granted') AS granted,
                   count(*) FILTER (WHERE a.decision = 'denied') AS denied,
                   count(*) FILTER (WHERE a.provisional) AS provisional,
                   count(*) FILTER (WHERE a.aided) AS aided,
                   count(*) FILTER (WHERE a.aided AND a.concluded) AS concluded,
                   count(*) FILTER (WHERE a.satisfaction IS NOT NULL) AS answered,
                   count(*) FILTER (WHERE a.satisfaction >= {SATISFIED}) AS satisfied
            FROM legal_aid_summary a WHERE {where}""",
        *args,
    )
    by_rule = await conn.fetch(
        f"""SELECT a.decision, rule, count(*) AS n
            FROM legal_aid_summary a, unnest(a.decision_rules) AS rule
            WHERE {where} AND a.decision IS NOT NULL
            GROUP BY a.decision, rule ORDER BY a.decision, n DESC, rule""",
        *args,
    )
    by_district = await conn.fetch(
        f"""SELECT a.district_code, count(*) AS applications,
                   count(*) FILTER (WHERE a.aided) AS aided,
                   count(*) FILTER (WHERE a.aided AND a.concluded) AS concluded
            FROM legal_aid_summary a WHERE {where}
            GROUP BY a.district_code ORDER BY a.district_code""",
        *args,
    )
    closed_where, closed_args = _where(districts, since, until, "a.closed_on")
    money = await conn.fetchrow(
        f"""SELECT coalesce(sum(a.amount_awarded), 0) AS awarded,
                   coalesce(sum(a.amount_recovered), 0) AS recovered
            FROM legal_aid_summary a WHERE {closed_where} AND a.closed_on IS NOT NULL""",
        *closed_args,
    )
    aided, concluded = int(row["aided"]), int(row["concluded"])
    answered, satisfied = int(row["answered"]), int(row["satisfied"])
    return {
        "applications": int(row["applications"]),
        "granted": int(row["granted"]),
        "denied": int(row["denied"]),
        "provisional": int(row["provisional"]),
        "aided": aided,
        "concluded": concluded,
        "completion_rate": rate(concluded, aided),
        "answered": answered,
        "satisfied": satisfied,
        "satisfaction_rate": rate(satisfied, answered),
        "money_awarded": Decimal(money["awarded"]),
        "money_recovered": Decimal(money["recovered"]),
        "granted_by_rule": [
            {"rule_id": r["rule"], "applications": int(r["n"])}
            for r in by_rule
            if r["decision"] == "granted"
        ],
        "denied_by_rule": [
            {"rule_id": r["rule"], "applications": int(r["n"])}
            for r in by_rule
            if r["decision"] == "denied"
        ],
        "by_district": [
            {
                "code": r["district_code"],
                "name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
                "applications": int(r["applications"]),
                "aided": int(r["aided"]),
                "concluded": int(r["concluded"]),
                "completion_rate": rate(int(r["concluded"]), int(r["aided"])),
            }
            for r in by_district
        ],
    }


FIGURES = (
    "applications",
    "granted",
    "denied",
    "aided",
    "concluded",
    "satisfied",
    "money_recovered",
)


async def applications(
    conn: asyncpg.Connection,
    districts: tuple[str, ...] | None,
    since: date | None,
    until: date | None,
    figure: str = "applications",
    rule: str | None = None,
) -> list[dict[str, Any]]:
    """The applications behind a figure (the drill-down), optionally those one rule decided."""
    day = "a.closed_on" if figure == "money_recovered" else APPLIED
    where, args = _where(districts, since, until, day)
    extra = {
        "applications": "",
        "granted": " AND a.decision = 'granted'",
        "denied": " AND a.decision = 'denied'",
        "aided": " AND a.aided",
        "concluded": " AND a.aided AND a.concluded",
        "satisfied": f" AND a.satisfaction >= {SATISFIED}",
        "money_recovered": " AND a.closed_on IS NOT NULL AND a.amount_recovered > 0",
    }[figure]
    if rule is not None:
        args.append(rule)
        extra += f" AND ${len(args)} = ANY(a.decision_rules)"
    rows = await conn.fetch(
        f"SELECT a.* FROM legal_aid_summary a WHERE {where}{extra} "
        "ORDER BY a.application_number LIMIT 1000",
        *args,
    )
    return [
        {
            "application_number": r["application_number"],
            "case_number": r["case_number"],
            "district_code": r["district_code"],
            "district_name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
            "applied_on": r["applied_on"] or r["first_seen_on"],
            "decision": r["decision"],
            "decision_rules": list(r["decision_rules"]),
            "provisional": r["provisional"],
            "closure_reason": r["closure_reason"],
            "closure_name": CLOSURE_LABELS.get(r["closure_reason"] or "", "办理中"),
            "amount_awarded": r["amount_awarded"],
            "amount_recovered": r["amount_recovered"],
            "satisfaction": r["satisfaction"],
        }
        for r in rows
    ]
