"""Work scopes as data: a district code, or a city code standing for all of its districts."""

from __future__ import annotations

import re

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
