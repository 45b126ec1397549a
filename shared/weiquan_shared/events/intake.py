"""Events intake publishes."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import AwareDatetime, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import Category, Channel, DistrictCode, EmployerRef, WorkerRef


@register
class CaseReported(EventPayload):
    """Intake accepted a dispute from a worker (or a group of workers)."""

    event_type: ClassVar[str] = "case.reported"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = (
        "triage",
        "projection",
        "mediation",
        "notification",
        "legal_aid",
    )

    case_id: uuid.UUID
    case_number: str = Field(description="Human-readable, e.g. 440305-2026-000123")
    channel: Channel
    channel_ref: str = Field(description="Call id, WeChat message id or desk id")
    reported_at: AwareDatetime
    district_code: str = DistrictCode
    employer: EmployerRef
    workers: list[WorkerRef] = Field(min_length=1)
    summary: str = Field(description="What happened, with names, mobiles and ID numbers removed")
    demands: str | None = Field(
        default=None,
        description="What the workers ask for (LDA Art.12 matters in dispute), redacted likewise",
    )
    claim_amount: Decimal | None = Field(default=None, ge=0, description="Yuan")
    knew_of_infringement_on: date | None = None
    employment_ended_on: date | None = None


@register
class ConsultationRecorded(EventPayload):
    """A question answered on the spot (hotline or walk-in desk); no dispute was opened.

    Counted in the union's figures (来访来电咨询). Carries no personal data: intake asks
    for none, and removes mobiles and ID numbers from the question before it is published.
    No service consumes it yet; projection's figures are its intended reader.
    """

    event_type: ClassVar[str] = "consultation.recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    consultation_id: uuid.UUID
    channel: Channel
    channel_ref: str = Field(description="Call id or desk submission id")
    occurred_at: AwareDatetime
    district_code: str = DistrictCode
    topic: Category
    summary: str = Field(description="The question, with mobiles and ID numbers removed")
