"""Reporting periods as unions name them: a year, a half-year, a quarter, a month, or dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from projection.domain import CHINA

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:(?P<half>H[12])|(?P<quarter>Q[1-4])|-(?P<month>\d{2}))?$")


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
            raise ValueError(f"期间格式不正确：{text}（示例：2026、2026H1、2026Q3、2026-05）")
        year = int(match["year"])
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
                raise ValueError(f"月份不正确：{text}")
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
