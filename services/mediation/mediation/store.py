"""Mediation's store: cases, mediations, numbers, the roster. Every function takes the
connection of the caller's transaction (the consumer's batch, or an API request's)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from mediation.membership import CaseState
from mediation.rules import MediatorLoad
from weiquan_shared.events import MediationClock, MediationSessionCancelled, Party, SessionPlace

_CASE_COLUMNS = (
    "case_id, case_number, district_code, employer, workers, claim_amount, reported_at, "
    "category, urgency, route, route_detail, group_id, employer_flagged, decision_seq, "
    "decided_at, consent_scopes, consent_recorded_at, voided_at, mediation_id"
)


def _case(row: asyncpg.Record) -> CaseState:
    return CaseState(
        case_id=row["case_id"],
        case_number=row["case_number"],
        district_code=row["district_code"],
        employer=row["employer"],
        workers=row["workers"] or [],
        claim_amount=row["claim_amount"],
        reported_at=row["reported_at"],
        category=row["category"],
        urgency=row["urgency"],
        route=row["route"],
        route_detail=row["route_detail"],
        group_id=row["group_id"],
        employer_flagged=row["employer_flagged"],
        decision_seq=row["decision_seq"],
        decided_at=row["decided_at"],
        consent_scopes=list(row["consent_scopes"]),
        consent_recorded_at=row["consent_recorded_at"],
        voided_at=row["voided_at"],
        mediation_id=row["mediation_id"],
    )


async def lock_cases(
    conn: asyncpg.Connection, case_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, CaseState]:
    """The cases' rows, created empty where missing, locked in id order (no deadlocks)."""
    ids = sorted(set(case_ids))
    await conn.execute(
        "INSERT INTO cases (case_id) SELECT unnest($1::uuid[]) ORDER BY 1 ON CONFLICT DO NOTHING",
        ids,
    )
    rows = await conn.fetch(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE case_id = ANY($1::uuid[]) "
        "ORDER BY case_id FOR UPDATE",
        ids,
    )
    return {row["case_id"]: _case(row) for row in rows}


async def cases_of(
    conn: asyncpg.Connection, mediation_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, CaseState]:
    rows = await conn.fetch(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE mediation_id = ANY($1::uuid[]) ORDER BY case_id",
        list(set(mediation_ids)),
    )
    return {row["case_id"]: _case(row) for row in rows}


async def save_cases(conn: asyncpg.Connection, cases: Iterable[CaseState]) -> None:
    await conn.executemany(
        """UPDATE cases SET case_number = $2, district_code = $3, employer = $4, workers = $5,
               claim_amount = $6, reported_at = $7, category = $8, urgency = $9, route = $10,
               route_detail = $11, group_id = $12, employer_flagged = $13,
               decision_seq = $14, decided_at = $15, consent_scopes = $16,
               consent_recorded_at = $17, voided_at = $18, mediation_id = $19,
               updated_at = now()
           WHERE case_id = $1""",
        [
            (
                c.case_id,
                c.case_number,
                c.district_code,
                c.employer,
                c.workers,
                c.claim_amount,
                c.reported_at,
                c.category,
                c.urgency,
                c.route,
                c.route_detail,
                c.group_id,
                c.employer_flagged,
                c.decision_seq,
                c.decided_at,
                c.consent_scopes,
                c.consent_recorded_at,
                c.voided_at,
                c.mediation_id,
            )
            for c in cases
        ],
    )


async def save_groups(conn: asyncpg.Connection, groups: list[Any]) -> None:
    """Triage's groups as their latest case.grouped described them (``CaseGrouped``)."""
    await conn.executemany(
        """INSERT INTO dispute_groups (group_id, group_number, case_ids, worker_count, formed_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (group_id) DO UPDATE SET
               group_number = EXCLUDED.group_number,
               case_ids = (SELECT array_agg(DISTINCT c) FROM unnest(
                   dispute_groups.case_ids || EXCLUDED.case_ids) AS c),
               worker_count = GREATEST(dispute_groups.worker_count, EXCLUDED.worker_count),
               formed_at = LEAST(dispute_groups.formed_at, EXCLUDED.formed_at)""",
        [(g.group_id, g.group_number, g.case_ids, g.worker_count, g.formed_at) for g in groups],
    )


async def group_numbers(
    conn: asyncpg.Connection, group_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await conn.fetch(
        "SELECT group_id, group_number FROM dispute_groups WHERE group_id = ANY($1::uuid[])",
        list(set(group_ids)),
    )
    return {r["group_id"]: r["group_number"] for r in rows}


async def lock_groups(conn: asyncpg.Connection, group_ids: Iterable[uuid.UUID]) -> None:
    """Serialise transactions forming or growing the same group's mediation."""
    for group_id in sorted(set(group_ids)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", str(group_id))


# ---------------------------------------------------------------- mediations


@dataclass
class Mediation:
    """A row of ``mediations``."""

    mediation_id: uuid.UUID
    mediation_number: str
    district_code: str
    category: str
    route_detail: str
    group_id: uuid.UUID | None
    employer: dict[str, Any]
    received_on: date
    clocks: list[MediationClock]
    sensitive: bool = False
    status: str = "received"
    accepted_on: date | None = None
    extended_days: int = 0
    lead_mediator_id: str | None = None
    lead_mediator_name: str | None = None
    lead_organisation: str | None = None
    organisations: list[str] = field(default_factory=list)
    five_party: bool = False
    assignment_rules: list[str] = field(default_factory=list)
    assigned_by: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_result: str | None = None
    merged_into: uuid.UUID | None = None
    representatives: list[str] = field(default_factory=list)
    representatives_on: date | None = None
    is_new: bool = False


_MEDIATION_COLUMNS = (
    "mediation_id, mediation_number, district_code, category, route_detail, group_id, "
    "employer, received_on, clocks, sensitive, status, accepted_on, extended_days, "
    "lead_mediator_id, lead_mediator_name, lead_organisation, organisations, five_party, "
    "assignment_rules, assigned_by, opened_at, closed_at, closed_result, merged_into, "
    "representatives, representatives_on"
)


def _mediation(row: asyncpg.Record) -> Mediation:
    return Mediation(
        mediation_id=row["mediation_id"],
        mediation_number=row["mediation_number"],
        district_code=row["district_code"],
        category=row["category"],
        route_detail=row["route_detail"],
        group_id=row["group_id"],
        employer=row["employer"],
        received_on=row["received_on"],
        clocks=[MediationClock.model_validate(c) for c in row["clocks"]],
        sensitive=row["sensitive"],
        status=row["status"],
        accepted_on=row["accepted_on"],
        extended_days=row["extended_days"],
        lead_mediator_id=row["lead_mediator_id"],
        lead_mediator_name=row["lead_mediator_name"],
        lead_organisation=row["lead_organisation"],
        organisations=list(row["organisations"]),
        five_party=row["five_party"],
        assignment_rules=list(row["assignment_rules"]),
        assigned_by=row["assigned_by"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        closed_result=row["closed_result"],
        merged_into=row["merged_into"],
        representatives=list(row["representatives"]),
        representatives_on=row["representatives_on"],
    )


async def open_mediations(
    conn: asyncpg.Connection,
    mediation_ids: Iterable[uuid.UUID],
    group_ids: Iterable[uuid.UUID],
) -> dict[uuid.UUID, Mediation]:
    """Open mediations by id or by group, locked for the transaction."""
    rows = await conn.fetch(
        f"SELECT {_MEDIATION_COLUMNS} FROM mediations "
        "WHERE closed_at IS NULL "
        "AND (mediation_id = ANY($1::uuid[]) OR group_id = ANY($2::uuid[])) "
        "ORDER BY mediation_id FOR UPDATE",
        list(set(mediation_ids)),
        list(set(group_ids)),
    )
    return {row["mediation_id"]: _mediation(row) for row in rows}


async def mediations_by_id(
    conn: asyncpg.Connection, mediation_ids: list[uuid.UUID]
) -> list[Mediation]:
    """The mediations, newest first."""
    rows = await conn.fetch(
        f"SELECT {_MEDIATION_COLUMNS} FROM mediations WHERE mediation_id = ANY($1::uuid[]) "
        "ORDER BY opened_at DESC, mediation_number",
        mediation_ids,
    )
    return [_mediation(row) for row in rows]


async def mediation(
    conn: asyncpg.Connection, mediation_id: uuid.UUID, *, lock: bool = False
) -> Mediation | None:
    row = await conn.fetchrow(
        f"SELECT {_MEDIATION_COLUMNS} FROM mediations WHERE mediation_id = $1"
        + (" FOR UPDATE" if lock else ""),
        mediation_id,
    )
    return _mediation(row) if row else None


async def mediation_by_number(
    conn: asyncpg.Connection, number: str, *, lock: bool = False
) -> Mediation | None:
    row = await conn.fetchrow(
        f"SELECT {_MEDIATION_COLUMNS} FROM mediations WHERE mediation_number = $1"
        + (" FOR UPDATE" if lock else ""),
        number,
    )
    return _mediation(row) if row else None


async def next_numbers(conn: asyncpg.Connection, wanted: list[tuple[str, int]]) -> list[str]:
    """One new mediation number per (district, year) asked for, in order: one statement
    per district and year, however many a batch opens."""
    counts: dict[tuple[str, int], int] = {}
    for key in wanted:
        counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts)
    rows = await conn.fetch(
        """INSERT INTO mediation_counters AS c (district_code, year, last_number)
           SELECT * FROM unnest($1::text[], $2::int[], $3::int[]) ORDER BY 1, 2
           ON CONFLICT (district_code, year)
           DO UPDATE SET last_number = c.last_number + EXCLUDED.last_number
           RETURNING district_code, year, last_number""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [counts[k] for k in keys],
    )
    following = {
        (r["district_code"], r["year"]): r["last_number"] - counts[(r["district_code"], r["year"])]
        for r in rows
    }
    numbers = []
    for district, year in wanted:
        following[(district, year)] += 1
        numbers.append(f"TJ-{district}-{year}-{following[(district, year)]:06d}")
    return numbers


async def save_mediations(conn: asyncpg.Connection, mediations: Iterable[Mediation]) -> None:
    rows = [
        (
            m.mediation_id,
            m.mediation_number,
            m.district_code,
            m.category,
            m.route_detail,
            m.group_id,
            m.employer,
            m.received_on,
            [c.model_dump(mode="json") for c in m.clocks],
            m.sensitive,
            m.status,
            m.accepted_on,
            m.extended_days,
            m.lead_mediator_id,
            m.lead_mediator_name,
            m.lead_organisation,
            m.organisations,
            m.five_party,
            m.assignment_rules,
            m.assigned_by,
            m.closed_at,
            m.closed_result,
            m.merged_into,
        )
        for m in mediations
    ]
    # Closed rows point (merged_into) at rows that may be new: new ones go in first.
    await conn.executemany(
        """INSERT INTO mediations (mediation_id, mediation_number, district_code, category,
               route_detail, group_id, employer, received_on, clocks, sensitive, status,
               accepted_on, extended_days, lead_mediator_id, lead_mediator_name,
               lead_organisation, organisations, five_party, assignment_rules, assigned_by,
               closed_at, closed_result, merged_into)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                   $17, $18, $19, $20, $21, $22, $23)
           ON CONFLICT (mediation_id) DO UPDATE SET
               district_code = EXCLUDED.district_code, category = EXCLUDED.category,
               route_detail = EXCLUDED.route_detail, group_id = EXCLUDED.group_id,
               employer = EXCLUDED.employer, received_on = EXCLUDED.received_on,
               clocks = EXCLUDED.clocks, sensitive = EXCLUDED.sensitive,
               status = EXCLUDED.status, accepted_on = EXCLUDED.accepted_on,
               extended_days = EXCLUDED.extended_days,
               lead_mediator_id = EXCLUDED.lead_mediator_id,
               lead_mediator_name = EXCLUDED.lead_mediator_name,
               lead_organisation = EXCLUDED.lead_organisation,
               organisations = EXCLUDED.organisations, five_party = EXCLUDED.five_party,
               assignment_rules = EXCLUDED.assignment_rules,
               assigned_by = EXCLUDED.assigned_by, closed_at = EXCLUDED.closed_at,
               closed_result = EXCLUDED.closed_result, merged_into = EXCLUDED.merged_into""",
        sorted(rows, key=lambda r: r[21] is not None),
    )


async def move_sessions(conn: asyncpg.Connection, moves: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Sessions of mediations merged into another follow their cases."""
    await conn.executemany("UPDATE sessions SET mediation_id = $2 WHERE mediation_id = $1", moves)


async def cancel_future_sessions(
    conn: asyncpg.Connection, mediation_ids: list[uuid.UUID], actor: str
) -> list[asyncpg.Record]:
    """A mediation that ended without an outcome frees the rooms and mediators it booked;
    returns the cancelled sessions (with their rooms) for the caller to announce."""
    rows = await conn.fetch(
        """WITH cancelled AS (
               UPDATE sessions SET status = 'cancelled'
               WHERE mediation_id = ANY($1::uuid[]) AND status = 'scheduled'
                 AND starts_at > now()
               RETURNING *)
           SELECT c.session_id, c.mediation_id, c.starts_at, c.ends_at, c.room_id, c.workers,
                  c.representatives_elected, c.employer_representative, c.mediator_ids,
                  c.organisations, r.name AS room_name, r.kind AS room_kind
           FROM cancelled c JOIN rooms r USING (room_id)""",
        mediation_ids,
    )
    if rows:
        ids = [r["session_id"] for r in rows]
        await conn.execute("DELETE FROM mediator_bookings WHERE session_id = ANY($1::uuid[])", ids)
        await conn.executemany(
            """INSERT INTO session_history (session_id, action, starts_at, ends_at, room_id,
                   reason, actor_id)
               VALUES ($1, 'cancelled', $2, $3, $4, 'mediation_closed', $5)""",
            [(r["session_id"], r["starts_at"], r["ends_at"], r["room_id"], actor) for r in rows],
        )
    return list(rows)


def announce_cancelled(
    emit: Any, rows: list[asyncpg.Record], headers: dict[uuid.UUID, dict[str, Any]]
) -> None:
    """``mediation.session_cancelled`` for each cancelled session (``headers``: each
    mediation's event header)."""
    now = datetime.now(UTC)
    for r in rows:
        emit(
            MediationSessionCancelled(
                **headers[r["mediation_id"]],
                session_id=r["session_id"],
                place=SessionPlace(
                    room_id=r["room_id"],
                    room_name=r["room_name"],
                    room_kind=r["room_kind"],
                    starts_at=r["starts_at"],
                    ends_at=r["ends_at"],
                ),
                parties=Party(
                    workers=list(r["workers"]),
                    representatives_elected=r["representatives_elected"],
                    employer_representative=r["employer_representative"],
                    mediator_ids=list(r["mediator_ids"]),
                    organisations=list(r["organisations"]),
                ),
                reason="mediation_closed",
                cancelled_at=now,
            ),
            subject=str(r["mediation_id"]),
        )


# ---------------------------------------------------------------- the roster


async def roster(conn: asyncpg.Connection) -> list[MediatorLoad]:
    """Active mediators with how many open mediations each leads."""
    rows = await conn.fetch(
        """SELECT m.subject, m.name, m.organisation, m.districts,
                  (SELECT count(*) FROM mediations d
                    WHERE d.lead_mediator_id = m.subject AND d.closed_at IS NULL) AS load
           FROM mediators m WHERE m.active ORDER BY m.subject"""
    )
    return [
        MediatorLoad(r["subject"], r["name"], r["organisation"], tuple(r["districts"]), r["load"])
        for r in rows
    ]


async def upsert_mediator(
    conn: asyncpg.Connection,
    subject: str,
    name: str,
    organisation: str,
    districts: list[str],
    active: bool = True,
) -> bool:
    """Register or update a mediator; True when anything changed."""
    changed = await conn.fetchval(
        """INSERT INTO mediators (subject, name, organisation, districts, active)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (subject) DO UPDATE SET name = EXCLUDED.name,
               organisation = EXCLUDED.organisation, districts = EXCLUDED.districts,
               active = EXCLUDED.active, updated_at = now()
           WHERE (mediators.name, mediators.organisation, mediators.districts, mediators.active)
                 IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.organisation, EXCLUDED.districts,
                                   EXCLUDED.active)
           RETURNING true""",
        subject,
        name,
        organisation,
        sorted(districts),
        active,
    )
    return bool(changed)


async def unassigned_open(conn: asyncpg.Connection, limit: int = 200) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT mediation_id FROM mediations WHERE closed_at IS NULL AND lead_mediator_id IS NULL "
        "ORDER BY opened_at LIMIT $1",
        limit,
    )
    return [r["mediation_id"] for r in rows]


def amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)
