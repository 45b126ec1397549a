"""Intake's rules, free of I/O: what a valid report is and what leaves the service."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef
from weiquan_shared.pii import PiiCipher, redact_text

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_problem(id_number: str) -> str | None:
    """Why a citizen ID number (GB 11643-1999) is invalid, or None when it is valid."""
    if not re.fullmatch(r"\d{17}[\dX]", id_number):
        return "应为18位，前17位为数字，最后一位为数字或X"
    try:
        date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "出生日期部分无效"
    total = sum(int(d) * w for d, w in zip(id_number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != id_number[17]:
        return "校验码不正确，请核对"
    return None


def _not_in_future(value: date | datetime | None, label: str) -> None:
    if value is None:
        return
    today = datetime.now(UTC)
    if (isinstance(value, datetime) and value > today) or (
        not isinstance(value, datetime) and value > today.date()
    ):
        raise ValueError(f"{label}不能晚于今天")


class WorkerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(title="职工姓名", min_length=1, max_length=50, examples=["王建国"])
    mobile: str = Field(title="手机号", pattern=r"^1[3-9]\d{9}$", examples=["13912345678"])
    id_number: str | None = Field(default=None, title="身份证号", examples=["11010519491231002X"])
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


class EmployerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        title="用人单位名称", min_length=2, max_length=200, examples=["深圳市鹏程建筑劳务有限公司"]
    )
    credit_code: str | None = Field(
        default=None, title="统一社会信用代码", pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$"
    )
    district_code: str = Field(title="所在区县代码", pattern=r"^\d{6}$", examples=["440305"])
    industry: str | None = Field(default=None, title="行业", max_length=50, examples=["建筑业"])


class HotlineCallIn(BaseModel):
    """A 12351 hotline call, as the operator logs it while the worker is on the line."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    call_id: str = Field(
        title="来电流水号", min_length=1, max_length=64, examples=["12351-20261124-0001"]
    )
    called_at: AwareDatetime = Field(title="来电时间", examples=["2026-11-24T09:30:00+08:00"])
    operator_id: str = Field(title="接线员工号", min_length=1, max_length=32, examples=["op-017"])
    workers: list[WorkerIn] = Field(title="职工", min_length=1, max_length=500)
    employer: EmployerIn = Field(title="用人单位")
    description: str = Field(
        title="事情经过",
        min_length=5,
        max_length=5000,
        examples=["公司拖欠2026年8月至10月工资共计24000元，多次讨要未果。"],
    )
    claim_amount: Decimal | None = Field(
        default=None, title="诉求金额（元）", ge=0, max_digits=12, decimal_places=2
    )
    knew_of_infringement_on: date | None = Field(default=None, title="知道权利受侵害的日期")
    employment_ended_on: date | None = Field(default=None, title="劳动关系终止日期")

    @field_validator("called_at")
    @classmethod
    def _called_at_not_future(cls, value: datetime) -> datetime:
        _not_in_future(value, "来电时间")
        return value

    @field_validator("knew_of_infringement_on", "employment_ended_on")
    @classmethod
    def _dates_not_future(cls, value: date | None) -> date | None:
        _not_in_future(value, "日期")
        return value


def case_number(district_code: str, year: int, sequence: int) -> str:
    """Human-readable and unique: district, year, sequence within both (440305-2026-000123)."""
    return f"{district_code}-{year}-{sequence:06d}"


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker's keyed hashes: ``ref`` travels on Kafka, the others are search keys."""

    ref: str
    mobile_index: str
    id_number_index: str | None


def identify(worker: WorkerIn, cipher: PiiCipher) -> WorkerIdentity:
    return WorkerIdentity(
        ref=cipher.blind_index(worker.id_number or worker.mobile, "worker"),
        mobile_index=cipher.blind_index(worker.mobile, "mobile"),
        id_number_index=cipher.blind_index(worker.id_number, "id_number")
        if worker.id_number
        else None,
    )


def case_reported(
    call: HotlineCallIn,
    *,
    case_id: uuid.UUID,
    number: str,
    identities: list[WorkerIdentity],
) -> CaseReported:
    """The event other services see: pseudonymous workers, redacted description."""
    return CaseReported(
        case_id=case_id,
        case_number=number,
        channel="hotline",
        channel_ref=call.call_id,
        reported_at=call.called_at,
        district_code=call.employer.district_code,
        employer=EmployerRef(**call.employer.model_dump()),
        workers=[
            WorkerRef(
                worker_ref=identity.ref,
                is_migrant_worker=worker.is_migrant_worker,
                is_platform_worker=worker.is_platform_worker,
            )
            for worker, identity in zip(call.workers, identities, strict=True)
        ],
        summary=redact_text(call.description, tuple(w.name for w in call.workers)),
        claim_amount=call.claim_amount,
        knew_of_infringement_on=call.knew_of_infringement_on,
        employment_ended_on=call.employment_ended_on,
    )
