"""Where triage sent each case, as intake learns it from triage's events (no I/O).

Intake answers 「查询」 and the status search itself, so it follows ``case.triaged`` and
``case.retriaged`` and keeps each case's current route. Events of one case arrive in order
on one topic, but a case's first decision and a re-routing travel on two topics; the
decision that counts is the latest by :func:`decision_order`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from weiquan_shared.events import CaseRetriaged, CaseRetriagedV1, CaseTriaged

# case.retriaged v1 (before decisions were numbered) came after the case's first decision.
UNNUMBERED_RETRIAGE_SEQ = 2


@dataclass(frozen=True)
class RouteDecision:
    case_id: uuid.UUID
    route: str
    route_detail: str | None
    decision_seq: int
    decided_at: datetime


def decision_order(decision: RouteDecision) -> tuple[int, datetime]:
    """What makes one decision later than another (the store compares the same pair).

    Triage numbers a case's decisions (``case.triaged`` is 1, each re-routing one more than
    the decision it replaces), so two decisions with equal times are still ordered; the
    time only separates re-routings published before the numbering existed.
    """
    return decision.decision_seq, decision.decided_at


def route_decision(payload: CaseTriaged | CaseRetriaged | CaseRetriagedV1) -> RouteDecision:
    if isinstance(payload, CaseTriaged):
        seq, decided_at = 1, payload.triaged_at
    elif isinstance(payload, CaseRetriaged):
        seq, decided_at = payload.decision_seq, payload.retriaged_at
    else:
        seq, decided_at = UNNUMBERED_RETRIAGE_SEQ, payload.retriaged_at
    return RouteDecision(payload.case_id, payload.route, payload.route_detail, seq, decided_at)


def current_routes(
    payloads: Sequence[CaseTriaged | CaseRetriaged | CaseRetriagedV1],
) -> list[RouteDecision]:
    """Each case's latest decision of a batch; of equal order, the one that came later."""
    latest: dict[uuid.UUID, RouteDecision] = {}
    for decision in map(route_decision, payloads):
        earlier = latest.get(decision.case_id)
        if earlier is None or decision_order(decision) >= decision_order(earlier):
            latest[decision.case_id] = decision
    return list(latest.values())
