"""Reporting periods as unions name them: a year, a half-year, a quarter, a month, or dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from projection.domain import CHINA

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:(?P<half>H[12])|(?P<quarter>Q[1-4])|-(?P<month>\d{2}))?$")

# Years a reporting period may name. Far wider than the cases any union holds, and narrow
# enough that every period's end (the first day after it) is still a valid date.
FIRST_YEAR = 2000
LAST_YEAR = 2099

ACCEPTED = (
    f"可用写法：2026（全年）、2026H1 或 2026H2（半年）、2026Q1 至 2026Q4（季度）、"
    f"2026-05（月），年份在 {FIRST_YEAR} 至 {LAST_YEAR} 之间"
)


@dataclass(frozen=True)
class Period:
    """Report days [since, until) in China's local time; either end may be open."""

    since: date | None
    until: date | None
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026`` 全年, ``2026H1`` 上半年, ``2026Q3`` 第三季度, ``2026-05`` 5月."""
        match = _PERIOD.match(text)
        if match is None:
            raise ValueError(f"“{text}”的格式不正确。{ACCEPTED}")
        year = int(match["year"])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"“{text}”的年份超出范围。{ACCEPTED}")
        if match["half"]:
            first = 1 if match["half"] == "H1" else 7
            return cls(
                date(year, first, 1),
                _month_start(year, first + 6),
                f"{year}年{'上' if first == 1 else '下'}半年",
            )
        if match["quarter"]:
            quarter = int(match["quarter"][1])
            first = 3 * quarter - 2
            names = "一二三四"
            return cls(
                date(year, first, 1),
                _month_start(year, first + 3),
                f"{year}年第{names[quarter - 1]}季度",
            )
        if match["month"]:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise ValueError(f"“{text}”的月份应为 01 至 12。{ACCEPTED}")
            return cls(date(year, month, 1), _month_start(year, month + 1), f"{year}年{month}月")
        return cls(date(year, 1, 1), date(year + 1, 1, 1), f"{year}年全年")

    @classmethod
    def between(cls, since: date | None, until: date | None) -> Period:
        if since is None and until is None:
            return cls(None, None, "全部时间")
        start = f"{since:%Y年%m月%d日}" if since else "最早"
        end = f"{until:%Y年%m月%d日}前" if until else "至今"
        return cls(since, until, f"{start}至{end}")


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def today() -> date:
    return datetime.now(CHINA).date()


def figure_filter(
    base: str,
    district_column: str,
    districts: tuple[str, ...] | None,
    since: date | None,
    until: date | None,
    day: str,
) -> tuple[str, list[object]]:
    """A WHERE clause and its arguments for a figure: ``base``, the caller's districts
    (``None``: all) and the report days [since, until) counted on the ``day`` expression."""
    clauses, args = [base], list[object]()
    if districts is not None:
        args.append(list(districts))
        clauses.append(f"{district_column} = ANY(${len(args)}::text[])")
    for op, value in ((">=", since), ("<", until)):
        if value is not None:
            args.append(value)
            clauses.append(f"{day} {op} ${len(args)}")
    return " AND ".join(clauses), args


def rate(part: int, whole: int) -> float | None:
    """A share as the dashboards show it (four decimals); ``None`` when there is no whole."""
    return round(part / whole, 4) if whole else None
