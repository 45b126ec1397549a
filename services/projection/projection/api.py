"""The supervisors' API and dashboard page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from projection import store
from projection.labels import DISTRICTS

DASHBOARD_PAGE = Path(__file__).parent / "static" / "dashboard.html"

DistrictParam = Annotated[
    str | None, Query(title="区县代码", pattern=r"^\d{6}$", description="如 440305（南山区）")
]
FromParam = Annotated[datetime | None, Query(title="起始时间", description="含，ISO 8601")]
ToParam = Annotated[datetime | None, Query(title="截止时间", description="不含，ISO 8601")]


def build_router(pool: Callable[[], asyncpg.Pool]) -> APIRouter:
    router = APIRouter()

    @router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard_page() -> str:
        return DASHBOARD_PAGE.read_text(encoding="utf-8")

    @router.get("/api/v1/dashboard", tags=["dashboard"], summary="看板汇总数据")
    async def dashboard(
        district: DistrictParam = None, since: FromParam = None, until: ToParam = None
    ) -> dict[str, Any]:
        filters = store.Filters(district, since, until)
        return {
            **await store.dashboard(pool(), filters),
            "recent_cases": await store.list_cases(pool(), filters, limit=20),
            "districts": [{"code": c, "name": n} for c, n in DISTRICTS.items()],
        }

    @router.get("/api/v1/cases", tags=["cases"], summary="案件列表")
    async def cases(
        district: DistrictParam = None,
        since: FromParam = None,
        until: ToParam = None,
        limit: Annotated[int, Query(ge=1, le=500, title="条数")] = 50,
    ) -> list[dict[str, Any]]:
        return await store.list_cases(pool(), store.Filters(district, since, until), limit)

    @router.get("/api/v1/cases/{case_number}/timeline", tags=["cases"], summary="案件时间线")
    async def case_timeline(case_number: str) -> list[dict[str, Any]]:
        events = await store.timeline(pool(), case_number)
        if events is None:
            raise HTTPException(404, f"未找到案件编号 {case_number}")
        return events

    return router
