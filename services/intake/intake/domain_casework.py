"""The case file's rules, free of I/O: notes, contacts, the responsible person, consent to
share, voiding, and how a query typed into 查找案件 is read.

Intake owns these because it owns the case record and the worker's personal data from the
first call (README: the case file). Note text and a contact's remark are personal data in
free text: they are stored encrypted and never leave intake except to people through its
API; the events say only that they exist.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from intake.domain import (
    CURRENT_SHARING_CONSENT_VERSION,
    SHARING_CONSENT_WORDINGS,
    Text,
)
from intake.domain_identifiers import (
    credit_code_problem,
    id_number_problem,
    normalise_mobile,
    normalise_name,
)
from weiquan_shared.events.casework import ConsentScope, ContactMethod, ContactOutcome, VoidReason
from weiquan_shared.pii import PiiCipher

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_today(now: datetime | None = None) -> date:
    return (now or datetime.now(CHINA)).astimezone(CHINA).date()


def _known_sharing_wording(value: str) -> str:
    if value not in SHARING_CONSENT_WORDINGS:
        raise ValueError(
            f"没有这个版本的单独同意文本，当前版本为 {CURRENT_SHARING_CONSENT_VERSION}"
        )
    return value


SharingWordingVersion = Annotated[
    str,
    Field(title="单独同意文本版本", max_length=20, examples=[CURRENT_SHARING_CONSENT_VERSION]),
    AfterValidator(_known_sharing_wording),
]


def distinct_scopes(scopes: list[ConsentScope]) -> list[ConsentScope]:
    """Each organisation once, in the order of the contract."""
    scopes_order: tuple[ConsentScope, ...] = get_args(ConsentScope)
    return [s for s in scopes_order if s in scopes]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: Text = Field(
        title="记录内容",
        min_length=1,
        max_length=2000,
        examples=["职工补充：10月工资条已拍照，下周送来。"],
    )


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    method: ContactMethod = Field(title="联系方式", examples=["call_back"])
    outcome: ContactOutcome = Field(title="联系结果", examples=["reached"])
    remark: Text | None = Field(default=None, title="备注", max_length=1000)
    next_action_on: date | None = Field(default=None, title="下次跟进日期")

    @field_validator("remark")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("next_action_on")
    @classmethod
    def _not_past(cls, value: date | None) -> date | None:
        if value is not None and value < china_today():
            raise ValueError("不能早于今天，请选择今天或以后的日期")
        return value


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    assignee_id: Text | None = Field(
        default=None,
        title="承办人",
        max_length=200,
        description="承办人在身份认证服务中的标识（GET /identity/api/v1/staff）；为空表示本人承办",
    )
    assignee_name: Text | None = Field(default=None, title="承办人姓名", max_length=100)
    reason: Text | None = Field(
        default=None, title="理由", max_length=200, examples=["原承办人休假，转交本区同事"]
    )

    @field_validator("assignee_id", "assignee_name", "reason")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class ConsentPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[ConsentScope] = Field(
        title="同意提供给", max_length=3, description="空列表表示撤回全部单独同意"
    )
    wording_version: SharingWordingVersion


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: VoidReason = Field(title="作废理由", examples=["test_call"])
    duplicate_of: str | None = Field(
        default=None, title="重复的案件编号", max_length=40, examples=["440305-2026-000123"]
    )

    @field_validator("duplicate_of")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = unicodedata.normalize("NFKC", value).strip()
        if not CASE_NUMBER.fullmatch(value):
            raise ValueError("案件编号格式应如 440305-2026-000123")
        return value

    @model_validator(mode="after")
    def _duplicate_needs_original(self) -> VoidIn:
        if self.reason == "duplicate" and not self.duplicate_of:
            raise ValueError("以“重复登记”作废时，请填写与之重复的案件编号")
        if self.reason != "duplicate" and self.duplicate_of:
            raise ValueError("只有以“重复登记”作废时才填写重复的案件编号")
        return self


# ---------------------------------------------------------------- idempotency of notes

IDEMPOTENCY_KEY = re.compile(r"^[0-9A-Za-z_.:-]{1,64}$")


def body_digest(kind: str, case_number: str, body: BaseModel) -> str:
    """SHA-256 of what a note or contact says, on which case: the same key with another
    digest is a conflict, never a replay."""
    content: dict[str, Any] = {"kind": kind, "case_number": case_number, **body.model_dump()}
    canonical = json.dumps(
        content, default=_canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no canonical form for {type(value).__name__}")


# ---------------------------------------------------------------- assignment rules

# Who may give a case to someone else, or take it from its responsible person.
REASSIGNERS = frozenset({"supervisor", "triage_officer"})


class AssignmentRefused(Exception):
    """The assignment is not allowed (403) or changes nothing (409): message in Chinese."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Assignment:
    assignee_id: str
    assignee_name: str
    reason: str | None


def decide_assignment(
    body: AssignmentIn,
    *,
    me_id: str,
    me_name: str,
    my_role: str,
    current_assignee: str | None,
) -> Assignment:
    """Anyone working cases takes an unassigned case (assignee: me); giving it to someone
    else, or taking it from its responsible person, is for a supervisor or a triage officer,
    with a reason."""
    to_me = body.assignee_id is None or body.assignee_id == me_id
    target = me_id if to_me else str(body.assignee_id)
    if current_assignee == target:
        raise AssignmentRefused(409, "该案件的承办人已经是这位同事，无需重新指定")
    if to_me and current_assignee is None:
        return Assignment(me_id, me_name, body.reason)
    if my_role not in REASSIGNERS:
        raise AssignmentRefused(
            403,
            "只有督导/领导或分流员可以改派已有承办人的案件或指定他人承办；"
            "您可以承办本区尚无承办人的案件",
        )
    if not body.reason:
        raise AssignmentRefused(422, "改派或指定他人承办时请填写理由（不超过200字）")
    if not to_me and not body.assignee_name:
        raise AssignmentRefused(422, "请从本区工作人员名单中选择承办人（需要承办人姓名）")
    return Assignment(target, me_name if to_me else str(body.assignee_name), body.reason)


# ---------------------------------------------------------------- finding a case

CASE_NUMBER = re.compile(r"^\d{6}-\d{4}-\d{6}$")
_CREDIT_CODE_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_DIGITS_AND_PUNCTUATION = re.compile(r"^[\d\s+\-()]+$")
# A person's name: 2–6 Chinese characters (a middle dot between parts allowed), or a name
# in Latin letters of two words at most. Anything longer, or naming a kind of organisation,
# is read as an employer.
_CHINESE_NAME = re.compile(r"^[\u3400-\u9fff]{1,5}(?:·[\u3400-\u9fff]{1,8}){0,2}$")
_LATIN_NAME = re.compile(r"^[A-Za-z]+(?: [A-Za-z]+)?$")
_ORGANISATION_WORDS = (
    "公司", "厂", "店", "中心", "集团", "有限", "合作社", "工作室", "酒店", "餐", "学校",
    "医院", "超市", "商行", "工程", "项目", "物业", "科技", "劳务", "建筑", "部", "所", "局",
)  # fmt: skip

SearchKind = Literal[
    "case_number", "mobile", "id_number", "worker_name", "credit_code", "employer_name"
]
PERSONAL_KINDS = frozenset({"mobile", "id_number", "worker_name"})


@dataclass(frozen=True)
class Query:
    """What a query typed into 查找案件 was read as, and the value to look up."""

    kind: SearchKind
    value: str

    @property
    def personal(self) -> bool:
        """A search by a worker's personal data: audited and rate-limited."""
        return self.kind in PERSONAL_KINDS


class UnreadableQuery(ValueError):
    pass


def recognise(raw: str) -> Query:
    """Read a query as a case number, a mobile (as people type it), an ID number, a credit
    code, a worker's name or (otherwise) part of an employer's name."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise UnreadableQuery("请输入案件编号、手机号、职工姓名、用人单位名称或统一社会信用代码")
    if CASE_NUMBER.fullmatch(text):
        return Query("case_number", text)
    compact = re.sub(r"[\s\-]", "", text).upper()
    if len(compact) == 18 and id_number_problem(compact) is None:
        return Query("id_number", compact)
    if _DIGITS_AND_PUNCTUATION.fullmatch(text):
        mobile = normalise_mobile(text)
        if mobile is not None:
            return Query("mobile", mobile)
        if len(compact) == 18 and credit_code_problem(compact) is None:
            return Query("credit_code", compact)
        raise UnreadableQuery(
            "这串数字不是有效的中国大陆手机号、身份证号或统一社会信用代码，"
            "也不是案件编号（格式如 440305-2026-000123），请核对"
        )
    if _CREDIT_CODE_SHAPE.fullmatch(compact):
        return Query("credit_code", compact)
    name = normalise_name(text)
    if (_CHINESE_NAME.fullmatch(name) or _LATIN_NAME.fullmatch(text)) and not any(
        word in name for word in _ORGANISATION_WORDS
    ):
        return Query("worker_name", name)
    if len(text) < 2:
        raise UnreadableQuery("用人单位名称请至少输入2个字")
    if len(text) > 200:
        raise UnreadableQuery("查询内容过长，请输入不超过200字")
    return Query("employer_name", text)


def name_index(name: str, cipher: PiiCipher) -> str:
    """The blind index of a worker's name (normalised: NFKC, no spaces)."""
    return cipher.blind_index(normalise_name(name), "name")
