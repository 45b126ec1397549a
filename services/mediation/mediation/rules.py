"""Who mediates a dispute: assignment rules kept as data (``rules.json``), no I/O.

The first rule whose conditions all hold chooses the participating organisations and the
lead organisation (category, district, route detail, group size, claim amount,
sensitivity); the lead mediator is then the active mediator of the lead organisation,
covering the dispute's district, with the fewest open mediations (ties: the earliest
registered subject, so the choice is reproducible). No such mediator: the dispute waits
unassigned and the periodic task tries again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from weiquan_shared.events import MediationOrganisation

DEFAULT_RULES = Path(__file__).with_name("rules.json")
ORGANISATIONS: tuple[MediationOrganisation, ...] = (
    "union",
    "peoples_court",
    "labour_bureau",
    "procuratorate",
    "justice_bureau",
)
FIVE_PARTY = frozenset(ORGANISATIONS)


@dataclass(frozen=True)
class Dispute:
    """The facts of a dispute the rules look at."""

    category: str
    district_code: str
    route_detail: str
    worker_count: int
    claim_amount: Decimal | None
    sensitive: bool


@dataclass(frozen=True)
class Condition:
    categories: frozenset[str] | None = None
    districts: frozenset[str] | None = None
    route_details: frozenset[str] | None = None
    min_workers: int | None = None
    min_claim_amount: Decimal | None = None
    sensitive: bool | None = None

    def holds(self, d: Dispute) -> bool:
        return (
            (self.categories is None or d.category in self.categories)
            and (self.districts is None or d.district_code in self.districts)
            and (self.route_details is None or d.route_detail in self.route_details)
            and (self.min_workers is None or d.worker_count >= self.min_workers)
            and (
                self.min_claim_amount is None
                or (d.claim_amount is not None and d.claim_amount >= self.min_claim_amount)
            )
            and (self.sensitive is None or d.sensitive == self.sensitive)
        )


@dataclass(frozen=True)
class AssignmentRule:
    rule_id: str
    when: Condition
    organisations: tuple[MediationOrganisation, ...]
    lead_organisation: MediationOrganisation
    source: str


@dataclass(frozen=True)
class Assignment:
    """What the rules chose (the lead mediator is chosen from the roster afterwards)."""

    rule_id: str
    organisations: tuple[MediationOrganisation, ...]
    lead_organisation: MediationOrganisation

    @property
    def five_party(self) -> bool:
        return frozenset(self.organisations) == FIVE_PARTY


@dataclass(frozen=True)
class MediatorLoad:
    subject: str
    name: str
    organisation: str
    districts: tuple[str, ...]
    open_mediations: int


@dataclass(frozen=True)
class AssignmentBook:
    version: str
    rules: tuple[AssignmentRule, ...] = field(default_factory=tuple)

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> AssignmentBook:
        raw = json.loads(path.read_text(encoding="utf-8"))
        rules = []
        seen: set[str] = set()
        for entry in raw["rules"]:
            rule = _rule(entry)
            if rule.rule_id in seen:
                raise ValueError(f"{path}: rule {rule.rule_id} appears twice")
            seen.add(rule.rule_id)
            rules.append(rule)
        if not rules or rules[-1].when != Condition():
            raise ValueError(f"{path}: the last rule must match every dispute (empty 'when')")
        return cls(raw["version"], tuple(rules))

    def choose(self, dispute: Dispute) -> Assignment:
        rule = next(r for r in self.rules if r.when.holds(dispute))
        return Assignment(rule.rule_id, rule.organisations, rule.lead_organisation)


def _rule(entry: dict[str, object]) -> AssignmentRule:
    when = entry.get("when") or {}
    if not isinstance(when, dict):
        raise ValueError(f"rule {entry.get('rule_id')}: 'when' must be an object")
    known = {
        "categories",
        "districts",
        "route_details",
        "min_workers",
        "min_claim_amount",
        "sensitive",
    }
    unknown = set(when) - known
    if unknown:
        raise ValueError(f"rule {entry.get('rule_id')}: unknown condition(s) {sorted(unknown)}")

    def names(key: str) -> frozenset[str] | None:
        value = when.get(key)
        return None if value is None else frozenset(str(v) for v in value)

    raw_orgs = entry["organisations"]
    if not isinstance(raw_orgs, list):
        raise ValueError(f"rule {entry.get('rule_id')}: 'organisations' must be a list")
    organisations: tuple[MediationOrganisation, ...] = tuple(raw_orgs)
    lead = entry["lead_organisation"]
    for org in (*organisations, lead):
        if org not in ORGANISATIONS:
            raise ValueError(f"rule {entry.get('rule_id')}: unknown organisation {org}")
    if lead not in organisations:
        raise ValueError(f"rule {entry.get('rule_id')}: the lead must take part")
    return AssignmentRule(
        rule_id=str(entry["rule_id"]),
        when=Condition(
            categories=names("categories"),
            districts=names("districts"),
            route_details=names("route_details"),
            min_workers=None if when.get("min_workers") is None else int(when["min_workers"]),
            min_claim_amount=(
                None
                if when.get("min_claim_amount") is None
                else Decimal(str(when["min_claim_amount"]))
            ),
            sensitive=None if when.get("sensitive") is None else bool(when["sensitive"]),
        ),
        organisations=organisations,
        lead_organisation=lead,
        source=str(entry.get("source", "")),
    )


def choose_lead(
    assignment: Assignment, district_code: str, roster: list[MediatorLoad]
) -> MediatorLoad | None:
    """The least-loaded active mediator of the lead organisation covering the district."""
    fit = [
        m
        for m in roster
        if m.organisation == assignment.lead_organisation and district_code in m.districts
    ]
    if not fit:
        return None
    return min(fit, key=lambda m: (m.open_mediations, m.subject))
