"""Events the mediation service publishes (subject: the mediation id).

A *mediation* (调解案件) holds one dispute: a single worker's case, or every case of a group
dispute (LDA Art. 7), with their workers. Every event names the mediation (id and number),
the cases it holds (ids and numbers), and its district; workers appear only as
``worker_ref`` (intake's keyed hash), never by name, ID number or mobile; no free text
crosses Kafka (reasons are codes, notes are short Chinese phrases without personal data).

Lifecycle:

- ``mediation.opened``: a case routed to mediation (route ``mediation``) opened one, or a
  group dispute did. ``mediation.cases_changed``: a case joined (a group grew, an earlier
  single case moved into its group's mediation) or left (voided, retriaged away).
- ``mediation.assigned``: the lead mediator and the participating organisations (by the
  rules, or changed by a coordinator). ``mediation.accepted``: the mediation organisation
  accepted (受理) the application; the regulation's clock starts.
- Sessions: ``mediation.session_scheduled`` / ``session_moved`` / ``session_held``
  (held, no-show or adjourned) / ``session_cancelled`` (the mediation ended without one).
- Clocks: ``mediation.clock_extended`` (both parties consented), ``mediation.expired``
  (a clock ran out without agreement; the worker is offered arbitration or legal aid).
- Outcomes: ``mediation.agreement_reached`` (per worker and per item, amounts in yuan,
  instalments with due dates), ``mediation.failed``, ``mediation.withdrawn``.
- After an agreement: ``mediation.confirmation_requested`` / ``confirmation_decided``
  (judicial confirmation, 民事诉讼法 2023 Arts. 205–206), ``mediation.payment_order_applied``
  (支付令, LDA Art. 16), ``mediation.instalment_paid`` / ``instalment_overdue``.
- ``mediation.closed``: the mediation ended, with its result; a mediation merged into its
  group's (``result`` ``merged``) is not a dispute of its own and counts nowhere.

Money recovered is what ``mediation.instalment_paid`` says was paid, not what an agreement
promised.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import Category, DistrictCode, EmployerRef, Route, WorkerRef

MediationOrganisation = Literal[
    "union", "peoples_court", "labour_bureau", "procuratorate", "justice_bureau"
]
MediationRouteDetail = Literal[
    "mediation.union",
    "mediation.court_union_room",
    "mediation.labour_bureau",
    "mediation.industry_committee",
]
MediationClockKind = Literal["statutory_receipt", "regulation_acceptance"]
RoomKind = Literal["court_union_room", "union_room", "video"]
SessionOutcome = Literal["held", "no_show", "adjourned"]
NoShowParty = Literal["workers", "employer", "both"]
MoveReason = Literal[
    "party_request_worker",
    "party_request_employer",
    "mediator_unavailable",
    "room_unavailable",
    "adjourned",
    "other",
]
AgreementItemKind = Literal["wages", "compensation", "damages", "other"]
CasesChange = Literal["joined", "left"]
CasesChangeReason = Literal["group_formed", "group_grew", "merged", "voided", "retriaged"]
FailureReason = Literal[
    "employer_refused",
    "workers_refused",
    "employer_absent",
    "no_common_ground",
    "other",
]
NextStep = Literal["arbitration", "legal_aid", "litigation", "labour_inspection"]
WithdrawnBy = Literal["workers", "employer", "union"]
WithdrawalReason = Literal[
    "settled_privately", "claim_dropped", "going_to_arbitration", "going_to_court", "other"
]
ConfirmationRuling = Literal["confirmed", "rejected", "withdrawn"]
PaymentEvidence = Literal["bank_transfer", "cash_receipt", "court_execution", "other"]
ClosedResult = Literal[
    "fulfilled",
    "agreement",
    "failed",
    "withdrawn",
    "expired",
    "merged",
    "handed_on",
    "voided",
]

MediationNumber = Field(description="Human-readable, e.g. TJ-440305-2026-000123")


class MediationEvent(EventPayload):
    """What every mediation event names: the mediation, its cases, its district."""

    mediation_id: uuid.UUID
    mediation_number: str = MediationNumber
    district_code: str = DistrictCode
    case_ids: list[uuid.UUID] = Field(
        description="The cases the mediation holds (when it ended: held last)"
    )
    case_numbers: list[str]


class MediationClock(BaseModel):
    """One of the mediation's two clocks, counted on the shared legal calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MediationClockKind = Field(
        description="statutory_receipt: LDA Art. 14, 15 days from the organisation receiving "
        "the application (verified); regulation_acceptance: MOHRSS Order No. 17, 15 days "
        "from acceptance (unverified, configurable), extendable with both parties' consent"
    )
    rule_id: str = Field(description="The versioned rule the period comes from")
    verified: bool = Field(description="Whether the rule was read in its official text")
    starts_on: date | None = Field(description="Counted from this day (excluded); null: not yet")
    due_on: date | None = Field(description="Last day, after roll-forward and extensions")
    extended_days: int = Field(default=0, ge=0, description="Days added by extensions")
    review: list[str] = Field(
        default_factory=list, description="Why a person must confirm the date, if they must"
    )


class Party(BaseModel):
    """Who is called to a session (no names: workers by ``worker_ref``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: list[str] = Field(
        description="worker_refs of the workers called (for a group of 10 or more, LDA "
        "Art. 7: their elected representatives)"
    )
    representatives_elected: bool = Field(
        description="The workers are represented by elected representatives (LDA Art. 7)"
    )
    employer_representative: bool = Field(description="The employer sends a representative")
    mediator_ids: list[str] = Field(min_length=1, description="Mediators' subjects at identity")
    organisations: list[MediationOrganisation] = Field(min_length=1)


class SessionPlace(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    room_id: uuid.UUID
    room_name: str = Field(max_length=100, description="e.g. 南山区职工服务中心诉调对接工作室")
    room_kind: RoomKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime


@register
class MediationOpened(MediationEvent):
    """A case routed to mediation opened a mediation, or a group dispute did."""

    event_type: ClassVar[str] = "mediation.opened"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    category: Category
    route_detail: MediationRouteDetail
    group_id: uuid.UUID | None = Field(default=None, description="Triage's group dispute")
    group_number: str | None = None
    employer: EmployerRef
    workers: list[WorkerRef] = Field(min_length=1)
    claim_amount: Decimal | None = Field(default=None, ge=0, description="Yuan, as claimed")
    received_on: date = Field(description="The day the organisation received the application")
    clocks: list[MediationClock]
    opened_at: AwareDatetime


@register
class MediationCasesChanged(MediationEvent):
    """Cases joined or left an open mediation; ``case_ids`` is the new whole set."""

    event_type: ClassVar[str] = "mediation.cases_changed"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    change: CasesChange
    reason: CasesChangeReason
    changed_case_ids: list[uuid.UUID] = Field(min_length=1)
    changed_case_numbers: list[str]
    group_id: uuid.UUID | None = None
    group_number: str | None = None
    workers: list[WorkerRef] = Field(description="Every worker the mediation now holds")
    merged_from: list[uuid.UUID] = Field(
        default_factory=list, description="Mediations closed as merged into this one"
    )
    changed_at: AwareDatetime


@register
class MediationAssigned(MediationEvent):
    """The lead mediator and the participating organisations were chosen or changed."""

    event_type: ClassVar[str] = "mediation.assigned"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    lead_mediator_id: str = Field(description="The mediator's subject at identity")
    lead_mediator_name: str = Field(max_length=100, description="Staff display name")
    lead_organisation: MediationOrganisation
    organisations: list[MediationOrganisation] = Field(min_length=1)
    five_party: bool = Field(description="All five organisations take part (五方联动)")
    rule_ids: list[str] = Field(description="The assignment rules that matched")
    assigned_by: Literal["rules", "coordinator"]
    previous_lead_mediator_id: str | None = None
    reason: str | None = Field(
        default=None, max_length=200, description="Why a coordinator changed it (Chinese)"
    )
    assigned_at: AwareDatetime


@register
class MediationAccepted(MediationEvent):
    """The mediation organisation accepted the application (受理): the regulation's clock
    starts."""

    event_type: ClassVar[str] = "mediation.accepted"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    accepted_on: date
    clocks: list[MediationClock]
    accepted_at: AwareDatetime


@register
class MediationClockExtended(MediationEvent):
    """The regulation's clock was extended with both parties' recorded consent."""

    event_type: ClassVar[str] = "mediation.clock_extended"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    extension_id: uuid.UUID
    days: int = Field(ge=1)
    workers_consented_on: date
    employer_consented_on: date
    clocks: list[MediationClock]
    extended_at: AwareDatetime


@register
class MediationSessionScheduled(MediationEvent):
    """A session was booked: where, when, who is called."""

    event_type: ClassVar[str] = "mediation.session_scheduled"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    session_id: uuid.UUID
    place: SessionPlace
    parties: Party
    scheduled_at: AwareDatetime


@register
class MediationSessionMoved(MediationEvent):
    """A session was moved to another time or room (rescheduled or after an adjournment)."""

    event_type: ClassVar[str] = "mediation.session_moved"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    session_id: uuid.UUID
    previous: SessionPlace
    place: SessionPlace
    parties: Party
    reason: MoveReason
    moved_at: AwareDatetime


@register
class MediationSessionCancelled(MediationEvent):
    """A booked session will not take place: its mediation ended without an outcome (its
    cases were retriaged away or voided, or its clock ran out). Rooms and mediators are free
    again; the parties called must be told."""

    event_type: ClassVar[str] = "mediation.session_cancelled"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    session_id: uuid.UUID
    place: SessionPlace
    parties: Party
    reason: Literal["mediation_closed"]
    cancelled_at: AwareDatetime


@register
class MediationSessionHeld(MediationEvent):
    """What became of a session: held, a party did not come, or adjourned."""

    event_type: ClassVar[str] = "mediation.session_held"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    session_id: uuid.UUID
    outcome: SessionOutcome
    place: SessionPlace
    attended: Party = Field(description="Who actually came")
    no_show: NoShowParty | None = Field(default=None, description="Who did not come (no_show)")
    next_session_id: uuid.UUID | None = Field(
        default=None, description="The session booked to continue (adjourned)"
    )
    recorded_at: AwareDatetime


class AgreementItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    worker_ref: str = Field(pattern=r"^[0-9a-f]{64}$")
    item: AgreementItemKind
    amount: Decimal = Field(ge=0, description="Yuan")
    label: str | None = Field(
        default=None, max_length=50, description="What an ``other`` item is (Chinese)"
    )


class Instalment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    instalment_id: uuid.UUID
    number: int = Field(ge=1)
    due_on: date
    amount: Decimal = Field(gt=0, description="Yuan")


@register
class MediationAgreementReached(MediationEvent):
    """An agreement (调解协议) was signed: per worker and per item, paid in instalments."""

    event_type: ClassVar[str] = "mediation.agreement_reached"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    agreement_id: uuid.UUID
    partial: bool = Field(description="Some workers or items are left unresolved")
    items: list[AgreementItem] = Field(min_length=1)
    total_amount: Decimal = Field(ge=0, description="Yuan: the sum of the items")
    instalments: list[Instalment] = Field(min_length=1)
    effective_on: date = Field(description="Signed by both parties and the mediator, sealed")
    reached_at: AwareDatetime


@register
class MediationFailed(MediationEvent):
    """Mediation ended without agreement."""

    event_type: ClassVar[str] = "mediation.failed"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "legal_aid")

    reason: FailureReason
    next_steps: list[NextStep] = Field(description="What the workers are offered")
    failed_at: AwareDatetime


@register
class MediationWithdrawn(MediationEvent):
    """The application was withdrawn (by all its workers, or those named)."""

    event_type: ClassVar[str] = "mediation.withdrawn"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    withdrawn_by: WithdrawnBy
    reason: WithdrawalReason
    worker_refs: list[str] = Field(description="The workers withdrawing; all when empty")
    withdrawn_at: AwareDatetime


@register
class MediationExpired(MediationEvent):
    """A clock ran out without agreement: the worker may go to arbitration (LDA Art. 14) or
    ask for legal aid. The regulation's clock running out also ends the mediation as failed
    (``deemed_failed``); the statutory one only opens the way to arbitration."""

    event_type: ClassVar[str] = "mediation.expired"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification", "legal_aid")

    clock: MediationClock
    deemed_failed: bool
    offers: list[NextStep] = Field(description="What the workers are offered now")
    worker_refs: list[str] = Field(description="The workers to tell")
    expired_on: date


@register
class MediationConfirmationRequested(MediationEvent):
    """Both parties applied for judicial confirmation (司法确认) of the agreement."""

    event_type: ClassVar[str] = "mediation.confirmation_requested"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    agreement_id: uuid.UUID
    court_name: str = Field(max_length=100, description="The court applied to")
    court_basis: Literal["invited", "party_domicile", "subject_matter", "organisation_seat"]
    applied_on: date
    window_due_on: date = Field(description="30 days from the agreement taking effect")


@register
class MediationConfirmationDecided(MediationEvent):
    """The court ruled on the judicial confirmation."""

    event_type: ClassVar[str] = "mediation.confirmation_decided"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    agreement_id: uuid.UUID
    ruling: ConfirmationRuling
    ruling_number: str | None = Field(default=None, max_length=100, description="The court's 案号")
    decided_on: date


@register
class MediationPaymentOrderApplied(MediationEvent):
    """The worker applied for a payment order (支付令) on the agreement (LDA Art. 16)."""

    event_type: ClassVar[str] = "mediation.payment_order_applied"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    agreement_id: uuid.UUID
    court_name: str = Field(max_length=100)
    items: list[AgreementItemKind] = Field(min_length=1)
    amount: Decimal = Field(gt=0, description="Yuan claimed by the order")
    applied_on: date


@register
class MediationInstalmentPaid(MediationEvent):
    """An instalment was paid (money actually recovered)."""

    event_type: ClassVar[str] = "mediation.instalment_paid"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    agreement_id: uuid.UUID
    instalment_id: uuid.UUID
    number: int = Field(ge=1)
    amount_paid: Decimal = Field(gt=0, description="Yuan")
    paid_on: date
    evidence: PaymentEvidence
    paid_to_date: Decimal = Field(ge=0, description="Yuan paid on the agreement so far")


@register
class MediationInstalmentOverdue(MediationEvent):
    """An instalment's due date passed without (full) payment: an alert."""

    event_type: ClassVar[str] = "mediation.instalment_overdue"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    agreement_id: uuid.UUID
    instalment_id: uuid.UUID
    number: int = Field(ge=1)
    amount_due: Decimal = Field(gt=0)
    amount_paid: Decimal = Field(ge=0)
    due_on: date
    detected_on: date


@register
class MediationClosed(MediationEvent):
    """The mediation ended. ``merged``: its cases moved into their group's mediation, so it
    is not a dispute of its own; ``handed_on``: every case was retriaged away from
    mediation (``handed_on_route`` says where); ``voided``: every case was voided."""

    event_type: ClassVar[str] = "mediation.closed"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "mediation"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    result: ClosedResult
    merged_into: uuid.UUID | None = None
    handed_on_route: Route | None = None
    amount_agreed: Decimal = Field(default=Decimal(0), ge=0, description="Yuan")
    amount_recovered: Decimal = Field(default=Decimal(0), ge=0, description="Yuan paid")
    worker_count: int = Field(ge=0)
    opened_on: date
    closed_at: AwareDatetime
