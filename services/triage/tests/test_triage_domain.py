"""Triage's rules: category, urgency, route, clocks, group upgrade and override (no I/O)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from triage.classification import classify
from triage.domain import (
    NothingToChange,
    OverrideRequest,
    Policy,
    Situation,
    assess,
    decide,
    facts_of,
    join_group,
    override,
)
from triage.grouping import GroupOutcome, PriorCase
from weiquan_shared.demo import STORIES
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef

POLICY = Policy.load()
EMPLOYER = EmployerRef(name="深圳市鹏程建筑劳务有限公司", district_code="440305")


def case(
    summary: str,
    *,
    workers: int = 1,
    migrant: bool = False,
    platform: bool = False,
    on: date = date(2026, 6, 10),
    knew: date | None = None,
    ended: date | None = None,
    claim: int | None = 5000,
) -> CaseReported:
    return CaseReported(
        case_id=uuid.uuid4(),
        case_number=f"440305-2026-{uuid.uuid4().int % 10**6:06d}",
        channel="hotline",
        channel_ref="c1",
        reported_at=datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC),
        district_code="440305",
        employer=EMPLOYER,
        workers=[
            WorkerRef(
                worker_ref=uuid.uuid4().hex * 2,
                is_migrant_worker=migrant,
                is_platform_worker=platform,
            )
            for _ in range(workers)
        ],
        summary=summary,
        claim_amount=Decimal(claim) if claim is not None else None,
        knew_of_infringement_on=knew,
        employment_ended_on=ended,
    )


def decided(c: CaseReported):
    return assess(c, [], current={}, flagged_on=None, policy=POLICY).decision


def rules_of(decision) -> list[str]:
    return [r.rule for r in decision.reasons]


@pytest.mark.parametrize(("category", "template", "_claim"), STORIES)
def test_every_demo_story_is_classified_as_written(category, template, _claim) -> None:
    assert classify(template.format(m=3, amount=5000), POLICY.lexicon).category == category


def test_no_keyword_means_other_and_asks_for_review() -> None:
    decision = decided(case("来电人询问事项，未说明情况"))
    assert decision.category == "other"
    assert decision.reasons[0].rule == "category.no_match"


def test_platform_worker_field_counts_for_platform_work() -> None:
    text = "这个月结算少了，站点说规则改了"
    assert classify(text, POLICY.lexicon, platform_worker=True).category == "platform_work"


def test_mixed_issues_keep_secondary_categories() -> None:
    result = classify("老板跑路了，拖欠工资三个月一分不给，社保也没交", POLICY.lexicon)
    assert result.category == "wage_arrears"
    assert "social_insurance" in result.secondary


def test_longest_phrase_wins_so_injury_insurance_is_not_an_injury() -> None:
    assert POLICY.lexicon.segment("公司只交了工伤保险") == ["工伤保险"]


# --- urgency -------------------------------------------------------------------------


def test_ten_workers_in_one_case_are_a_critical_group_dispute() -> None:
    result = assess(
        case("公司拖欠工资三个月", workers=10), [], current={}, flagged_on=None, policy=POLICY
    )
    assert result.group is not None and result.group.is_new
    assert result.decision.urgency == "critical"
    assert result.decision.route_detail == "mediation.court_union_room"
    assert "urgency.group_dispute" in rules_of(result.decision)
    assert decided(case("公司拖欠工资三个月", workers=9)).urgency == "normal"


def test_migrant_wage_arrears_is_urgent_and_goes_to_legal_aid() -> None:
    decision = decided(case("老板拖欠工资不发", migrant=True))
    assert (decision.category, decision.urgency, decision.route) == (
        "wage_arrears",
        "urgent",
        "legal_aid",
    )
    assert "urgency.migrant_wage_arrears" in rules_of(decision)


def test_migrant_wage_arrears_before_spring_festival_is_critical() -> None:
    decision = decided(case("老板拖欠工资不发", migrant=True, on=date(2027, 1, 5)))
    assert decision.urgency == "critical"
    assert "urgency.migrant_wages_spring_festival" in rules_of(decision)
    local = decided(case("老板拖欠工资不发", migrant=False, on=date(2027, 1, 5)))
    assert local.urgency == "normal"


def test_work_injury_is_urgent_goes_to_legal_aid_and_runs_recognition_clocks() -> None:
    decision = decided(case("在车间受伤骨折，公司不申报工伤", knew=date(2026, 6, 1)))
    assert (decision.category, decision.urgency, decision.route) == (
        "work_injury",
        "urgent",
        "legal_aid",
    )
    kinds = {c.kind: c for c in decision.clocks}
    assert kinds["injury_recognition_employer"].due_on == date(2026, 7, 1)
    assert kinds["legal_aid_review"].due_on == date(2026, 6, 17)


def test_vulnerable_worker_is_urgent() -> None:
    decision = decided(case("怀孕六个月被调岗降薪"))
    assert decision.urgency == "urgent"
    assert "urgency.vulnerable_worker" in rules_of(decision)


# Table from DOMAIN.md E2 and E5: limitation period and its urgency.
@pytest.mark.parametrize(
    ("today", "urgency", "rule", "route_detail"),
    [
        (date(2025, 3, 12), "critical", "urgency.limitation_imminent", "legal_aid.union"),
        (date(2025, 2, 20), "urgent", "urgency.limitation_soon", "mediation.labour_bureau"),
        (date(2024, 9, 1), "normal", None, "mediation.union"),
    ],
)
def test_limitation_from_e2_drives_urgency_and_route(today, urgency, rule, route_detail) -> None:
    decision = decided(case("公司以业绩不达标为由口头辞退", on=today, knew=date(2024, 3, 15)))
    limitation = decision.clocks[0]
    assert (limitation.kind, limitation.due_on) == ("arbitration_limitation", date(2025, 3, 17))
    assert decision.urgency == urgency
    assert decision.route_detail == route_detail
    if rule:
        assert rule in rules_of(decision)


def test_an_expired_limitation_is_its_own_state_and_goes_to_a_person() -> None:
    # Knew of the dismissal 2025-06-01; the year ran out on Mon 2026-06-01; triaged 2026-12-02.
    decision = decided(
        case("公司以业绩不达标为由口头辞退", on=date(2026, 12, 2), knew=date(2025, 6, 1))
    )
    limitation = decision.clocks[0]
    assert limitation.due_on == date(2026, 6, 1)
    assert limitation.review == ["limitation_expired"]
    assert "时效期间已届满" in limitation.note and "第二十七条" in limitation.note
    fired = rules_of(decision)
    assert "urgency.limitation_expired" in fired and "route.limitation_expired" in fired
    assert "urgency.limitation_imminent" not in fired
    assert "route.provisional_legal_aid" not in fired
    handling = POLICY.rules.handling("limitation.expired", date(2026, 12, 2))
    assert (decision.urgency, decision.route, decision.route_detail) == (
        handling.urgency,
        handling.route,
        handling.route_detail,
    )
    said = [r.text for r in decision.reasons] + [c.note for c in decision.clocks]
    assert not [text for text in said if re.search(r"-\d+天", text)]
    assert any("仲裁时效已于2026-06-01届满" in text for text in said)


def test_the_last_day_of_the_limitation_is_not_yet_expired() -> None:
    decision = decided(
        case("公司以业绩不达标为由口头辞退", on=date(2026, 6, 1), knew=date(2025, 6, 1))
    )
    assert decision.clocks[0].review == []
    assert "urgency.limitation_imminent" in rules_of(decision)
    assert decision.urgency == "critical"


def test_wage_arrears_while_employed_has_no_limitation_deadline() -> None:
    still_employed = decided(case("公司拖欠工资三个月", knew=date(2024, 1, 1), on=date(2026, 6, 1)))
    assert still_employed.clocks[0].due_on is None
    ended = decided(case("公司拖欠工资三个月", knew=date(2024, 1, 1), ended=date(2026, 3, 15)))
    assert ended.clocks[0].starts_on == date(2026, 3, 15)
    assert ended.clocks[0].due_on == date(2027, 3, 15)


def test_unknown_start_date_asks_for_review() -> None:
    decision = decided(case("公司以业绩不达标为由口头辞退"))
    assert decision.clocks[0].review == ["start_unknown"]


def test_mediation_window_e3_from_receipt() -> None:
    decision = decided(case("公司以业绩不达标为由口头辞退", on=date(2025, 9, 26)))
    window = next(c for c in decision.clocks if c.kind == "mediation_window")
    assert window.due_on == date(2025, 10, 11)
    assert window.review == ["make_up_workday"]


# --- routes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "claim", "route_detail"),
    [
        ("想咨询一下退休年龄的问题", None, "consultation.answered"),
        ("公司一直没有给我缴纳社保，养老保险断缴了", None, "referral.labour_inspection"),
        ("外卖骑手被平台算法超时扣钱", 300, "mediation.industry_committee"),
        ("被公司突然解除劳动合同，没有经济补偿", 9000, "mediation.union"),
    ],
)
def test_routes(summary, claim, route_detail) -> None:
    assert decided(case(summary, claim=claim)).route_detail == route_detail


# --- group upgrade and override ----------------------------------------------------------


def group_of(workers: int = 12) -> GroupOutcome:
    return GroupOutcome(
        group_id=uuid.uuid4(),
        group_number="QT-440305-2026-000001",
        is_new=True,
        member_ids=[uuid.uuid4()],
        member_numbers=["440305-2026-000001"],
        joining=[],
        worker_count=workers,
        case_count=workers,
    )


def test_joining_a_group_makes_an_earlier_case_critical_with_the_group_route() -> None:
    c = case("公司拖欠工资三个月", migrant=True)
    before = decided(c)
    group = group_of()
    after = join_group(before, facts_of(c), group, date(2026, 6, 12), False, POLICY)
    assert (after.urgency, after.route_detail, after.group_id) == (
        "critical",
        "mediation.court_union_room",
        group.group_id,
    )
    assert any(k.kind == "mediation_window" for k in after.clocks)
    kept = join_group(before, facts_of(c), group, date(2026, 6, 12), True, POLICY)
    assert (kept.urgency, kept.route) == ("critical", before.route)


def test_override_changes_what_is_asked_and_keeps_the_rest() -> None:
    c = case("公司以业绩不达标为由口头辞退", knew=date(2026, 6, 1))
    before = decided(c)
    request = OverrideRequest(
        officer_id="op-007", reason="职工补充说明受伤", category="work_injury"
    )
    after = override(before, facts_of(c), request, date(2026, 6, 11), POLICY)
    assert (after.category, after.urgency, after.route) == ("work_injury", "normal", "mediation")
    assert after.reasons[-1].rule == "override.officer"
    assert {k.kind for k in after.clocks} >= {"injury_recognition_employer"}


def test_override_to_a_new_route_takes_its_default_organisation() -> None:
    c = case("公司以业绩不达标为由口头辞退")
    before = decided(c)
    request = OverrideRequest(officer_id="op-007", reason="需法律援助", route="legal_aid")
    after = override(before, facts_of(c), request, date(2026, 6, 11), POLICY)
    assert (after.route, after.route_detail) == ("legal_aid", "legal_aid.union")
    assert any(k.kind == "legal_aid_review" for k in after.clocks)


def test_override_that_changes_nothing_is_refused() -> None:
    c = case("公司以业绩不达标为由口头辞退")
    before = decided(c)
    with pytest.raises(NothingToChange):
        override(
            before,
            facts_of(c),
            OverrideRequest(officer_id="op-1", reason="确认无误", urgency=before.urgency),
            date(2026, 6, 11),
            POLICY,
        )


def test_decision_is_deterministic() -> None:
    c = case("公司拖欠工资三个月，社保也没交", knew=date(2026, 1, 1))
    facts = facts_of(c)
    situation = Situation(date(2026, 6, 10))
    classification = classify(c.summary, POLICY.lexicon)
    assert decide(facts, classification, situation, POLICY) == decide(
        facts, classification, situation, POLICY
    )


def test_repeat_employer_is_flagged_on_the_third_case_and_says_so() -> None:
    day = date(2026, 6, 10)
    history = [
        PriorCase(
            uuid.uuid4(),
            f"440305-2026-00000{i}",
            "overtime",
            frozenset({f"w{i}"}),
            day - timedelta(days=30 * i),
        )
        for i in (1, 2)
    ]
    result = assess(
        case("公司拖欠工资", on=day), history, current={}, flagged_on=None, policy=POLICY
    )
    assert result.repeat is not None and len(result.repeat.case_ids) == 3
    assert result.decision.employer_flagged
    assert "employer.repeat" in rules_of(result.decision)
