"""Intake's rules, free of I/O: what a valid report is and what leaves the service.

Every channel ends in the same :class:`CaseReport`: the hotline form (:class:`HotlineCallIn`),
the walk-in desk (:class:`WalkInGroupIn`) and the WeChat conversation (``domain_wechat``)
each add their own channel reference and time to one :class:`DisputeIn`. Oral applications
(LDA Art.12) must record the applicant's details, the matters in dispute (``demands``), the
grounds (``description``) and the time, so all four are required on every channel.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from intake.domain_identifiers import (
    MOBILE_SHAPE,
    compact_mobile,
    credit_code_problem,
    id_number_problem,
    normalise_mobile,
    normalise_name,
)
from weiquan_shared.events import (
    CaseReported,
    Category,
    Channel,
    ConsultationRecorded,
    EmployerRef,
    WorkerRef,
)
from weiquan_shared.events.casework import ConsentScope
from weiquan_shared.labels import district_problem
from weiquan_shared.pii import PiiCipher
from weiquan_shared.redaction import redact_text

# The consent wording read to (or shown to) the worker, by version. A new wording is a new
# version; the version given is stored with each case, so what a worker agreed to is known.
CONSENT_WORDINGS: dict[str, str] = {
    "2026-01": (
        "为受理和处理您反映的劳动争议，工会将收集您的姓名、手机号、身份证号、用人单位和"
        "您反映的情况，加密保存，仅用于本案的受理、调解、法律援助和工会统计。"
        "未经您单独同意，不会提供给法院、仲裁委、人社部门或律师。"
        "您可以随时要求查阅、更正或删除您的信息。"
    ),
}
CURRENT_CONSENT_VERSION = "2026-01"

# The separate consent (PIPL Art.23) to give the case to a court, the labour bureau or a law
# firm, read beside the wording above; versioned the same way.
SHARING_CONSENT_WORDINGS: dict[str, str] = {
    "2026-01": (
        "经您单独同意，工会可以将本案材料（含您的姓名、手机号、身份证号和您反映的情况）"
        "提供给您选定的机构：人民法院（诉调对接、立案）、人力资源和社会保障部门"
        "（劳动保障监察、劳动人事争议仲裁）、律师事务所（法律援助律师）。"
        "未选定的机构不会收到您的个人信息；您可以随时撤回同意，撤回不影响此前已提供的材料。"
    ),
}
CURRENT_SHARING_CONSENT_VERSION = "2026-01"

# The earliest date any field may hold: older ones are typing mistakes.
EARLIEST = date(1950, 1, 1)


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 and c not in "\n\t\r" for c in value):
        raise ValueError("含有无法识别的控制字符，请删除后重新输入")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]


def _known_district(code: str) -> str:
    problem = district_problem(code)
    if problem:
        raise ValueError(problem)
    return code


DistrictCode = Annotated[
    str,
    Field(title="所在区县代码", pattern=r"^\d{6}$", examples=["440305"]),
    AfterValidator(_known_district),
]


def check_date(value: date | datetime, label: str, now: datetime | None = None) -> None:
    """Dates must not be in the future (nor before 1950, which is a typing mistake)."""
    now = now or datetime.now(UTC)
    if isinstance(value, datetime):
        if value > now:
            raise ValueError(f"{label}不能晚于现在")
        if value.date() < EARLIEST:
            raise ValueError(f"{label}不能早于{EARLIEST.year}年")
        return
    if value > now.date():
        raise ValueError(f"{label}不能晚于今天")
    if value < EARLIEST:
        raise ValueError(f"{label}不能早于{EARLIEST.year}年")


def _mobile(value: str) -> str:
    normalised = normalise_mobile(value)
    if normalised is None:
        if not MOBILE_SHAPE.fullmatch(compact_mobile(value)):
            raise ValueError("格式不正确，应为11位中国大陆手机号，如 139 1234 5678")
        raise ValueError("不是在用的中国大陆手机号段，请核对")
    return normalised


Mobile = Annotated[
    str,
    Field(
        title="手机号",
        max_length=40,
        examples=["13912345678", "139 1234 5678", "+86 139-1234-5678"],
        description="中国大陆手机号，可含空格、短横线、+86 或全角数字；保存为 +86 开头的国际格式",
    ),
    AfterValidator(_mobile),
]

HouseholdType = Literal["local_urban", "local_rural", "nonlocal_urban", "nonlocal_rural"]
HOUSEHOLD_TYPES: dict[str, str] = {
    "local_urban": "本地城镇户籍",
    "local_rural": "本地农业户籍",
    "nonlocal_urban": "外地城镇户籍",
    "nonlocal_rural": "外地农业户籍",
}


class WorkerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(title="职工姓名", min_length=1, max_length=50, examples=["王建国"])
    mobile: Mobile
    id_number: str | None = Field(default=None, title="身份证号", examples=["11010519491231002X"])
    household_type: HouseholdType | None = Field(
        default=None, title="户籍类型", examples=["nonlocal_rural"]
    )
    occupation: Text | None = Field(default=None, title="工种/岗位", max_length=50)
    is_migrant_worker: bool = Field(default=False, title="是否农民工")
    is_platform_worker: bool = Field(default=False, title="是否新就业形态劳动者")

    @field_validator("id_number")
    @classmethod
    def _check_id_number(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.upper()
        problem = id_number_problem(value)
        if problem:
            raise ValueError(problem)
        return value


EMAIL_SHAPE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _email(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if not EMAIL_SHAPE.fullmatch(value):
        raise ValueError("电子邮箱格式不正确，应如 hr@pengcheng.example.cn")
    local, _, domain = value.partition("@")
    return f"{local}@{domain.lower()}"


Email = Annotated[
    str,
    Field(title="电子邮箱", max_length=254, examples=["hr@pengcheng.example.cn"]),
    AfterValidator(_email),
]


class EmployerContactIn(BaseModel):
    """Whom the union writes to at the employer (联系人): a session's invitation, the union's
    reminder letter. Every field is optional, but a mobile or an email is needed to reach
    anyone. Stored encrypted in intake; asked for by notification at send time."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text | None = Field(default=None, title="联系人姓名", max_length=50, examples=["李经理"])
    mobile: Mobile | None = Field(default=None, title="联系人手机号")
    email: Email | None = Field(default=None, title="联系人电子邮箱")

    @field_validator("name", "mobile", "email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _reachable(self) -> EmployerContactIn:
        if self.mobile is None and self.email is None:
            raise ValueError("请至少填写用人单位联系人的手机号或电子邮箱中的一项")
        return self

    def channels(self) -> list[Literal["mobile", "email"]]:
        found: list[Literal["mobile", "email"]] = []
        if self.mobile:
            found.append("mobile")
        if self.email:
            found.append("email")
        return found


class EmployerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(
        title="用人单位名称", min_length=2, max_length=200, examples=["深圳市鹏程建筑劳务有限公司"]
    )
    credit_code: str | None = Field(
        default=None,
        title="统一社会信用代码",
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        examples=["91350100M000100Y43"],
        description="知道时填写；校验位不符只提示，不阻止登记",
    )
    address: Text | None = Field(default=None, title="单位地址", max_length=200)
    district_code: DistrictCode
    industry: Text | None = Field(default=None, title="行业", max_length=50, examples=["建筑业"])
    contact: EmployerContactIn | None = Field(
        default=None,
        title="用人单位联系人",
        description="知道时填写：联系人姓名、手机号、电子邮箱（至少一种联系方式），"
        "用于通知调解时间地点和工会的提示函",
    )

    @field_validator("credit_code", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if value == "":
            return None
        return value.upper() if isinstance(value, str) else value


class ConsentIn(BaseModel):
    """The worker's consent to processing personal data, with when and to which wording."""

    model_config = ConfigDict(extra="forbid")

    agreed: bool = Field(title="职工同意", description="职工已听取（或阅读）告知内容并同意")
    wording_version: str = Field(
        title="告知文本版本", examples=[CURRENT_CONSENT_VERSION], max_length=20
    )
    given_at: AwareDatetime = Field(title="同意时间", examples=["2026-11-24T09:31:00+08:00"])

    @field_validator("agreed")
    @classmethod
    def _must_agree(cls, value: bool) -> bool:
        if not value:
            raise ValueError("须经职工同意处理个人信息后才能登记；不同意的可按咨询登记")
        return value

    @field_validator("wording_version")
    @classmethod
    def _known_wording(cls, value: str) -> str:
        if value not in CONSENT_WORDINGS:
            raise ValueError(f"没有这个版本的告知文本，当前版本为 {CURRENT_CONSENT_VERSION}")
        return value

    @field_validator("given_at")
    @classmethod
    def _given_at(cls, value: datetime) -> datetime:
        check_date(value, "同意时间")
        return value


class DisputeIn(BaseModel):
    """What every channel records about a dispute (LDA Art.12: who, what, why, when)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    workers: list[WorkerIn] = Field(title="职工", min_length=1, max_length=500)
    employer: EmployerIn = Field(title="用人单位")
    description: Text = Field(
        title="事情经过",
        min_length=5,
        max_length=5000,
        examples=["公司拖欠2026年8月至10月工资共计24000元，多次讨要未果。"],
    )
    demands: Text = Field(
        title="诉求事项",
        min_length=2,
        max_length=1000,
        examples=["要求支付拖欠的工资24000元"],
    )
    claim_amount: Decimal | None = Field(
        default=None, title="诉求金额（元）", ge=0, max_digits=12, decimal_places=2
    )
    knew_of_infringement_on: date | None = Field(default=None, title="知道权利受侵害的日期")
    employment_ended_on: date | None = Field(default=None, title="劳动关系终止日期")
    consent: ConsentIn = Field(title="个人信息处理同意")
    sharing_consent: list[ConsentScope] = Field(
        default_factory=list,
        title="单独同意提供给",
        max_length=3,
        description="职工单独同意（个人信息保护法第二十三条）提供案件材料的机构，可不选",
    )
    sharing_consent_wording_version: str = Field(
        default=CURRENT_SHARING_CONSENT_VERSION,
        title="单独同意文本版本",
        max_length=20,
        description="向职工宣读（出示）的单独同意文本版本",
    )

    @field_validator("sharing_consent_wording_version")
    @classmethod
    def _known_sharing_wording(cls, value: str) -> str:
        if value not in SHARING_CONSENT_WORDINGS:
            raise ValueError(
                f"没有这个版本的单独同意文本，当前版本为 {CURRENT_SHARING_CONSENT_VERSION}"
            )
        return value

    @field_validator("knew_of_infringement_on")
    @classmethod
    def _knew_on(cls, value: date | None) -> date | None:
        if value is not None:
            check_date(value, "知道权利受侵害的日期")
        return value

    @field_validator("employment_ended_on")
    @classmethod
    def _ended_on(cls, value: date | None) -> date | None:
        if value is not None:
            check_date(value, "劳动关系终止日期")
        return value


class HotlineCallIn(DisputeIn):
    """A 12351 hotline call, as the operator logs it while the worker is on the line."""

    call_id: str = Field(
        title="来电流水号",
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_.:-]+$",
        examples=["12351-20261124-0001"],
    )
    called_at: AwareDatetime = Field(title="来电时间", examples=["2026-11-24T09:30:00+08:00"])

    @field_validator("called_at")
    @classmethod
    def _called_at(cls, value: datetime) -> datetime:
        check_date(value, "来电时间")
        return value


class WalkInGroupIn(DisputeIn):
    """Workers registered in person at a workers' service centre: one or a whole group."""

    desk_submission_id: uuid.UUID = Field(
        title="登记单号",
        description="窗口页面打开时生成；同一登记单重复提交只登记一次",
        examples=["0b6f3c0e-8d1a-4f5e-9a51-6f2d1f0b7c11"],
    )
    visited_at: AwareDatetime = Field(title="来访时间", examples=["2026-11-24T10:05:00+08:00"])
    centre: Text = Field(
        title="服务中心", min_length=2, max_length=100, examples=["南山区职工服务中心"]
    )

    @field_validator("visited_at")
    @classmethod
    def _visited_at(cls, value: datetime) -> datetime:
        check_date(value, "来访时间")
        return value


ConsultationChannel = Literal["hotline", "walk_in"]


class ConsultationIn(BaseModel):
    """A question answered on the spot: counted in the union's figures, no dispute opened.

    No name, mobile or ID number is asked for (only what the figures need); mobiles and ID
    numbers a caller mentions are removed from the text before it is stored.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: ConsultationChannel = Field(title="渠道", examples=["hotline"])
    channel_ref: str = Field(
        title="来电流水号或登记单号",
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_.:-]+$",
        examples=["12351-20261124-0002"],
    )
    occurred_at: AwareDatetime = Field(title="咨询时间", examples=["2026-11-24T09:40:00+08:00"])
    district_code: DistrictCode
    topic: Category = Field(title="咨询类别", examples=["no_written_contract"])
    question: Text = Field(
        title="咨询内容",
        min_length=2,
        max_length=2000,
        examples=["入职三个月公司没签劳动合同，能否要求双倍工资？"],
    )
    answer: Text = Field(
        title="答复要点",
        min_length=2,
        max_length=2000,
        examples=["告知劳动合同法第八十二条：自用工满一个月次日起可主张二倍工资。"],
    )

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at(cls, value: datetime) -> datetime:
        check_date(value, "咨询时间")
        return value


def submission_digest(submission: DisputeIn | ConsultationIn) -> str:
    """SHA-256 of what a submission says, to tell a retry from a reused idempotency key.

    The consent time is left out: the page stamps it when the form is sent, so an honest
    retry of the same form differs there and nowhere else. The rest is compared as
    validated (mobiles as ``+86…``, times in UTC, amounts without trailing zeros), so two
    spellings of the same content are the same submission.
    """
    excluded: dict[str, Any] = {"consent": {"given_at"}}
    if isinstance(submission, DisputeIn) and not submission.sharing_consent:
        # Submissions without a separate consent hash as they did before it existed.
        excluded |= {"sharing_consent": True, "sharing_consent_wording_version": True}
    if isinstance(submission, DisputeIn) and submission.employer.contact is None:
        # Likewise without an employer's contact.
        excluded |= {"employer": {"contact"}}
    content = submission.model_dump(exclude=excluded)
    canonical = json.dumps(
        content, default=_canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


@dataclass(frozen=True)
class CaseReport:
    """A dispute from any channel, ready to be stored and announced.

    ``digest`` (:func:`submission_digest`) is set for channels whose reference is a client's
    idempotency key (hotline, walk-in); WeChat messages are deduplicated per OpenID instead.
    """

    channel: Channel
    channel_ref: str
    reported_at: datetime
    recorded_by: str | None
    dispute: DisputeIn
    centre: str | None = None
    digest: str | None = None

    @classmethod
    def from_hotline(cls, call: HotlineCallIn, recorded_by: str) -> CaseReport:
        return cls(
            "hotline",
            call.call_id,
            call.called_at,
            recorded_by,
            call,
            digest=submission_digest(call),
        )

    @classmethod
    def from_walk_in(cls, group: WalkInGroupIn, recorded_by: str) -> CaseReport:
        return cls(
            "walk_in",
            str(group.desk_submission_id),
            group.visited_at,
            recorded_by,
            group,
            centre=group.centre,
            digest=submission_digest(group),
        )


@dataclass(frozen=True)
class FieldWarning:
    """Something the clerk should check; the case is registered all the same."""

    field: str
    message: str


def warnings_for(dispute: DisputeIn) -> list[FieldWarning]:
    warnings = []
    code = dispute.employer.credit_code
    if code:
        problem = credit_code_problem(code)
        if problem:
            warnings.append(FieldWarning("employer.credit_code", f"统一社会信用代码：{problem}"))
    return warnings


def case_number(district_code: str, year: int, sequence: int) -> str:
    """Human-readable and unique: district, year, sequence within both (440305-2026-000123)."""
    return f"{district_code}-{year}-{sequence:06d}"


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker's keyed hashes: ``ref`` travels on Kafka, the others are search keys."""

    ref: str
    mobile_index: str
    id_number_index: str | None
    name_index: str


def identify(worker: WorkerIn, cipher: PiiCipher) -> WorkerIdentity:
    return WorkerIdentity(
        ref=cipher.blind_index(worker.id_number or worker.mobile, "worker"),
        mobile_index=mobile_index(worker.mobile, cipher),
        id_number_index=cipher.blind_index(worker.id_number, "id_number")
        if worker.id_number
        else None,
        name_index=cipher.blind_index(normalise_name(worker.name), "name"),
    )


def mobile_index(normalised_mobile: str, cipher: PiiCipher) -> str:
    """The blind index of a mobile already in ``+86…`` form."""
    return cipher.blind_index(normalised_mobile, "mobile")


def case_reported(
    report: CaseReport,
    *,
    case_id: uuid.UUID,
    number: str,
    identities: list[WorkerIdentity],
) -> CaseReported:
    """The event other services see: pseudonymous workers, redacted free text."""
    dispute = report.dispute
    names = tuple(w.name for w in dispute.workers)
    return CaseReported(
        case_id=case_id,
        case_number=number,
        channel=report.channel,
        channel_ref=report.channel_ref,
        reported_at=report.reported_at,
        district_code=dispute.employer.district_code,
        employer=EmployerRef(
            name=dispute.employer.name,
            credit_code=dispute.employer.credit_code,
            district_code=dispute.employer.district_code,
            industry=dispute.employer.industry,
        ),
        workers=[
            WorkerRef(
                worker_ref=identity.ref,
                is_migrant_worker=worker.is_migrant_worker,
                is_platform_worker=worker.is_platform_worker,
            )
            for worker, identity in zip(dispute.workers, identities, strict=True)
        ],
        summary=redact_text(dispute.description, names),
        demands=redact_text(dispute.demands, names),
        claim_amount=dispute.claim_amount,
        knew_of_infringement_on=dispute.knew_of_infringement_on,
        employment_ended_on=dispute.employment_ended_on,
    )


def consultation_recorded(
    consultation: ConsultationIn, *, consultation_id: uuid.UUID
) -> ConsultationRecorded:
    return ConsultationRecorded(
        consultation_id=consultation_id,
        channel=consultation.channel,
        channel_ref=consultation.channel_ref,
        occurred_at=consultation.occurred_at,
        district_code=consultation.district_code,
        topic=consultation.topic,
        summary=redact_text(consultation.question),
    )
