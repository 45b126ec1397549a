"""Triage's store: cases, employers, groups, clocks and the decision history.

Every function takes the connection of the caller's transaction: the consumer's inbox
transaction for events, the API's own for overrides.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from triage.clocks import ClockInputs, StoredClock
from triage.domain import CaseFacts, Decision
from triage.grouping import GroupOutcome, PriorCase, employer_id
from weiquan_shared.events import CaseReported, StatutoryClock, TriageReason


async def lock_employer(conn: asyncpg.Connection, key: str, case: CaseReported) -> date | None:
    """Create the employer's row if needed and lock it; returns when it was last flagged."""
    await conn.execute(
        """INSERT INTO employers (employer_key, employer_id, name, credit_code, district_code)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (employer_key) DO NOTHING""",
        key,
        employer_id(key),
        case.employer.name,
        case.employer.credit_code,
        case.employer.district_code,
    )
    flagged_on: date | None = await conn.fetchval(
        "SELECT flagged_on FROM employers WHERE employer_key = $1 FOR UPDATE", key
    )
    return flagged_on


@dataclass(frozen=True)
class CurrentDecision:
    case_id: uuid.UUID
    case_number: str
    decision: Decision
    facts: CaseFacts
    kind: str


async def employer_cases(
    conn: asyncpg.Connection, key: str
) -> tuple[list[PriorCase], dict[uuid.UUID, tuple[Decision, CaseFacts, bool]]]:
    """The employer's earlier cases, and the current decision of those not yet grouped."""
    rows = await conn.fetch(
        "SELECT case_id, case_number, category, worker_refs, reported_on, group_id "
        "FROM cases WHERE employer_key = $1",
        key,
    )
    history = [
        PriorCase(
            r["case_id"],
            r["case_number"],
            r["category"],
            frozenset(r["worker_refs"]),
            r["reported_on"],
            r["group_id"],
        )
        for r in rows
    ]
    ungrouped = [p.case_id for p in history if p.group_id is None]
    current = {
        c.case_id: (c.decision, c.facts, c.kind == "override")
        for c in await _current_decisions(conn, "c.case_id = ANY($1::uuid[])", ungrouped)
    }
    return history, current


async def current_decision(conn: asyncpg.Connection, case_number: str) -> CurrentDecision | None:
    """A case's current decision, its case row locked against a concurrent change."""
    await conn.execute("SELECT 1 FROM cases WHERE case_number = $1 FOR UPDATE", case_number)
    found = await _current_decisions(conn, "c.case_number = $1", case_number)
    return found[0] if found else None


async def _current_decisions(
    conn: asyncpg.Connection, where: str, arg: Any
) -> list[CurrentDecision]:
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (d.case_id) c.case_id, c.case_number, c.facts, d.*
            FROM cases c JOIN decisions d ON d.case_id = c.case_id
            WHERE {where} ORDER BY d.case_id, d.id DESC""",
        arg,
    )
    return [
        CurrentDecision(r["case_id"], r["case_number"], _decision(r), _facts(r["facts"]), r["kind"])
        for r in rows
    ]


def _decision(row: asyncpg.Record) -> Decision:
    return Decision(
        category=row["category"],
        secondary_categories=list(row["secondary_categories"]),
        urgency=row["urgency"],
        route=row["route"],
        route_detail=row["route_detail"],
        reasons=[TriageReason.model_validate(r) for r in row["reasons"]],
        clocks=[StatutoryClock.model_validate(c) for c in row["clocks"]],
        group_id=row["group_id"],
        employer_flagged=row["employer_flagged"],
    )


def _facts(raw: dict[str, Any]) -> CaseFacts:
    return CaseFacts(
        is_migrant=raw["is_migrant"],
        is_platform=raw["is_platform"],
        has_claim=raw["has_claim"],
        summary=raw["summary"],
        worker_count=raw["worker_count"],
        clock_inputs=ClockInputs(
            date.fromisoformat(raw["knew_on"]) if raw["knew_on"] else None,
            date.fromisoformat(raw["employment_ended_on"]) if raw["employment_ended_on"] else None,
        ),
    )


async def save_case(
    conn: asyncpg.Connection,
    case: CaseReported,
    *,
    key: str,
    decision: Decision,
    facts: CaseFacts,
    reported_on: date,
) -> None:
    inputs = facts.clock_inputs
    await conn.execute(
        """INSERT INTO cases (case_id, case_number, employer_key, category, worker_refs,
               reported_on, facts)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        case.case_id,
        case.case_number,
        key,
        decision.category,
        sorted({w.worker_ref for w in case.workers}),
        reported_on,
        {
            "is_migrant": facts.is_migrant,
            "is_platform": facts.is_platform,
            "has_claim": facts.has_claim,
            "summary": facts.summary,
            "worker_count": facts.worker_count,
            "knew_on": inputs.knew_on.isoformat() if inputs.knew_on else None,
            "employment_ended_on": inputs.employment_ended_on.isoformat()
            if inputs.employment_ended_on
            else None,
        },
    )


async def save_group(
    conn: asyncpg.Connection, group: GroupOutcome, *, key: str, category: str
) -> None:
    """Create or grow the group; the new case's row must exist (it is linked too)."""
    await conn.execute(
        """INSERT INTO groups (group_id, group_number, employer_key, category, worker_count,
               case_count)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (group_id) DO UPDATE SET worker_count = excluded.worker_count,
               case_count = excluded.case_count, updated_at = now()""",
        group.group_id,
        group.group_number,
        key,
        category,
        group.worker_count,
        group.case_count,
    )
    await conn.execute(
        "UPDATE cases SET group_id = $1 WHERE case_id = ANY($2::uuid[])",
        group.group_id,
        group.member_ids,
    )


async def record_decision(
    conn: asyncpg.Connection,
    *,
    case_id: uuid.UUID,
    case_number: str,
    kind: str,
    decision: Decision,
    source_event_id: uuid.UUID,
    actor: str = "triage",
    note: str | None = None,
    previous: Decision | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO decisions (case_id, case_number, kind, category, secondary_categories,
            urgency, route, reasons, source_event_id, route_detail, clocks, group_id,
            employer_flagged, actor, note, previous)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        """,
        case_id,
        case_number,
        kind,
        decision.category,
        list(decision.secondary_categories),
        decision.urgency,
        decision.route,
        [r.model_dump() for r in decision.reasons],
        source_event_id,
        decision.route_detail,
        [c.model_dump(mode="json") for c in decision.clocks],
        decision.group_id,
        decision.employer_flagged,
        actor,
        note,
        previous.snapshot().model_dump() if previous else None,
    )
    await save_clocks(conn, case_id, decision.clocks)


async def save_clocks(
    conn: asyncpg.Connection, case_id: uuid.UUID, clocks: list[StatutoryClock]
) -> None:
    """Replace the case's clocks; a clock whose due date moved may be announced again."""
    await conn.execute(
        "DELETE FROM clocks WHERE case_id = $1 AND NOT kind = ANY($2::text[])",
        case_id,
        [c.kind for c in clocks],
    )
    for clock in clocks:
        await conn.execute(
            """INSERT INTO clocks (case_id, kind, clock, due_on) VALUES ($1, $2, $3, $4)
               ON CONFLICT (case_id, kind) DO UPDATE SET clock = excluded.clock,
                   due_on = excluded.due_on,
                   at_risk_announced = clocks.at_risk_announced
                       AND clocks.due_on IS NOT DISTINCT FROM excluded.due_on""",
            case_id,
            clock.kind,
            clock.model_dump(mode="json"),
            clock.due_on,
        )


async def flag_employer(
    conn: asyncpg.Connection, key: str, flagged_on: date, case_ids: list[uuid.UUID]
) -> None:
    await conn.execute(
        "UPDATE employers SET flagged_on = $2 WHERE employer_key = $1", key, flagged_on
    )
    await conn.execute(
        "INSERT INTO employer_flags (employer_key, flagged_on, case_ids) VALUES ($1, $2, $3)",
        key,
        flagged_on,
        case_ids,
    )


async def decision_history(pool: asyncpg.Pool, case_number: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT id, kind, category, secondary_categories, urgency, route, route_detail,
                  reasons, clocks, group_id, employer_flagged, actor, note, previous, decided_at
           FROM decisions WHERE case_number = $1 ORDER BY id""",
        case_number,
    )
    return [dict(r) for r in rows]


async def open_clocks(conn: asyncpg.Connection, today: date) -> dict[uuid.UUID, list[StoredClock]]:
    """Clocks not yet past, by case (a moved calendar can only matter for these)."""
    rows = await conn.fetch(
        "SELECT case_id, clock, at_risk_announced FROM clocks WHERE due_on >= $1 "
        "ORDER BY case_id, kind",
        today,
    )
    by_case: dict[uuid.UUID, list[StoredClock]] = {}
    for r in rows:
        by_case.setdefault(r["case_id"], []).append(
            StoredClock(StatutoryClock.model_validate(r["clock"]), r["at_risk_announced"])
        )
    return by_case


async def case_number_of(conn: asyncpg.Connection, case_id: uuid.UUID) -> str:
    number: str = await conn.fetchval("SELECT case_number FROM cases WHERE case_id = $1", case_id)
    return number


async def update_clocks(
    conn: asyncpg.Connection,
    case_id: uuid.UUID,
    clocks: list[StatutoryClock],
    announced: list[str],
) -> None:
    for clock in clocks:
        await conn.execute(
            """UPDATE clocks SET clock = $3, due_on = $4,
                   at_risk_announced = at_risk_announced OR kind = ANY($5::text[])
               WHERE case_id = $1 AND kind = $2""",
            case_id,
            clock.kind,
            clock.model_dump(mode="json"),
            clock.due_on,
            announced,
        )


async def sweep_done(conn: asyncpg.Connection, on: date) -> bool:
    return bool(await conn.fetchval("SELECT true FROM clock_sweeps WHERE evaluated_on = $1", on))


async def record_sweep(conn: asyncpg.Connection, on: date, cases_updated: int) -> None:
    await conn.execute(
        "INSERT INTO clock_sweeps (evaluated_on, cases_updated) VALUES ($1, $2)", on, cases_updated
    )


async def count_decisions(pool: asyncpg.Pool) -> dict[str, int]:
    row = await pool.fetchrow(
        "SELECT count(*) AS decisions, count(DISTINCT case_id) AS cases FROM decisions"
    )
    return dict(row)
