"""The periodic task: clocks that ran out, and mediations still waiting for a lead.

Every ``sweep_interval_s`` (and at start), in one unit of work acting as the service:

- each open mediation without an agreement has its clocks recomputed with the calendar it
  runs with now (a newly published holiday calendar moves a due date); a clock whose due
  day has passed is announced once (``mediation.expired``, kept in ``clock_expiries``),
  offering the workers arbitration and legal aid. The statutory clock (LDA Art. 14) only
  opens the way to arbitration; the regulation's clock running out means the mediation is
  deemed to have failed, so it also ends (``mediation.closed``, result ``expired``) and
  frees the rooms and mediators it had booked.
- mediations no mediator leads yet (none was registered for the lead organisation and
  district when they opened) are given one by the rules, now that there may be one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from mediation import store
from mediation.assignment import assign_by_rules, header
from mediation.clocks import ClockPolicy, china_date, compute_clocks, expired_clocks
from mediation.membership import distinct_workers
from mediation.rules import AssignmentBook
from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.envelope import Actor
from weiquan_shared.events import MediationClosed, MediationExpired
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.logging import get_logger
from weiquan_shared.service import Runtime

log = get_logger(__name__)

RUNNING = ("received", "accepted")


async def sweep(
    runtime: Runtime,
    policy: ClockPolicy,
    calendar: LegalCalendar,
    book: AssignmentBook,
    today: date | None = None,
) -> dict[str, int]:
    today = today or china_date(datetime.now(UTC))
    now = datetime.now(UTC)
    counts = {"expired": 0, "closed": 0, "assigned": 0}
    async with runtime.unit_of_work(Actor.system(runtime.settings.service_name)) as uow:
        conn = uow.conn
        ids = [
            r["mediation_id"]
            for r in await conn.fetch(
                "SELECT mediation_id FROM mediations WHERE closed_at IS NULL "
                "AND (status = ANY($1::text[]) OR lead_mediator_id IS NULL) "
                "ORDER BY mediation_id",
                list(RUNNING),
            )
        ]
        mediations = await store.open_mediations(conn, ids, [])
        members = await store.cases_of(conn, mediations)
        held = {mid: [c for c in members.values() if c.mediation_id == mid] for mid in mediations}
        roster = await store.roster(conn)
        closing: list[store.Mediation] = []
        for m in mediations.values():
            cases = held[m.mediation_id]
            if m.lead_mediator_id is None and assign_by_rules(m, cases, book, roster, uow.emit):
                counts["assigned"] += m.lead_mediator_id is not None
            if m.status not in RUNNING:
                continue
            m.clocks = compute_clocks(
                policy,
                calendar,
                received_on=m.received_on,
                accepted_on=m.accepted_on,
                extended_days=m.extended_days,
            )
            for clock in expired_clocks(m.clocks, today):
                first_time = await conn.fetchval(
                    "INSERT INTO clock_expiries (mediation_id, clock_kind, due_on) "
                    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                    m.mediation_id,
                    clock.kind,
                    clock.due_on,
                )
                if not first_time:
                    continue
                deemed_failed = clock.kind == "regulation_acceptance"
                uow.emit(
                    MediationExpired(
                        **header(m, cases),
                        clock=clock,
                        deemed_failed=deemed_failed,
                        offers=["arbitration", "legal_aid"],
                        worker_refs=[w["worker_ref"] for w in distinct_workers(cases)],
                        expired_on=today,
                    ),
                    subject=str(m.mediation_id),
                )
                counts["expired"] += 1
                if deemed_failed:
                    closing.append(m)
        for m in closing:
            cases = held[m.mediation_id]
            m.status, m.closed_at, m.closed_result = "expired", now, "expired"
            uow.emit(
                MediationClosed(
                    **header(m, cases),
                    result="expired",
                    worker_count=len(distinct_workers(cases)),
                    opened_on=m.received_on,
                    closed_at=now,
                ),
                subject=str(m.mediation_id),
            )
            counts["closed"] += 1
        await store.save_mediations(conn, mediations.values())
        if closing:
            cancelled = await store.cancel_future_sessions(
                conn, [m.mediation_id for m in closing], str(uow.actor)
            )
            store.announce_cancelled(
                uow.emit,
                cancelled,
                {m.mediation_id: header(m, held[m.mediation_id]) for m in closing},
            )
    return counts


async def run_periodically(
    runtime: Runtime,
    policy: ClockPolicy,
    calendar: LegalCalendar,
    book: AssignmentBook,
    interval_s: float,
) -> None:
    while True:
        try:
            counts = await sweep(runtime, policy, calendar, book)
            if any(counts.values()):
                log.info("mediation sweep", **counts)
            await asyncio.sleep(interval_s)
        except DATABASE_UNAVAILABLE as exc:
            log.warning("mediation sweep: database unavailable, retrying", error=repr(exc))
            await asyncio.sleep(min(interval_s, 30))
