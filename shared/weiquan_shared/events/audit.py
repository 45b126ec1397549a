"""The audit trail's event: who did what to which case, and how it ended.

Every service publishes it through its outbox (``UnitOfWork.audit``, and automatically for
every event a person causes); the audit service keeps the records append-only. It names
people by their staff subject (the envelope's actor) and cases by id and number, never by
a worker's personal data: a reveal says *which field* was shown, not the value.
"""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from weiquan_shared.envelope import EventPayload, register

ANY_SERVICE = "*"
AuditOutcome = Literal["success", "denied", "failed"]


@register
class AuditRecorded(EventPayload):
    """A person changed state or read personal data (the actor is the envelope's)."""

    event_type: ClassVar[str] = "audit.recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = ANY_SERVICE
    consumers: ClassVar[tuple[str, ...]] = ("audit",)

    record_id: uuid.UUID
    service: str = Field(description="The service where it happened")
    action: str = Field(
        max_length=100,
        description="What was done: an event type for a state change (case.reported, "
        "case.retriaged, …) or a read (pii.revealed, case.searched_by_mobile, "
        "report.downloaded)",
    )
    outcome: AuditOutcome = "success"
    case_id: uuid.UUID | None = None
    case_number: str | None = Field(default=None, max_length=40)
    district_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    reason: str | None = Field(
        default=None, max_length=50, description="The reason code chosen for a read"
    )
    detail: str | None = Field(
        default=None,
        max_length=200,
        description="What exactly, without personal data (a field name, an event id)",
    )
    occurred_at: AwareDatetime
