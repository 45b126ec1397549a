"""Legal aid's API and pages.

- Officers (法律援助专员; supervisors read and act alike), within their districts: the queue
  with its clocks, an application's facts, the one request for documents, the decision, the
  panel, steps and closure, walk-in applications. Another district's application is 404.
- Lawyers: only the applications assigned to them (anything else is 404, as if it did not
  exist), steps of the proceedings, declining with a reason. A lawyer is the panel entry
  linked to their signed-in account (``subject``), linked by an officer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

import weiquan_shared.entitlements as ent
from legal_aid import clocks, store
from legal_aid.eligibility import CIRCUMSTANCE_LABELS, MATTER_LABELS
from legal_aid.handlers import china_today
from legal_aid.store import Context, NotFound, Refused
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Principal, Role, page_with_csrf
from weiquan_shared.envelope import Actor
from weiquan_shared.events.legal_aid import (
    ClosureReason,
    DeclineReason,
    DocumentRef,
    LawyerKind,
    LegalAidMatter,
    StepKind,
)
from weiquan_shared.labels import LEGAL_AID_SOURCES, LEGAL_AID_STATUSES, LEGAL_AID_STEPS
from weiquan_shared.logging import get_logger
from weiquan_shared.service import Runtime

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"
OFFICERS = allow(Role.LEGAL_AID_OFFICER, Role.SUPERVISOR)
LAWYERS = allow(Role.LAWYER)
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
EARLIEST_STEP = date(2008, 5, 1)
# Text people type: no control characters (PostgreSQL refuses NUL; nobody means them).
PLAIN = r"^[^\x00-\x1f\x7f]*$"
CreditCode = Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
Circumstance = Literal["martyr_relative", "bravery", "state_compensation", "domestic_violence"]

STATUS_LABELS = LEGAL_AID_STATUSES
STEP_LABELS = LEGAL_AID_STEPS
SOURCE_LABELS = LEGAL_AID_SOURCES


class WalkInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    district_code: str = Field(pattern=r"^\d{6}$", title="区县代码")
    matter: LegalAidMatter = Field(title="申请事项")
    worker_ref: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", title="职工标识")
    is_migrant_worker: bool = Field(default=False, title="进城务工人员")
    employer_name: str = Field(min_length=2, max_length=200, pattern=PLAIN, title="用人单位")
    employer_credit_code: str | None = Field(
        default=None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", title="统一社会信用代码"
    )


class FactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matter: LegalAidMatter | None = Field(default=None, title="申请事项")
    household_size: int | None = Field(default=None, ge=1, le=20, title="家庭人口数")
    monthly_household_income: Money | None = Field(default=None, title="家庭月收入（元）")
    circumstances: list[Circumstance] | None = Field(default=None, title="法定免审情形")
    documents_received: list[str] | None = Field(default=None, max_length=30, title="已收材料")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wants_aid: bool = Field(title="职工是否申请法律援助")


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z_]{2,40}$", title="材料代码")
    title: str = Field(min_length=2, max_length=60, pattern=PLAIN, title="材料名称")


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ent.ClaimKind = Field(title="请求类别")
    amount: Money | None = Field(default=None, title="金额（元）")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: StepKind = Field(title="办理环节")
    occurred_on: date = Field(title="日期")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=20, title="文书")
    amount_awarded: Money | None = Field(default=None, title="裁决支持金额（元）")
    award_items: list[ClaimIn] | None = Field(
        default=None, max_length=20, title="裁决事项（判断是否终局裁决）"
    )
    minimum_monthly_wage: Money | None = Field(default=None, title="当地月最低工资标准（元）")

    @field_validator("occurred_on")
    @classmethod
    def plausible_day(cls, day: date) -> date:
        if not (EARLIEST_STEP <= day <= china_today() + timedelta(days=366)):
            raise ValueError(
                f"日期应在{EARLIEST_STEP}（劳动争议调解仲裁法施行）之后、一年以内，请核对"
            )
        return day


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ClosureReason = Field(title="结案原因")
    amount_recovered: Money = Field(default=Decimal(0), title="实际追回金额（元）")
    satisfaction: int | None = Field(default=None, ge=1, le=5, title="满意度（1–5）")


class SatisfactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: int = Field(ge=1, le=5, title="满意度（1–5）")


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason = Field(title="拒绝原因")


class LawyerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=40, pattern=PLAIN, title="姓名")
    kind: LawyerKind = Field(title="类别")
    firm_code: str | None = Field(default=None, pattern=r"^[A-Z0-9-]{2,30}$", title="律所代码")
    firm_name: str | None = Field(default=None, max_length=100, pattern=PLAIN, title="律所名称")
    districts: list[Annotated[str, Field(pattern=r"^\d{6}$")]] = Field(
        min_length=1, max_length=20, title="服务区县"
    )
    specialties: list[LegalAidMatter] = Field(min_length=1, title="擅长事项")
    capacity: int = Field(ge=0, le=100, title="同时承办上限")
    acted_for: list[CreditCode] = Field(
        default_factory=list, max_length=200, title="曾代理的用人单位（信用代码）"
    )
    firm_acted_for: list[CreditCode] = Field(
        default_factory=list, max_length=500, title="律所曾代理的用人单位（信用代码）"
    )


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200, pattern=PLAIN, title="律师的登录账号标识")


def _refused(exc: Refused) -> HTTPException:
    return HTTPException(status_code=exc.status, detail="；".join(exc.problems))


def _not_found(number: str) -> HTTPException:
    return HTTPException(404, f"没有编号为 {number[:40]} 的法律援助申请，或它不在您负责的范围内")


def _actor(principal: Principal) -> Actor:
    return Actor.user(principal.subject, principal.role)


def queue_item(row: Any, today: date) -> dict[str, Any]:
    clock_list: list[dict[str, Any]] = []
    if (
        row["status"] in ("received", "documents_requested", "provisional", "awaiting_confirmation")
        and row["decided_on"] is None
    ):
        clock_list.append(
            {"kind": "decision", "label": "审查决定期限", "due_on": row["decision_due_on"]}
        )
    if row["status"] == "documents_requested" and row["documents_due_on"]:
        clock_list.append(
            {"kind": "documents", "label": "补正材料期限", "due_on": row["documents_due_on"]}
        )
    if row["status"] == "granted" and row["assign_due_on"]:
        clock_list.append(
            {"kind": "assignment", "label": "指派律师期限", "due_on": row["assign_due_on"]}
        )
    if row["provisional"] and row["limitation_due_on"] and row["status"] != "closed":
        clock_list.append(
            {"kind": "limitation", "label": "仲裁时效届满", "due_on": row["limitation_due_on"]}
        )
    for c in store._json(row["clocks"]) or []:
        if row["status"] != "closed":
            clock_list.append(
                {
                    "kind": c["kind"],
                    "label": CLOCK_LABELS.get(c["kind"], c["kind"]),
                    "due_on": date.fromisoformat(c["due_on"]),
                }
            )
    for c in clock_list:
        c["days_left"] = (c["due_on"] - today).days
    return {
        "application_number": row["application_number"],
        "case_number": row["case_number"],
        "district_code": row["district_code"],
        "source": row["source"],
        "source_label": SOURCE_LABELS[row["source"]],
        "matter": row["matter"],
        "matter_label": MATTER_LABELS.get(row["matter"], row["matter"]),
        "status": row["status"],
        "status_label": STATUS_LABELS[row["status"]],
        "provisional": row["provisional"],
        "is_migrant_worker": row["is_migrant_worker"],
        "employer_name": row["employer_name"],
        "lawyer_code": row["lawyer_code"],
        "received_on": row["received_on"],
        "workers": len(row["worker_refs"]),
        "clocks": sorted(clock_list, key=lambda c: c["due_on"]),
    }


CLOCK_LABELS = {
    "arbitration_acceptance": "仲裁受理审查期限",
    "arbitration_award": "仲裁裁决期限",
    "sue_after_award": "不服裁决起诉期限",
    "set_aside_final": "用人单位申请撤销终局裁决期限",
}


def build_routers(runtime: Runtime, ctx: Context) -> list[APIRouter]:
    officer = APIRouter(prefix="/api/v1", tags=["officer"], dependencies=[OFFICERS])
    lawyer = APIRouter(prefix="/api/v1/my", tags=["lawyer"], dependencies=[LAWYERS])
    officer_page = APIRouter(tags=["pages"], dependencies=[OFFICERS])
    lawyer_page = APIRouter(tags=["pages"], dependencies=[LAWYERS])

    async def guarded(work: Coroutine[Any, Any, Any], number: str) -> Any:
        try:
            return await work
        except NotFound as exc:
            raise _not_found(number) from exc
        except Refused as exc:
            raise _refused(exc) from exc

    async def detail(
        number: str, districts: tuple[str, ...] | None, lawyer_code: str | None
    ) -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            row = await store.load(conn, number, districts, lawyer_code=lawyer_code)
            steps = await conn.fetch(
                "SELECT * FROM steps WHERE application_id = $1 ORDER BY step_no",
                row["application_id"],
            )
            assignments = await conn.fetch(
                """SELECT a.lawyer_code, l.name, l.kind, a.assigned_at, a.declined_at,
                          a.decline_reason, a.skipped
                   FROM assignments a JOIN lawyers l USING (lawyer_code)
                   WHERE a.application_id = $1 ORDER BY a.id""",
                row["application_id"],
            )
        today = china_today()
        item = queue_item(row, today)
        applicant = store.applicant_of(row, ctx.cipher)
        from legal_aid.eligibility import hardship_exemption

        exempt = hardship_exemption(applicant, ctx.book, today) is not None
        required = ctx.book.checklist.required(row["matter"], exempt)
        decision = store._json(row["decision"])
        item.update(
            household_size=row["household_size"],
            income_recorded=row["household_income"] is not None,
            circumstances=[CIRCUMSTANCE_LABELS[c] for c in row["circumstances"]],
            checklist=[
                {
                    "code": c,
                    "title": ctx.book.checklist.title(c),
                    "received": c in row["documents_received"],
                }
                for c in required
            ],
            documents_requested_on=row["documents_requested_on"],
            decision=decision,
            amount_awarded=row["amount_awarded"],
            amount_recovered=row["amount_recovered"],
            satisfaction=row["satisfaction"],
            closure_reason=row["closure_reason"],
            steps=[
                {
                    "step": s["step"],
                    "label": STEP_LABELS[s["step"]],
                    "occurred_on": s["occurred_on"],
                    "documents": store._json(s["documents"]),
                    "amount_awarded": s["amount_awarded"],
                    "award_final": s["award_final"],
                    "explanation": store._json(s["explanation"]),
                }
                for s in steps
            ],
            assignments=[dict(a) for a in assignments],
        )
        return item

    # ------------------------------------------------------------------ officer

    @officer.get("/applications", summary="法律援助专员的待办队列（含各项法定期限）")
    async def queue(
        principal: Annotated[Principal, OFFICERS], include_closed: bool = False
    ) -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            rows = await conn.fetch(
                """SELECT * FROM applications WHERE district_code = ANY($1)
                       AND ($2 OR status <> 'closed')
                   ORDER BY provisional DESC, decision_due_on, application_number LIMIT 500""",
                list(principal.districts),
                include_closed,
            )
        today = china_today()
        items = [queue_item(r, today) for r in rows]
        items.sort(key=lambda i: min((c["days_left"] for c in i["clocks"]), default=10**6))
        return {"today": today, "applications": items}

    @officer.get("/applications/{number}", summary="申请详情：材料清单、审查决定及理由、办理进展")
    async def show(number: str, principal: Annotated[Principal, OFFICERS]) -> dict[str, Any]:
        return await guarded(detail(number, principal.districts, None), number)

    @officer.post("/applications", status_code=201, summary="窗口受理法律援助申请")
    async def walk_in(body: WalkInIn, principal: Annotated[Principal, OFFICERS]) -> dict[str, Any]:
        if not principal.covers(body.district_code):
            raise HTTPException(403, "您不能受理其他区县的法律援助申请")
        async with runtime.unit_of_work(_actor(principal)) as uow:
            row = await store.open_application(
                uow,
                ctx,
                source="walk_in",
                today=china_today(),
                district_code=body.district_code,
                matter=body.matter,
                worker_refs=[body.worker_ref] if body.worker_ref else [],
                is_migrant_worker=body.is_migrant_worker,
                employer_name=body.employer_name,
                employer_credit_code=body.employer_credit_code,
            )
        assert row is not None
        return {"application_number": row["application_number"], "message": "已受理法律援助申请"}

    @officer.post("/applications/{number}/confirm", summary="确认调解不成的职工是否申请法律援助")
    async def confirm(
        number: str, body: ConfirmIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, str]:
        async def work() -> str:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                return await store.confirm(uow, ctx, row, body.wants_aid, china_today())

        return {"message": await guarded(work(), number)}

    @officer.put("/applications/{number}/facts", summary="登记申请事项、家庭经济状况、已收材料")
    async def facts(
        number: str, body: FactsIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, str]:
        async def work() -> None:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                await store.update_facts(
                    uow,
                    ctx,
                    row,
                    matter=body.matter,
                    household_size=body.household_size,
                    monthly_household_income=body.monthly_household_income,
                    circumstances=list(body.circumstances)
                    if body.circumstances is not None
                    else None,
                    documents_received=body.documents_received,
                )

        await guarded(work(), number)
        return {"message": "已保存申请材料"}

    @officer.post(
        "/applications/{number}/documents-request", summary="一次性告知需补充的材料（只能一次）"
    )
    async def documents_request(
        number: str, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, Any]:
        async def work() -> tuple[list[str], date]:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                return await store.request_documents(uow, ctx, row, china_today())

        missing, due = await guarded(work(), number)
        titles = [ctx.book.checklist.title(c) for c in missing]
        return {
            "missing": titles,
            "due_on": due,
            "message": f"已一次性告知补充：{'、'.join(titles)}，期限至{due}",
        }

    @officer.post(
        "/applications/{number}/decision", summary="按规则审查并作出是否给予法律援助的决定"
    )
    async def decision(number: str, principal: Annotated[Principal, OFFICERS]) -> dict[str, Any]:
        async def work() -> Any:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                return await store.decide_application(uow, ctx, row, china_today())

        d = await guarded(work(), number)
        return {
            "outcome": d.outcome,
            "rules": d.rule_ids,
            "reason_codes": list(d.reason_codes),
            "explanation": list(d.explanation),
            "message": "决定给予法律援助" if d.outcome == "granted" else "决定不予法律援助",
        }

    @officer.post("/applications/{number}/assign", summary="重新按规则指派律师（暂无可指派律师时）")
    async def assign(number: str, principal: Annotated[Principal, OFFICERS]) -> dict[str, Any]:
        async def work() -> Any:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                if row["status"] not in ("granted", "provisional") or row["lawyer_code"]:
                    raise Refused(409, "该申请不需要指派律师")
                return await store.assign_lawyer(uow, ctx, row, china_today())

        row = await guarded(work(), number)
        if not row["lawyer_code"]:
            raise HTTPException(409, "暂无可指派的律师（均有利益冲突或已满额），请扩充律师库后重试")
        return {"lawyer_code": row["lawyer_code"], "message": "已指派律师"}

    async def step(
        number: str, body: StepIn, principal: Principal, lawyer_code: str | None
    ) -> dict[str, Any]:
        explanation: list[str] = []
        final: bool | None = None
        if body.step == "award":
            if body.amount_awarded is None:
                raise HTTPException(422, "登记仲裁裁决须填写裁决支持金额")
            if body.award_items:
                if body.minimum_monthly_wage is None:
                    raise HTTPException(422, "判断是否终局裁决须填写当地月最低工资标准")
                try:
                    test = ent.final_award_test(
                        [ent.ClaimItem(i.kind, i.amount) for i in body.award_items],
                        body.minimum_monthly_wage,
                    )
                except ent.InvalidEntitlementInput as exc:
                    raise HTTPException(422, str(exc)) from exc
                final, explanation = test.final, list(test.explanation)
        due: list[clocks.Clock] = []
        if body.step == "arbitration_filed":
            due = [clocks.acceptance_due(body.occurred_on, ctx.book, ctx.calendar)]
        elif body.step in ("arbitration_accepted", "award_extended"):
            async with runtime.pool().acquire() as conn:
                accepted = await conn.fetchval(
                    """SELECT s.occurred_on FROM steps s JOIN applications a USING (application_id)
                       WHERE a.application_number = $1 AND s.step = 'arbitration_accepted'
                       ORDER BY s.step_no DESC LIMIT 1""",
                    number,
                )
            start = body.occurred_on if body.step == "arbitration_accepted" else accepted
            if start is None:
                raise HTTPException(409, "尚未登记仲裁委受理，不能登记延期")
            due = [clocks.award_due(start, body.step == "award_extended", ctx.book, ctx.calendar)]
        elif body.step == "award":
            due = clocks.after_award(body.occurred_on, bool(final), ctx.book, ctx.calendar)

        async def work() -> int:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(
                    uow.conn,
                    number,
                    principal.districts if lawyer_code is None else None,
                    lock=True,
                    lawyer_code=lawyer_code,
                )
                return await store.record_step(
                    uow,
                    row,
                    step=body.step,
                    occurred_on=body.occurred_on,
                    documents=[DocumentRef(code=d.code, title=d.title) for d in body.documents],
                    amount_awarded=body.amount_awarded,
                    award_final=final,
                    explanation=explanation,
                    next_clocks=due,
                    recorded_by=principal.subject,
                )

        step_no = await guarded(work(), number)
        return {
            "step_no": step_no,
            "award_final": final,
            "explanation": explanation,
            "clocks": [
                {"kind": c.kind, "label": CLOCK_LABELS.get(c.kind, c.kind), "due_on": c.due_on}
                for c in due
            ],
            "message": f"已登记：{STEP_LABELS[body.step]}",
        }

    @officer.post(
        "/applications/{number}/steps",
        status_code=201,
        summary="登记办理进展（仲裁、裁决、诉讼、执行）",
    )
    async def officer_step(
        number: str, body: StepIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, Any]:
        return await step(number, body, principal, None)

    @officer.post("/applications/{number}/close", summary="结案：结案原因、实际追回金额、满意度")
    async def close(
        number: str, body: CloseIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, str]:
        async def work() -> None:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                if row["status"] not in ("assigned", "provisional", "granted"):
                    raise Refused(409, "只有正在办理的援助案件可以这样结案")
                await store.close(
                    uow,
                    row,
                    reason=body.reason,
                    amount_recovered=body.amount_recovered,
                    satisfaction=body.satisfaction,
                    today=china_today(),
                )

        await guarded(work(), number)
        return {"message": "已结案"}

    @officer.post("/applications/{number}/satisfaction", summary="登记结案后职工的满意度（1–5）")
    async def satisfaction(
        number: str, body: SatisfactionIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, str]:
        async def work() -> None:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, principal.districts, lock=True)
                await store.record_satisfaction(uow, row, body.satisfaction)

        await guarded(work(), number)
        return {"message": "已登记满意度"}

    @officer.get("/lawyers", summary="律师库：专长、服务区县、在办案件与上限")
    async def lawyers() -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            found = {p.code: p for p in await store.panel(conn)}
            rows = await conn.fetch(
                "SELECT l.*, f.name AS firm_name FROM lawyers l "
                "LEFT JOIN firms f USING (firm_code) ORDER BY lawyer_code"
            )
        return {
            "lawyers": [
                {
                    "lawyer_code": r["lawyer_code"],
                    "name": r["name"],
                    "kind": r["kind"],
                    "firm_name": r["firm_name"],
                    "districts": r["districts"],
                    "specialties": r["specialties"],
                    "capacity": r["capacity"],
                    "open_cases": found[r["lawyer_code"]].open_cases
                    if r["lawyer_code"] in found
                    else 0,
                    "linked": r["subject"] is not None,
                    "active": r["active"],
                }
                for r in rows
            ]
        }

    @officer.put("/lawyers/{code}", summary="录入或更新律师库中的律师（含利益冲突记录）")
    async def put_lawyer(
        code: str, body: LawyerIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, str]:
        if len(code) > 30 or not code.replace("-", "").isalnum():
            raise HTTPException(422, "律师代码只能由字母、数字和连字符组成")
        if body.kind == "contracted_firm" and not body.firm_code:
            raise HTTPException(422, "签约律所的律师须填写律所代码")
        async with runtime.unit_of_work(_actor(principal)) as uow:
            conn = uow.conn
            if body.firm_code:
                await conn.execute(
                    "INSERT INTO firms (firm_code, name) VALUES ($1, $2) "
                    "ON CONFLICT (firm_code) DO UPDATE SET name = $2",
                    body.firm_code,
                    body.firm_name or body.firm_code,
                )
            await conn.execute(
                """INSERT INTO lawyers (lawyer_code, name, kind, firm_code, districts, specialties,
                       capacity)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   ON CONFLICT (lawyer_code) DO UPDATE SET name = $2, kind = $3, firm_code = $4,
                       districts = $5, specialties = $6, capacity = $7""",
                code,
                body.name,
                body.kind,
                body.firm_code,
                body.districts,
                list(body.specialties),
                body.capacity,
            )
            for credit in body.acted_for:
                await conn.execute(
                    "INSERT INTO acted_for VALUES ('lawyer', $1, $2) ON CONFLICT DO NOTHING",
                    code,
                    credit,
                )
            for credit in body.firm_acted_for if body.firm_code else []:
                await conn.execute(
                    "INSERT INTO acted_for VALUES ('firm', $1, $2) ON CONFLICT DO NOTHING",
                    body.firm_code,
                    credit,
                )
            uow.audit("legal_aid.panel_updated", detail=f"lawyer {code}")
        return {"message": "已保存律师信息"}

    @officer.put("/lawyers/{code}/account", summary="将律师库中的律师与其登录账号关联")
    async def link(
        code: str, body: LinkIn, principal: Annotated[Principal, OFFICERS]
    ) -> dict[str, str]:
        if len(code) > 30 or not code.replace("-", "").isalnum():
            raise HTTPException(404, f"律师库中没有代码为 {code[:30]} 的律师")
        async with runtime.unit_of_work(_actor(principal)) as uow:
            await uow.conn.execute(
                "UPDATE lawyers SET subject = NULL WHERE subject = $1", body.subject
            )
            done = await uow.conn.execute(
                "UPDATE lawyers SET subject = $2 WHERE lawyer_code = $1", code, body.subject
            )
            if done.endswith(" 0"):
                raise HTTPException(404, f"律师库中没有代码为 {code[:30]} 的律师")
            uow.audit("legal_aid.lawyer_account_linked", detail=f"lawyer {code}")
        return {"message": "已关联律师账号"}

    # ------------------------------------------------------------------ lawyer

    async def my_code(principal: Principal) -> str:
        async with runtime.pool().acquire() as conn:
            code = await conn.fetchval(
                "SELECT lawyer_code FROM lawyers WHERE subject = $1", principal.subject
            )
        if code is None:
            raise HTTPException(403, "您的账号尚未与律师库中的律师关联，请联系法律援助专员")
        return str(code)

    @lawyer.get("/applications", summary="指派给我的法律援助案件")
    async def mine(principal: Annotated[Principal, LAWYERS]) -> dict[str, Any]:
        code = await my_code(principal)
        async with runtime.pool().acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM applications WHERE lawyer_code = $1 "
                "ORDER BY status = 'closed', received_on DESC LIMIT 500",
                code,
            )
        today = china_today()
        return {
            "lawyer_code": code,
            "today": today,
            "applications": [queue_item(r, today) for r in rows],
        }

    @lawyer.get("/applications/{number}", summary="我承办的案件详情")
    async def my_one(number: str, principal: Annotated[Principal, LAWYERS]) -> dict[str, Any]:
        code = await my_code(principal)
        return await guarded(detail(number, None, code), number)

    @lawyer.post(
        "/applications/{number}/steps", status_code=201, summary="登记我承办案件的办理进展"
    )
    async def my_step(
        number: str, body: StepIn, principal: Annotated[Principal, LAWYERS]
    ) -> dict[str, Any]:
        code = await my_code(principal)
        return await step(number, body, principal, code)

    @lawyer.post("/applications/{number}/decline", summary="拒绝承办（说明原因），系统重新指派")
    async def my_decline(
        number: str, body: DeclineIn, principal: Annotated[Principal, LAWYERS]
    ) -> dict[str, Any]:
        code = await my_code(principal)

        async def work() -> Any:
            async with runtime.unit_of_work(_actor(principal)) as uow:
                row = await store.load(uow.conn, number, None, lock=True, lawyer_code=code)
                return await store.decline(uow, ctx, row, body.reason, china_today())

        row = await guarded(work(), number)
        return {
            "message": "已拒绝承办，系统已重新指派"
            if row["lawyer_code"]
            else "已拒绝承办，暂无其他可指派律师"
        }

    # ------------------------------------------------------------------ pages

    @officer_page.get("/queue", include_in_schema=False)
    async def queue_page(request: Request) -> HTMLResponse:
        return page_with_csrf(request, (STATIC / "queue.html").read_text(encoding="utf-8"))

    @lawyer_page.get("/my-cases", include_in_schema=False)
    async def lawyer_cases_page(request: Request) -> HTMLResponse:
        return page_with_csrf(request, (STATIC / "my-cases.html").read_text(encoding="utf-8"))

    assets = page_assets(
        "/static/{name}",
        {name: STATIC / name for name in ("legal-aid.css", "queue.js", "my-cases.js")},
    )
    return [officer, lawyer, officer_page, lawyer_page, assets]


def withdrawal_check(
    runtime: Runtime, ctx: Context, interval_s: float
) -> tuple[str, Callable[[], Coroutine[Any, Any, None]]]:
    """The periodic task withdrawing applications whose one request for documents went
    unanswered past its deadline (法律援助法 Art. 43)."""

    async def run() -> None:
        while True:
            try:
                async with runtime.unit_of_work(Actor.system("legal_aid")) as uow:
                    withdrawn = await store.withdraw_unanswered(uow, china_today())
                if withdrawn:
                    log.info("applications withdrawn: documents not supplied", count=withdrawn)
            except Exception as exc:  # the next round retries; never stop the loop
                log.warning("withdrawal check failed", error=type(exc).__name__)
            await asyncio.sleep(interval_s)

    return ("documents-withdrawal", run)
