"""Events of the case file, which intake keeps from registration to closure.

Intake owns the case record (it holds the worker's personal data and the case's lifecycle
from the first call), so it also owns what people add to the case while working it: notes,
contacts with the worker, the person responsible (承办人), the worker's consent to share the
case outside the union, and voiding a case registered in error. Other services build their
views (the case page, the queues, the figures) from these events.

None of them carries free text: a note's or a contact's words stay encrypted in intake and
are read there by people working the case; the events say only that they exist, who wrote
them (the envelope's actor) and when.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import DistrictCode

ContactMethod = Literal["call_back", "visit", "wechat", "sms", "letter"]
ContactOutcome = Literal["reached", "no_answer", "wrong_number", "refused", "left_message"]
ConsentScope = Literal["court", "labour_bureau", "law_firm"]
VoidReason = Literal["test_call", "duplicate", "registered_in_error", "withdrawn_before_handling"]


@register
class CaseNoteAdded(EventPayload):
    """Someone working the case wrote a note (its text stays encrypted in intake)."""

    event_type: ClassVar[str] = "case.note_added"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    case_id: uuid.UUID
    case_number: str
    district_code: str = DistrictCode
    note_id: uuid.UUID
    author_name: str = Field(max_length=100, description="The staff member's display name")
    written_at: AwareDatetime


@register
class CaseContactRecorded(EventPayload):
    """The union contacted the worker (or tried to): how, with what result, what next."""

    event_type: ClassVar[str] = "case.contact_recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    case_id: uuid.UUID
    case_number: str
    district_code: str = DistrictCode
    contact_id: uuid.UUID
    method: ContactMethod
    outcome: ContactOutcome
    next_action_on: date | None = Field(
        default=None, description="When the responsible person should act next"
    )
    author_name: str = Field(max_length=100, description="The staff member's display name")
    contacted_at: AwareDatetime


@register
class CaseAssigned(EventPayload):
    """The case has a (new) responsible person (承办人).

    At registration by staff, the person who registered it; a case that arrived by WeChat
    has none until someone in its district takes it. ``assignee_id`` null means the case
    went back to its district's unassigned queue.
    """

    event_type: ClassVar[str] = "case.assigned"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    case_id: uuid.UUID
    case_number: str
    district_code: str = DistrictCode
    assignee_id: str | None = Field(description="The staff member's subject at identity")
    assignee_name: str | None = Field(default=None, max_length=100)
    previous_assignee_id: str | None = None
    reason: str | None = Field(
        default=None,
        max_length=200,
        description="Why it was reassigned (Chinese, no personal data)",
    )
    assigned_at: AwareDatetime


@register
class CaseConsentRecorded(EventPayload):
    """The worker's separate consent (PIPL Art. 23) to share the case outside the union.

    Carries the whole current set: ``scopes`` is every organisation the worker now agrees
    to (an empty list withdraws every earlier consent).
    """

    event_type: ClassVar[str] = "case.consent_recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "mediation")

    case_id: uuid.UUID
    case_number: str
    district_code: str = DistrictCode
    scopes: list[ConsentScope] = Field(description="Who may receive the case's personal data")
    wording_version: str = Field(description="The consent text read to the worker")
    obtained_by: Literal["intake_form", "case_page", "wechat"]
    recorded_at: AwareDatetime


@register
class CaseVoided(EventPayload):
    """A supervisor voided a case registered in error: it leaves every figure and queue."""

    event_type: ClassVar[str] = "case.voided"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "mediation", "legal_aid")

    case_id: uuid.UUID
    case_number: str
    district_code: str = DistrictCode
    reason: VoidReason
    duplicate_of: str | None = Field(
        default=None, description="The case number it duplicates (reason duplicate)"
    )
    voided_at: AwareDatetime


EmployerContactChannel = Literal["mobile", "email"]


@register
class CaseEmployerContactRecorded(EventPayload):
    """The employer's contact person (联系人) of a case was recorded or corrected, at
    registration or from the case page. Carries no value: the name, mobile and email stay
    encrypted in intake (notification asks for them at send time); the event says only by
    which channels the employer can now be reached."""

    event_type: ClassVar[str] = "case.employer_contact_recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "intake"
    consumers: ClassVar[tuple[str, ...]] = ("notification", "projection")

    case_id: uuid.UUID
    case_number: str
    district_code: str = DistrictCode
    channels: list[EmployerContactChannel] = Field(
        description="How the employer's contact can be reached now (mobile, email)"
    )
    has_name: bool = Field(description="A contact person's name is recorded")
    recorded_by: Literal["intake_form", "case_page"]
    recorded_at: AwareDatetime
