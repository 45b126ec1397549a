"""Work scopes as data: a district code, or a city code standing for all of its districts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from weiquan_shared.labels import DISTRICTS

CITY_NAMES: dict[str, str] = {"4403": "深圳市"}

# Cities whose districts Weiquan knows (GB/T 2260), city code -> district codes.
CITY_DISTRICTS: dict[str, tuple[str, ...]] = {
    # 深圳市: 罗湖 福田 南山 宝安 龙岗 盐田 龙华 坪山 光明
    "4403": (
        "440303",
        "440304",
        "440305",
        "440306",
        "440307",
        "440308",
        "440309",
        "440310",
        "440311",
    ),
}

_DISTRICT = re.compile(r"^\d{6}$")


def districts_of(scope: str) -> tuple[str, ...]:
    """``440305`` -> that district; ``4403`` -> every district of the city."""
    if scope in CITY_DISTRICTS:
        return CITY_DISTRICTS[scope]
    if _DISTRICT.match(scope):
        return (scope,)
    raise ValueError(f"工作范围应为 6 位区县代码或已登记的 4 位城市代码：{scope}")


def scope_label(districts: Sequence[str]) -> str:
    """A work scope in words: ``深圳市（全市）`` for every district of a city, else the
    districts by name."""
    if not districts:
        return "—"
    remaining = list(districts)
    words = []
    for city, city_districts in CITY_DISTRICTS.items():
        if set(city_districts) <= set(remaining):
            words.append(f"{CITY_NAMES.get(city, city)}（全市）")
            remaining = [d for d in remaining if d not in city_districts]
    words += [DISTRICTS.get(d, d) for d in remaining]
    return "、".join(words)
