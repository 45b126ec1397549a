"""The case file's HTTP API: notes and contacts, the responsible person, consent, voiding
and finding a case. The case page (projection's ``/projection/cases/{number}``) calls it
through the proxy as ``/intake/api/v1/…``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from math import ceil
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from intake.api import MobileSearchReason
from intake.casefile import CaseFileError, CaseFileStore, SearchLimit
from intake.domain import EmployerContactIn, Text, mobile_index
from intake.domain_casework import (
    AssignmentIn,
    ConsentPut,
    ContactIn,
    NoteIn,
    UnreadableQuery,
    VoidIn,
    body_digest,
    name_index,
    recognise,
)
from intake.employer_contact import EmployerContact
from weiquan_shared import labels
from weiquan_shared.access import allow
from weiquan_shared.auth import Principal, Role
from weiquan_shared.consent import case_gate
from weiquan_shared.envelope import Actor
from weiquan_shared.events.casework import ConsentScope, ContactMethod, ContactOutcome
from weiquan_shared.navigation import CASE_WORKERS
from weiquan_shared.pii import PiiCipher

CASE_WORKER = allow(*CASE_WORKERS)
SUPERVISOR = allow(Role.SUPERVISOR)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        title="请求编号",
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_.:-]+$",
        description="页面为每次提交生成一个编号（如 UUID）；同一编号同一内容重复提交只保存一次",
    ),
]


class EntryOut(BaseModel):
    id: uuid.UUID
    kind: Literal["note", "contact"]
    text: str | None = Field(description="记录内容，或联系的备注")
    method: ContactMethod | None
    outcome: ContactOutcome | None
    next_action_on: date | None
    author_name: str
    at: datetime


class WrittenOut(BaseModel):
    id: uuid.UUID
    duplicate: bool = Field(description="同一请求编号同一内容此前已保存时为 true")


class AssignedOut(BaseModel):
    case_number: str
    assignee_id: str
    assignee_name: str
    previous_assignee_id: str | None


class ConsentOut(BaseModel):
    case_number: str
    scopes: list[ConsentScope]
    wording_version: str


class EmployerContactShown(BaseModel):
    case_number: str
    recorded: bool = Field(description="是否已记录用人单位联系人")
    name: str | None = Field(description="联系人姓名（已脱敏）", examples=["李*"])
    mobile: str | None = Field(description="手机号（已脱敏）", examples=["139****5678"])
    email: str | None = Field(description="电子邮箱（已脱敏）", examples=["h***@pengcheng.cn"])
    recorded_at: datetime | None


class VoidedOut(BaseModel):
    case_number: str
    voided_at: datetime
    status: str = Field(examples=["已作废"])


class CaseSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Text = Field(
        title="查找内容",
        min_length=1,
        max_length=200,
        description="案件编号、手机号（可含空格、短横线、+86、全角数字）、职工姓名、"
        "用人单位名称（部分即可）或统一社会信用代码",
        examples=["139 1234 5678"],
    )
    reason: MobileSearchReason = Field(
        title="查询理由",
        description="从列表中选择："
        + "；".join(f"{code}（{name}）" for code, name in labels.MOBILE_SEARCH_REASONS.items()),
        examples=["progress_enquiry"],
    )


class FoundCase(BaseModel):
    case_number: str
    reported_at: datetime
    status: str
    status_label: str
    worker_names_masked: list[str]
    employer_name: str
    voided: bool
    url: str = Field(examples=["/projection/cases/440305-2026-000123"])


def acting(principal: Principal) -> Actor:
    return Actor.user(principal.subject, principal.role)


def _name(principal: Principal) -> str:
    return (principal.name or principal.subject)[:100]


def _refused(error: CaseFileError) -> JSONResponse:
    content: dict[str, Any] = {"message": error.message, "detail": error.message}
    if error.path:
        content["errors"] = [
            {"field": error.path, "path": error.path, "label": error.path, "message": error.message}
        ]
    return JSONResponse(status_code=error.status, content=content)


_CASE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "没有这个案件编号，或不在您的工作范围内"},
    409: {"description": "案件已作废，或请求与案件现状冲突：message 说明原因"},
    422: {"description": "内容有误：message 用中文指出需要修改的字段"},
}


def build_casefile_routers(
    store: Callable[[], CaseFileStore], cipher: PiiCipher, search_limit: SearchLimit
) -> list[APIRouter]:
    working = APIRouter(prefix="/api/v1", tags=["case file"], dependencies=[CASE_WORKER])
    supervising = APIRouter(prefix="/api/v1", tags=["case file"], dependencies=[SUPERVISOR])

    @working.get(
        "/cases/{case_number}/notes",
        response_model=list[EntryOut],
        summary="案件的记录与联系记录（最新的在前，查看记入审计）",
        description=(
            "办理案件的工作人员查看记录内容与联系记录，每次查看记入审计（case.notes_read）。"
            "示例：GET /api/v1/cases/440305-2026-000123/notes"
        ),
        responses={
            403: {"description": "工会以外的单位（法院、人社部门、律师事务所）未取得职工单独同意"},
            404: _CASE_ERRORS[404],
        },
    )
    async def list_entries(
        case_number: str, principal: Annotated[Principal, CASE_WORKER]
    ) -> list[EntryOut] | JSONResponse:
        try:
            rows = await store().entries(
                acting(principal),
                case_number[:40],
                principal.districts,
                lambda scopes: case_gate(principal, scopes),
            )
        except CaseFileError as error:
            return _refused(error)
        return [EntryOut.model_validate(row) for row in rows]

    async def write(
        case_number: str,
        entry: NoteIn | ContactIn,
        key: str | None,
        response: Response,
        principal: Principal,
    ) -> WrittenOut | JSONResponse:
        kind = "note" if isinstance(entry, NoteIn) else "contact"
        try:
            written = await store().write(
                acting(principal),
                _name(principal),
                case_number[:40],
                principal.districts,
                entry,
                key,
                body_digest(kind, case_number[:40], entry),
            )
        except CaseFileError as error:
            return _refused(error)
        if not written.created:
            response.status_code = status.HTTP_200_OK
        return WrittenOut(id=written.id, duplicate=not written.created)

    @working.post(
        "/cases/{case_number}/notes",
        response_model=WrittenOut,
        status_code=status.HTTP_201_CREATED,
        summary="添加案件记录（内容加密保存，不离开受理服务）",
        description=(
            "记录内容加密保存，只通过本接口显示给办理案件的工作人员；发布的 case.note_added "
            "事件只说明谁在何时添加了记录。可带 Idempotency-Key：同一编号同一内容重复提交只"
            "保存一次（200），同一编号不同内容答复409。"
            '示例：{"text": "职工补充：10月工资条已拍照，下周送来。"}'
        ),
        responses={200: {"description": "同一请求编号已保存过，返回原记录"}, **_CASE_ERRORS},
    )
    async def add_note(
        case_number: str,
        body: NoteIn,
        response: Response,
        principal: Annotated[Principal, CASE_WORKER],
        idempotency_key: IdempotencyKey = None,
    ) -> WrittenOut | JSONResponse:
        return await write(case_number, body, idempotency_key, response, principal)

    @working.post(
        "/cases/{case_number}/contacts",
        response_model=WrittenOut,
        status_code=status.HTTP_201_CREATED,
        summary="记录联系职工（方式、结果、下次跟进日期）",
        description=(
            "回电、上门、微信消息等联系及其结果；备注加密保存，不上消息总线。"
            "可带 Idempotency-Key（同上）。"
            '示例：{"method": "call_back", "outcome": "reached", "remark": "约周三来窗口", '
            '"next_action_on": "2026-12-09"}'
        ),
        responses={200: {"description": "同一请求编号已保存过，返回原记录"}, **_CASE_ERRORS},
    )
    async def add_contact(
        case_number: str,
        body: ContactIn,
        response: Response,
        principal: Annotated[Principal, CASE_WORKER],
        idempotency_key: IdempotencyKey = None,
    ) -> WrittenOut | JSONResponse:
        return await write(case_number, body, idempotency_key, response, principal)

    @working.post(
        "/cases/{case_number}/assignment",
        response_model=AssignedOut,
        summary="指定承办人（承办本区无人承办的案件；督导/领导、分流员可改派）",
        description=(
            "assignee_id 为空表示本人承办：办理案件的工作人员都可以承办本区尚无承办人的案件。"
            "改派已有承办人的案件或指定他人承办，只限督导/领导和分流员，并须填写理由。"
            "可选的承办人见身份认证服务 GET /identity/api/v1/staff。"
            '示例：{"assignee_id": null, "reason": ""}'
        ),
        responses={403: {"description": "无权改派或指定他人"}, **_CASE_ERRORS},
    )
    async def assign(
        case_number: str, body: AssignmentIn, principal: Annotated[Principal, CASE_WORKER]
    ) -> AssignedOut | JSONResponse:
        try:
            assigned = await store().assign(
                acting(principal), _name(principal), case_number[:40], principal.districts, body
            )
        except CaseFileError as error:
            return _refused(error)
        return AssignedOut.model_validate(assigned)

    @working.put(
        "/cases/{case_number}/consent",
        response_model=ConsentOut,
        summary="记录职工的单独同意（个人信息保护法第二十三条；空列表为撤回）",
        description=(
            "职工单独同意将本案材料提供给哪些机构：court（人民法院）、labour_bureau"
            "（人社部门）、law_firm（律师事务所）。每次提交的是当前的全部同意，空列表表示"
            "撤回全部单独同意。"
            '示例：{"scopes": ["court", "law_firm"], "wording_version": "2026-01"}'
        ),
        responses=_CASE_ERRORS,
    )
    async def consent(
        case_number: str, body: ConsentPut, principal: Annotated[Principal, CASE_WORKER]
    ) -> ConsentOut | JSONResponse:
        try:
            scopes = await store().record_consent(
                acting(principal),
                case_number[:40],
                principal.districts,
                list(body.scopes),
                body.wording_version,
            )
        except CaseFileError as error:
            return _refused(error)
        return ConsentOut(
            case_number=case_number[:40], scopes=scopes, wording_version=body.wording_version
        )

    def shown(
        number: str, contact: EmployerContact | None, at: datetime | None
    ) -> EmployerContactShown:
        return EmployerContactShown(
            case_number=number,
            recorded=contact is not None,
            name=contact.name if contact else None,
            mobile=contact.mobile if contact else None,
            email=contact.email if contact else None,
            recorded_at=at,
        )

    @working.get(
        "/cases/{case_number}/employer-contact",
        response_model=EmployerContactShown,
        summary="用人单位联系人（已脱敏）",
        description="案件页显示的用人单位联系人：姓名、手机号、电子邮箱均已脱敏。"
        "示例：GET /api/v1/cases/440305-2026-000123/employer-contact",
        responses={404: _CASE_ERRORS[404]},
    )
    async def employer_contact(
        case_number: str, principal: Annotated[Principal, CASE_WORKER]
    ) -> EmployerContactShown | JSONResponse:
        try:
            found, at = await store().employer_contact(
                acting(principal), case_number[:40], principal.districts
            )
        except CaseFileError as error:
            return _refused(error)
        return shown(case_number[:40], found, at)

    @working.put(
        "/cases/{case_number}/employer-contact",
        response_model=EmployerContactShown,
        summary="记录或更正用人单位联系人（加密保存，用于调解通知和提示函）",
        description=(
            "联系人姓名、手机号、电子邮箱均可不填，但手机号和电子邮箱至少填一项；每次提交的是"
            "完整的联系人（替换原记录）。加密保存，答复与页面只显示脱敏后的内容；发布的 "
            "case.employer_contact_recorded 事件只说明可用的联系方式，不含任何联系人信息。"
            '示例：{"name": "李经理", "mobile": "139 1234 5678", '
            '"email": "hr@pengcheng.example.cn"}'
        ),
        responses=_CASE_ERRORS,
    )
    async def record_employer_contact(
        case_number: str, body: EmployerContactIn, principal: Annotated[Principal, CASE_WORKER]
    ) -> EmployerContactShown | JSONResponse:
        number = case_number[:40]
        try:
            at = await store().record_employer_contact(
                acting(principal), number, principal.districts, body
            )
        except CaseFileError as error:
            return _refused(error)
        contact = EmployerContact(body.name, body.mobile, body.email).masked()
        return shown(number, contact, at)

    @supervising.post(
        "/cases/{case_number}/void",
        response_model=VoidedOut,
        summary="作废误登记的案件（测试来电、重复登记等；督导/领导）",
        description=(
            "作废的案件不再计入任何统计、队列和报表，也不能再添加记录或指定承办人。"
            "以重复登记作废时须填写保留的案件编号。"
            '示例：{"reason": "duplicate", "duplicate_of": "440305-2026-000123"}'
        ),
        responses=_CASE_ERRORS,
    )
    async def void(
        case_number: str, body: VoidIn, principal: Annotated[Principal, SUPERVISOR]
    ) -> VoidedOut | JSONResponse:
        try:
            voided_at = await store().void(
                acting(principal),
                case_number[:40],
                principal.districts,
                body.reason,
                body.duplicate_of,
            )
        except CaseFileError as error:
            return _refused(error)
        return VoidedOut(
            case_number=case_number[:40],
            voided_at=voided_at,
            status=labels.status_label("voided"),
        )

    @working.post(
        "/case-searches",
        response_model=list[FoundCase],
        summary="查找案件（案件编号、手机号、职工姓名、用人单位或信用代码）",
        description=(
            "一个输入框：自动识别案件编号、手机号（空格、短横线、+86/0086、全角数字均可）、"
            "身份证号、统一社会信用代码、职工姓名，其余按用人单位名称的一部分查找。"
            "按手机号、身份证号或姓名查找时，须选择理由，记入审计，并与按手机号查找共用"
            f"次数限制（每人每 {search_limit.window_s // 60} 分钟 {search_limit.searches} 次，"
            "超过答复429）。每个结果带案件页地址。"
            '示例：{"query": "139 1234 5678", "reason": "progress_enquiry"}'
        ),
        responses={
            429: {"description": "查询过于频繁：message 说明何时可再查，Retry-After 为秒数"},
            422: _CASE_ERRORS[422],
        },
    )
    async def search(
        body: CaseSearchIn, principal: Annotated[Principal, CASE_WORKER]
    ) -> list[FoundCase] | JSONResponse:
        try:
            query = recognise(body.query)
        except UnreadableQuery as unreadable:
            return _refused(CaseFileError(422, str(unreadable), "query"))
        lookup = {
            "mobile": lambda v: mobile_index(v, cipher),
            "id_number": lambda v: cipher.blind_index(v, "id_number"),
            "worker_name": lambda v: name_index(v, cipher),
        }.get(query.kind, lambda v: v)(query.value)
        outcome = await store().search(
            acting(principal),
            query,
            lookup,
            principal.districts,
            labels.MOBILE_SEARCH_REASONS[body.reason],
            search_limit,
        )
        if outcome.retry_after_s is not None:
            minutes = max(1, ceil(outcome.retry_after_s / 60))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"按手机号、身份证号或姓名查询过于频繁：每 {search_limit.window_s // 60} 分钟"
                f"最多 {search_limit.searches} 次，请约 {minutes} 分钟后再查。",
                headers={"Retry-After": str(outcome.retry_after_s)},
            )
        return [FoundCase.model_validate(row) for row in outcome.cases]

    return [working, supervising]
