"""Intake follows triage's decisions: each case's latest route (no broker or database)."""

import uuid
from datetime import UTC, datetime, timedelta

from intake.routes import current_routes
from weiquan_shared.events import CaseRetriaged, CaseTriaged, DecisionSnapshot
from weiquan_shared.labels import status_label

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def triaged(case_id: uuid.UUID, route: str, detail: str, at: datetime) -> CaseTriaged:
    return CaseTriaged(
        case_id=case_id,
        case_number="440305-2026-000001",
        category="wage_arrears",
        urgency="normal",
        route=route,
        route_detail=detail,
        reasons=[],
        triaged_at=at,
    )


def retriaged(
    case_id: uuid.UUID, route: str, detail: str, at: datetime, seq: int = 2
) -> CaseRetriaged:
    return CaseRetriaged(
        case_id=case_id,
        case_number="440305-2026-000001",
        category="wage_arrears",
        urgency="urgent",
        route=route,
        route_detail=detail,
        reasons=[],
        previous=DecisionSnapshot(category="wage_arrears", urgency="normal", route="mediation"),
        retriaged_by="officer",
        officer_id="op-017",
        note="职工补充情况",
        retriaged_at=at,
        decision_seq=seq,
    )


def test_the_latest_decision_of_a_case_wins_whatever_the_arrival_order() -> None:
    case = uuid.uuid4()
    first = triaged(case, "mediation", "mediation.union", T0)
    later = retriaged(case, "legal_aid", "legal_aid.union", T0 + timedelta(minutes=5))
    batches: list[list[CaseTriaged | CaseRetriaged]] = [[first, later], [later, first]]
    for batch in batches:
        [decision] = current_routes(batch)
        assert (decision.route, decision.route_detail) == ("legal_aid", "legal_aid.union")


def test_of_equal_times_the_higher_decision_number_wins_in_either_order() -> None:
    """A group upgrade and the case's first decision may bear the same time (issue 11.1)."""
    case = uuid.uuid4()
    first = triaged(case, "mediation", "mediation.union", T0)
    upgrade = retriaged(case, "mediation", "mediation.court_union_room", T0, seq=2)
    override = retriaged(case, "referral", "referral.court", T0, seq=3)
    batches: list[list[CaseTriaged | CaseRetriaged]] = [
        [first, override, upgrade],
        [override, upgrade, first],
    ]
    for batch in batches:
        assert [d.route_detail for d in current_routes(batch)] == ["referral.court"]


def test_each_case_keeps_its_own_route() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    decisions = current_routes(
        [
            triaged(a, "mediation", "mediation.union", T0),
            triaged(b, "legal_aid", "legal_aid.union", T0),
        ]
    )
    assert {d.case_id: d.route for d in decisions} == {a: "mediation", b: "legal_aid"}


def test_status_reads_received_then_where_the_case_was_sent() -> None:
    assert status_label("accepted") == "已受理，待分流"
    assert status_label("mediation") == "已分流至调解"
    assert status_label("legal_aid") == "已分流至法律援助"


def test_intake_pages_and_wechat_menu_use_the_shared_tables() -> None:
    from intake import domain_wechat, pages
    from weiquan_shared import labels

    assert dict(domain_wechat.DISTRICTS) == labels.DISTRICTS
    assert pages.TOPICS is labels.CATEGORIES
