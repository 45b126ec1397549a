"""Versioned rule data: every legal number triage uses, with its source and effective date.

``rules.json`` holds entries ``(rule_id, value, source, effective_from)``. The value in force
on a day is the entry with the latest ``effective_from`` not after that day, so a change in
the law is a new entry, and cases decided before it keep their old basis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast, get_args

from weiquan_shared.events import Route, RouteDetail, Urgency
from weiquan_shared.legal_calendar import DayType, Period

DEFAULT_RULES = Path(__file__).with_name("rules.json")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    value: Any
    source: str
    effective_from: date


class RuleNotInForce(LookupError):
    """No version of the rule applies on the requested day."""


@dataclass(frozen=True)
class Handling:
    """How triage handles a case in a given state: its urgency, where it goes (and the
    reason given for it, in Chinese), and the review code its clock carries so that a
    person checks it."""

    urgency: Urgency
    route: Route
    route_detail: RouteDetail
    review: str
    reason: str


@dataclass(frozen=True)
class RuleBook:
    versions: dict[str, tuple[Rule, ...]]

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> RuleBook:
        raw = json.loads(path.read_text(encoding="utf-8"))
        versions: dict[str, list[Rule]] = {}
        for entry in raw["rules"]:
            rule = Rule(
                entry["rule_id"],
                entry["value"],
                entry["source"],
                date.fromisoformat(entry["effective_from"]),
            )
            versions.setdefault(rule.rule_id, []).append(rule)
        return cls(
            {k: tuple(sorted(v, key=lambda r: r.effective_from)) for k, v in versions.items()}
        )

    def rule(self, rule_id: str, on: date) -> Rule:
        in_force = [r for r in self.versions.get(rule_id, ()) if r.effective_from <= on]
        if not in_force:
            raise RuleNotInForce(f"no version of {rule_id} in force on {on}")
        return in_force[-1]

    def number(self, rule_id: str, on: date) -> int:
        return int(self.rule(rule_id, on).value)

    def period(self, rule_id: str, on: date) -> Period:
        value = self.rule(rule_id, on).value
        return Period(int(value["amount"]), value["unit"], DayType(value["day_type"]))

    def handling(self, rule_id: str, on: date) -> Handling:
        value = self.rule(rule_id, on).value
        urgency, route, detail = value["urgency"], value["route"], value["route_detail"]
        if (
            urgency not in get_args(Urgency)
            or detail not in get_args(RouteDetail)
            or detail.split(".")[0] != route
        ):
            raise ValueError(f"{rule_id}: no such urgency, route or route detail: {value}")
        return Handling(
            cast(Urgency, urgency),
            cast(Route, route),
            cast(RouteDetail, detail),
            value["review"],
            value["reason"],
        )

    def spring_festival(self, year: int, on: date) -> date | None:
        dates = self.rule("calendar.spring_festival", on).value
        return date.fromisoformat(dates[str(year)]) if str(year) in dates else None
