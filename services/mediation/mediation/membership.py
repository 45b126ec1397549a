"""Which mediation holds which case: the rules, with no I/O.

A case belongs in mediation when its current triage decision routes it there (route
``mediation``, any ``mediation.*`` detail), intake has told us its facts (district,
employer, workers) and it is not voided. A case of a group dispute belongs in the group's
one mediation; any other case has its own. Everything is decided from the state of the
cases, never from the order events arrived in, so a case triaged before its group formed
ends up in the group's mediation (its own single mediation closes as ``merged``) and a
replay changes nothing.

:func:`plan` compares where each touched case is with where it belongs and says what
moves; :class:`~mediation.handlers` applies the moves, writes and announces them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from mediation.clocks import china_date
from weiquan_shared.envelope import Envelope, EventPayload
from weiquan_shared.events import (
    CaseConsentRecorded,
    CaseGrouped,
    CaseReported,
    CaseRetriaged,
    CaseRetriagedV1,
    CaseTriaged,
    CaseVoided,
)

LeaveReason = Literal["merged", "voided", "retriaged"]


@dataclass
class CaseState:
    """What mediation knows of one case (a row of ``cases``)."""

    case_id: uuid.UUID
    case_number: str | None = None
    district_code: str | None = None
    employer: dict[str, Any] | None = None
    workers: list[dict[str, Any]] = field(default_factory=list)
    claim_amount: Decimal | None = None
    reported_at: datetime | None = None
    category: str | None = None
    urgency: str | None = None
    route: str | None = None
    route_detail: str | None = None
    group_id: uuid.UUID | None = None
    employer_flagged: bool = False
    decision_seq: int = 0
    decided_at: datetime | None = None
    consent_scopes: list[str] = field(default_factory=list)
    consent_recorded_at: datetime | None = None
    voided_at: datetime | None = None
    mediation_id: uuid.UUID | None = None

    # ------------------------------------------------------------ applying events

    def apply(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, CaseReported):
            self.case_number = payload.case_number
            self.district_code = payload.district_code
            self.employer = payload.employer.model_dump(mode="json")
            self.workers = [w.model_dump(mode="json") for w in payload.workers]
            self.claim_amount = payload.claim_amount
            self.reported_at = payload.reported_at
        elif isinstance(payload, CaseTriaged):
            self.case_number = payload.case_number
            if self.decision_seq < 1:
                self._decide(1, payload, payload.triaged_at)
                self.employer_flagged = payload.employer_flagged
        elif isinstance(payload, CaseRetriaged | CaseRetriagedV1):
            self.case_number = payload.case_number
            seq = getattr(payload, "decision_seq", None)
            if seq is None:  # v1: no number; later in time is later
                if self.decided_at is not None and payload.retriaged_at < self.decided_at:
                    return
                seq = self.decision_seq + 1
            if seq > self.decision_seq:
                self._decide(seq, payload, payload.retriaged_at)
        elif isinstance(payload, CaseConsentRecorded):
            self.case_number = payload.case_number
            if self.consent_recorded_at is None or payload.recorded_at >= self.consent_recorded_at:
                self.consent_scopes = sorted(set(payload.scopes))
                self.consent_recorded_at = payload.recorded_at
        elif isinstance(payload, CaseVoided):
            self.case_number = payload.case_number
            self.voided_at = self.voided_at or payload.voided_at

    def join_group(self, group: CaseGrouped, index: int) -> None:
        self.group_id = group.group_id
        self.case_number = self.case_number or group.case_numbers[index]

    def _decide(self, seq: int, payload: Any, at: datetime) -> None:
        self.decision_seq = seq
        self.decided_at = at
        self.category = payload.category
        self.urgency = payload.urgency
        self.route = payload.route
        self.route_detail = payload.route_detail
        # A decision names the case's group; one without a group leaves a known one alone
        # (an officer's override keeps the case in its group).
        if payload.group_id is not None:
            self.group_id = payload.group_id

    # ------------------------------------------------------------ where it belongs

    @property
    def known(self) -> bool:
        """Intake's facts and triage's decision have both arrived."""
        return self.district_code is not None and self.decision_seq > 0

    @property
    def in_mediation(self) -> bool:
        return self.known and self.voided_at is None and self.route == "mediation"

    def belongs_to(self) -> tuple[Literal["group", "case"], uuid.UUID] | None:
        """The dispute it belongs in: its group's, or its own; None outside mediation."""
        if not self.in_mediation:
            return None
        if self.group_id is not None:
            return ("group", self.group_id)
        return ("case", self.case_id)

    @property
    def received_on(self) -> date | None:
        """The day mediation received it: the day triage routed it here."""
        return china_date(self.decided_at) if self.decided_at else None

    def leave_reason(self) -> LeaveReason:
        if self.voided_at is not None:
            return "voided"
        if self.in_mediation:
            return "merged"
        return "retriaged"


@dataclass(frozen=True)
class Move:
    """A case going from one mediation (or none) to another (or none)."""

    case_id: uuid.UUID
    from_key: uuid.UUID | None  # the mediation holding it now
    to_key: tuple[Literal["group", "case"], uuid.UUID] | None  # where it belongs
    reason: LeaveReason | None  # why it leaves ``from_key``


def plan(
    touched: list[uuid.UUID],
    cases: dict[uuid.UUID, CaseState],
    holder_key: dict[uuid.UUID, tuple[Literal["group", "case"], uuid.UUID]],
    redecided: set[uuid.UUID],
) -> list[Move]:
    """The moves that put every touched case where it belongs.

    ``holder_key`` says, for each open mediation holding a touched case, which dispute it
    is (a group's, or one case's own): a case stays where it is when that is where it
    belongs. A case whose mediation has ended (an outcome, not a move) stays with it,
    unless triage decided on it again (``redecided``): a new decision routing it to
    mediation opens a new one.
    """
    moves = []
    for case_id in touched:
        case = cases[case_id]
        target = case.belongs_to()
        current = case.mediation_id
        if current is not None and current not in holder_key:
            if case_id not in redecided:
                continue
            current = None
        if current is not None and target is not None and holder_key[current] == target:
            continue
        if current is None and target is None:
            continue
        moves.append(
            Move(case_id, current, target, case.leave_reason() if current is not None else None)
        )
    return moves


def distinct_workers(cases: list[CaseState]) -> list[dict[str, Any]]:
    """Each worker once, across the cases (a worker may call about two cases)."""
    seen: dict[str, dict[str, Any]] = {}
    for case in cases:
        for worker in case.workers:
            seen.setdefault(worker["worker_ref"], worker)
    return list(seen.values())


def total_claim(cases: list[CaseState]) -> Decimal | None:
    amounts = [c.claim_amount for c in cases if c.claim_amount is not None]
    return sum(amounts, Decimal(0)) if amounts else None


def closing_result(reasons: list[LeaveReason]) -> Literal["merged", "voided", "handed_on"]:
    """How a mediation whose last case left ends: merged if any case moved into another
    mediation, voided if every case was voided, else handed on (retriaged away)."""
    if "merged" in reasons:
        return "merged"
    if reasons and all(r == "voided" for r in reasons):
        return "voided"
    return "handed_on"
