"""Events triage publishes.

- ``case.triaged``: the first decision on a case (category, urgency, route, clocks); it is
  the case's decision number 1.
- ``case.retriaged``: any later decision: a triage officer's override, or triage itself
  upgrading an earlier case when it joins a group dispute (``retriaged_by`` says which).
  Since v2 it carries the decision's number within the case (``decision_seq``): two
  decisions of one case can bear the same time (a case triaged and upgraded in one batch),
  and only the number says which is current. v1 events (no number) stay readable.
- ``case.grouped``: a group dispute formed or gained members (subject: the group id).
- ``employer.flagged``: an employer reached the repeat-employer threshold and is referred
  for the union's labour-law supervision (subject: the employer id).
- ``case.deadlines_updated``: the daily re-evaluation found a statutory clock that moved
  (a new holiday calendar) or entered its at-risk window.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import Category, EmployerRef, Route, Urgency

RouteDetail = Literal[
    "consultation.answered",
    "mediation.union",
    "mediation.court_union_room",
    "mediation.labour_bureau",
    "mediation.industry_committee",
    "legal_aid.union",
    "referral.labour_inspection",
    "referral.arbitration",
    "referral.court",
]
ClockKind = Literal[
    "arbitration_limitation",
    "mediation_window",
    "legal_aid_review",
    "injury_recognition_employer",
    "injury_recognition_worker",
]


class TriageReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(description="Stable rule id, e.g. urgency.group_dispute")
    text: str = Field(description="The reason as shown to people (Chinese)")


class StatutoryClock(BaseModel):
    """A deadline the law sets for this case, counted by weiquan_shared.legal_calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClockKind
    rule_id: str = Field(description="The versioned rule the period comes from")
    starts_on: date | None = Field(description="The day the period is counted from (excluded)")
    due_on: date | None = Field(
        description="Last day to act, after roll-forward; null when no period runs"
    )
    at_risk_from: date | None = Field(
        description="From this day the deadline counts as at risk on dashboards"
    )
    review: list[str] = Field(
        default_factory=list, description="Why a person must confirm the date, if they must"
    )
    note: str = Field(description="The clock as explained to people (Chinese)")


class DecisionSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: Category
    urgency: Urgency
    route: Route
    route_detail: RouteDetail | None = None


@register
class CaseTriaged(EventPayload):
    """Triage decided a case's category, urgency and route."""

    event_type: ClassVar[str] = "case.triaged"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = (
        "projection",
        "intake",
        "mediation",
        "notification",
        "legal_aid",
    )

    case_id: uuid.UUID
    case_number: str
    category: Category
    secondary_categories: list[Category] = Field(default_factory=list)
    urgency: Urgency
    route: Route
    reasons: list[TriageReason]
    triaged_at: AwareDatetime
    route_detail: RouteDetail | None = Field(
        default=None, description="Which organisation or referral within the route"
    )
    clocks: list[StatutoryClock] = Field(default_factory=list)
    group_id: uuid.UUID | None = Field(
        default=None, description="The group dispute this case belongs to, if any"
    )
    employer_flagged: bool = Field(
        default=False, description="The employer is flagged as a repeat employer"
    )


class CaseRetriagedBody(EventPayload):
    """The fields every version of ``case.retriaged`` has (v1: ``events.superseded``)."""

    case_id: uuid.UUID
    case_number: str
    category: Category
    secondary_categories: list[Category] = Field(default_factory=list)
    urgency: Urgency
    route: Route
    route_detail: RouteDetail | None = None
    reasons: list[TriageReason]
    previous: DecisionSnapshot
    retriaged_by: Literal["officer", "system"]
    officer_id: str | None = Field(
        default=None, description="Staff id of the triage officer (overrides only)"
    )
    note: str = Field(description="Why the decision changed (Chinese)")
    group_id: uuid.UUID | None = None
    retriaged_at: AwareDatetime


@register
class CaseRetriaged(CaseRetriagedBody):
    """A case's decision changed: an officer's override or a system upgrade (group dispute).

    v2 numbers the decision within its case (``decision_seq``), so a consumer can tell
    which of two decisions is current even when their times are equal.
    """

    event_type: ClassVar[str] = "case.retriaged"
    schema_version: ClassVar[int] = 2
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = (
        "projection",
        "intake",
        "mediation",
        "notification",
        "legal_aid",
    )

    decision_seq: int = Field(
        ge=2,
        description="This decision's number within its case: case.triaged is decision 1, "
        "each later decision of the case is numbered one more than the one it replaces. "
        "The highest number is the case's current decision, whatever the times say",
    )


@register
class CaseGrouped(EventPayload):
    """Cases against one employer with a common claim form (or grew) a group dispute."""

    event_type: ClassVar[str] = "case.grouped"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "mediation")

    group_id: uuid.UUID
    group_number: str = Field(description="Human-readable, e.g. QT-440305-2026-000123")
    employer: EmployerRef
    category: Category
    case_ids: list[uuid.UUID] = Field(min_length=1, description="Every linked worker case")
    case_numbers: list[str]
    new_case_ids: list[uuid.UUID] = Field(description="Cases linked by this event")
    worker_count: int = Field(ge=1, description="Distinct workers across the linked cases")
    formed_at: AwareDatetime
    reason: TriageReason


@register
class EmployerFlagged(EventPayload):
    """An employer had too many cases in a window: refer for labour-law supervision (一函两书)."""

    event_type: ClassVar[str] = "employer.flagged"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    employer_id: uuid.UUID = Field(description="Stable id of the employer within triage")
    employer: EmployerRef
    case_count: int = Field(ge=1)
    window_days: int = Field(ge=1)
    case_ids: list[uuid.UUID]
    reason: TriageReason
    flagged_at: AwareDatetime


@register
class CaseDeadlinesUpdated(EventPayload):
    """Daily re-evaluation: a statutory clock moved or entered its at-risk window."""

    event_type: ClassVar[str] = "case.deadlines_updated"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "notification")

    case_id: uuid.UUID
    case_number: str
    clocks: list[StatutoryClock] = Field(description="Every clock of the case, as now computed")
    at_risk: list[ClockKind] = Field(description="Clocks that entered the at-risk window today")
    moved: list[ClockKind] = Field(description="Clocks whose due date changed")
    evaluated_on: date


ReviewResolution = Literal[
    "start_date_recorded",
    "limitation_interrupted",
    "limitation_suspended",
    "limitation_expiry_confirmed",
    "dates_checked",
]


@register
class CaseReviewResolved(EventPayload):
    """A triage officer settled what triage flagged for review (请人工核实) on a case.

    ``clocks`` is every clock of the case as recomputed with what the officer recorded
    (a known start date, an interruption); those still needing a person keep their
    ``review`` codes, so a case leaves the review queue when no clock has any.
    """

    event_type: ClassVar[str] = "case.review_resolved"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    case_id: uuid.UUID
    case_number: str
    resolution: ReviewResolution
    knew_of_infringement_on: date | None = Field(
        default=None, description="The date recorded (start_date_recorded, interruptions)"
    )
    clocks: list[StatutoryClock]
    note: str = Field(max_length=200, description="What was checked (Chinese, no personal data)")
    resolved_at: AwareDatetime
