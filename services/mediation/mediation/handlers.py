"""Mediation's event handler: cases routed to mediation open, join, leave and close
mediations, all in the consumer's transaction, a batch at a time.

One handler takes every event that can change where a case belongs (intake's
``case.reported``, ``case.consent_recorded``, ``case.voided``; triage's ``case.triaged``,
``case.retriaged``, ``case.grouped``), because they arrive on different topics in any
order: it applies them to the cases' rows (locked in id order), then compares where each
touched case is with where it belongs (:func:`mediation.membership.plan`) and moves it.
Statements are set-wise per batch (a lock, a few reads, a few ``executemany``), as in
triage, so the pipeline keeps its rate.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

from mediation import store
from mediation.assignment import assign_by_rules, header
from mediation.clocks import ClockPolicy, compute_clocks
from mediation.membership import (
    CaseState,
    LeaveReason,
    closing_result,
    distinct_workers,
    plan,
    total_claim,
)
from mediation.rules import AssignmentBook
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import (
    CaseConsentRecorded,
    CaseGrouped,
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    CaseVoided,
    MediationCasesChanged,
    MediationClosed,
    MediationOpened,
    WorkerRef,
)
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.uow import UnitOfWork

Key = tuple[Literal["group", "case"], uuid.UUID]


def register_handlers(
    consumer: EventConsumer, book: AssignmentBook, clocks: ClockPolicy, calendar: LegalCalendar
) -> None:
    @consumer.handles_batch(
        CaseReported, CaseTriaged, CaseRetriaged, CaseGrouped, CaseConsentRecorded, CaseVoided
    )
    async def on_case_events(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        await apply_case_events(uow, events, book, clocks, calendar)


async def apply_case_events(
    uow: UnitOfWork,
    events: list[tuple[Envelope, Any]],
    book: AssignmentBook,
    policy: ClockPolicy,
    calendar: LegalCalendar,
) -> None:
    conn = uow.conn
    touched: set[uuid.UUID] = set()
    groups: list[CaseGrouped] = []
    for _, payload in events:
        if isinstance(payload, CaseGrouped):
            touched.update(payload.case_ids)
            groups.append(payload)
        else:
            touched.add(payload.case_id)
    cases = await store.lock_cases(conn, touched)
    cause: dict[uuid.UUID, Envelope] = {}
    seq_before = {case_id: case.decision_seq for case_id, case in cases.items()}
    for envelope, payload in events:
        if isinstance(payload, CaseGrouped):
            for index, case_id in enumerate(payload.case_ids):
                cases[case_id].join_group(payload, index)
                cause[case_id] = envelope
        else:
            cases[payload.case_id].apply(envelope, payload)
            cause[payload.case_id] = envelope
    if groups:
        await store.save_groups(conn, groups)
    redecided = {i for i, c in cases.items() if c.decision_seq != seq_before[i]}

    group_ids = {c.group_id for c in cases.values() if c.group_id and c.in_mediation}
    await store.lock_groups(conn, group_ids)
    holders = await store.open_mediations(
        conn, [c.mediation_id for c in cases.values() if c.mediation_id], group_ids
    )
    for case_id, member in (await store.cases_of(conn, holders)).items():
        cases.setdefault(case_id, member)

    holder_key: dict[uuid.UUID, Key] = {}
    for m in holders.values():
        if m.group_id is not None:
            holder_key[m.mediation_id] = ("group", m.group_id)
        else:
            held_ids = [c.case_id for c in cases.values() if c.mediation_id == m.mediation_id]
            if held_ids:
                holder_key[m.mediation_id] = ("case", min(held_ids))
    moves = plan(sorted(touched), cases, holder_key, redecided)

    by_key: dict[Key, store.Mediation] = {
        key: holders[mid] for mid, key in holder_key.items() if key[0] == "group"
    }
    # New mediations: one per dispute that has none, numbered per district and year.
    wanted: dict[Key, list[CaseState]] = defaultdict(list)
    for move in moves:
        if move.to_key is not None and move.to_key not in by_key:
            wanted[move.to_key].append(cases[move.case_id])
    now = datetime.now(UTC)
    new_keys = sorted(wanted, key=lambda k: (k[0], str(k[1])))
    numbers = await store.next_numbers(
        conn,
        [(_first(wanted[k]).district_code or "", _year(_first(wanted[k]))) for k in new_keys],
    )
    for key, number in zip(new_keys, numbers, strict=True):
        joining = wanted[key]
        first = _first(joining)
        received = min(
            [holders[c.mediation_id].received_on for c in joining if c.mediation_id in holders]
            + [c.received_on for c in joining if c.received_on]
        )
        by_key[key] = store.Mediation(
            mediation_id=uuid.uuid4(),
            mediation_number=number,
            district_code=first.district_code or "",
            category=first.category or "other",
            route_detail=first.route_detail or "mediation.union",
            group_id=key[1] if key[0] == "group" else None,
            employer=first.employer or {},
            received_on=received,
            clocks=compute_clocks(policy, calendar, received_on=received, accepted_on=None),
            sensitive=any(c.employer_flagged for c in joining),
            opened_at=now,
            is_new=True,
        )

    # Move the cases.
    left: dict[uuid.UUID, list[tuple[CaseState, LeaveReason]]] = defaultdict(list)
    joined: dict[uuid.UUID, list[CaseState]] = defaultdict(list)
    merged_into: dict[uuid.UUID, uuid.UUID] = {}
    for move in moves:
        case = cases[move.case_id]
        if move.from_key is not None and move.reason is not None:
            left[move.from_key].append((case, move.reason))
        if move.to_key is not None:
            target = by_key[move.to_key]
            joined[target.mediation_id].append(case)
            if move.from_key is not None:
                merged_into[move.from_key] = target.mediation_id
            case.mediation_id = target.mediation_id
        else:
            case.mediation_id = None

    everything = {m.mediation_id: m for m in [*holders.values(), *by_key.values()]}
    group_numbers = await store.group_numbers(
        conn, [m.group_id for m in everything.values() if m.group_id]
    )
    members: dict[uuid.UUID, list[CaseState]] = defaultdict(list)
    for case in cases.values():
        if case.mediation_id is not None:
            members[case.mediation_id].append(case)

    def cause_of(mediation_cases: list[CaseState]) -> Envelope | None:
        return next((cause[c.case_id] for c in mediation_cases if c.case_id in cause), None)

    # Those that gained members: they pick up route detail, category, sensitivity.
    new_ones = [m for m in everything.values() if m.is_new]
    closing: list[store.Mediation] = []
    for m in everything.values():
        held = members.get(m.mediation_id, [])
        if m.is_new:
            continue
        if not held and m.mediation_id in left:
            closing.append(m)
            continue
        if held:
            _refresh(m, held)
    for m in new_ones:
        _refresh(m, members[m.mediation_id])

    # Announce: opened, changed, closed; then (re)assign by the rules.
    for m in new_ones:
        held = members[m.mediation_id]
        uow.emit(
            MediationOpened(
                **header(m, held),
                category=m.category,
                route_detail=m.route_detail,
                group_id=m.group_id,
                group_number=group_numbers.get(m.group_id) if m.group_id else None,
                employer=m.employer,
                workers=[WorkerRef.model_validate(w) for w in distinct_workers(held)],
                claim_amount=total_claim(held),
                received_on=m.received_on,
                clocks=m.clocks,
                opened_at=now,
            ),
            subject=str(m.mediation_id),
            caused_by=cause_of(held),
        )
    closing_ids = {m.mediation_id for m in closing}
    for m in everything.values():
        if m.is_new or m.mediation_id in closing_ids:
            continue
        held = members.get(m.mediation_id, [])
        if joined.get(m.mediation_id):
            merged_from = [mid for mid, into in merged_into.items() if into == m.mediation_id]
            reason = "merged" if merged_from else "group_grew"
            _changed(uow, m, held, "joined", reason, joined[m.mediation_id], merged_from,
                     group_numbers, cause_of(joined[m.mediation_id]), now)  # fmt: skip
        gone = left.get(m.mediation_id)
        if gone:
            reasons = {r for _, r in gone}
            reason = "voided" if reasons == {"voided"} else "retriaged"
            _changed(uow, m, held, "left", reason, [c for c, _ in gone], [],
                     group_numbers, cause_of([c for c, _ in gone]), now)  # fmt: skip
    cancelled_for: list[uuid.UUID] = []
    session_moves: list[tuple[uuid.UUID, uuid.UUID]] = []
    for m in closing:
        gone = left[m.mediation_id]
        result = closing_result([r for _, r in gone])
        m.closed_at, m.closed_result, m.status = now, result, "closed"
        m.merged_into = merged_into.get(m.mediation_id) if result == "merged" else None
        if m.merged_into is not None:
            session_moves.append((m.mediation_id, m.merged_into))
        else:
            cancelled_for.append(m.mediation_id)
        held_last = [c for c, _ in gone]
        handed_on = next((c.route for c, r in gone if r == "retriaged"), None)
        uow.emit(
            MediationClosed(
                **header(m, held_last),
                result=result,
                merged_into=m.merged_into,
                handed_on_route=handed_on if result == "handed_on" else None,
                worker_count=len(distinct_workers(held_last)),
                opened_on=m.received_on,
                closed_at=now,
            ),
            subject=str(m.mediation_id),
            caused_by=cause_of(held_last),
        )

    open_ones = [m for m in everything.values() if m.closed_at is None]
    if open_ones:
        roster = await store.roster(conn)
        for m in open_ones:
            held = members.get(m.mediation_id, [])
            assign_by_rules(m, held, book, roster, uow.emit, cause_of(held))

    await store.save_mediations(conn, everything.values())
    await store.save_cases(conn, cases.values())
    if session_moves:
        await store.move_sessions(conn, session_moves)
    if cancelled_for:
        cancelled = await store.cancel_future_sessions(conn, cancelled_for, str(uow.actor))
        closed_headers = {
            m.mediation_id: header(m, [c for c, _ in left[m.mediation_id]]) for m in closing
        }
        store.announce_cancelled(uow.emit, cancelled, closed_headers)


def _first(cases: list[CaseState]) -> CaseState:
    return min(
        cases, key=lambda c: (c.decided_at or datetime.max.replace(tzinfo=UTC), str(c.case_id))
    )


def _year(case: CaseState) -> int:
    return case.received_on.year if case.received_on else datetime.now(UTC).year


def _refresh(m: store.Mediation, held: list[CaseState]) -> None:
    """Route detail and category follow the latest decision among the mediation's cases;
    a repeat employer makes it sensitive (a coordinator's marking stays)."""
    latest = max(held, key=lambda c: c.decided_at or datetime.min.replace(tzinfo=UTC))
    if latest.route_detail and latest.route_detail.startswith("mediation."):
        m.route_detail = latest.route_detail
    if m.group_id is None and latest.category:
        m.category = latest.category
    m.sensitive = m.sensitive or any(c.employer_flagged for c in held)


def _changed(
    uow: UnitOfWork,
    m: store.Mediation,
    held: list[CaseState],
    change: Literal["joined", "left"],
    reason: str,
    changed: list[CaseState],
    merged_from: list[uuid.UUID],
    group_numbers: dict[uuid.UUID, str],
    caused_by: Envelope | None,
    now: datetime,
) -> None:
    ordered = sorted(changed, key=lambda c: c.case_number or "")
    uow.emit(
        MediationCasesChanged(
            **header(m, held),
            change=change,
            reason=reason,
            changed_case_ids=[c.case_id for c in ordered],
            changed_case_numbers=[c.case_number or "" for c in ordered],
            group_id=m.group_id,
            group_number=group_numbers.get(m.group_id) if m.group_id else None,
            workers=[WorkerRef.model_validate(w) for w in distinct_workers(held)],
            merged_from=merged_from,
            changed_at=now,
        ),
        subject=str(m.mediation_id),
        caused_by=caused_by,
    )
