"""The read side of the workbench: mediations with their clocks, a schedule by room, a
session's record. Plain SQL into dicts; who may see what is :mod:`mediation.visibility`'s."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from mediation import store
from mediation.clocks import CHINA, days_left
from mediation.membership import CaseState, distinct_workers, total_claim
from mediation.visibility import may_see_mediation
from weiquan_shared import labels
from weiquan_shared.auth import Principal, Role
from weiquan_shared.consent import Gate, case_gate


def worker_label(worker_ref: str) -> str:
    """How a worker appears in mediation: a pseudonym (names stay in intake)."""
    return f"职工{worker_ref[:6]}"


def clock_view(m: store.Mediation, today: date) -> list[dict[str, Any]]:
    out = []
    for clock in m.clocks:
        left = days_left(clock, today)
        if clock.due_on is None:
            state, text = "not_started", "受理后起算"
        elif left is not None and left < 0:
            state, text = "expired", f"已于{clock.due_on:%Y-%m-%d}届满"
        elif left is not None and left <= 3:
            state, text = "at_risk", f"还剩{left}天（{clock.due_on:%m-%d}届满）"
        else:
            state, text = "running", f"还剩{left}天（{clock.due_on:%m-%d}届满）"
        out.append(
            {
                **clock.model_dump(mode="json"),
                "name": labels.MEDIATION_CLOCKS.get(clock.kind, clock.kind),
                "days_left": left,
                "state": state,
                "text": text,
            }
        )
    return out


async def session_mediators(
    conn: asyncpg.Connection, mediation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    rows = await conn.fetch(
        """SELECT mediation_id, array_agg(DISTINCT x) AS ids
           FROM sessions, unnest(mediator_ids) AS x
           WHERE mediation_id = ANY($1::uuid[]) AND status <> 'cancelled'
           GROUP BY mediation_id""",
        mediation_ids,
    )
    return {r["mediation_id"]: set(r["ids"]) for r in rows}


async def visible_mediations(
    conn: asyncpg.Connection, principal: Principal, *, include_closed: bool = False
) -> list[tuple[store.Mediation, list[CaseState]]]:
    rows = await conn.fetch(
        """SELECT mediation_id FROM mediations
           WHERE district_code = ANY($1::text[])
             AND (closed_at IS NULL OR ($2 AND closed_at > now() - interval '60 days'))
             AND closed_result IS DISTINCT FROM 'merged'
           ORDER BY opened_at DESC LIMIT 1000""",
        list(principal.districts),
        include_closed,
    )
    ids = [r["mediation_id"] for r in rows]
    if not ids:
        return []
    mediations = await store.mediations_by_id(conn, ids)
    in_sessions = await session_mediators(conn, ids)
    cases = await _member_cases(conn, ids)
    out = []
    for m in mediations:
        if may_see_mediation(
            principal,
            district_code=m.district_code,
            lead_mediator_id=m.lead_mediator_id,
            organisations=m.organisations,
            session_mediators=in_sessions.get(m.mediation_id, set()),
        ):
            out.append((m, cases.get(m.mediation_id, [])))
    return out


async def _member_cases(
    conn: asyncpg.Connection, mediation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[CaseState]]:
    """The cases each mediation holds; a closed one's cases still point at it."""
    out: dict[uuid.UUID, list[CaseState]] = {}
    for case in (await store.cases_of(conn, mediation_ids)).values():
        if case.mediation_id is not None:
            out.setdefault(case.mediation_id, []).append(case)
    return out


def summary(
    m: store.Mediation,
    cases: list[CaseState],
    principal: Principal,
    today: date,
    next_session: datetime | None,
) -> dict[str, Any]:
    gates = [case_gate(principal, c.consent_scopes) for c in cases]
    withheld = [g for g in gates if not g.allowed]
    shown = [c for c, g in zip(cases, gates, strict=True) if g.allowed]
    return {
        "mediation_id": str(m.mediation_id),
        "mediation_number": m.mediation_number,
        "district_code": m.district_code,
        "district_name": labels.DISTRICTS.get(m.district_code, m.district_code),
        "category": m.category,
        "category_name": labels.CATEGORIES.get(m.category, m.category),
        "route_detail": m.route_detail,
        "route_detail_name": labels.ROUTE_DETAILS.get(m.route_detail, m.route_detail),
        "employer_name": m.employer.get("name"),
        "group": m.group_id is not None,
        "status": m.status,
        "status_name": labels.MEDIATION_STATUSES.get(m.status, m.status),
        "closed_result": m.closed_result,
        "received_on": m.received_on.isoformat(),
        "accepted_on": m.accepted_on.isoformat() if m.accepted_on else None,
        "clocks": clock_view(m, today),
        "lead_mediator_id": m.lead_mediator_id,
        "lead_mediator_name": m.lead_mediator_name,
        "lead_is_me": m.lead_mediator_id == principal.subject,
        "organisations": m.organisations,
        "organisation_names": [labels.ORGANISATIONS.get(o, o) for o in m.organisations],
        "five_party": m.five_party,
        "case_count": len(cases),
        "worker_count": len(distinct_workers(cases)) if not withheld else None,
        "claim_amount": (
            str(total_claim(shown)) if shown and not withheld and total_claim(shown) else None
        ),
        "withheld_cases": len(withheld),
        "missing": withheld[0].missing if withheld else None,
        "next_session": next_session.isoformat() if next_session else None,
    }


async def next_sessions(
    conn: asyncpg.Connection, mediation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    rows = await conn.fetch(
        """SELECT mediation_id, min(starts_at) AS at FROM sessions
           WHERE mediation_id = ANY($1::uuid[]) AND status = 'scheduled' AND ends_at > now()
           GROUP BY mediation_id""",
        mediation_ids,
    )
    return {r["mediation_id"]: r["at"] for r in rows}


def case_view(case: CaseState, gate: Gate) -> dict[str, Any]:
    base = {
        "case_id": str(case.case_id),
        "case_number": case.case_number,
        "category": case.category,
        "category_name": labels.CATEGORIES.get(case.category or "", case.category),
        "route_detail_name": labels.ROUTE_DETAILS.get(case.route_detail or "", ""),
        "consent_scopes": case.consent_scopes,
    }
    if not gate.allowed:
        return {**base, "withheld": True, "missing": gate.missing}
    return {
        **base,
        "withheld": False,
        "workers": [
            {"worker_ref": w["worker_ref"], "label": worker_label(w["worker_ref"])}
            for w in case.workers
        ],
        "claim_amount": str(case.claim_amount) if case.claim_amount is not None else None,
    }


async def sessions_of(conn: asyncpg.Connection, mediation_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT s.session_id, s.starts_at, s.ends_at, s.status, s.workers,
                  s.representatives_elected, s.employer_representative, s.mediator_ids,
                  s.organisations, s.no_show, s.moves, s.record_enc IS NOT NULL AS has_record,
                  s.next_session_id, r.room_id, r.name AS room_name, r.kind AS room_kind,
                  (SELECT array_agg(d.name ORDER BY d.name) FROM mediators d
                    WHERE d.subject = ANY(s.mediator_ids)) AS mediator_names
           FROM sessions s JOIN rooms r USING (room_id)
           WHERE s.mediation_id = $1 ORDER BY s.starts_at""",
        mediation_id,
    )
    return [session_row(r) for r in rows]


def session_row(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "session_id": str(r["session_id"]),
        "starts_at": r["starts_at"].isoformat(),
        "ends_at": r["ends_at"].isoformat(),
        "status": r["status"],
        "status_name": labels.SESSION_STATUSES.get(r["status"], r["status"]),
        "room_id": str(r["room_id"]),
        "room_name": r["room_name"],
        "room_kind_name": labels.ROOM_KINDS.get(r["room_kind"], r["room_kind"]),
        "worker_count": len(r["workers"]),
        "representatives_elected": r["representatives_elected"],
        "employer_representative": r["employer_representative"],
        "mediator_ids": list(r["mediator_ids"]),
        "mediator_names": list(r["mediator_names"] or []),
        "organisation_names": [labels.ORGANISATIONS.get(o, o) for o in r["organisations"]],
        "no_show": r["no_show"],
        "moves": r["moves"],
        "has_record": r["has_record"],
    }


async def schedule(
    conn: asyncpg.Connection,
    principal: Principal,
    start: date,
    days: int,
    visible_ids: set[uuid.UUID],
) -> dict[str, Any]:
    """Rooms of the person's districts with their sessions between ``start`` and
    ``start + days`` (China time); a session of a mediation the person may not see shows
    only that the room is taken."""
    begin = datetime(start.year, start.month, start.day, tzinfo=CHINA)
    end = begin + timedelta(days=days)
    rooms = await conn.fetch(
        "SELECT room_id, name, kind, district_code, location, capacity FROM rooms "
        "WHERE active AND district_code = ANY($1::text[]) ORDER BY kind, name",
        list(principal.districts),
    )
    sessions = await conn.fetch(
        """SELECT s.session_id, s.mediation_id, s.starts_at, s.ends_at, s.status, s.workers,
                  s.representatives_elected, s.employer_representative, s.mediator_ids,
                  s.organisations, s.no_show, s.moves, s.record_enc IS NOT NULL AS has_record,
                  s.next_session_id, r.room_id, r.name AS room_name, r.kind AS room_kind,
                  m.mediation_number,
                  (SELECT array_agg(d.name ORDER BY d.name) FROM mediators d
                    WHERE d.subject = ANY(s.mediator_ids)) AS mediator_names
           FROM sessions s JOIN rooms r USING (room_id) JOIN mediations m USING (mediation_id)
           WHERE s.status <> 'cancelled' AND s.during && tstzrange($1, $2, '[)')
             AND r.room_id = ANY($3::uuid[])
           ORDER BY s.starts_at""",
        begin,
        end,
        [r["room_id"] for r in rooms],
    )
    by_room: dict[uuid.UUID, list[dict[str, Any]]] = {r["room_id"]: [] for r in rooms}
    for s in sessions:
        mine = s["mediation_id"] in visible_ids or principal.role is Role.SUPERVISOR
        item = session_row(s)
        if mine:
            item["mediation_number"] = s["mediation_number"]
        else:
            item = {
                "session_id": None,
                "starts_at": item["starts_at"],
                "ends_at": item["ends_at"],
                "status": "taken",
                "status_name": "已占用",
            }
        by_room[s["room_id"]].append(item)
    return {
        "from": start.isoformat(),
        "days": days,
        "rooms": [
            {
                "room_id": str(r["room_id"]),
                "name": r["name"],
                "kind": r["kind"],
                "kind_name": labels.ROOM_KINDS.get(r["kind"], r["kind"]),
                "district_code": r["district_code"],
                "location": r["location"],
                "capacity": r["capacity"],
                "sessions": by_room[r["room_id"]],
            }
            for r in rooms
        ],
    }
