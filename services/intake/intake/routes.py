"""Where triage sent each case, as intake learns it from triage's events (no I/O).

Intake answers 「查询」 and the status search itself, so it follows ``case.triaged`` and
``case.retriaged`` and keeps each case's current route. Events of one case arrive in order
on one topic, but a case's first decision and a re-routing travel on two topics; the
decision that counts is the latest by :func:`decision_order`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from weiquan_shared.events import CaseRetriaged, CaseTriaged


@dataclass(frozen=True)
class RouteDecision:
    case_id: uuid.UUID
    route: str
    route_detail: str | None
    decided_at: datetime


def decision_order(decision: RouteDecision) -> datetime:
    """What makes one decision later than another (compared in the store as well).

    Today the decision time; a per-case decision sequence number, once triage publishes
    one, belongs here instead.
    """
    return decision.decided_at


def route_decision(payload: CaseTriaged | CaseRetriaged) -> RouteDecision:
    decided_at = payload.triaged_at if isinstance(payload, CaseTriaged) else payload.retriaged_at
    return RouteDecision(payload.case_id, payload.route, payload.route_detail, decided_at)


def current_routes(payloads: list[CaseTriaged | CaseRetriaged]) -> list[RouteDecision]:
    """Each case's latest decision of a batch; of equal order, the one that came later."""
    latest: dict[uuid.UUID, RouteDecision] = {}
    for decision in map(route_decision, payloads):
        earlier = latest.get(decision.case_id)
        if earlier is None or decision_order(decision) >= decision_order(earlier):
            latest[decision.case_id] = decision
    return list(latest.values())
