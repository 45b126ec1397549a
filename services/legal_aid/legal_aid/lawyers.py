"""Choosing a panel lawyer: pure. The lawyers of the district who practise the matter come
first, then the district's others, then the city's specialists; among them the lightest load
(open cases over capacity), union advisers before contracted firms on a tie. A lawyer who, or
whose firm, acted for the same employer (matched by unified social credit code) is refused
for conflict of interest; a lawyer who declined this application is not asked again."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class PanelLawyer:
    code: str
    kind: str  # union_adviser | contracted_firm
    firm_code: str | None
    districts: tuple[str, ...]
    specialties: tuple[str, ...]
    capacity: int
    open_cases: int
    acted_for: frozenset[str] = field(default_factory=frozenset)  # own and the firm's


@dataclass(frozen=True)
class Choice:
    lawyer: PanelLawyer | None
    skipped_for_conflict: tuple[str, ...]
    full: tuple[str, ...]


def choose(
    panel: list[PanelLawyer],
    *,
    district_code: str,
    matter: str,
    employer_credit_code: str | None,
    declined: frozenset[str] = frozenset(),
) -> Choice:
    def tier(lawyer: PanelLawyer) -> int:
        local = district_code in lawyer.districts
        special = matter in lawyer.specialties
        if local and special:
            return 0
        if local:
            return 1
        return 2 if special else 3

    ordered = sorted(
        (lawyer for lawyer in panel if lawyer.code not in declined and tier(lawyer) < 3),
        key=lambda lw: (
            tier(lw),
            Fraction(lw.open_cases, max(lw.capacity, 1)),
            lw.kind != "union_adviser",
            lw.code,
        ),
    )
    conflicts: list[str] = []
    full: list[str] = []
    for lawyer in ordered:
        if employer_credit_code and employer_credit_code in lawyer.acted_for:
            conflicts.append(lawyer.code)
            continue
        if lawyer.open_cases >= lawyer.capacity:
            full.append(lawyer.code)
            continue
        return Choice(lawyer, tuple(conflicts), tuple(full))
    return Choice(None, tuple(conflicts), tuple(full))
