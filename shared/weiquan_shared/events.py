"""Event payloads exchanged between services: the contracts.

Each class is one (event type, schema version). A change that old consumers cannot read
is a new class with ``schema_version`` + 1, registered beside the old one. The published
JSON Schemas in ``contracts/`` are generated from these classes (``make contracts``) and a
test fails when the two drift apart.

Personal data never appears here in plain text: workers are named by a keyed hash
(``worker_ref``) and free text is redacted by intake before it is published.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from weiquan_shared.envelope import EventPayload, register

Channel = Literal["hotline", "wechat", "walk_in"]
Category = Literal[
    "wage_arrears",
    "termination",
    "no_written_contract",
    "overtime",
    "social_insurance",
    "work_injury",
    "female_protection",
    "platform_work",
    "other",
]
Urgency = Literal["critical", "urgent", "normal"]
Route = Literal["consultation", "mediation", "legal_aid", "referral"]

DistrictCode = Field(pattern=r"^\d{6}$", description="Administrative division code (GB/T 2260)")


class EmployerRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    credit_code: str | None = Field(default=None, description="Unified social credit code")
    district_code: str = DistrictCode
    industry: str | None = None


class WorkerRef(BaseModel):
    """A worker as other services see one: a pseudonym and the facts that drive routing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    worker_ref: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="Keyed hash of the worker's ID number or mobile"
    )
    is_migrant_worker: bool = False
    is_platform_worker: bool = False


@register
class CaseReported(EventPayload):
    """Intake accepted a dispute from a worker (or a group of workers)."""

    event_type: ClassVar[str] = "case.reported"
    schema_version: ClassVar[int] = 1

    case_id: uuid.UUID
    case_number: str = Field(description="Human-readable, e.g. 440305-2026-000123")
    channel: Channel
    channel_ref: str = Field(description="Call id, WeChat message id or desk id")
    reported_at: AwareDatetime
    district_code: str = DistrictCode
    employer: EmployerRef
    workers: list[WorkerRef] = Field(min_length=1)
    summary: str = Field(description="What happened, with names, mobiles and ID numbers removed")
    claim_amount: Decimal | None = Field(default=None, ge=0, description="Yuan")
    knew_of_infringement_on: date | None = None
    employment_ended_on: date | None = None


class TriageReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(description="Stable rule id, e.g. urgency.group_dispute")
    text: str = Field(description="The reason as shown to people (Chinese)")


@register
class CaseTriaged(EventPayload):
    """Triage decided a case's category, urgency and route."""

    event_type: ClassVar[str] = "case.triaged"
    schema_version: ClassVar[int] = 1

    case_id: uuid.UUID
    case_number: str
    category: Category
    secondary_categories: list[Category] = Field(default_factory=list)
    urgency: Urgency
    route: Route
    reasons: list[TriageReason]
    triaged_at: AwareDatetime


EVENT_TYPES: tuple[type[EventPayload], ...] = (CaseReported, CaseTriaged)
