"""The day-counting engine: DOMAIN.md §0 rules, worked examples E2–E5, and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weiquan_shared.legal_calendar import (
    REVIEW_TEXT,
    DayType,
    LegalCalendar,
    Period,
    Review,
    add_period,
)

CALENDAR = LegalCalendar.load()
DAYS_15 = Period(15, "days")
ONE_YEAR = Period(1, "years")


@pytest.mark.parametrize(
    ("start", "period", "nominal", "due", "review"),
    [
        # E2: dismissal known Fri 2024-03-15; 2025-03-15 is a Saturday.
        (date(2024, 3, 15), ONE_YEAR, date(2025, 3, 15), date(2025, 3, 17), ()),
        # E3: mediation, 15 days from receipt.
        (date(2025, 3, 7), DAYS_15, date(2025, 3, 22), date(2025, 3, 24), ()),
        (date(2025, 9, 22), DAYS_15, date(2025, 10, 7), date(2025, 10, 9), ()),
        (
            date(2025, 9, 26),
            DAYS_15,
            date(2025, 10, 11),
            date(2025, 10, 11),
            (Review.MAKE_UP_WORKDAY,),
        ),
        # E4: the award's 45 days, and 45 + 15 days into the Dragon Boat holiday.
        (date(2025, 4, 1), Period(45, "days"), date(2025, 5, 16), date(2025, 5, 16), ()),
        (date(2025, 4, 1), Period(60, "days"), date(2025, 5, 31), date(2025, 6, 3), ()),
        # E5: legal-aid review 7 days from Wed 2025-03-12.
        (date(2025, 3, 12), Period(7, "days"), date(2025, 3, 19), date(2025, 3, 19), ()),
        # E5: work injury 2024-05-20: employer 30 days, worker or union 1 year.
        (
            date(2024, 5, 20),
            Period(30, "days"),
            date(2024, 6, 19),
            date(2024, 6, 19),
            (),
        ),
        (date(2024, 5, 20), ONE_YEAR, date(2025, 5, 20), date(2025, 5, 20), ()),
    ],
)
def test_worked_examples(start, period, nominal, due, review) -> None:
    deadline = CALENDAR.deadline(start, period)
    assert (deadline.nominal, deadline.due, deadline.review) == (nominal, due, review)


def test_e5_provisional_aid_five_days_left() -> None:
    limitation = CALENDAR.deadline(date(2024, 3, 15), ONE_YEAR)
    assert limitation.days_left(date(2025, 3, 12)) == 5


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        (date(2025, 1, 31), 1, "months", date(2025, 2, 28)),
        (date(2024, 1, 31), 1, "months", date(2024, 2, 29)),
        (date(2024, 2, 29), 1, "years", date(2025, 2, 28)),
        (date(2025, 8, 31), 6, "months", date(2026, 2, 28)),
        (date(2025, 11, 30), 3, "months", date(2026, 2, 28)),
        (date(2025, 12, 15), 1, "months", date(2026, 1, 15)),
        (date(2025, 3, 10), 1, "days", date(2025, 3, 11)),
    ],
)
def test_month_and_year_ends(start, amount, unit, expected) -> None:
    assert add_period(start, amount, unit) == expected


def test_spring_festival_rolls_past_the_whole_holiday() -> None:
    deadline = CALENDAR.deadline(date(2025, 1, 13), DAYS_15)  # day 15 = Tue 01-28
    assert deadline.due == date(2025, 2, 5)
    assert deadline.rolled_forward


def test_working_days_skip_rest_days_and_flag_make_up_days() -> None:
    five = Period(5, "days", DayType.WORKING)
    assert CALENDAR.deadline(date(2025, 3, 7), five).due == date(2025, 3, 14)
    over_national_day = CALENDAR.deadline(date(2025, 9, 26), five)
    # 09-28 (make-up Sunday), 09-29, 09-30, then past the holiday 10-09, 10-10.
    assert over_national_day.due == date(2025, 10, 10)
    assert over_national_day.review == (Review.MAKE_UP_WORKDAY,)


def test_year_without_a_calendar_is_flagged_as_the_earliest_possible_date() -> None:
    deadline = CALENDAR.deadline(date(2026, 11, 24), ONE_YEAR)
    assert deadline.due == date(2027, 11, 24)
    assert Review.CALENDAR_MISSING in deadline.review
    assert "最早可能的日期" in REVIEW_TEXT[Review.CALENDAR_MISSING]
    before_2024 = CALENDAR.deadline(date(2022, 12, 20), Period(30, "days"))  # 2023: no data
    assert before_2024.review == (Review.CALENDAR_MISSING,)


@pytest.mark.parametrize(
    ("year", "notice"),
    [
        (2024, "国办发明电〔2023〕7号"),
        (2025, "国办发明电〔2024〕12号"),
        (2026, "国办发明电〔2025〕7号"),
    ],
)
def test_checked_years_are_verified_and_cite_their_notice(year: int, notice: str) -> None:
    checked = CALENDAR.years[year]
    assert checked.verified
    assert checked.source == f"国务院办公厅关于{year}年部分节假日安排的通知（{notice}）"
    # A deadline inside a checked year asks for no review unless it lands on a make-up day.
    assert CALENDAR.deadline(date(year, 3, 2), Period(30, "days")).review == ()


def test_periods_are_at_least_one_unit() -> None:
    with pytest.raises(ValueError):
        Period(0, "days")
    with pytest.raises(ValueError):
        Period(1, "months", DayType.WORKING)


def test_holidays_are_rest_days_and_make_up_days_are_not() -> None:
    assert CALENDAR.holiday_name(date(2025, 10, 8)) == "国庆节、中秋节"
    assert CALENDAR.is_rest_day(date(2025, 10, 8))
    assert not CALENDAR.is_rest_day(date(2025, 10, 11))  # Saturday, make-up workday
    assert CALENDAR.is_rest_day(date(2030, 6, 1))  # a Saturday in an unknown year


starts = st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31))
periods = st.one_of(
    st.builds(Period, st.integers(1, 400), st.just("days")),
    st.builds(Period, st.integers(1, 36), st.just("months")),
    st.builds(Period, st.integers(1, 3), st.just("years")),
)


@given(starts, periods)
def test_due_is_the_first_non_rest_day_on_or_after_the_nominal_end(start, period) -> None:
    deadline = CALENDAR.deadline(start, period)
    assert deadline.nominal > start  # the start day is excluded
    assert deadline.due >= deadline.nominal
    assert not CALENDAR.is_rest_day(deadline.due)
    day = deadline.nominal
    while day < deadline.due:
        assert CALENDAR.is_rest_day(day)
        day += timedelta(days=1)


@given(starts, st.integers(1, 400))
def test_day_periods_count_exactly_n_days(start, amount) -> None:
    assert add_period(start, amount, "days") - start == timedelta(days=amount)


@given(starts, st.integers(1, 60))
def test_month_periods_keep_the_day_or_end_on_the_last_day(start, months) -> None:
    end = add_period(start, months, "months")
    assert (end.year - start.year) * 12 + end.month - start.month == months
    assert end.day == start.day or (
        end.day < start.day and (end + timedelta(days=1)).month != end.month
    )


@given(starts, starts, periods)
def test_later_start_never_gives_an_earlier_deadline(a, b, period) -> None:
    first, second = sorted((a, b))
    assert CALENDAR.deadline(first, period).due <= CALENDAR.deadline(second, period).due


@given(starts, st.integers(1, 30))
def test_working_day_periods_count_n_working_days(start, amount) -> None:
    deadline = CALENDAR.deadline(start, Period(amount, "days", DayType.WORKING))
    days = [start + timedelta(days=i) for i in range(1, (deadline.due - start).days + 1)]
    assert sum(not CALENDAR.is_rest_day(d) for d in days) == amount
    assert not CALENDAR.is_rest_day(deadline.due)
