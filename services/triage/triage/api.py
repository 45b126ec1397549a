"""Triage's HTTP API: decision history and the officer's override (and its Chinese page)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from triage import store
from triage.clocks import china_date
from triage.domain import NothingToChange, OverrideRequest, Policy, override
from triage.review import NothingToReview, resolve
from weiquan_shared import labels
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Principal, Role, page_with_csrf
from weiquan_shared.envelope import Actor
from weiquan_shared.events import CaseRetriaged, Category, Route, RouteDetail, Urgency
from weiquan_shared.events.triage import CaseReviewResolved, ReviewResolution
from weiquan_shared.redaction import redact_text
from weiquan_shared.service import Runtime

STATIC = Path(__file__).with_name("static")


class OverrideIn(BaseModel):
    """A triage officer's change to a case's category, urgency or route, with the reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(
        title="调整理由", min_length=4, max_length=500, examples=["职工补充说明已被口头辞退"]
    )
    category: Category | None = Field(default=None, title="类别")
    urgency: Urgency | None = Field(default=None, title="紧急程度")
    route: Route | None = Field(default=None, title="去向")
    route_detail: RouteDetail | None = Field(default=None, title="承办机构或转介去向")

    @model_validator(mode="after")
    def _something_and_consistent(self) -> OverrideIn:
        if not (self.category or self.urgency or self.route or self.route_detail):
            raise ValueError("请至少修改类别、紧急程度或去向中的一项")
        if self.route_detail:
            implied = self.route_detail.split(".")[0]
            if self.route and self.route != implied:
                raise ValueError("承办机构或转介去向与所选去向不一致")
            self.route = self.route or implied  # type: ignore[assignment]
        return self


class ReviewIn(BaseModel):
    """What a triage officer settled about a case flagged for review (请人工核实)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resolution: ReviewResolution = Field(title="核实结果", examples=["start_date_recorded"])
    knew_of_infringement_on: date | None = Field(
        default=None,
        title="记录的日期",
        description="知道权利受侵害的日期，或时效中断之日",
        examples=["2026-09-30"],
    )
    note: str = Field(
        default="",
        title="核实说明",
        max_length=200,
        examples=["已电话核实：职工9月30日被告知停工"],
    )

    @model_validator(mode="after")
    def _date_when_needed(self) -> ReviewIn:
        needs_date = self.resolution in ("start_date_recorded", "limitation_interrupted")
        if needs_date and self.knew_of_infringement_on is None:
            what = (
                "知道权利受侵害的日期"
                if self.resolution == "start_date_recorded"
                else "时效中断之日（职工主张权利、请求救济或对方同意履行之日）"
            )
            raise ValueError(f"请填写{what}")
        if self.knew_of_infringement_on is not None:
            if self.knew_of_infringement_on > china_date(datetime.now(UTC)):
                raise ValueError("记录的日期不能晚于今天")
            if self.knew_of_infringement_on.year < 1950:
                raise ValueError("记录的日期不能早于1950年")
        return self


def override_labels() -> dict[str, str]:
    fields = {**OverrideIn.model_fields, **ReviewIn.model_fields}
    return {name: info.title for name, info in fields.items() if info.title}


NOT_FOUND = "案件不存在或尚未分流（或不在您的工作范围内）"
# Who reads decisions: the officers who make them, supervisors, administrators.
READER = allow(Role.TRIAGE_OFFICER, Role.SUPERVISOR, Role.ADMIN)
OFFICER = allow(Role.TRIAGE_OFFICER)
REVIEWER = allow(Role.TRIAGE_OFFICER, Role.SUPERVISOR)


def build_routers(runtime: Runtime, policy: Policy) -> list[APIRouter]:
    """Decisions (readers), overriding them (triage officers, API and page), the code
    labels (anyone signed in) and the page's script (public)."""
    reading = APIRouter(tags=["triage"], dependencies=[READER])
    overriding = APIRouter(tags=["triage"], dependencies=[OFFICER])
    reviewing = APIRouter(tags=["triage"], dependencies=[REVIEWER])
    naming = APIRouter(tags=["triage"], dependencies=[allow()])
    # The page's script and style, relative to it (static/…): the same page works on
    # triage's own port and under /triage/ behind the proxy.
    assets = page_assets(
        "/static/{name}", {name: STATIC / name for name in ("override.js", "override.css")}
    )

    @reading.get("/api/v1/stats", summary="分流决定计数（本人工作范围内）")
    async def stats(principal: Annotated[Principal, READER]) -> dict[str, int]:
        return await store.count_decisions(runtime.pool(), principal.districts)

    @reading.get(
        "/api/v1/cases/{case_number}/decisions",
        summary="案件的分流决定历史",
        responses={404: {"description": NOT_FOUND}},
    )
    async def history(
        case_number: str, principal: Annotated[Principal, READER]
    ) -> list[dict[str, Any]]:
        rows = await store.decision_history(runtime.pool(), case_number, principal.districts)
        if not rows:
            raise HTTPException(404, NOT_FOUND)
        return rows

    @naming.get("/api/v1/labels", summary="代码的中文名称（全系统一张表）")
    async def code_labels() -> dict[str, Any]:
        return labels.all_labels()

    @overriding.post(
        "/api/v1/cases/{case_number}/override",
        summary="分流员调整类别、紧急程度或去向",
        description="操作人即登录的分流员（令牌中的身份），不在请求中填写。",
        responses={404: {"description": NOT_FOUND}},
    )
    async def override_case(
        case_number: str,
        body: OverrideIn,
        principal: Annotated[Principal, OFFICER],
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        # The reason is stored and published: personal data in it is removed first.
        reason = redact_text(body.reason)
        officer_name = principal.name or principal.subject
        request = OverrideRequest(
            officer_id=officer_name,
            reason=reason,
            category=body.category,
            urgency=body.urgency,
            route=body.route,
            route_detail=body.route_detail,
        )
        officer = Actor.user(principal.subject, principal.role)
        async with runtime.unit_of_work(officer) as uow:
            conn = uow.conn
            current = await store.current_decision(conn, case_number, principal.districts)
            if current is None:
                raise HTTPException(404, NOT_FOUND)
            try:
                decision = override(
                    current.decision, current.facts, request, china_date(now), policy
                )
            except NothingToChange as exc:
                raise HTTPException(409, str(exc)) from exc
            event = uow.emit(
                CaseRetriaged(
                    case_id=current.case_id,
                    case_number=case_number,
                    category=decision.category,
                    secondary_categories=decision.secondary_categories,
                    urgency=decision.urgency,
                    route=decision.route,
                    route_detail=decision.route_detail,
                    reasons=decision.reasons,
                    previous=current.decision.snapshot(),
                    retriaged_by="officer",
                    officer_id=principal.subject,
                    note=reason,
                    group_id=decision.group_id,
                    retriaged_at=now,
                    decision_seq=decision.seq,
                ),
                subject=str(current.case_id),
            )
            await store.record_decisions(
                conn,
                [
                    store.DecisionRecord(
                        case_id=current.case_id,
                        case_number=case_number,
                        kind="override",
                        decision=decision,
                        source_event_id=event.event_id,
                        actor=officer_name,
                        note=reason,
                        previous=current.decision,
                    )
                ],
            )
        return {
            "case_number": case_number,
            "event_id": str(event.event_id),
            "previous": current.decision.snapshot().model_dump(),
            "current": decision.snapshot().model_dump(),
        }

    @overriding.get(
        "/override", response_class=HTMLResponse, summary="调整分流页面", tags=["pages"]
    )
    async def override_page(request: Request) -> Response:
        html = (STATIC / "override.html").read_text(encoding="utf-8")
        return page_with_csrf(request, html)

    @reviewing.post(
        "/api/v1/cases/{case_number}/review",
        summary="处理请人工核实的事项（记录日期、时效中断或中止、确认届满、核对日期）",
        description=(
            "分流员或督导/领导处理分流标记的核实事项：按记录的日期重新计算法定时限，"
            "发布 case.review_resolved（含案件的全部时限；仍需核实的时限保留其核实代码）。"
            "案件没有待核实事项时答复409。"
            '示例：{"resolution": "start_date_recorded", "knew_of_infringement_on": '
            '"2026-09-30", "note": "已电话核实"}'
        ),
        responses={
            404: {"description": NOT_FOUND},
            409: {"description": "没有待核实的事项，或该处理方式不适用"},
        },
    )
    async def resolve_review(
        case_number: str, body: ReviewIn, principal: Annotated[Principal, REVIEWER]
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        note = redact_text(body.note)  # stored and published: personal data removed first
        actor = Actor.user(principal.subject, principal.role)
        async with runtime.unit_of_work(actor) as uow:
            conn = uow.conn
            current = await store.current_decision(conn, case_number, principal.districts)
            if current is None:
                raise HTTPException(404, NOT_FOUND)
            clocks = await store.current_clocks(conn, current.case_id, current.decision.clocks)
            try:
                resolved = resolve(
                    clocks,
                    body.resolution,
                    body.knew_of_infringement_on,
                    category=current.decision.category,
                    route=current.decision.route,
                    employment_ended_on=current.facts.clock_inputs.employment_ended_on,
                    today=china_date(now),
                    rules=policy.rules,
                    calendar=policy.calendar,
                )
            except NothingToReview as exc:
                raise HTTPException(409, str(exc)) from exc
            await store.set_clocks(conn, current.case_id, resolved.clocks)
            await store.record_review(
                conn,
                case_id=current.case_id,
                resolution=body.resolution,
                knew_on=body.knew_of_infringement_on,
                note=note,
                clocks=resolved.clocks,
                confirmed=resolved.confirmed,
                actor=principal.name or principal.subject,
                resolved_at=now,
            )
            event = uow.emit(
                CaseReviewResolved(
                    case_id=current.case_id,
                    case_number=case_number,
                    resolution=body.resolution,
                    knew_of_infringement_on=body.knew_of_infringement_on,
                    clocks=resolved.clocks,
                    note=note,
                    resolved_at=now,
                ),
                subject=str(current.case_id),
            )
        return {
            "case_number": case_number,
            "event_id": str(event.event_id),
            "resolution": body.resolution,
            "clocks": [c.model_dump(mode="json") for c in resolved.clocks],
            "still_to_review": sorted({code for c in resolved.clocks for code in c.review}),
        }

    return [reading, overriding, reviewing, naming, assets]
