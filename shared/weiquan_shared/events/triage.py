"""Events triage publishes."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import Category, Route, Urgency


class TriageReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(description="Stable rule id, e.g. urgency.group_dispute")
    text: str = Field(description="The reason as shown to people (Chinese)")


@register
class CaseTriaged(EventPayload):
    """Triage decided a case's category, urgency and route."""

    event_type: ClassVar[str] = "case.triaged"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    case_id: uuid.UUID
    case_number: str
    category: Category
    secondary_categories: list[Category] = Field(default_factory=list)
    urgency: Urgency
    route: Route
    reasons: list[TriageReason]
    triaged_at: AwareDatetime
