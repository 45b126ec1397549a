"""Mediators' API for outcomes, and the entitlements calculator (API and page).

``build_outcome_routers(runtime)`` gives the routers app.py includes, and
``overdue_check(runtime)`` the background task raising overdue instalments:

    routers=[..., *build_outcome_routers(runtime)], background=[overdue_check(runtime)]

Outcomes: mediators and supervisors, within their districts (another district's mediation
is 404, as if it did not exist). The calculator: the staff who advise workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediation import outcomes as rules
from mediation.agreement_document import (
    AgreementFacts,
    IntakeParties,
    PartiesNotFound,
    PartiesUnavailable,
    render_html,
    render_pdf,
)
from mediation.outcomes_store import NotFound, OutcomesStore, Refused
from weiquan_shared import entitlements as ent
from weiquan_shared import labels
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Principal, Role, page_with_csrf
from weiquan_shared.events.mediation import (
    AgreementItemKind,
    FailureReason,
    NextStep,
    PaymentEvidence,
    WithdrawalReason,
    WithdrawnBy,
)
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.logging import get_logger
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime
from weiquan_shared.service_client import ServiceTokenClient
from weiquan_shared.settings import PiiSettings

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MEDIATORS = allow(Role.MEDIATOR, Role.SUPERVISOR)
ADVISERS = allow(
    Role.MEDIATOR,
    Role.OPERATOR,
    Role.WALK_IN_CLERK,
    Role.LEGAL_AID_OFFICER,
    Role.SUPERVISOR,
)
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
WorkerRefField = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class OutcomesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_MEDIATION_", extra="ignore")

    # Where the parties' names and ID numbers are asked for, and where mediation's token is.
    intake_url: str = "http://127.0.0.1:8101"
    token_url: str = "http://127.0.0.1:8107/api/v1/token"
    # District -> the court whose court–union rooms (诉调对接工作室) invite the mediation.
    invited_courts: dict[str, str] = Field(
        default_factory=lambda: {
            code: f"深圳市{name}人民法院" for code, name in labels.DISTRICTS.items()
        }
    )
    overdue_check_s: float = Field(default=3600.0, gt=0)
    timezone: str = "Asia/Shanghai"
    wage_region: str = "440300"


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


# --------------------------------------------------------------------------- bodies


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker_ref: WorkerRefField = Field(title="职工")
    item: AgreementItemKind = Field(title="项目")
    amount: Money = Field(title="金额（元）")
    label: str | None = Field(default=None, max_length=50, title="其他项目名称")


class InstalmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_on: date = Field(title="付款期限")
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)] = Field(
        title="金额（元）"
    )


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_due_on: date = Field(title="首期付款期限")
    count: int = Field(ge=1, le=36, title="分期期数")
    every_months: int = Field(default=1, ge=1, le=12, title="间隔月数")


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn] = Field(min_length=1, max_length=2000, title="给付项目")
    instalments: list[InstalmentIn] | None = Field(
        default=None, max_length=36, title="分期付款安排"
    )
    schedule: ScheduleIn | None = Field(default=None, title="按期等额分期")
    effective_on: date = Field(title="协议生效日期")
    partial: bool = Field(default=False, title="部分达成")

    @model_validator(mode="after")
    def one_plan(self) -> AgreementIn:
        if (self.instalments is None) == (self.schedule is None):
            raise ValueError("请填写分期付款安排（instalments）或按期等额分期（schedule）之一")
        return self


class FailureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FailureReason = Field(title="调解不成的原因")
    next_steps: list[NextStep] = Field(
        default_factory=lambda: list[NextStep](["arbitration", "legal_aid"]),
        title="告知职工的后续途径",
    )


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_by: WithdrawnBy = Field(title="撤回方")
    reason: WithdrawalReason = Field(title="撤回原因")
    worker_refs: list[WorkerRefField] = Field(
        default_factory=list, max_length=2000, title="撤回的职工（空：全部）"
    )


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    court_name: str = Field(min_length=1, max_length=100, title="法院")
    court_basis: rules.CourtBasis = Field(title="管辖依据")
    intermediate: bool = Field(default=False, title="属中级人民法院管辖")
    applied_on: date = Field(title="申请日期")
    both_parties: bool = Field(title="双方共同申请")


class RulingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ruling: Literal["confirmed", "rejected", "withdrawn"] = Field(title="裁定结果")
    ruling_number: str | None = Field(default=None, max_length=100, title="裁定书案号")
    decided_on: date = Field(title="裁定日期")


class PaymentOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    court_name: str = Field(min_length=1, max_length=100, title="法院")
    applied_on: date = Field(title="申请日期")


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)] = Field(
        title="实付金额（元）"
    )
    paid_on: date = Field(title="付款日期")
    evidence: PaymentEvidence = Field(title="付款凭证")


class EntitlementsIn(BaseModel):
    """One calculation: compensation (Art. 47), damages (Art. 87), double wages (Art. 82),
    or the final-award test (LDA Art. 47)."""

    model_config = ConfigDict(extra="forbid")

    calculation: Literal["compensation", "damages", "double_wages", "final_award"] = Field(
        title="计算项目"
    )
    start: date | None = Field(default=None, title="入职（用工）日期")
    end: date | None = Field(default=None, title="离职日期")
    average_monthly_wage: Money | None = Field(default=None, title="离职前十二个月月平均工资")
    monthly_wage: Money | None = Field(default=None, title="月工资")
    contract_signed_on: date | None = Field(default=None, title="书面劳动合同订立日期")
    as_of: date | None = Field(default=None, title="计算日期")
    claims: list[dict[str, Any]] = Field(default_factory=list, max_length=50, title="仲裁请求")


def _refused(exc: Refused) -> HTTPException:
    return HTTPException(status_code=exc.status, detail="；".join(exc.problems))


def _not_found(number: str) -> HTTPException:
    return HTTPException(
        status_code=404,
        detail=f"没有编号为 {number[:40]} 的调解案件，或它不在您负责的区县内",
    )


# --------------------------------------------------------------------------- routers


def build_outcome_routers(runtime: Runtime) -> list[APIRouter]:
    settings = OutcomesSettings()
    legal = LegalCalendar.load()
    store = OutcomesStore(
        runtime,
        PiiCipher.from_settings(PiiSettings()),
        legal,
        invited_courts=settings.invited_courts,
    )
    parties = IntakeParties(
        settings.intake_url,
        ServiceTokenClient.for_service(settings.token_url, runtime.settings.service_name),
    )
    wages = ent.LocalWages.load(settings.wage_region)

    def today() -> date:
        return today_in(settings.timezone)

    api = APIRouter(prefix="/api/v1", tags=["outcomes"], dependencies=[MEDIATORS])
    calculator = APIRouter(tags=["entitlements"], dependencies=[ADVISERS])

    async def guarded(work: Coroutine[Any, Any, Any], number: str) -> Any:
        try:
            return await work
        except NotFound as exc:
            raise _not_found(number) from exc
        except Refused as exc:
            raise _refused(exc) from exc

    @api.get("/mediations/{number}/outcome", summary="调解结果、协议履行、司法确认与支付令")
    async def outcome(number: str, principal: Annotated[Principal, MEDIATORS]) -> Any:
        return await guarded(store.view(number, principal, today()), number)

    @api.post(
        "/mediations/{number}/agreement", status_code=201, summary="登记调解协议（全部或部分达成）"
    )
    async def agreement(
        number: str, body: AgreementIn, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, Any]:
        items = [rules.Item(i.worker_ref, i.item, i.amount, i.label) for i in body.items]
        if body.schedule is not None:
            total = sum((i.amount for i in items), Decimal(0))
            if total <= 0:
                raise HTTPException(422, "协议总金额必须大于0")
            plan = rules.instalment_schedule(
                total, body.schedule.first_due_on, body.schedule.count, body.schedule.every_months
            )
        else:
            plan = [
                rules.PlannedInstalment(n + 1, i.due_on, i.amount)
                for n, i in enumerate(body.instalments or [])
            ]
        agreement_id = await guarded(
            store.record_agreement(
                number,
                principal,
                items=items,
                instalments=plan,
                effective_on=body.effective_on,
                declared_partial=body.partial,
                today=today(),
            ),
            number,
        )
        return {"agreement_id": agreement_id, "message": "调解协议已登记"}

    @api.post("/mediations/{number}/failure", summary="登记调解不成（结案）")
    async def failure(
        number: str, body: FailureIn, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, str]:
        await guarded(
            store.record_failure(
                number, principal, reason=body.reason, next_steps=list(body.next_steps)
            ),
            number,
        )
        return {"message": "已登记调解不成并结案，请告知职工可申请仲裁或法律援助"}

    @api.post("/mediations/{number}/withdrawal", summary="登记撤回调解申请")
    async def withdrawal(
        number: str, body: WithdrawalIn, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, Any]:
        closed = await guarded(
            store.record_withdrawal(
                number,
                principal,
                withdrawn_by=body.withdrawn_by,
                reason=body.reason,
                worker_refs=list(body.worker_refs),
            ),
            number,
        )
        return {"closed": closed, "message": "已登记撤回" + ("并结案" if closed else "")}

    @api.post("/mediations/{number}/confirmation", summary="登记双方申请司法确认")
    async def confirmation(
        number: str, body: ConfirmationIn, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, Any]:
        due = await guarded(
            store.request_confirmation(
                number,
                principal,
                court=rules.CourtChoice(body.court_name, body.court_basis, body.intermediate),
                applied_on=body.applied_on,
                both_parties=body.both_parties,
                today=today(),
            ),
            number,
        )
        return {"window_due_on": due, "message": "已登记司法确认申请"}

    @api.post("/mediations/{number}/confirmation/ruling", summary="登记法院的司法确认裁定")
    async def ruling(
        number: str, body: RulingIn, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, str]:
        await guarded(
            store.decide_confirmation(
                number,
                principal,
                ruling=body.ruling,
                ruling_number=body.ruling_number,
                decided_on=body.decided_on,
                today=today(),
            ),
            number,
        )
        return {"message": "已登记裁定结果"}

    @api.post("/mediations/{number}/payment-order", summary="登记申请支付令（用人单位不履行协议）")
    async def payment_order(
        number: str, body: PaymentOrderIn, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, Any]:
        dates = await guarded(
            store.apply_payment_order(
                number,
                principal,
                court_name=body.court_name,
                applied_on=body.applied_on,
                today=today(),
            ),
            number,
        )
        return {
            "acceptance_notice_by": dates.acceptance_notice_by,
            "order_by": dates.order_by,
            "review": list(dates.review),
            "message": "已登记支付令申请：法院应在5日内通知是否受理，受理后15日内发出支付令",
        }

    @api.post(
        "/mediations/{number}/instalments/{instalment}/payment", summary="登记一期付款（实际追回）"
    )
    async def payment(
        number: str,
        instalment: int,
        body: PaymentIn,
        principal: Annotated[Principal, MEDIATORS],
    ) -> dict[str, Any]:
        closed = await guarded(
            store.record_payment(
                number,
                principal,
                instalment_number=instalment,
                amount=body.amount,
                paid_on=body.paid_on,
                evidence=body.evidence,
                today=today(),
            ),
            number,
        )
        return {
            "closed": closed,
            "message": "已登记付款" + ("，协议履行完毕，已结案" if closed else ""),
        }

    @api.post(
        "/mediations/{number}/agreement/document",
        status_code=201,
        summary="生成调解协议书（PDF，向受理服务调取当事人姓名与身份证号，加密保存）",
    )
    async def make_document(
        number: str, principal: Annotated[Principal, MEDIATORS]
    ) -> dict[str, str]:
        mediation, agreement, instalments = await guarded(
            store.agreement_facts(number, principal), number
        )
        try:
            found = await parties.for_cases(mediation.case_numbers, principal.subject)
        except PartiesNotFound as exc:
            raise HTTPException(409, "受理服务中找不到本案的当事人信息，请联系管理员核实") from exc
        except PartiesUnavailable as exc:
            log.warning("parties lookup failed", reason=str(exc))
            raise HTTPException(
                503, "暂时无法从受理服务取得当事人信息，请稍后重试", headers={"Retry-After": "30"}
            ) from exc
        window = rules.confirmation_window(agreement["effective_on"], legal)
        facts = AgreementFacts(
            mediation_number=mediation.number,
            district_code=mediation.district_code,
            route_detail=mediation.route_detail,
            category=mediation.category,
            received_on=mediation.received_on,
            effective_on=agreement["effective_on"],
            window_due_on=window.due_on,
            mediator_name=mediation.lead_mediator_name or principal.name,
            invited_court=agreement["invited_court"],
            partial=agreement["partial"],
            representatives=mediation.group_size >= 10,
            items=[dict(i) for i in _items(agreement["items"])],
            instalments=instalments,
        )
        pdf = await asyncio.to_thread(render_pdf, render_html(facts, found))
        await store.store_document(mediation, agreement["agreement_id"], principal, pdf)
        return {"message": "调解协议书已生成"}

    @api.get(
        "/mediations/{number}/agreement/document",
        summary="下载调解协议书（PDF；每次下载记入审计）",
        response_class=Response,
    )
    async def download_document(
        number: str,
        principal: Annotated[Principal, MEDIATORS],
        reason: Annotated[
            Literal["case_handling", "legal_proceedings", "supervision"],
            Query(title="下载原因"),
        ],
    ) -> Response:
        name, pdf = await guarded(store.download_document(number, principal, reason), number)
        filename = quote(f"调解协议书-{name}.pdf")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **NO_STORE,
                "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            },
        )

    @calculator.post(
        "/api/v1/entitlements", summary="权益计算器：经济补偿、赔偿金、二倍工资、终局裁决"
    )
    async def entitlements(body: EntitlementsIn) -> dict[str, Any]:
        return calculation_or_refusal(body, wages)

    @calculator.get("/calculator", include_in_schema=False)
    async def calculator_page(request: Request) -> HTMLResponse:
        return page_with_csrf(request, (STATIC / "calculator.html").read_text(encoding="utf-8"))

    assets = page_assets(
        "/calculator/{name}",
        {"calculator.js": STATIC / "calculator.js", "calculator.css": STATIC / "calculator.css"},
    )
    return [api, calculator, assets]


def _items(stored: Any) -> list[dict[str, Any]]:
    import json

    return list(json.loads(stored) if isinstance(stored, str) else stored)


def calculation_or_refusal(body: EntitlementsIn, wages: ent.LocalWages) -> dict[str, Any]:
    """:func:`calculate`, every refusal a 422 with a Chinese message (never a 500)."""
    try:
        return calculate(body, wages)
    except (ent.InvalidEntitlementInput, ent.MissingWageFigure) as exc:
        raise HTTPException(422, str(exc)) from exc
    except (ValueError, OverflowError) as exc:  # a date the calendar cannot count from
        raise HTTPException(422, "日期超出可计算的范围，请核对填写的日期") from exc


def calculate(body: EntitlementsIn, wages: ent.LocalWages) -> dict[str, Any]:
    """One calculation as JSON: the amount and its explanation, sources and review notes."""

    def need(value: Any, what: str) -> Any:
        if value is None:
            raise ent.InvalidEntitlementInput(f"请填写{what}")
        return value

    if body.calculation in ("compensation", "damages"):
        start, end = need(body.start, "入职（用工）日期"), need(body.end, "离职日期")
        wage = need(body.average_monthly_wage, "离职前十二个月月平均工资")
        if body.calculation == "compensation":
            c = ent.economic_compensation(start, end, wage, wages)
            return {
                "amount": c.amount,
                "months": c.months,
                "monthly_base": c.monthly_base,
                "capped": c.capped,
                "explanation": list(c.explanation),
                "sources": list(c.sources),
                "review": list(c.review),
            }
        d = ent.unlawful_termination_damages(start, end, wage, wages)
        return {
            "amount": d.amount,
            "explanation": list(d.explanation),
            "sources": list(d.sources),
            "review": list(d.review),
        }
    if body.calculation == "double_wages":
        w = ent.double_wages(
            need(body.start, "入职（用工）日期"),
            body.contract_signed_on,
            need(body.monthly_wage, "月工资"),
            need(body.as_of, "计算日期"),
        )
        return {
            "amount": w.amount,
            "owed_from": w.owed_from,
            "owed_to": w.owed_to,
            "explanation": list(w.explanation),
            "sources": list(w.sources),
            "review": [],
        }
    on = body.as_of or date.today()
    minimum = wages.minimum_wage_on(on)
    try:
        claims = [
            ent.ClaimItem(
                ent.ClaimKind(c["kind"]),
                Decimal(str(c["amount"])) if c.get("amount") is not None else None,
                str(c.get("description", ""))[:50],
            )
            for c in body.claims
        ]
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise ent.InvalidEntitlementInput(
            "仲裁请求的格式不对：每项须有 kind（请求类别）和 amount（金额）"
        ) from exc
    test = ent.final_award_test(claims, minimum.value)
    return {
        "final": test.final,
        "threshold": test.threshold,
        "items": [
            {"label": i.item.label, "final": i.final, "reason": i.reason} for i in test.items
        ],
        "explanation": list(test.explanation),
        "sources": [*test.sources, minimum.citation("月最低工资标准")],
        "review": [],
    }


def overdue_check(runtime: Runtime) -> tuple[str, Callable[[], Coroutine[Any, Any, None]]]:
    """The background task raising ``mediation.instalment_overdue`` (once per instalment)."""
    settings = OutcomesSettings()
    store = OutcomesStore(
        runtime,
        PiiCipher.from_settings(PiiSettings()),
        LegalCalendar.load(),
        invited_courts=settings.invited_courts,
    )

    async def run() -> None:
        while True:
            try:
                raised = await store.raise_overdue(today_in(settings.timezone))
                if raised:
                    log.info("overdue instalments raised", count=raised)
            except Exception as exc:  # the next round retries; never stop the loop
                log.warning("overdue check failed", error=type(exc).__name__)
            await asyncio.sleep(settings.overdue_check_s)

    return ("overdue-instalments", run)


__all__ = ["build_outcome_routers", "calculate", "overdue_check"]
