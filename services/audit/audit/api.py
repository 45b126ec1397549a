"""The audit service's HTTP side: the administrators' search API and its Chinese page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from audit import store
from audit.domain import FILTER_LABELS, Cursor, InvalidFilters, parse_filters, record_view
from weiquan_shared import labels
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Role
from weiquan_shared.service import Runtime

STATIC = Path(__file__).with_name("static")
# The page is a shell: its data comes from the API, which checks the caller's role again.
# Its own CSP as well as the proxy's: scripts and styles only from files it serves.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
}
_ASSETS = ("records.js", "records.css")


def build_router(runtime: Runtime) -> APIRouter:
    """``GET /api/v1/audit-records`` and ``/api/v1/audit-labels``: administrators only."""
    router = APIRouter(tags=["audit"], dependencies=[allow(Role.ADMIN)])

    @router.get("/api/v1/audit-records", summary="查询审计记录（最新的在前）")
    async def audit_records(
        request: Request,
        actor: Annotated[str | None, Query(title=FILTER_LABELS["actor"])] = None,
        role: Annotated[str | None, Query(title=FILTER_LABELS["role"])] = None,
        action: Annotated[str | None, Query(title=FILTER_LABELS["action"])] = None,
        case_number: Annotated[str | None, Query(title=FILTER_LABELS["case_number"])] = None,
        district: Annotated[str | None, Query(title=FILTER_LABELS["district"])] = None,
        outcome: Annotated[str | None, Query(title=FILTER_LABELS["outcome"])] = None,
        from_: Annotated[
            str | None, Query(alias="from", title=FILTER_LABELS["from"], examples=["2026-03-01"])
        ] = None,
        to: Annotated[str | None, Query(title=FILTER_LABELS["to"], examples=["2026-03-31"])] = None,
        limit: Annotated[str | None, Query(title=FILTER_LABELS["limit"])] = None,
        cursor: Annotated[
            str | None, Query(title=FILTER_LABELS["cursor"], description="上一页答复的 next_cursor")
        ] = None,
    ) -> Response:
        # The parameters above document the API; parse_filters reads them all, in Chinese.
        try:
            filters = parse_filters(dict(request.query_params))
        except InvalidFilters as exc:
            return JSONResponse(
                status_code=422,
                content={
                    "message": "查询条件有误，请按提示修改："
                    + "；".join(e["message"] for e in exc.errors),
                    "errors": exc.errors,
                },
            )
        rows = await store.search(runtime.pool(), filters)
        page, more = rows[: filters.limit], len(rows) > filters.limit
        next_cursor = (
            Cursor(page[-1]["occurred_at"], page[-1]["record_id"]).encode() if more else None
        )
        return JSONResponse(
            {"records": [record_view(row) for row in page], "next_cursor": next_cursor},
            headers={"Cache-Control": "no-store"},
        )

    @router.get("/api/v1/audit-labels", summary="审计页面用到的中文名称")
    async def audit_labels() -> dict[str, Any]:
        return {
            "actions": labels.AUDIT_ACTIONS,
            "outcomes": labels.AUDIT_OUTCOMES,
            "reasons": labels.AUDIT_REASONS,
            "roles": labels.ROLES,
            "districts": labels.DISTRICTS,
        }

    return router


def build_page_routers() -> list[APIRouter]:
    """The page (administrators; a browser without a session is sent to sign in by the
    shared ``require``) and its script and style (public: code, no data)."""
    page = APIRouter(tags=["pages"], dependencies=[allow(Role.ADMIN)])
    assets = page_assets("/static/{name}", {name: STATIC / name for name in _ASSETS})

    @page.get("/records", response_class=HTMLResponse, summary="审计记录页面（系统管理员）")
    async def records_page() -> Response:
        return FileResponse(STATIC / "records.html", media_type="text/html", headers=PAGE_HEADERS)

    return [page, assets]
