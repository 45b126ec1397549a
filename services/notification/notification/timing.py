"""When a message may go: quiet hours, retries with backoff, a rate per recipient.

Pure functions of a given time, so a test can set the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """No message to a worker between ``start`` and ``end`` local time (the night, by
    default 21:00 to 08:00 China time): one due then is held until ``end``, never dropped."""

    start: time
    end: time
    zone: ZoneInfo

    def holds(self, now: datetime) -> bool:
        local = now.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, now: datetime) -> datetime | None:
        """The end of the quiet hours ``now`` falls in, or None when it is not quiet."""
        if not self.holds(now):
            return None
        local = now.astimezone(self.zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_delay: timedelta
    max_delay: timedelta

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: doubling, capped."""
        return min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


@dataclass(frozen=True)
class RateLimit:
    """At most ``messages`` to one recipient on one channel within ``window``."""

    messages: int
    window: timedelta

    def next_allowed(
        self, sent_in_window: int, oldest_in_window: datetime | None
    ) -> datetime | None:
        if sent_in_window < self.messages or oldest_in_window is None:
            return None
        return oldest_in_window + self.window
