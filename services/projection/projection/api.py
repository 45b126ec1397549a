"""The supervisors' API, dashboard page and report download.

Every route that answers with cases or figures reads the caller (:data:`Caller`) and
reads only the caller's districts (:class:`projection.scope.Scope`), in the SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AfterValidator

from projection import labels, pages, periods, report, store
from projection import legal_aid as legal_aid_figures
from projection import mediation as mediation_figures
from projection.periods import Period
from projection.scope import OutOfScope, Scope
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Principal, Role, page_with_csrf, require
from weiquan_shared.envelope import Actor
from weiquan_shared.navigation import CASE_WORKERS
from weiquan_shared.service import Runtime

STATIC = Path(__file__).parent / "static"

DistrictParam = Annotated[
    str | None, Query(title="区县代码", pattern=r"^\d{6}$", description="如 440305（南山区）")
]
ChannelParam = Annotated[
    Literal["hotline", "wechat", "walk_in"] | None,
    Query(title="渠道", description="hotline、wechat、walk_in"),
]


def _valid_period(text: str | None) -> str | None:
    """Rejects a period :meth:`Period.parse` cannot read while the request is validated,
    so the answer is the usual 422 naming the field (and no handler or query runs)."""
    if text is not None:
        Period.parse(text)
    return text


PeriodParam = Annotated[
    str | None,
    Query(
        title="统计期间",
        description="2026（全年）、2026H1（上半年）、2026Q3（季度）、2026-05（月），"
        f"年份 {periods.FIRST_YEAR} 至 {periods.LAST_YEAR}；给出时忽略 from/to",
    ),
    AfterValidator(_valid_period),
]
FromParam = Annotated[date | None, Query(alias="from", title="起始日期", description="含")]
ToParam = Annotated[date | None, Query(alias="to", title="截止日期", description="不含")]


# The signed-in supervisor or administrator a route answers.
Caller = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.ADMIN))]
# Everyone who works cases (navigation.CASE_WORKERS): the case page and the work queues,
# read within their districts.
CaseWorker = Annotated[Principal, Depends(require(*CASE_WORKERS))]
# A case's detail: the case workers, and administrators (the whole city, as elsewhere).
CaseReader = Annotated[Principal, Depends(require(*CASE_WORKERS, Role.ADMIN))]
QueueName = Literal["mine", "review", "at_risk", "unassigned"]


def _scope(principal: Principal, district: str | None = None) -> Scope:
    """The caller's districts, or the one asked for; a district outside them is answered
    as one that does not exist (404), whatever the route."""
    try:
        return Scope.of(principal).narrowed_to(district)
    except OutOfScope:
        raise HTTPException(404, f"您的工作范围内没有区县 {district}") from None


def _no_such_case(case_number: str) -> HTTPException:
    # The same answer for a case outside the caller's districts: its existence is not told.
    return HTTPException(404, f"未找到案件编号 {case_number}")


def _period(period: str | None, since: date | None, until: date | None) -> Period:
    if period is None:
        return Period.between(since, until)
    return Period.parse(period)  # already checked by PeriodParam's validator


def build_routers(runtime: Runtime) -> list[APIRouter]:
    # Supervisors and administrators; what each sees is narrowed to the token's districts.
    router = APIRouter(dependencies=[allow(Role.SUPERVISOR, Role.ADMIN)])
    pool: Callable[[], asyncpg.Pool] = runtime.pool

    @router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard_page() -> str:
        return (STATIC / "dashboard.html").read_text(encoding="utf-8")

    # The page's own script and style (files, not inline, for the proxy's CSP) and the
    # vendored Apache ECharts 6 (static/vendor/echarts.LICENSE): nothing from the internet.
    assets = page_assets(
        "/dashboard/{name}",
        {name: STATIC / name for name in ("dashboard.js", "dashboard.css")}
        | {"echarts.min.js": STATIC / "vendor" / "echarts.min.js"},
    )

    @router.get("/api/v1/dashboard", tags=["dashboard"], summary="看板统计数据")
    async def dashboard(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
    ) -> dict[str, Any]:
        """各项统计数据（按区县、期间筛选），每项可用 /api/v1/cases 的同名条件查看明细。"""
        chosen = _period(period, since, until)
        caller = Scope.of(principal)
        scope = _scope(principal, district)
        filters = store.Filters(scope.districts, chosen.since, chosen.until)
        today = periods.today()
        async with (
            pool().acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            await conn.execute(store.NO_JIT)
            figures = await store.figures(conn, filters, today)
            recent = await store.list_cases(conn, filters, limit=20)
            satisfaction = await store.satisfaction(conn, filters)
        return {
            **figures,
            "satisfaction": satisfaction,
            "period": {"from": chosen.since, "to": chosen.until, "label": chosen.label},
            "today": today,
            "recent_cases": recent,
            # The selector offers the caller's districts only; "all" means all of them.
            "scope": {"label": caller.label, "districts": caller.districts},
            "districts": [{"code": c, "name": n} for c, n in caller.selectable().items()],
            "labels": {
                "statuses": labels.STATUSES,
                "categories": labels.CATEGORIES,
                "channels": labels.CHANNELS,
            },
        }

    @router.get("/api/v1/cases", tags=["cases"], summary="案件列表（检索与看板明细）")
    async def cases(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
        case_number: Annotated[str | None, Query(title="案件编号（前缀）", max_length=40)] = None,
        status: Annotated[
            str | None, Query(title="办理状态", description="、".join(labels.STATUSES))
        ] = None,
        category: Annotated[
            str | None, Query(title="争议类别", description="untriaged：待分流")
        ] = None,
        channel: ChannelParam = None,
        industry: Annotated[str | None, Query(title="行业", description="unknown：未填写")] = None,
        employer: Annotated[str | None, Query(title="用人单位（包含）", max_length=100)] = None,
        platform: Annotated[bool | None, Query(title="新就业形态")] = None,
        grouped: Annotated[bool | None, Query(title="群体性争议")] = None,
        repeat_employer: Annotated[bool | None, Query(title="重复投诉单位")] = None,
        deadline_at_risk: Annotated[bool | None, Query(title="法定时限即将届满")] = None,
        limit: Annotated[int, Query(ge=1, le=500, title="条数")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000, title="跳过条数")] = 0,
    ) -> dict[str, Any]:
        chosen = _period(period, since, until)
        filters = store.Filters(
            _scope(principal, district).districts,
            chosen.since,
            chosen.until,
            case_number=case_number,
            status=status,
            category=category,
            channel=channel,
            industry=industry,
            employer=employer,
            platform=platform,
            grouped=grouped,
            repeat_employer=repeat_employer,
            deadline_at_risk=deadline_at_risk,
            today=periods.today(),
        )
        async with (
            pool().acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            await conn.execute(store.NO_JIT)
            return {
                "total": await store.count_cases(conn, filters),
                "cases": await store.list_cases(conn, filters, limit, offset),
            }

    @router.get("/api/v1/deadlines-at-risk", tags=["dashboard"], summary="法定时限即将届满")
    async def deadlines(principal: Caller, district: DistrictParam = None) -> list[dict[str, Any]]:
        filters = store.Filters(_scope(principal, district).districts)
        async with pool().acquire() as conn:
            return await store.deadlines(conn, filters, periods.today())

    @router.get("/api/v1/repeat-employers", tags=["dashboard"], summary="重复投诉用人单位")
    async def repeat_employers(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
    ) -> list[dict[str, Any]]:
        """An employer flagged with cases in several districts is listed with the cases of
        the caller's districts only (and counted in each district's figures)."""
        chosen = _period(period, since, until)
        filters = store.Filters(_scope(principal, district).districts, chosen.since, chosen.until)
        async with pool().acquire() as conn:
            return await store.repeat_employers(conn, filters)

    @router.get(
        "/api/v1/mediations", tags=["dashboard"], summary="调解统计明细（调解案件及其案件）"
    )
    async def mediations(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
        figure: Annotated[
            Literal["disputes_mediated", "succeeded", "concluded", "money_recovered"],
            Query(title="统计项"),
        ] = "disputes_mediated",
    ) -> list[dict[str, Any]]:
        """The mediations a dashboard figure counts (a merged, voided or handed-on one counts
        nowhere)."""
        chosen = _period(period, since, until)
        scope = _scope(principal, district)
        async with pool().acquire() as conn:
            return await mediation_figures.mediations(
                conn, scope.districts, chosen.since, chosen.until, figure
            )

    @router.get(
        "/api/v1/legal-aid",
        tags=["dashboard"],
        summary="法律援助统计明细（申请、援助、办结、满意、追回金额；可按规则筛选）",
    )
    async def legal_aid_applications(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
        figure: Annotated[
            Literal[
                "applications",
                "granted",
                "denied",
                "aided",
                "concluded",
                "satisfied",
                "money_recovered",
            ],
            Query(title="统计项"),
        ] = "applications",
        rule: Annotated[
            str | None, Query(max_length=60, pattern=r"^[a-z0-9_.]+$", title="决定规则")
        ] = None,
    ) -> list[dict[str, Any]]:
        """The legal-aid applications a dashboard figure counts."""
        chosen = _period(period, since, until)
        scope = _scope(principal, district)
        async with pool().acquire() as conn:
            return await legal_aid_figures.applications(
                conn, scope.districts, chosen.since, chosen.until, figure, rule
            )

    @router.get("/api/v1/consultations", tags=["dashboard"], summary="当场解答的咨询")
    async def consultations(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
        channel: ChannelParam = None,
    ) -> list[dict[str, Any]]:
        chosen = _period(period, since, until)
        scope = _scope(principal, district)
        filters = store.Filters(scope.districts, chosen.since, chosen.until, channel=channel)
        async with pool().acquire() as conn:
            return await store.consultations(conn, filters)

    @router.get(
        "/api/v1/satisfaction/answers",
        tags=["dashboard"],
        summary="满意度评价明细（满意率背后的案件）",
    )
    async def satisfaction_answers(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
        satisfied: Annotated[
            bool | None, Query(description="true：满意（4–5分）；false：其余")
        ] = None,
    ) -> list[dict[str, Any]]:
        """期间内收回的每份满意度评价及其案件编号（按评价日期），可链接到案件页面。"""
        chosen = _period(period, since, until)
        filters = store.Filters(_scope(principal, district).districts, chosen.since, chosen.until)
        async with pool().acquire() as conn:
            return await store.satisfaction_cases(conn, filters, satisfied=satisfied)

    @router.get(
        "/api/v1/report.xlsx",
        tags=["report"],
        summary="半年/年度工作报表（Excel）",
        response_class=Response,
        responses={200: {"content": {report.XLSX: {}}, "description": "Excel 工作簿"}},
    )
    async def report_workbook(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
    ) -> Response:
        """期间统计、工作总结段落，以及每项数字背后的案件编号（每项一张工作表）。"""
        scope = _scope(principal, district)
        chosen = _period(period, since, until)
        data = await _report_data(pool(), scope, chosen)
        body = report.workbook(data)
        # A download of case lists is a read the audit trail records (before it is handed out).
        actor = Actor.user(principal.subject, principal.role)
        async with runtime.unit_of_work(actor) as uow:
            uow.audit(
                "report.downloaded",
                district_code=scope.single_district,
                detail=f"period={chosen.label} scope={scope.audit_text()}",
            )
        name = quote(f"{data.scope}{data.period.label}劳动争议工作统计.xlsx")
        return Response(
            body,
            media_type=report.XLSX,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )

    @router.get("/api/v1/report/summary", tags=["report"], summary="工作总结段落")
    async def report_summary(
        principal: Caller,
        district: DistrictParam = None,
        period: PeriodParam = None,
        since: FromParam = None,
        until: ToParam = None,
    ) -> dict[str, str]:
        scope = _scope(principal, district)
        data = await _report_data(pool(), scope, _period(period, since, until))
        return {"period": data.period.label, "summary": report.summary_paragraph(data)}

    return [router, assets, *_casework_routers(runtime)]


def _casework_routers(runtime: Runtime) -> list[APIRouter]:
    """The case page, the work queues and their APIs (everyone who works cases)."""
    reading = APIRouter(dependencies=[allow(*CASE_WORKERS, Role.ADMIN)])
    working = APIRouter(dependencies=[allow(*CASE_WORKERS)])
    pool: Callable[[], asyncpg.Pool] = runtime.pool

    async def find(principal: Principal, case_number: str) -> dict[str, Any]:
        districts = Scope.of(principal).districts
        async with pool().acquire() as conn:
            found = await store.timeline(conn, case_number[:40], districts, periods.today())
        if found is None:
            raise _no_such_case(case_number[:40])
        return found

    @reading.get("/api/v1/cases/{case_number}", tags=["cases"], summary="案件详情与时间线")
    async def case(principal: CaseReader, case_number: str) -> dict[str, Any]:
        """案件编号、状态、类别、紧急程度及理由、各项法定时限（剩余天数、待核实事项）、
        所属群体性争议、承办人、共享同意、是否作废，以及全部时间线。不在本人工作范围（区县）内
        的案件答复404。作废的案件仍可查看（注明已作废），但不计入任何统计。"""
        return await find(principal, case_number)

    @reading.get("/api/v1/cases/{case_number}/timeline", tags=["cases"], summary="案件时间线")
    async def case_timeline(principal: CaseReader, case_number: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = (await find(principal, case_number))["events"]
        return events

    @working.get("/cases/{case_number}", response_class=HTMLResponse, include_in_schema=False)
    async def case_page(request: Request, principal: CaseWorker, case_number: str) -> Response:
        # The same page for any number: its script asks the API, which answers 404 for a
        # case outside the caller's districts. A case saved a moment ago may reach
        # projection a moment later; the script waits for it (intake's part shows at once).
        return page_with_csrf(request, pages.case_page(case_number[:40], principal.role))

    @working.get("/queues", response_class=HTMLResponse, include_in_schema=False)
    async def queues_page(request: Request, principal: CaseWorker) -> Response:
        return page_with_csrf(request, pages.queues_page())

    @working.get("/api/v1/queues", tags=["queues"], summary="我的工作：各队列案件数")
    async def queue_counts(principal: CaseWorker) -> dict[str, Any]:
        """本人的四个工作队列及其案件数：我的案件（本人承办、未结案）、待核实（本人工作范围内
        法定时限有待人工核实事项）、时限预警（本人工作范围内时限即将届满）、待分配（本人工作
        范围内尚无承办人）。已作废的案件不在任何队列。"""
        async with pool().acquire() as conn:
            counts = await store.queue_counts(
                conn, principal.subject, Scope.of(principal).districts, periods.today()
            )
        return {
            "queues": [
                {"queue": name, "name": labels.QUEUES[name], "count": counts[name]}
                for name in labels.QUEUES
            ]
        }

    @working.get("/api/v1/queues/{queue}", tags=["queues"], summary="我的工作：队列中的案件")
    async def queue_items(principal: CaseWorker, queue: QueueName) -> dict[str, Any]:
        """mine、review、at_risk、unassigned 之一，最多 200 件，每件注明所在原因。"""
        async with pool().acquire() as conn:
            items = await store.queue_items(
                conn, queue, principal.subject, Scope.of(principal).districts, periods.today()
            )
        return {"queue": queue, "name": labels.QUEUES[queue], "items": items}

    assets = page_assets(
        "/casefile/{name}", {name: STATIC / name for name in ("case.js", "queues.js", "case.css")}
    )
    return [reading, working, assets]


async def _report_data(pool: asyncpg.Pool, scope: Scope, period: Period) -> report.ReportData:
    filters = store.Filters(scope.districts, period.since, period.until)
    today = periods.today()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        # One snapshot: the figures and the lists behind them agree.
        await conn.execute(store.NO_JIT)
        return report.ReportData(
            period=period,
            scope=scope.label,
            today=today,
            figures=await store.figures(conn, filters, today),
            cases=await store.all_cases(conn, filters),
            consultations=await store.consultations(conn, filters),
            deadlines=await store.deadlines(conn, filters, today),
            employers=await store.repeat_employers(conn, filters),
            satisfaction=await store.satisfaction(conn, filters),
            answers=await store.satisfaction_cases(conn, filters),
            mediations=await mediation_figures.mediations(
                conn, scope.districts, period.since, period.until
            ),
        )
