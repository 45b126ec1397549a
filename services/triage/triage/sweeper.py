"""The daily re-evaluation of statutory clocks (see ``triage.clocks`` for why).

Runs inside the triage process: at start and then every ``interval_s`` it checks whether
today's (China time) sweep has been done; if not, it recomputes every open clock with the
calendar and rules the process runs with, stores what changed and publishes
``case.deadlines_updated`` through the outbox, all in one transaction, and records the
sweep. An advisory lock keeps one instance sweeping, the ``clock_sweeps`` row makes the
sweep once a day whatever the number of restarts or instances.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg

from triage import store
from triage.clocks import china_date, review_clocks
from triage.domain import Policy
from triage.review import without_confirmed
from weiquan_shared.envelope import Actor
from weiquan_shared.events import CaseDeadlinesUpdated
from weiquan_shared.logging import get_logger
from weiquan_shared.settings import Settings
from weiquan_shared.uow import unit_of_work

SWEEP_LOCK_ID = 0x5452_434B  # "TRCK": one sweeping instance per database

log = get_logger(__name__)


async def sweep(pool: asyncpg.Pool, settings: Settings, policy: Policy, today: date) -> int | None:
    """Re-evaluate the clocks for ``today``; returns cases updated, None if already done."""
    async with unit_of_work(pool, settings, Actor.system(settings.service_name)) as uow:
        conn = uow.conn
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SWEEP_LOCK_ID):
            return None
        if await store.sweep_done(conn, today):
            return None
        updated = 0
        for case_id, stored in (await store.open_clocks(conn, today)).items():
            review = review_clocks(
                stored, today=today, rules=policy.rules, calendar=policy.calendar
            )
            if not review.changed:
                continue
            # What an officer settled (请人工核实) is not raised again on the same due date.
            clocks = without_confirmed(review.clocks, await store.confirmations(conn, case_id))
            await store.update_clocks(conn, case_id, clocks, list(review.at_risk))
            payload = CaseDeadlinesUpdated(
                case_id=case_id,
                case_number=await store.case_number_of(conn, case_id),
                clocks=clocks,
                at_risk=review.at_risk,
                moved=review.moved,
                evaluated_on=today,
            )
            uow.emit(payload, subject=str(case_id))
            updated += 1
        await store.record_sweep(conn, today, updated)
        return updated


async def run_daily(
    pool: asyncpg.Pool, settings: Settings, policy: Policy, interval_s: float
) -> None:
    """Sweep once per China-time day until cancelled; a failure is retried next interval."""
    while True:
        today = china_date(datetime.now(UTC))
        try:
            updated = await sweep(pool, settings, policy, today)
            if updated is not None:
                log.info("statutory clocks re-evaluated", day=today.isoformat(), cases=updated)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.warning("clock sweep failed, retrying later", error=repr(exc))
        await asyncio.sleep(interval_s)
