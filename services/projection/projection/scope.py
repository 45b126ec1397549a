"""Which districts a caller may read: every query of the read side is filtered by it in SQL.

A supervisor sees the districts listed in their token (a district supervisor one, a city
supervisor every district of the city); an administrator sees the whole city, every district
code included, whatever their token lists. A supervisor whose token lists no district sees
nothing. Asking for a district outside one's scope, or for a case in one, is answered as if
it did not exist (404): the answer does not confirm that a case is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from projection import labels
from weiquan_shared.auth import Principal, Role

CITY = "全市"


class OutOfScope(Exception):
    """The district asked for is not one the caller may read."""


@dataclass(frozen=True)
class Scope:
    """The districts a caller reads; ``None``: every district (an administrator)."""

    districts: tuple[str, ...] | None

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        if principal.role is Role.ADMIN:
            return cls(None)
        return cls(tuple(sorted(set(principal.districts))))

    def covers(self, district_code: str) -> bool:
        return self.districts is None or district_code in self.districts

    def narrowed_to(self, district_code: str | None) -> Scope:
        """The scope of one district of it (or all of it for ``None``); :class:`OutOfScope`
        for a district outside it."""
        if district_code is None:
            return self
        if not self.covers(district_code):
            raise OutOfScope(district_code)
        return Scope((district_code,))

    @property
    def label(self) -> str:
        """How a report names it: 全市 when it covers every district of the city, else the
        districts' names (南山区, 南山区、宝安区)."""
        if self.districts is None or set(labels.DISTRICTS) <= set(self.districts):
            return CITY
        if not self.districts:
            return "（无工作范围）"
        return "、".join(labels.DISTRICTS.get(code, code) for code in self.districts)

    def selectable(self) -> dict[str, str]:
        """The districts a district selector offers, code → name, in the city's order."""
        if self.districts is None:
            return dict(labels.DISTRICTS)
        named = {c: n for c, n in labels.DISTRICTS.items() if c in self.districts}
        return named | {c: c for c in self.districts if c not in named}

    @property
    def single_district(self) -> str | None:
        """The district, when the scope is exactly one."""
        return (
            self.districts[0] if self.districts is not None and len(self.districts) == 1 else None
        )

    def audit_text(self) -> str:
        """The scope as an audit record's detail says it (codes, no names)."""
        return "all" if self.districts is None else ",".join(self.districts) or "none"
