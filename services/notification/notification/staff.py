"""Mediators and lawyers (issue 15): their assignments, a reminder the day before a
session, and deadlines at risk.

What notification remembers for it (migration 0006), from mediation's and legal aid's
events: who leads each mediation and which cases it holds (``mediations``), the lawyer of
a case (``case_lawyers``), and the sessions (``sessions``). Staff are named only by their
identity subject; their addresses are asked of identity at send time.

Once toward staff, like toward workers, by the outbox's (event id, recipient, template):
an assignment by its event's id; a reminder and a deadline by an id derived from what
makes them one (``reminder_id``, ``deadline_id``), so no replay, restart or second
re-evaluation of the same clock repeats them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from notification import store
from notification.rules import (
    DeadlineAtRisk,
    PlannedMessage,
    RuleBook,
    SessionReminder,
    plan,
    staff_addressees,
)
from weiquan_shared.events.legal_aid import LegalAidLawyerAssigned
from weiquan_shared.events.mediation import (
    MediationAssigned,
    MediationCasesChanged,
    MediationClosed,
    MediationSessionCancelled,
    MediationSessionMoved,
    MediationSessionScheduled,
)
from weiquan_shared.events.triage import CaseDeadlinesUpdated

REMINDER = "notification.session_reminder"
DEADLINE = "notification.deadline_at_risk"
# Ids of notification's own triggers (uuid5 in this namespace).
_NAMESPACE = uuid.UUID("6f1c8a52-4b0e-4c55-9a43-3f1d2c7e9b10")

Planned = tuple[uuid.UUID, str, Mapping[str, Any], PlannedMessage]


def reminder_id(session_id: uuid.UUID, starts_at: datetime) -> uuid.UUID:
    """One reminder per session and start: a moved session is reminded of its new time."""
    return uuid.uuid5(_NAMESPACE, f"reminder:{session_id}:{starts_at.isoformat()}")


def deadline_id(case_id: uuid.UUID, clock: str, due_on: date) -> uuid.UUID:
    """One warning per case, clock and due date (a due date moved later warns again)."""
    return uuid.uuid5(_NAMESPACE, f"deadline:{case_id}:{clock}:{due_on.isoformat()}")


def _case(case_id: uuid.UUID | None, number: str | None, district: str) -> dict[str, Any]:
    return {"case_id": case_id, "case_number": number, "district_code": district}


def _staff_messages(
    book: RuleBook,
    event_id: uuid.UUID,
    event_type: str,
    payload: Mapping[str, Any],
    case: Mapping[str, Any],
    staff: Mapping[str, Sequence[str]],
) -> list[Planned]:
    planned = plan(book, event_type, payload, case_channel=None, workers=[], staff=staff)
    return [(event_id, event_type, case, m) for m in planned]


# --- what notification remembers -------------------------------------------------------


_UPSERT_MEDIATION = """
INSERT INTO mediations (mediation_id, mediation_number, district_code, case_ids, case_numbers,
    cases_told_at, lead_mediator_id, lead_told_at, closed)
VALUES ($1, $2, $3, $4::uuid[], $5::text[], $6::timestamptz, $7::text,
    CASE WHEN $7::text IS NULL THEN NULL ELSE $6::timestamptz END, $8)
ON CONFLICT (mediation_id) DO UPDATE SET
    case_ids = CASE WHEN EXCLUDED.cases_told_at >= mediations.cases_told_at
        THEN EXCLUDED.case_ids ELSE mediations.case_ids END,
    case_numbers = CASE WHEN EXCLUDED.cases_told_at >= mediations.cases_told_at
        THEN EXCLUDED.case_numbers ELSE mediations.case_numbers END,
    cases_told_at = greatest(EXCLUDED.cases_told_at, mediations.cases_told_at),
    lead_mediator_id = CASE WHEN EXCLUDED.lead_mediator_id IS NOT NULL
        AND (mediations.lead_told_at IS NULL OR EXCLUDED.lead_told_at >= mediations.lead_told_at)
        THEN EXCLUDED.lead_mediator_id ELSE mediations.lead_mediator_id END,
    lead_told_at = greatest(EXCLUDED.lead_told_at, mediations.lead_told_at),
    closed = mediations.closed OR EXCLUDED.closed,
    updated_at = now()
"""


async def remember_mediations(
    conn: asyncpg.Connection,
    events: Sequence[MediationAssigned | MediationCasesChanged | MediationClosed],
) -> None:
    """A mediation's cases (assigned, cases_changed, closed), its lead (assigned) and
    whether it ended (closed: no responsible mediator any more, for deadlines); the newest
    of each wins whatever the order they arrive in."""
    for e in events:
        if isinstance(e, MediationAssigned):
            told, lead = e.assigned_at, e.lead_mediator_id
        elif isinstance(e, MediationCasesChanged):
            told, lead = e.changed_at, None
        else:
            told, lead = e.closed_at, None
        await conn.execute(
            _UPSERT_MEDIATION,
            e.mediation_id,
            e.mediation_number,
            e.district_code,
            list(e.case_ids),
            list(e.case_numbers),
            told,
            lead,
            isinstance(e, MediationClosed),
        )


_UPSERT_SESSION = """
INSERT INTO sessions (session_id, mediation_id, mediation_number, district_code, case_ids,
    case_numbers, starts_at, room_name, mediator_ids, told_at, cancelled)
VALUES ($1, $2, $3, $4, $5::uuid[], $6::text[], $7, $8, $9::text[], $10, $11)
ON CONFLICT (session_id) DO UPDATE SET
    starts_at = EXCLUDED.starts_at, room_name = EXCLUDED.room_name,
    mediator_ids = EXCLUDED.mediator_ids, case_ids = EXCLUDED.case_ids,
    case_numbers = EXCLUDED.case_numbers, told_at = EXCLUDED.told_at,
    cancelled = sessions.cancelled OR EXCLUDED.cancelled, updated_at = now()
WHERE EXCLUDED.told_at >= sessions.told_at OR EXCLUDED.cancelled
"""


async def remember_sessions(
    conn: asyncpg.Connection,
    events: Sequence[MediationSessionScheduled | MediationSessionMoved | MediationSessionCancelled],
) -> None:
    """Each session as last told (by the events' own times: a move read before its
    scheduling keeps the new time); cancelled stays cancelled."""
    for e in events:
        if isinstance(e, MediationSessionScheduled):
            told = e.scheduled_at
        elif isinstance(e, MediationSessionMoved):
            told = e.moved_at
        else:
            told = e.cancelled_at
        await conn.execute(
            _UPSERT_SESSION,
            e.session_id,
            e.mediation_id,
            e.mediation_number,
            e.district_code,
            list(e.case_ids),
            list(e.case_numbers),
            e.place.starts_at,
            e.place.room_name,
            list(e.parties.mediator_ids),
            told,
            isinstance(e, MediationSessionCancelled),
        )


async def remember_lawyers(
    conn: asyncpg.Connection, events: Sequence[LegalAidLawyerAssigned]
) -> None:
    for e in events:
        if e.case_id is None or e.lawyer_subject is None:
            continue
        await conn.execute(
            "INSERT INTO case_lawyers (case_id, case_number, application_number, "
            "district_code, lawyer_subject, assigned_at) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (case_id) DO UPDATE SET lawyer_subject = EXCLUDED.lawyer_subject, "
            "application_number = EXCLUDED.application_number, "
            "assigned_at = EXCLUDED.assigned_at WHERE case_lawyers.assigned_at <= "
            "EXCLUDED.assigned_at",
            e.case_id,
            e.case_number or "",
            e.application_number,
            e.district_code,
            e.lawyer_subject,
            e.assigned_at,
        )


# --- the messages ----------------------------------------------------------------------


def assignment_messages(
    book: RuleBook, envelope_id: uuid.UUID, event_type: str, event: Any
) -> list[Planned]:
    """The lead mediator of ``mediation.assigned``, the lawyer of
    ``legal_aid.lawyer_assigned``: the message is about the first case (the delivery log)."""
    payload = event.model_dump(mode="json")
    staff = staff_addressees(event_type, payload)
    if not staff:
        return []
    if isinstance(event, LegalAidLawyerAssigned):
        case = _case(event.case_id, event.case_number, event.district_code)
    else:
        case = _case(event.case_ids[0] if event.case_ids else None, None, event.district_code)
        case["case_number"] = event.case_numbers[0] if event.case_numbers else None
    return _staff_messages(book, envelope_id, event_type, payload, case, staff)


async def deadline_messages(
    conn: asyncpg.Connection, book: RuleBook, events: Sequence[CaseDeadlinesUpdated]
) -> list[Planned]:
    """For each clock entering its at-risk window: the case's lead mediator (of an open
    mediation holding it) and its legal-aid lawyer, whichever are known."""
    planned: list[Planned] = []
    for e in events:
        clocks = {c.kind: c for c in e.clocks}
        risky = [clocks[k] for k in dict.fromkeys(e.at_risk) if k in clocks and clocks[k].due_on]
        if not risky:
            continue
        mediation = await conn.fetchrow(
            "SELECT lead_mediator_id, district_code FROM mediations "
            "WHERE case_ids @> ARRAY[$1::uuid] AND NOT closed AND lead_mediator_id IS NOT NULL "
            "ORDER BY updated_at DESC LIMIT 1",
            e.case_id,
        )
        lawyer = await conn.fetchrow(
            "SELECT lawyer_subject, district_code FROM case_lawyers WHERE case_id = $1",
            e.case_id,
        )
        staff: dict[str, list[str]] = {}
        if mediation is not None:
            staff["mediator"] = [mediation["lead_mediator_id"]]
        if lawyer is not None:
            staff["lawyer"] = [lawyer["lawyer_subject"]]
        if not staff:
            continue
        district = (mediation or lawyer)["district_code"]
        for clock in risky:
            assert clock.due_on is not None
            trigger = DeadlineAtRisk(
                case_id=e.case_id,
                case_number=e.case_number,
                clock=clock.kind,
                due_on=clock.due_on,
                note=clock.note,
            )
            planned += _staff_messages(
                book,
                deadline_id(e.case_id, clock.kind, clock.due_on),
                DEADLINE,
                trigger.model_dump(mode="json"),
                _case(e.case_id, e.case_number, district),
                staff,
            )
    return planned


async def sessions_starting(
    conn: asyncpg.Connection, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM sessions WHERE NOT cancelled AND starts_at >= $1 AND starts_at < $2 "
            "ORDER BY starts_at, session_id",
            start,
            end,
        )
    )


def reminder_messages(book: RuleBook, sessions: Sequence[asyncpg.Record]) -> list[Planned]:
    planned: list[Planned] = []
    for s in sessions:
        trigger = SessionReminder(
            session_id=s["session_id"],
            mediation_number=s["mediation_number"],
            case_number=s["case_numbers"][0] if s["case_numbers"] else "",
            case_numbers=list(s["case_numbers"]),
            starts_at=s["starts_at"],
            room_name=s["room_name"],
        )
        case = _case(
            s["case_ids"][0] if s["case_ids"] else None,
            s["case_numbers"][0] if s["case_numbers"] else None,
            s["district_code"],
        )
        planned += _staff_messages(
            book,
            reminder_id(s["session_id"], s["starts_at"]),
            REMINDER,
            trigger.model_dump(mode="json"),
            case,
            {"mediator": list(s["mediator_ids"])},
        )
    return planned


async def record(conn: asyncpg.Connection, planned: Sequence[Planned]) -> int:
    return await store.insert_messages(conn, planned)
