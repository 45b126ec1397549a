"""Legal aid's rules as data: eligibility (``eligibility.json``) and the document checklist
(``documents.json``), loaded into a :class:`RuleBook`. Pure: no database, no clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from weiquan_shared.events.legal_aid import RuleRef
from weiquan_shared.legal_calendar import DayType, Period

HERE = Path(__file__).parent
DEFAULT_RULES = HERE / "eligibility.json"
DEFAULT_DOCUMENTS = HERE / "documents.json"


class RuleNotInForce(LookupError):
    """No version of the rule applies on the requested day."""


@dataclass(frozen=True)
class Rule:
    rule_id: str
    kind: str
    value: dict[str, Any]
    source: str
    text: str
    effective_from: date
    verified: bool

    @property
    def ref(self) -> RuleRef:
        return RuleRef(
            rule_id=self.rule_id, effective_from=self.effective_from, verified=self.verified
        )

    @property
    def citation(self) -> str:
        mark = "" if self.verified else "（未核实，须以官方文本为准）"
        return f"{self.text}【{self.rule_id}；{self.source}】{mark}"


@dataclass(frozen=True)
class Checklist:
    titles: dict[str, str]
    always: tuple[str, ...]
    by_matter: dict[str, tuple[str, ...]]
    exempt_skip: frozenset[str]

    def required(self, matter: str, hardship_exempt: bool) -> list[str]:
        codes = [*self.always, *self.by_matter.get(matter, ())]
        if hardship_exempt:
            codes = [c for c in codes if c not in self.exempt_skip]
        return list(dict.fromkeys(codes))

    def missing(self, matter: str, hardship_exempt: bool, received: list[str]) -> list[str]:
        return [c for c in self.required(matter, hardship_exempt) if c not in received]

    def title(self, code: str) -> str:
        return self.titles.get(code, code)


@dataclass(frozen=True)
class RuleBook:
    versions: dict[str, tuple[Rule, ...]]
    checklist: Checklist

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES, documents: Path = DEFAULT_DOCUMENTS) -> RuleBook:
        raw = json.loads(path.read_text(encoding="utf-8"))
        versions: dict[str, list[Rule]] = {}
        for e in raw["rules"]:
            rule = Rule(
                e["rule_id"],
                e["kind"],
                e["value"],
                e["source"],
                e["text"],
                date.fromisoformat(e["effective_from"]),
                bool(e["verified"]),
            )
            versions.setdefault(rule.rule_id, []).append(rule)
        docs = json.loads(documents.read_text(encoding="utf-8"))
        checklist = Checklist(
            titles=dict(docs["documents"]),
            always=tuple(docs["always"]),
            by_matter={k: tuple(v) for k, v in docs["by_matter"].items()},
            exempt_skip=frozenset(docs["hardship_exempt_skip"]),
        )
        unknown = {
            c for codes in (checklist.always, *checklist.by_matter.values()) for c in codes
        } - set(checklist.titles)
        if unknown:
            raise ValueError(f"documents.json: no title for {sorted(unknown)}")
        return cls(
            {k: tuple(sorted(v, key=lambda r: r.effective_from)) for k, v in versions.items()},
            checklist,
        )

    def rule(self, rule_id: str, on: date) -> Rule:
        in_force = [r for r in self.versions.get(rule_id, ()) if r.effective_from <= on]
        if not in_force:
            raise RuleNotInForce(f"no version of {rule_id} in force on {on}")
        return in_force[-1]

    def period(self, rule_id: str, on: date) -> Period:
        value = self.rule(rule_id, on).value
        return Period(int(value["amount"]), value["unit"], DayType(value["day_type"]))

    def hardship_standard(self, district_code: str, on: date) -> Rule:
        """The standard of the district's city if it has one, else of its province (Art. 34)."""
        for region in (district_code[:4] + "00", district_code[:2] + "0000"):
            try:
                return self.rule(f"hardship.{region}", on)
            except RuleNotInForce:
                continue
        raise RuleNotInForce(f"no hardship standard for {district_code} on {on}")

    def standard_amount(self, rule: Rule) -> Decimal:
        return Decimal(str(rule.value["monthly_income_per_capita"]))
