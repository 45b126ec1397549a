"""Triage's store: cases, employers, groups, clocks and the decision history.

Every function takes the connection of the caller's transaction: the consumer's inbox
transaction for events, the API's own for overrides.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from triage.clocks import ClockInputs, StoredClock
from triage.domain import CaseFacts, Decision
from triage.grouping import GroupOutcome, PriorCase, employer_id
from triage.ledger import EmployerLedger
from weiquan_shared.events import CaseReported, EmployerRef, StatutoryClock, TriageReason


async def lock_employers(
    conn: asyncpg.Connection, employers: dict[str, EmployerRef]
) -> dict[str, date | None]:
    """Create the employers' rows if needed and lock them; returns when each was last flagged.

    Rows are created and locked in key order, so two transactions locking overlapping
    sets of employers wait for each other instead of deadlocking.
    """
    keys = sorted(employers)
    await conn.execute(
        """INSERT INTO employers (employer_key, employer_id, name, credit_code, district_code)
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[])
           ORDER BY 1
           ON CONFLICT (employer_key) DO NOTHING""",
        keys,
        [employer_id(key) for key in keys],
        [employers[key].name for key in keys],
        [employers[key].credit_code for key in keys],
        [employers[key].district_code for key in keys],
    )
    rows = await conn.fetch(
        "SELECT employer_key, flagged_on FROM employers WHERE employer_key = ANY($1::text[]) "
        "ORDER BY employer_key FOR UPDATE",
        keys,
    )
    return {r["employer_key"]: r["flagged_on"] for r in rows}


async def employer_ledgers(
    conn: asyncpg.Connection,
    flagged: dict[str, date | None],
    claims: dict[str, set[str]],
    since: date,
    until: date,
) -> dict[str, EmployerLedger]:
    """Each employer's cases reported in [since, until] and every member of their groups.

    The current decision is loaded only for a case not in a group whose category is among
    ``claims[employer]`` (the categories of the cases being decided): a group links cases
    of one category, so only those can be upgraded by joining one.
    """
    rows = await conn.fetch(
        """WITH near AS (
               SELECT case_id, case_number, employer_key, category, worker_refs, reported_on,
                      group_id
               FROM cases
               WHERE employer_key = ANY($1::text[]) AND reported_on BETWEEN $2 AND $3)
           SELECT * FROM near
           UNION
           SELECT case_id, case_number, employer_key, category, worker_refs, reported_on,
                  group_id
           FROM cases WHERE group_id IN (SELECT group_id FROM near)""",
        list(flagged),
        since,
        until,
    )
    ledgers = {key: EmployerLedger(flagged_on=on) for key, on in flagged.items()}
    for r in rows:
        ledgers[r["employer_key"]].history.append(
            PriorCase(
                r["case_id"],
                r["case_number"],
                r["category"],
                frozenset(r["worker_refs"]),
                r["reported_on"],
                r["group_id"],
            )
        )
    ungrouped = {
        r["case_id"]: r["employer_key"]
        for r in rows
        if r["group_id"] is None and r["category"] in claims[r["employer_key"]]
    }
    for c in await _current_decisions(conn, "c.case_id = ANY($1::uuid[])", list(ungrouped)):
        ledgers[ungrouped[c.case_id]].current[c.case_id] = (
            c.decision,
            c.facts,
            c.kind == "override",
        )
    return ledgers


@dataclass(frozen=True)
class CurrentDecision:
    case_id: uuid.UUID
    case_number: str
    decision: Decision
    facts: CaseFacts
    kind: str


# A case number begins with its district's code (intake's ``case_number``), so a caller's
# scope is a condition of the query itself: a case outside it is simply not found.
IN_SCOPE = "split_part({column}, '-', 1) = ANY({districts}::text[])"


async def current_decision(
    conn: asyncpg.Connection, case_number: str, districts: Sequence[str]
) -> CurrentDecision | None:
    """A case's current decision if it is in ``districts``, its case row locked against a
    concurrent change."""
    await conn.execute(
        "SELECT 1 FROM cases WHERE case_number = $1 AND "
        + IN_SCOPE.format(column="case_number", districts="$2")
        + " FOR UPDATE",
        case_number,
        list(districts),
    )
    found = await _current_decisions(
        conn,
        "c.case_number = $1 AND " + IN_SCOPE.format(column="c.case_number", districts="$2"),
        case_number,
        list(districts),
    )
    return found[0] if found else None


async def _current_decisions(
    conn: asyncpg.Connection, where: str, *args: Any
) -> list[CurrentDecision]:
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (d.case_id) c.case_id, c.case_number, c.facts, d.*
            FROM cases c JOIN decisions d ON d.case_id = c.case_id
            WHERE {where} ORDER BY d.case_id, d.seq DESC""",
        *args,
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
        seq=row["seq"],
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
            date.fromisoformat(raw["limitation_restarted_on"])
            if raw.get("limitation_restarted_on")
            else None,
        ),
    )


@dataclass(frozen=True)
class NewCaseRow:
    case: CaseReported
    key: str
    category: str
    facts: CaseFacts
    reported_on: date


async def save_groups(
    conn: asyncpg.Connection, groups: list[tuple[GroupOutcome, str, str]]
) -> None:
    """Create or grow groups, each given as (outcome, employer key, category)."""
    await conn.executemany(
        """INSERT INTO groups (group_id, group_number, employer_key, category, worker_count,
               case_count)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (group_id) DO UPDATE SET worker_count = excluded.worker_count,
               case_count = excluded.case_count, updated_at = now()""",
        [
            (g.group_id, g.group_number, key, category, g.worker_count, g.case_count)
            for g, key, category in groups
        ],
    )


async def save_cases(
    conn: asyncpg.Connection, cases: list[NewCaseRow], group_of: dict[uuid.UUID, uuid.UUID]
) -> None:
    """Insert new cases and link every case in ``group_of`` (new or earlier) to its group."""
    await conn.executemany(
        """INSERT INTO cases (case_id, case_number, employer_key, category, worker_refs,
               reported_on, facts, group_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [
            (
                row.case.case_id,
                row.case.case_number,
                row.key,
                row.category,
                sorted({w.worker_ref for w in row.case.workers}),
                row.reported_on,
                _facts_json(row.facts),
                group_of.get(row.case.case_id),
            )
            for row in cases
        ],
    )
    new = {row.case.case_id for row in cases}
    earlier = [(case_id, group_id) for case_id, group_id in group_of.items() if case_id not in new]
    if earlier:
        await conn.execute(
            """UPDATE cases SET group_id = g.group_id
               FROM unnest($1::uuid[], $2::uuid[]) AS g(case_id, group_id)
               WHERE cases.case_id = g.case_id""",
            [case_id for case_id, _ in earlier],
            [group_id for _, group_id in earlier],
        )


def _facts_json(facts: CaseFacts) -> dict[str, Any]:
    inputs = facts.clock_inputs
    return {
        "is_migrant": facts.is_migrant,
        "is_platform": facts.is_platform,
        "has_claim": facts.has_claim,
        "summary": facts.summary,
        "worker_count": facts.worker_count,
        "knew_on": inputs.knew_on.isoformat() if inputs.knew_on else None,
        "employment_ended_on": inputs.employment_ended_on.isoformat()
        if inputs.employment_ended_on
        else None,
        "limitation_restarted_on": inputs.limitation_restarted_on.isoformat()
        if inputs.limitation_restarted_on
        else None,
    }


@dataclass(frozen=True)
class DecisionRecord:
    case_id: uuid.UUID
    case_number: str
    kind: str
    decision: Decision
    source_event_id: uuid.UUID
    actor: str = "triage"
    note: str | None = None
    previous: Decision | None = None

    def row(self) -> tuple[Any, ...]:
        d = self.decision
        return (
            self.case_id,
            self.case_number,
            self.kind,
            d.category,
            list(d.secondary_categories),
            d.urgency,
            d.route,
            [r.model_dump() for r in d.reasons],
            self.source_event_id,
            d.route_detail,
            [c.model_dump(mode="json") for c in d.clocks],
            d.group_id,
            d.employer_flagged,
            self.actor,
            self.note,
            self.previous.snapshot().model_dump() if self.previous else None,
            d.seq,
        )


_INSERT_DECISION = """
    INSERT INTO decisions (case_id, case_number, kind, category, secondary_categories,
        urgency, route, reasons, source_event_id, route_detail, clocks, group_id,
        employer_flagged, actor, note, previous, seq)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""
_DROP_OTHER_CLOCKS = "DELETE FROM clocks WHERE case_id = $1 AND NOT kind = ANY($2::text[])"
_UPSERT_CLOCK = """
    INSERT INTO clocks (case_id, kind, clock, due_on) VALUES ($1, $2, $3, $4)
    ON CONFLICT (case_id, kind) DO UPDATE SET clock = excluded.clock, due_on = excluded.due_on,
        at_risk_announced = clocks.at_risk_announced
            AND clocks.due_on IS NOT DISTINCT FROM excluded.due_on
"""


async def record_decisions(conn: asyncpg.Connection, records: list[DecisionRecord]) -> None:
    """Append decisions (a case's highest ``seq`` is current) and set their clocks.

    A clock whose due date moved may be announced again; a clock the new decision no
    longer has is dropped.
    """
    await conn.executemany(_INSERT_DECISION, [r.row() for r in records])
    final = {r.case_id: r.decision.clocks for r in records}
    await conn.executemany(
        _DROP_OTHER_CLOCKS,
        [(case_id, [c.kind for c in clocks]) for case_id, clocks in final.items()],
    )
    await conn.executemany(
        _UPSERT_CLOCK,
        [
            (case_id, clock.kind, clock.model_dump(mode="json"), clock.due_on)
            for case_id, clocks in final.items()
            for clock in clocks
        ],
    )


async def flag_employers(
    conn: asyncpg.Connection, flags: list[tuple[str, date, list[uuid.UUID]]]
) -> None:
    """Record repeat-employer flags, each (employer key, report date, the cases counted)."""
    await conn.executemany(
        "UPDATE employers SET flagged_on = $2 WHERE employer_key = $1",
        [(key, on) for key, on, _ in flags],
    )
    await conn.executemany(
        "INSERT INTO employer_flags (employer_key, flagged_on, case_ids) VALUES ($1, $2, $3)",
        flags,
    )


async def decision_history(
    pool: asyncpg.Pool, case_number: str, districts: Sequence[str]
) -> list[dict[str, Any]]:
    """A case's decisions, oldest first; none for a case outside ``districts``."""
    rows = await pool.fetch(
        """SELECT id, seq, kind, category, secondary_categories, urgency, route, route_detail,
                  reasons, clocks, group_id, employer_flagged, actor, note, previous, decided_at
           FROM decisions WHERE case_number = $1 AND """
        + IN_SCOPE.format(column="case_number", districts="$2")
        + " ORDER BY seq",
        case_number,
        list(districts),
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


async def count_decisions(pool: asyncpg.Pool, districts: Sequence[str]) -> dict[str, int]:
    row = await pool.fetchrow(
        "SELECT count(*) AS decisions, count(DISTINCT case_id) AS cases FROM decisions WHERE "
        + IN_SCOPE.format(column="case_number", districts="$1"),
        list(districts),
    )
    return dict(row)


# ---------------------------------------------------------------- reviews (请人工核实)


async def current_clocks(
    conn: asyncpg.Connection, case_id: uuid.UUID, decided: list[StatutoryClock]
) -> list[StatutoryClock]:
    """The case's clocks as they stand (the daily sweep may have moved them since the
    decision), in the decision's order."""
    rows = await conn.fetch("SELECT kind, clock FROM clocks WHERE case_id = $1", case_id)
    stored = {r["kind"]: StatutoryClock.model_validate(r["clock"]) for r in rows}
    if not stored:
        return list(decided)
    order = [c.kind for c in decided] + sorted(set(stored) - {c.kind for c in decided})
    return [stored[kind] for kind in order if kind in stored]


async def set_clocks(
    conn: asyncpg.Connection, case_id: uuid.UUID, clocks: list[StatutoryClock]
) -> None:
    await conn.execute(_DROP_OTHER_CLOCKS, case_id, [c.kind for c in clocks])
    await conn.executemany(
        _UPSERT_CLOCK,
        [(case_id, c.kind, c.model_dump(mode="json"), c.due_on) for c in clocks],
    )


async def record_review(
    conn: asyncpg.Connection,
    *,
    case_id: uuid.UUID,
    resolution: str,
    knew_on: date | None,
    note: str,
    clocks: list[StatutoryClock],
    confirmed: dict[str, list[str]],
    actor: str,
    resolved_at: datetime,
) -> None:
    """The officer's resolution, the codes settled per clock (and due date) and, when the
    date of knowing was recorded, the case's facts (so a later decision counts from it)."""
    await conn.execute(
        """INSERT INTO reviews (id, case_id, resolution, knew_of_infringement_on, note, clocks,
               actor, resolved_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        uuid.uuid4(),
        case_id,
        resolution,
        knew_on,
        note,
        [c.model_dump(mode="json") for c in clocks],
        actor,
        resolved_at,
    )
    due: dict[str, date | None] = {c.kind: c.due_on for c in clocks}
    await conn.executemany(
        """INSERT INTO clock_confirmations (case_id, kind, due_on, codes) VALUES ($1, $2, $3, $4)
           ON CONFLICT (case_id, kind) DO UPDATE SET
               codes = CASE WHEN clock_confirmations.due_on IS NOT DISTINCT FROM excluded.due_on
                            THEN ARRAY(SELECT DISTINCT unnest(clock_confirmations.codes
                                                              || excluded.codes))
                            ELSE excluded.codes END,
               due_on = excluded.due_on""",
        [(case_id, kind, due.get(kind), codes) for kind, codes in confirmed.items()],
    )
    # The date recorded becomes a fact of the case, so a later decision (an officer's
    # override, a group forming, the daily sweep) counts from it too.
    fact = {"start_date_recorded": "knew_on", "limitation_interrupted": "limitation_restarted_on"}
    if resolution in fact and knew_on is not None:
        await conn.execute(
            "UPDATE cases SET facts = jsonb_set(facts, $2::text[], to_jsonb($3::text)) "
            "WHERE case_id = $1",
            case_id,
            [fact[resolution]],
            knew_on.isoformat(),
        )


async def confirmations(
    conn: asyncpg.Connection, case_id: uuid.UUID
) -> dict[str, tuple[date | None, list[str]]]:
    rows = await conn.fetch(
        "SELECT kind, due_on, codes FROM clock_confirmations WHERE case_id = $1", case_id
    )
    return {r["kind"]: (r["due_on"], list(r["codes"])) for r in rows}
