"""The daily reminder: each mediator of a session starting tomorrow (local time) gets an
email, from the configured hour of the day before (``WEIQUAN_NOTIFICATION_REMINDER_AT``,
09:00 Asia/Shanghai).

The task looks every ``reminder_poll_s`` (60 s); from the hour on, each look records the
reminders of tomorrow's sessions, and the outbox's (event id, recipient, template) keeps
them to one per session, start and mediator (``staff.reminder_id``): a restart, a second
instance or the next look adds nothing; a session scheduled later that day for tomorrow is
reminded at the next look; a moved session is reminded of its new time (a new id); a
cancelled one is not (``sessions.cancelled``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from notification import staff
from notification.rules import RuleBook
from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.envelope import Actor
from weiquan_shared.logging import get_logger
from weiquan_shared.service import Runtime

log = get_logger(__name__)


@dataclass(frozen=True)
class ReminderTime:
    at: time
    zone: ZoneInfo

    def window(self, now: datetime) -> tuple[datetime, datetime] | None:
        """Tomorrow (local), from midnight to midnight, once ``now`` is past the hour;
        None before it."""
        local = now.astimezone(self.zone)
        if local.time() < self.at:
            return None
        start = datetime.combine(local.date() + timedelta(days=1), time(0), self.zone)
        return start, datetime.combine(start.date() + timedelta(days=1), time(0), self.zone)


async def enqueue_reminders(
    conn: asyncpg.Connection, book: RuleBook, when: ReminderTime, now: datetime
) -> int:
    """Record the reminders due at ``now`` (none before the hour); how many are new."""
    window = when.window(now)
    if window is None:
        return 0
    sessions = await staff.sessions_starting(conn, *window)
    return await staff.record(conn, staff.reminder_messages(book, sessions))


class SessionReminders:
    def __init__(
        self,
        runtime: Runtime,
        book: RuleBook,
        when: ReminderTime,
        *,
        poll_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.runtime = runtime
        self.book = book
        self.when = when
        self.poll_s = poll_s
        self.clock = clock
        self.actor = Actor.system(runtime.settings.service_name)

    async def step(self) -> int:
        async with self.runtime.unit_of_work(self.actor) as uow:
            added = await enqueue_reminders(uow.conn, self.book, self.when, self.clock())
        if added:
            log.info("session reminders recorded", messages=added)
        return added

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except DATABASE_UNAVAILABLE as exc:
                log.warning("reminders: database unavailable", error=type(exc).__name__)
            except Exception:
                log.exception("reminders step failed")
            await asyncio.sleep(self.poll_s)
