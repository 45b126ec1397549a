"""Mediation's and legal aid's part of a case page (projection.handling), without a database:
the words of each step on the timeline and where each event leaves the case."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from projection.handling import CLOSED, GONE, OPEN, _states, legal_aid_line, mediation_line
from weiquan_shared.events import EmployerRef, WorkerRef
from weiquan_shared.events.legal_aid import (
    LegalAidClosed,
    LegalAidDenied,
    LegalAidLawyerDeclined,
    LegalAidSatisfactionRecorded,
    LegalAidStepRecorded,
    RuleRef,
)
from weiquan_shared.events.mediation import (
    MediationCasesChanged,
    MediationClosed,
    MediationInstalmentOverdue,
    MediationOpened,
)

AT = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)  # 09:30 in China
MEDIATION = {
    "mediation_id": uuid.UUID(int=1),
    "mediation_number": "TJ-440305-2026-000031",
    "district_code": "440305",
    "case_ids": [uuid.UUID(int=2), uuid.UUID(int=3)],
    "case_numbers": ["440305-2026-000101", "440305-2026-000102"],
}
APPLICATION = {
    "application_id": uuid.UUID(int=4),
    "case_id": uuid.UUID(int=2),
    "application_number": "FY-440305-2026-000009",
    "district_code": "440305",
    "case_number": "440305-2026-000101",
}
RULE = RuleRef(rule_id="hardship.440300", effective_from=date(2025, 1, 1), verified=False)


def closed(result: str) -> MediationClosed:
    return MediationClosed(
        **MEDIATION, result=result, worker_count=2, opened_on=date(2026, 12, 1), closed_at=AT
    )


def test_a_mediation_says_its_steps_to_each_of_its_cases() -> None:
    opened = MediationOpened(
        **MEDIATION,
        category="wage_arrears",
        route_detail="mediation.court_union_room",
        employer=EmployerRef(name="深圳市鹏程建筑劳务有限公司", district_code="440305"),
        workers=[WorkerRef(worker_ref="a" * 64), WorkerRef(worker_ref="b" * 64)],
        received_on=date(2026, 12, 1),
        clocks=[],
        opened_at=AT,
    )
    assert mediation_line(opened) == (
        "调解立案 TJ-440305-2026-000031（法院—工会诉调对接工作室，涉及职工2人）",
        MEDIATION["case_numbers"],
    )
    overdue = MediationInstalmentOverdue(
        **MEDIATION,
        agreement_id=uuid.UUID(int=5),
        instalment_id=uuid.UUID(int=6),
        number=2,
        amount_due=Decimal("15000"),
        amount_paid=Decimal(0),
        due_on=date(2027, 1, 15),
        detected_on=date(2027, 1, 16),
    )
    assert mediation_line(overdue) == (
        "第2期逾期未付（应于2027年01月15日前支付15,000.00元）",
        MEDIATION["case_numbers"],
    )
    assert {s for _, s in _states(overdue)} == {OPEN}  # open until fulfilled and closed
    assert mediation_line(closed("fulfilled")) == (
        "调解 TJ-440305-2026-000031 结案：协议履行完毕",
        MEDIATION["case_numbers"],
    )
    # Merged, handed on or voided: not the case's mediation's end, no line.
    for result in ("merged", "handed_on", "voided"):
        assert mediation_line(closed(result)) is None


def test_a_case_leaving_a_mediation_is_told_on_its_own_page_only() -> None:
    left = MediationCasesChanged(
        **MEDIATION,
        change="left",
        reason="retriaged",
        changed_case_ids=[uuid.UUID(int=9)],
        changed_case_numbers=["440305-2026-000109"],
        workers=[WorkerRef(worker_ref="a" * 64)],
        changed_at=AT,
    )
    assert mediation_line(left) == (
        "移出调解 TJ-440305-2026-000031（改由其他途径处理）",
        ["440305-2026-000109"],
    )
    assert _states(left) == [
        ("440305-2026-000101", OPEN),
        ("440305-2026-000102", OPEN),
        ("440305-2026-000109", GONE),
    ]


def test_where_a_mediation_leaves_its_cases() -> None:
    assert {s for _, s in _states(closed("failed"))} == {CLOSED}
    assert {s for _, s in _states(closed("fulfilled"))} == {CLOSED}
    for result in ("merged", "handed_on", "voided"):
        assert {s for _, s in _states(closed(result))} == {GONE}


def test_legal_aid_says_its_steps_and_where_it_leaves_its_case() -> None:
    denied = LegalAidDenied(
        **APPLICATION,
        rules=[RULE],
        reason_codes=["income_above_standard"],
        matter="labour_remuneration",
        worker_refs=["a" * 64],
        review_rule_id="procedure.review",
        after_provisional=False,
        decided_on=date(2026, 12, 3),
        within_deadline=True,
        denied_at=AT,
    )
    assert legal_aid_line(denied) == (
        "决定不予法律援助：家庭人均月收入高于当地法律援助经济困难标准"
    )
    declined = LegalAidLawyerDeclined(
        **APPLICATION, lawyer_code="LS-440305-001", reason="capacity", declined_at=AT
    )
    assert legal_aid_line(declined) == "律师 LS-440305-001 不承办（承办案件已满），另行指派"
    award = LegalAidStepRecorded(
        **APPLICATION,
        step="award",
        occurred_on=date(2027, 2, 20),
        amount_awarded=Decimal("24300"),
        award_final=True,
        recorded_at=AT,
    )
    assert legal_aid_line(award) == "仲裁裁决（2027年02月20日，裁决金额24,300.00元）"

    def ended(reason: str) -> LegalAidClosed:
        return LegalAidClosed(
            **APPLICATION,
            reason=reason,
            granted=True,
            concluded=reason.startswith("concluded"),
            amount_awarded=Decimal("24300"),
            amount_recovered=Decimal("24300"),
            worker_refs=["a" * 64],
            closed_on=date(2027, 3, 1),
            closed_at=AT,
        )

    assert legal_aid_line(ended("concluded_award")) == (
        "法律援助 FY-440305-2026-000009 结案：仲裁裁决结案，追回24,300.00元"
    )
    assert _states(ended("concluded_award")) == [("440305-2026-000101", CLOSED)]
    assert legal_aid_line(ended("voided")) is None
    assert _states(ended("voided")) == [("440305-2026-000101", GONE)]
    assert _states(denied) == [("440305-2026-000101", OPEN)]
    satisfaction = LegalAidSatisfactionRecorded(**APPLICATION, satisfaction=5, recorded_at=AT)
    assert legal_aid_line(satisfaction) is None and _states(satisfaction) == []
