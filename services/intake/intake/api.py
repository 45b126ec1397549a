"""Intake's HTTP API (OpenAPI at /docs): one thin handler per operation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from math import ceil
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from intake.casefile import SearchLimit
from intake.domain import (
    CaseReport,
    ConsultationIn,
    HotlineCallIn,
    Mobile,
    WalkInGroupIn,
    identify,
    mobile_index,
    warnings_for,
)
from intake.store import CaseStore, ReusedKey, RevealableField
from weiquan_shared import labels
from weiquan_shared.access import allow, allow_services
from weiquan_shared.auth import Principal, Role
from weiquan_shared.envelope import Actor
from weiquan_shared.events.casework import ConsentScope, VoidReason
from weiquan_shared.pii import PiiCipher


class FieldWarningOut(BaseModel):
    field: str = Field(examples=["employer.credit_code"])
    message: str = Field(
        examples=["统一社会信用代码：校验位与前17位不符，请与职工或营业执照核对（不影响登记）"]
    )


class CaseAccepted(BaseModel):
    case_id: uuid.UUID
    case_number: str = Field(
        description="向职工读出或告知的案件编号", examples=["440305-2026-000123"]
    )
    duplicate: bool = Field(description="同一渠道编号此前已登记时为 true，案件编号不变")
    warnings: list[FieldWarningOut] = Field(
        default_factory=list, description="需要核对但不阻止登记的问题"
    )


class ConsultationAccepted(BaseModel):
    consultation_id: uuid.UUID
    duplicate: bool = Field(description="同一来电流水号或登记单号此前已记录时为 true")


class MaskedWorker(BaseModel):
    name: str = Field(examples=["王*国"])
    mobile: str = Field(examples=["139****5678"])
    id_number: str | None = Field(examples=["110105********002X"])


class CaseView(BaseModel):
    id: uuid.UUID
    case_number: str
    channel: str
    channel_ref: str
    district_code: str
    employer_name: str
    employer_credit_code: str | None
    claim_amount: Decimal | None
    reported_at: datetime
    status: str = Field(examples=["已受理"])
    workers: list[MaskedWorker]
    assignee_id: str | None = Field(description="承办人（身份认证服务中的标识），无人承办时为空")
    assignee_name: str | None = Field(examples=["李明"])
    assigned_at: datetime | None
    sharing_consent: list[ConsentScope] = Field(
        description="职工当前单独同意提供案件材料的机构（个人信息保护法第二十三条）"
    )
    sharing_consent_version: str | None
    sharing_consent_at: datetime | None
    voided: bool
    voided_at: datetime | None
    void_reason: VoidReason | None
    duplicate_of: str | None


class CaseSummary(BaseModel):
    case_number: str
    channel: str
    district_code: str
    employer_name: str
    reported_at: datetime
    status: str


def _choices(table: dict[str, str]) -> str:
    return "；".join(f"{code}（{name}）" for code, name in table.items())


def reason_from(table: dict[str, str]) -> AfterValidator:
    """A reason code from ``table`` (labels.py)."""

    def known(code: str) -> str:
        if code not in table:
            raise ValueError(f"请从列表中选择理由：{_choices(table)}")
        return code

    return AfterValidator(known)


MobileSearchReason = Annotated[
    str,
    reason_from(labels.MOBILE_SEARCH_REASONS),
    Field(json_schema_extra={"enum": list(labels.MOBILE_SEARCH_REASONS)}),
]
RevealReason = Annotated[
    str,
    reason_from(labels.REVEAL_REASONS),
    Field(json_schema_extra={"enum": list(labels.REVEAL_REASONS)}),
]


class MobileSearch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mobile: Mobile
    reason: MobileSearchReason = Field(
        title="理由",
        description=f"从列表中选择：{_choices(labels.MOBILE_SEARCH_REASONS)}",
        examples=["progress_enquiry"],
    )


class RevealIn(BaseModel):
    """Which one value to show in clear, and why."""

    model_config = ConfigDict(extra="forbid")

    worker: int = Field(title="职工序号", ge=0, le=999, description="从 0 开始", examples=[0])
    field: RevealableField = Field(title="显示的信息", examples=["mobile"])
    reason: RevealReason = Field(
        title="理由",
        description=f"从列表中选择：{_choices(labels.REVEAL_REASONS)}",
        examples=["call_back"],
    )


class RevealedOut(BaseModel):
    value: str | None = Field(description="明文，仅显示一次；职工未提供时为 null")


class MobileSearchSettings(BaseSettings):
    """The per-person limit on searches by mobile (WEIQUAN_MOBILE_SEARCH_*)."""

    model_config = SettingsConfigDict(env_prefix="WEIQUAN_MOBILE_SEARCH_", extra="ignore")

    per_window: int = 10
    window_s: int = 600

    def limit(self) -> SearchLimit:
        return SearchLimit(self.per_window, self.window_s)


# Who may do what in intake (README: roles).
REGISTRARS = (Role.OPERATOR, Role.WALK_IN_CLERK)
# Everyone who works cases reads them (the case page), and administrators.
CASE_READERS = (
    Role.OPERATOR,
    Role.WALK_IN_CLERK,
    Role.TRIAGE_OFFICER,
    Role.MEDIATOR,
    Role.LEGAL_AID_OFFICER,
    Role.SUPERVISOR,
    Role.ADMIN,
)
# Reaching a worker's personal data: those who talk to workers and check their identity.
PERSONAL_DATA = (Role.OPERATOR, Role.WALK_IN_CLERK, Role.TRIAGE_OFFICER)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REGISTRAR = allow(*REGISTRARS)
CASE_READER = allow(*CASE_READERS)
PERSONAL_DATA_USER = allow(*PERSONAL_DATA)
# Services that reach workers with their own credentials: the notification service.
NOTIFIER = allow_services("notification")
# Services that put the parties on a document: mediation's 调解协议书.
DOCUMENT_MAKER = allow_services("mediation")


class WorkerContact(BaseModel):
    position: int
    mobile: str


class PartyOut(BaseModel):
    position: int
    worker_ref: str
    name: str
    id_number: str | None


class PartiesOut(BaseModel):
    workers: list[PartyOut]
    employer_name: str
    employer_credit_code: str | None


class EmployerContactOut(BaseModel):
    name: str | None = Field(description="联系人姓名（未记录为 null）")
    mobile: str | None
    email: str | None


class ContactsOut(BaseModel):
    workers: list[WorkerContact]
    wechat_openid: str | None
    employer: EmployerContactOut | None = Field(
        default=None, description="用人单位联系人（未记录为 null）"
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "内容有误：message 用中文指出需要修改的字段，errors 逐项列出",
        "content": {
            "application/json": {
                "example": {
                    "message": "提交的内容有误，请按提示修改：手机号：格式不正确",
                    "errors": [
                        {
                            "field": "workers.mobile",
                            "path": "workers.0.mobile",
                            "label": "手机号",
                            "message": "手机号：格式不正确",
                        }
                    ],
                }
            }
        },
    },
    503: {"description": "数据库暂时不可用，本次提交未保存，可直接重试"},
}


# What a reused idempotency key means to the person at each form: (field, label, advice).
_REUSED_KEY: dict[str, tuple[str, str, str]] = {
    "hotline": (
        "call_id",
        "来电流水号",
        "来电流水号 {ref} 已登记过内容不同的来电，本次未保存。"
        "如是另一通来电，请填写这通来电自己的来电流水号后重新提交；"
        "如要更正已登记的案件，请联系案件承办人。",
    ),
    "walk_in": (
        "desk_submission_id",
        "登记单号",
        "这张登记单（{ref}）已提交过不同的内容，本次未保存。"
        "如是另一批来访职工，请刷新页面，在新的登记单上重新填写提交。",
    ),
    "consultation": (
        "channel_ref",
        "来电流水号或登记单号",
        "编号 {ref} 已记录过内容不同的咨询，本次未保存。"
        "如是另一次咨询，请使用它自己的来电流水号或登记单号后重新提交。",
    ),
}


def _reused_key(kind: str, ref: str) -> JSONResponse:
    """409 in the 422 shape, so a page shows the advice next to the key's field."""
    path, label, advice = _REUSED_KEY[kind]
    message = advice.format(ref=ref)
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={
            "message": message,
            "errors": [{"field": path, "path": path, "label": label, "message": message}],
        },
    )


def _conflict_doc(kind: str) -> dict[int | str, dict[str, Any]]:
    path, label, advice = _REUSED_KEY[kind]
    return {
        409: {
            "description": "同一编号此前已提交过不同的内容（不是重试）：未保存，请换用新编号",
            "content": {
                "application/json": {
                    "example": {
                        "message": advice.format(ref="…"),
                        "errors": [{"field": path, "path": path, "label": label, "message": "…"}],
                    }
                }
            },
        }
    }


def _accepted(registered: Any, response: Response, report: CaseReport) -> CaseAccepted:
    if not registered.created:
        response.status_code = status.HTTP_200_OK
    return CaseAccepted(
        case_id=registered.case_id,
        case_number=registered.case_number,
        duplicate=not registered.created,
        warnings=[
            FieldWarningOut(field=w.field, message=w.message) for w in warnings_for(report.dispute)
        ],
    )


def acting(principal: Principal) -> Actor:
    """The signed-in person as the actor of what they change or read."""
    return Actor.user(principal.subject, principal.role)


def _not_found(case_number: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"未找到案件编号 {case_number}（或不在您的工作范围内），"
        "请核对（格式如 440305-2026-000123）",
    )


def build_routers(
    store: Callable[[], CaseStore], cipher: PiiCipher, search_limit: SearchLimit
) -> list[APIRouter]:
    """Registering (operators, clerks), reading masked cases (case readers), and reaching a
    worker's personal data by mobile search or reveal (those who talk to workers)."""
    router = APIRouter(prefix="/api/v1", tags=["intake"], dependencies=[REGISTRAR])
    reading = APIRouter(prefix="/api/v1", tags=["intake"], dependencies=[CASE_READER])
    personal = APIRouter(prefix="/api/v1", tags=["intake"], dependencies=[PERSONAL_DATA_USER])
    services = APIRouter(prefix="/api/v1/internal", tags=["services"], dependencies=[NOTIFIER])
    documents = APIRouter(
        prefix="/api/v1/internal", tags=["services"], dependencies=[DOCUMENT_MAKER]
    )

    async def register(
        report: CaseReport, response: Response, principal: Principal
    ) -> CaseAccepted | JSONResponse:
        identities = [identify(worker, cipher) for worker in report.dispute.workers]
        try:
            registered = await store().register(
                report, identities, acting(principal), actor_name=principal.name
            )
        except ReusedKey as reused:
            return _reused_key(reused.channel, reused.channel_ref)
        return _accepted(registered, response, report)

    @router.post(
        "/hotline-calls",
        response_model=CaseAccepted,
        status_code=status.HTTP_201_CREATED,
        summary="登记12351热线来电",
        description=(
            "接线员在通话中登记职工诉求，返回案件编号供当场读给职工。以来电流水号去重："
            "同一内容重复提交返回同一案件编号（200），不会重复登记；同一来电流水号提交了"
            "不同的内容（同意时间除外）则不保存，答复409。"
            "示例：来电流水号 12351-20261124-0001，职工王建国反映深圳市鹏程建筑劳务有限公司"
            "拖欠工资24000元，诉求为支付拖欠工资。"
        ),
        responses={
            200: {"description": "该来电流水号已登记，返回原案件编号", "model": CaseAccepted},
            **_conflict_doc("hotline"),
            **_ERRORS,
        },
    )
    async def register_hotline_call(
        call: HotlineCallIn, response: Response, principal: Annotated[Principal, REGISTRAR]
    ) -> CaseAccepted | JSONResponse:
        return await register(CaseReport.from_hotline(call, principal.subject), response, principal)

    @router.post(
        "/walk-in-registrations",
        response_model=CaseAccepted,
        status_code=status.HTTP_201_CREATED,
        summary="来访窗口登记（可一次登记同一单位的多名职工）",
        description=(
            "职工服务中心窗口登记来访职工。同一用人单位的多名工友一起来访时，一张登记单即一个"
            "案件，包含全部职工（集体争议，劳动争议调解仲裁法第七条）；分流服务据此识别群体性"
            "争议。以登记单号去重：同一内容重复提交返回同一案件编号（200）；同一登记单号"
            "提交了不同的内容（同意时间除外）则不保存，答复409。"
            "示例：南山区职工服务中心登记某建筑劳务公司12名工友被拖欠工资。"
        ),
        responses={
            200: {"description": "该登记单已提交过，返回原案件编号", "model": CaseAccepted},
            **_conflict_doc("walk_in"),
            **_ERRORS,
        },
    )
    async def register_walk_in(
        group: WalkInGroupIn, response: Response, principal: Annotated[Principal, REGISTRAR]
    ) -> CaseAccepted | JSONResponse:
        return await register(
            CaseReport.from_walk_in(group, principal.subject), response, principal
        )

    @router.post(
        "/consultations",
        response_model=ConsultationAccepted,
        status_code=status.HTTP_201_CREATED,
        summary="记录当场解答的咨询（不立案）",
        description=(
            "热线或窗口当场解答的咨询计入工会的咨询统计，不登记案件，也不收集姓名、手机号。"
            "以来电流水号或登记单号去重：同一内容重复提交返回原记录（200），"
            "同一编号提交了不同的内容则不保存，答复409。"
            "示例：职工来电咨询入职三个月未签劳动合同能否要求双倍工资，接线员当场答复。"
        ),
        responses={
            200: {"description": "已记录过，返回原记录", "model": ConsultationAccepted},
            **_conflict_doc("consultation"),
            **_ERRORS,
        },
    )
    async def record_consultation(
        consultation: ConsultationIn, response: Response, principal: Annotated[Principal, REGISTRAR]
    ) -> ConsultationAccepted | JSONResponse:
        try:
            recorded = await store().record_consultation(consultation, acting(principal))
        except ReusedKey as reused:
            return _reused_key("consultation", reused.channel_ref)
        if not recorded.created:
            response.status_code = status.HTTP_200_OK
        return ConsultationAccepted(
            consultation_id=recorded.consultation_id, duplicate=not recorded.created
        )

    @reading.get(
        "/cases/{case_number}",
        response_model=CaseView,
        summary="按案件编号查看案件（个人信息已脱敏）",
        description="示例：GET /api/v1/cases/440305-2026-000123，姓名、手机号、身份证号均已脱敏。"
        "不在本人工作范围（区县）内的案件答复404。",
        responses={404: {"description": "没有这个案件编号，或不在您的工作范围内"}},
    )
    async def get_case(case_number: str, principal: Annotated[Principal, CASE_READER]) -> CaseView:
        case = await store().masked_case(case_number[:40], principal.districts)
        if case is None:
            raise _not_found(case_number[:40])
        return CaseView.model_validate(case)

    @personal.post(
        "/case-searches/by-mobile",
        response_model=list[CaseSummary],
        summary="按手机号查找案件（须说明理由，有次数限制）",
        description=(
            "按手机号的密钥哈希（盲索引）查找该号码出现过的、本人工作范围内的案件，最新的在前；"
            "手机号放在请求体而不是地址中，以免留在访问记录里。须从列表选择查询理由；"
            f"每人每 {search_limit.window_s // 60} 分钟最多 {search_limit.searches} 次"
            "（超过答复429）；每次查询（含被拒绝的）都记入审计。"
            '示例：{"mobile": "139 1234 5678", "reason": "progress_enquiry"}'
        ),
        responses={
            429: {"description": "查询过于频繁：message 说明何时可再查，Retry-After 为秒数"},
            **_ERRORS,
        },
    )
    async def search_by_mobile(
        search: MobileSearch, principal: Annotated[Principal, PERSONAL_DATA_USER]
    ) -> list[CaseSummary]:
        outcome = await store().search_by_mobile(
            acting(principal),
            mobile_index(search.mobile, cipher),
            principal.districts,
            labels.MOBILE_SEARCH_REASONS[search.reason],
            search_limit,
        )
        if outcome.retry_after_s is not None:
            minutes = max(1, ceil(outcome.retry_after_s / 60))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"按手机号查询过于频繁：每 {search_limit.window_s // 60} 分钟最多 "
                f"{search_limit.searches} 次，请约 {minutes} 分钟后再查。",
                headers={"Retry-After": str(outcome.retry_after_s)},
            )
        return [CaseSummary.model_validate(row) for row in outcome.cases]

    @personal.post(
        "/cases/{case_number}/reveal",
        response_model=RevealedOut,
        summary="显示职工的一项个人信息（须说明理由，记入审计）",
        description=(
            "为回电、起草文书或核实身份显示一名职工的一项信息（姓名、手机号、身份证号、工种）"
            "的明文。答复不缓存（Cache-Control: no-store），页面只显示一次。"
            '示例：{"worker": 0, "field": "mobile", "reason": "call_back"}'
        ),
        responses={404: {"description": "没有这个案件或职工，或不在您的工作范围内"}, **_ERRORS},
    )
    async def reveal(
        case_number: str,
        body: RevealIn,
        response: Response,
        principal: Annotated[Principal, PERSONAL_DATA_USER],
    ) -> RevealedOut:
        revealed = await store().reveal(
            acting(principal),
            case_number[:40],
            principal.districts,
            body.worker,
            body.field,
            labels.REVEAL_REASONS[body.reason],
        )
        if revealed is None:
            raise _not_found(case_number[:40])
        response.headers.update(NO_STORE)
        return RevealedOut(value=revealed.value)

    @services.get(
        "/cases/{case_number}/contacts",
        response_model=ContactsOut,
        summary="职工与用人单位联系人的联系方式（仅供通知服务在发送时调用，记入审计）",
        description="通知服务以自身的服务凭证（client_credentials）在发送短信、微信消息或邮件时"
        "取得职工手机号、微信 OpenID 与用人单位联系人（姓名、手机号、电子邮箱）；"
        "不缓存，每次调用记入审计（purpose 为模板编号）。"
        "示例：GET /api/v1/internal/cases/440305-2026-000123/contacts?purpose=sms/case_accepted",
        responses={404: {"description": "没有这个案件"}, **_ERRORS},
    )
    async def contacts(
        case_number: str,
        response: Response,
        service: Annotated[str, NOTIFIER],
        purpose: Annotated[str, Query(min_length=1, max_length=50, pattern=r"^[a-z0-9_./-]+$")],
    ) -> ContactsOut:
        found = await store().contacts(service, case_number[:40], purpose)
        if found is None:
            raise _not_found(case_number[:40])
        response.headers.update(NO_STORE)
        return ContactsOut(
            workers=[WorkerContact(position=p, mobile=m) for p, m in sorted(found.mobiles.items())],
            wechat_openid=found.wechat_openid,
            employer=EmployerContactOut(
                name=found.employer.name, mobile=found.employer.mobile, email=found.employer.email
            )
            if found.employer
            else None,
        )

    @documents.get(
        "/cases/{case_number}/parties",
        response_model=PartiesOut,
        summary="当事人姓名与身份证号（仅供调解服务生成调解协议书时调用，记入审计）",
        description="调解服务以自身的服务凭证（client_credentials）在调解员生成调解协议书时"
        "取得职工真实姓名、身份证号及用人单位名称；不缓存，每次调用记入审计"
        "（purpose 为用途，on_behalf_of 为发起的调解员）。示例：GET /api/v1/internal/cases/"
        "440305-2026-000123/parties?purpose=mediation_agreement&on_behalf_of=mediator-7",
        responses={404: {"description": "没有这个案件"}, **_ERRORS},
    )
    async def parties(
        case_number: str,
        response: Response,
        service: Annotated[str, DOCUMENT_MAKER],
        purpose: Annotated[str, Query(min_length=1, max_length=50, pattern=r"^[a-z0-9_./-]+$")],
        on_behalf_of: Annotated[str, Query(min_length=1, max_length=100)],
    ) -> PartiesOut:
        found = await store().parties(service, case_number[:40], purpose, on_behalf_of)
        if found is None:
            raise _not_found(case_number[:40])
        response.headers.update(NO_STORE)
        return PartiesOut(
            workers=[
                PartyOut(
                    position=w.position, worker_ref=w.worker_ref, name=w.name, id_number=w.id_number
                )
                for w in found.workers
            ],
            employer_name=found.employer_name,
            employer_credit_code=found.employer_credit_code,
        )

    return [router, reading, personal, services, documents]
