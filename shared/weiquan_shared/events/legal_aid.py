"""Events the legal-aid service publishes (subject: the application id).

An *application* (法律援助申请) is one worker case asking for union legal aid (法律援助法,
applied to trade-union legal aid by Art. 68). It comes from triage's routing (route
``legal_aid``, provisional aid when a limitation period is fewer than 7 days away), from a
failed or expired mediation, or from a legal-aid officer's desk (walk-in).

Lifecycle:

- ``legal_aid.applied``: an application was opened (``source`` says from where; one opened
  from a mediation waits for the officer to confirm the worker wants aid).
- ``legal_aid.documents_requested``: the missing documents were asked for, once (Art. 43);
  an unanswered request past its deadline closes the application as withdrawn.
- ``legal_aid.granted`` / ``legal_aid.denied``: the decision, with the ids of the rules that
  decided it (rules are data, ``services/legal_aid/legal_aid/eligibility.json``).
- ``legal_aid.provisional_started``: aid given before the review (Art. 44).
- ``legal_aid.lawyer_assigned`` / ``legal_aid.lawyer_declined``: the panel lawyer.
- ``legal_aid.step_recorded``: arbitration filed / accepted, hearing, award, litigation,
  enforcement, each listing its documents.
- ``legal_aid.closed``: amounts awarded and recovered, closure reason, satisfaction when
  known; ``legal_aid.satisfaction_recorded`` when the worker answers after closure.

No personal data: workers by ``worker_ref``, lawyers by their panel code, reasons as rule
ids and codes; the Chinese text people read is built by the service from those codes.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import Category, DistrictCode

LegalAidMatter = Literal[
    "labour_remuneration",
    "work_injury",
    "social_insurance",
    "employment_relationship",
    "economic_compensation",
    "other_labour",
]
ApplicationSource = Literal["triage", "mediation", "walk_in"]
ClosureReason = Literal[
    "concluded_award",
    "concluded_settlement",
    "concluded_judgment",
    "concluded_enforcement",
    "withdrawn_documents",
    "withdrawn_by_worker",
    "denied",
    "declined_by_worker",
    "voided",
    "terminated",
]
StepKind = Literal[
    "arbitration_filed",
    "arbitration_accepted",
    "arbitration_rejected",
    "hearing",
    "award_extended",
    "award",
    "settlement",
    "litigation_filed",
    "judgment",
    "enforcement_applied",
    "enforcement_concluded",
]
DeclineReason = Literal["conflict_of_interest", "capacity", "expertise", "unavailable", "other"]
LawyerKind = Literal["union_adviser", "contracted_firm"]

ApplicationNumber = Field(description="Human-readable, e.g. FY-440305-2026-000123")


class LegalAidEvent(EventPayload):
    """What every legal-aid event names: the application, its case, its district."""

    application_id: uuid.UUID
    application_number: str = ApplicationNumber
    district_code: str = DistrictCode
    case_id: uuid.UUID | None = Field(description="The worker case; null for a walk-in")
    case_number: str | None = None


class RuleRef(BaseModel):
    """A versioned eligibility rule that decided (part of) a decision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(description="e.g. matter.art31_labour_remuneration")
    effective_from: date
    verified: bool = Field(description="Whether the rule was read in its official text")


class DocumentRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z_]{2,40}$", description="Document type code")
    title: str = Field(max_length=60, description="Its name (Chinese), e.g. 仲裁裁决书")


@register
class LegalAidApplied(LegalAidEvent):
    """A legal-aid application was opened."""

    event_type: ClassVar[str] = "legal_aid.applied"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    source: ApplicationSource
    mediation_id: uuid.UUID | None = Field(default=None, description="The mediation it came from")
    category: Category | None = Field(default=None, description="Triage's category of the case")
    matter: LegalAidMatter
    worker_refs: list[str] = Field(description="Keyed hashes of the applying workers")
    awaiting_confirmation: bool = Field(
        description="Opened from a mediation: the officer confirms the worker wants aid"
    )
    provisional: bool = Field(description="Fewer than 7 days left before limitation (Art. 44)")
    received_on: date
    decision_due_on: date = Field(description="7 days from receipt (Art. 43)")
    applied_at: AwareDatetime


@register
class LegalAidDocumentsRequested(LegalAidEvent):
    """Missing documents were asked for, once (Art. 43)."""

    event_type: ClassVar[str] = "legal_aid.documents_requested"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    missing: list[DocumentRef] = Field(min_length=1)
    worker_refs: list[str]
    due_on: date = Field(description="Unanswered by this day, the application is withdrawn")
    requested_at: AwareDatetime


@register
class LegalAidGranted(LegalAidEvent):
    """Legal aid was granted, by the rules named."""

    event_type: ClassVar[str] = "legal_aid.granted"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    rules: list[RuleRef] = Field(min_length=1)
    matter: LegalAidMatter
    worker_refs: list[str]
    after_provisional: bool = Field(description="Confirms aid already given provisionally")
    decided_on: date
    within_deadline: bool = Field(description="Decided within 7 days of receipt")
    assign_due_on: date = Field(description="3 days from the grant (Art. 43)")
    granted_at: AwareDatetime


@register
class LegalAidDenied(LegalAidEvent):
    """Legal aid was refused: the rules and reason codes, and where to ask for review."""

    event_type: ClassVar[str] = "legal_aid.denied"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    rules: list[RuleRef] = Field(min_length=1)
    reason_codes: list[str] = Field(min_length=1)
    matter: LegalAidMatter
    worker_refs: list[str]
    review_body: Literal["justice_bureau"] = Field(
        default="justice_bureau",
        description="The objection (异议) goes to the justice bureau that set up the agency",
    )
    review_rule_id: str = Field(description="The rule stating how to ask for review")
    after_provisional: bool
    decided_on: date
    within_deadline: bool
    denied_at: AwareDatetime


@register
class LegalAidProvisionalStarted(LegalAidEvent):
    """Aid given before the review: fewer than 7 days left before a limitation (Art. 44)."""

    event_type: ClassVar[str] = "legal_aid.provisional_started"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    rule: RuleRef
    limitation_due_on: date
    days_left: int
    review_due_on: date = Field(description="The review still falls due (Art. 43)")
    started_at: AwareDatetime


@register
class LegalAidLawyerAssigned(LegalAidEvent):
    """A panel lawyer was assigned (the one with the lightest load, without conflict)."""

    event_type: ClassVar[str] = "legal_aid.lawyer_assigned"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    lawyer_code: str = Field(description="Panel code, e.g. LS-440305-003")
    lawyer_kind: LawyerKind
    firm_code: str | None = None
    lawyer_subject: str | None = Field(
        default=None,
        description="The lawyer's account (subject) at identity, for notification to reach "
        "the lawyer; null when the panel entry has no account (and in events before it)",
    )
    skipped_for_conflict: list[str] = Field(
        default_factory=list,
        description="Panel codes passed over: they or their firm acted for this employer",
    )
    provisional: bool
    assigned_on: date
    within_deadline: bool = Field(description="Within 3 days of the grant")
    assigned_at: AwareDatetime


@register
class LegalAidLawyerDeclined(LegalAidEvent):
    """The assigned lawyer declined; the application is reassigned."""

    event_type: ClassVar[str] = "legal_aid.lawyer_declined"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    lawyer_code: str
    reason: DeclineReason
    declined_at: AwareDatetime


@register
class LegalAidStepRecorded(LegalAidEvent):
    """A step of the proceedings, with the documents it produced or relied on."""

    event_type: ClassVar[str] = "legal_aid.step_recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    step: StepKind
    occurred_on: date
    documents: list[DocumentRef] = Field(default_factory=list)
    amount_awarded: Decimal | None = Field(default=None, ge=0, description="Yuan (award)")
    award_final: bool | None = Field(
        default=None, description="Final award (LDA Art. 47), by the entitlements test"
    )
    next_due_on: date | None = Field(
        default=None, description="The next statutory deadline this step starts"
    )
    lawyer_code: str | None = None
    recorded_at: AwareDatetime


@register
class LegalAidClosed(LegalAidEvent):
    """The application ended: what was awarded and recovered, why, and the worker's view."""

    event_type: ClassVar[str] = "legal_aid.closed"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    reason: ClosureReason
    granted: bool = Field(description="Aid had been granted (counts towards 办结率)")
    concluded: bool = Field(description="Handled to a conclusion (办结)")
    amount_awarded: Decimal = Field(ge=0, description="Yuan")
    amount_recovered: Decimal = Field(ge=0, description="Yuan actually paid to the workers")
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    worker_refs: list[str]
    closed_on: date
    closed_at: AwareDatetime


@register
class LegalAidSatisfactionRecorded(LegalAidEvent):
    """The worker's satisfaction (1–5), answered after closure."""

    event_type: ClassVar[str] = "legal_aid.satisfaction_recorded"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "legal_aid"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    satisfaction: int = Field(ge=1, le=5)
    recorded_at: AwareDatetime
