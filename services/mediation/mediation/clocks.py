"""A mediation's two clocks, counted on the shared legal calendar (no I/O).

- ``statutory_receipt`` (劳动争议调解仲裁法 Art. 14, verified): 15 days from the day the
  mediation organisation *received* the application. When it runs out without agreement,
  either party may apply for arbitration. Nothing extends it.
- ``regulation_acceptance`` (MOHRSS Order No. 17, unverified, so configurable): 15 days
  from the day the organisation *accepted* (受理) the application; it may be extended only
  when both parties' consent is recorded; when it runs out without agreement the
  mediation is deemed to have failed.

The periods are data (``clocks.json``: rule id, days, day type, verified, source,
effective date); counting (start day excluded, roll-forward past rest days, review flags
for make-up workdays and unverified calendars) is ``weiquan_shared.legal_calendar``'s.
An extension of *n* days lengthens the period to 15 + *n* days, counted from the same
start, so its end is rolled forward once, like any deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from weiquan_shared.events import MediationClock
from weiquan_shared.legal_calendar import REVIEW_TEXT, DayType, LegalCalendar, Period

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
DEFAULT_CLOCKS = Path(__file__).with_name("clocks.json")

ClockKind = Literal["statutory_receipt", "regulation_acceptance"]
CLOCK_TITLES: dict[str, str] = {
    "statutory_receipt": "法定调解期限（自收到申请起15日）",
    "regulation_acceptance": "规章调解期限（自受理起15日）",
}


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


class ExtensionRefused(ValueError):
    """An extension the rules do not allow (the message is for people, in Chinese)."""


@dataclass(frozen=True)
class ClockRule:
    rule_id: str
    kind: ClockKind
    days: int
    day_type: DayType
    verified: bool
    extendable: bool
    max_extension_days: int
    source: str
    effective_from: date

    def period(self, extended_days: int) -> Period:
        return Period(self.days + extended_days, "days", self.day_type)


@dataclass(frozen=True)
class ClockPolicy:
    version: str
    statutory: ClockRule
    regulation: ClockRule

    @classmethod
    def load(cls, path: Path = DEFAULT_CLOCKS) -> ClockPolicy:
        raw = json.loads(path.read_text(encoding="utf-8"))
        rules = {}
        for entry in raw["clocks"]:
            rule = ClockRule(
                rule_id=entry["rule_id"],
                kind=entry["kind"],
                days=int(entry["days"]),
                day_type=DayType(entry["day_type"]),
                verified=bool(entry["verified"]),
                extendable=bool(entry["extendable"]),
                max_extension_days=int(entry.get("max_extension_days", 0)),
                source=entry["source"],
                effective_from=date.fromisoformat(entry["effective_from"]),
            )
            if rule.days < 1:
                raise ValueError(f"{rule.rule_id}: a clock runs at least one day")
            rules[rule.kind] = rule
        missing = {"statutory_receipt", "regulation_acceptance"} - rules.keys()
        if missing:
            raise ValueError(f"{path}: no rule for clock(s) {sorted(missing)}")
        if rules["statutory_receipt"].extendable:
            raise ValueError("the statutory clock (LDA Art. 14) cannot be extendable")
        return cls(raw["version"], rules["statutory_receipt"], rules["regulation_acceptance"])


def compute_clocks(
    policy: ClockPolicy,
    calendar: LegalCalendar,
    *,
    received_on: date,
    accepted_on: date | None,
    extended_days: int = 0,
) -> list[MediationClock]:
    """Both clocks; the regulation's has no dates until the application is accepted."""
    return [
        _clock(policy.statutory, calendar, received_on, 0),
        _clock(policy.regulation, calendar, accepted_on, extended_days),
    ]


def _clock(
    rule: ClockRule, calendar: LegalCalendar, start: date | None, extended_days: int
) -> MediationClock:
    if start is None:
        return MediationClock(
            kind=rule.kind,
            rule_id=rule.rule_id,
            verified=rule.verified,
            starts_on=None,
            due_on=None,
            extended_days=extended_days,
        )
    deadline = calendar.deadline(start, rule.period(extended_days))
    return MediationClock(
        kind=rule.kind,
        rule_id=rule.rule_id,
        verified=rule.verified,
        starts_on=start,
        due_on=deadline.due,
        extended_days=extended_days,
        review=[REVIEW_TEXT[r] for r in deadline.review],
    )


def check_extension(
    policy: ClockPolicy,
    *,
    accepted_on: date | None,
    extended_days: int,
    days: int,
    workers_consented_on: date | None,
    employer_consented_on: date | None,
    today: date,
) -> None:
    """Raise :class:`ExtensionRefused` unless the regulation's clock may be extended."""
    rule = policy.regulation
    if not rule.extendable:
        raise ExtensionRefused("现行规则不允许延长调解期限")
    if accepted_on is None:
        raise ExtensionRefused("调解申请尚未受理，规章调解期限尚未起算，无需延长")
    if workers_consented_on is None or employer_consented_on is None:
        missing = [
            who
            for who, on in (("职工方", workers_consented_on), ("用人单位方", employer_consented_on))
            if on is None
        ]
        raise ExtensionRefused(f"延长调解期限须双方同意：尚未记录{'、'.join(missing)}的同意")
    for who, on in (("职工方", workers_consented_on), ("用人单位方", employer_consented_on)):
        if on > today:
            raise ExtensionRefused(f"{who}同意日期不能晚于今天")
        if on < accepted_on:
            raise ExtensionRefused(f"{who}同意日期早于受理日期，请核对")
    if extended_days + days > rule.max_extension_days:
        left = rule.max_extension_days - extended_days
        raise ExtensionRefused(
            f"调解期限最多延长{rule.max_extension_days}日，已延长{extended_days}日，"
            f"本次最多还可延长{max(left, 0)}日"
        )


def expired_clocks(clocks: list[MediationClock], today: date) -> list[MediationClock]:
    """Clocks whose last day has passed (a deadline runs to 24:00 of its due day)."""
    return [c for c in clocks if c.due_on is not None and c.due_on < today]


def days_left(clock: MediationClock, today: date) -> int | None:
    return None if clock.due_on is None else (clock.due_on - today).days
