"""The day-counting engine for statutory periods (shared/DOMAIN.md §0), and the holiday calendar.

Rules implemented, each from DOMAIN.md §0:

- The start day is excluded (民法典 Art.201): a period of *n* days from day *d* ends on
  *d + n*.
- A month or year period ends on the same-numbered day of the final month, or on that
  month's last day when the date does not exist (Art.202): 1 month from 01-31 ends 02-28/29.
- When the last day is a rest day (a statutory holiday, or a Saturday or Sunday that is not
  a make-up workday), the deadline moves to the first day after it that is not (Art.203).
- A make-up workday (调休) is treated as a working day, but whether the law agrees is
  unverified, so every deadline that lands on one (or, for working-day periods, counts one)
  is flagged for human review. So is a deadline computed over a year whose calendar is
  missing or not yet checked against the official notice. A missing year is counted with
  weekends only, so its deadline is the earliest the notice can make it: a holiday can only
  move it later (``REVIEW_TEXT`` says so to people). The one exception is a weekend the
  deadline was moved past turning out to be a make-up workday, which is flagged for review
  anyway once the year's calendar is added and the daily sweep recomputes the clock.
- Some periods may count working days instead (the 2017 arbitration rules): the day type is
  a parameter of each period, chosen by the caller's versioned rule data.

Nothing here knows about a particular law's periods; mediation, legal aid and triage keep
those in their own versioned rule data and call :meth:`LegalCalendar.deadline`.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

DEFAULT_CALENDAR = Path(__file__).with_name("legal_calendar.json")

Unit = Literal["days", "months", "years"]


class DayType(StrEnum):
    """How a period of days is counted."""

    CALENDAR = "calendar"
    WORKING = "working"


class Review(StrEnum):
    """Why a computed deadline needs a person to confirm it."""

    MAKE_UP_WORKDAY = "make_up_workday"
    CALENDAR_UNVERIFIED = "calendar_unverified"
    CALENDAR_MISSING = "calendar_missing"


REVIEW_TEXT: dict[Review, str] = {
    Review.MAKE_UP_WORKDAY: "期限末日为调休上班日，是否视为工作日尚无定论，请人工核实",
    Review.CALENDAR_UNVERIFIED: "该年度节假日安排尚未与国务院办公厅通知核对，请人工核实",
    Review.CALENDAR_MISSING: "届满日所在年度的节假日安排尚未录入，仅按周末顺延计算，"
    "所示届满日是最早可能的日期（节假日公布后可能顺延），请人工核实",
}


@dataclass(frozen=True)
class Period:
    amount: int
    unit: Unit
    day_type: DayType = DayType.CALENDAR

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError("a statutory period is at least 1 unit long")
        if self.day_type is DayType.WORKING and self.unit != "days":
            raise ValueError("only periods of days can count working days")


@dataclass(frozen=True)
class Deadline:
    """``nominal`` is the period's last day by counting alone; ``due`` after roll-forward."""

    start: date
    period: Period
    nominal: date
    due: date
    review: tuple[Review, ...] = ()

    @property
    def rolled_forward(self) -> bool:
        return self.due != self.nominal

    def days_left(self, today: date) -> int:
        """Whole days from ``today`` to the due date (0 on the due date, negative after)."""
        return (self.due - today).days


@dataclass(frozen=True)
class YearCalendar:
    year: int
    source: str
    effective_from: date
    verified: bool
    holidays: dict[date, str]
    make_up_workdays: frozenset[date]


@dataclass(frozen=True)
class LegalCalendar:
    years: dict[int, YearCalendar] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_CALENDAR) -> LegalCalendar:
        raw = json.loads(path.read_text(encoding="utf-8"))
        years: dict[int, YearCalendar] = {}
        for entry in raw["calendars"]:
            holidays: dict[date, str] = {}
            for holiday in entry["holidays"]:
                day = date.fromisoformat(holiday["from"])
                while day <= date.fromisoformat(holiday["to"]):
                    holidays[day] = holiday["name"]
                    day += timedelta(days=1)
            year = int(entry["year"])
            years[year] = YearCalendar(
                year=year,
                source=entry["source"],
                effective_from=date.fromisoformat(entry["effective_from"]),
                verified=bool(entry["verified"]),
                holidays=holidays,
                make_up_workdays=frozenset(
                    date.fromisoformat(d) for d in entry["make_up_workdays"]
                ),
            )
        return cls(years)

    def holiday_name(self, day: date) -> str | None:
        year = self.years.get(day.year)
        return year.holidays.get(day) if year else None

    def is_make_up_workday(self, day: date) -> bool:
        year = self.years.get(day.year)
        return year is not None and day in year.make_up_workdays

    def is_rest_day(self, day: date) -> bool:
        """A statutory holiday, or a weekend day that is not a make-up workday."""
        if self.holiday_name(day) is not None:
            return True
        return day.weekday() >= 5 and not self.is_make_up_workday(day)

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is not a rest day, else the first day after it that is not."""
        while self.is_rest_day(day):
            day += timedelta(days=1)
        return day

    def deadline(self, start: date, period: Period) -> Deadline:
        """The last day of ``period`` counted from ``start`` (excluded), rolled forward."""
        if period.day_type is DayType.WORKING:
            nominal = self._add_working_days(start, period.amount)
            due = nominal
            counted = {start + timedelta(days=i) for i in range(1, (due - start).days + 1)}
        else:
            nominal = add_period(start, period.amount, period.unit)
            due = self.next_working_day(nominal)
            counted = {due}
        review: list[Review] = []
        if any(self.is_make_up_workday(d) for d in counted):
            review.append(Review.MAKE_UP_WORKDAY)
        years = [self.years.get(y) for y in range(nominal.year, due.year + 1)]
        if None in years:
            review.append(Review.CALENDAR_MISSING)
        elif any(not y.verified for y in years if y is not None):
            review.append(Review.CALENDAR_UNVERIFIED)
        return Deadline(start, period, nominal, due, tuple(review))

    def _add_working_days(self, start: date, amount: int) -> date:
        day = start
        while amount:
            day += timedelta(days=1)
            if not self.is_rest_day(day):
                amount -= 1
        return day


def add_period(start: date, amount: int, unit: Unit) -> date:
    """Counting alone, start day excluded (民法典 Arts.201–202); no roll-forward."""
    if unit == "days":
        return start + timedelta(days=amount)
    months = amount * 12 if unit == "years" else amount
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
