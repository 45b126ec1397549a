import random
import uuid
from datetime import UTC, datetime

import pytest

from triage.domain import Lexicon, classify, triage
from weiquan_shared.demo import STORIES
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef

LEXICON = Lexicon.load()


def case(summary: str, workers: int = 1, migrant: bool = False) -> CaseReported:
    return CaseReported(
        case_id=uuid.uuid4(),
        case_number="440305-2026-000001",
        channel="hotline",
        channel_ref="c1",
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(name="深圳市鹏程建筑劳务有限公司", district_code="440305"),
        workers=[
            WorkerRef(worker_ref=f"{i:064x}", is_migrant_worker=migrant) for i in range(workers)
        ],
        summary=summary,
    )


@pytest.mark.parametrize(("category", "template", "_claim"), STORIES)
def test_every_demo_story_is_classified_as_written(category, template, _claim) -> None:
    primary, _, _ = classify(template.format(m=3, amount=5000), LEXICON)
    assert primary == category


def test_no_keyword_means_other_and_asks_for_review() -> None:
    decision = triage(case("想咨询一下退休年龄的问题"), LEXICON)
    assert decision.category == "other"
    assert decision.reasons[0].rule == "category.no_match"


def test_ten_workers_make_a_critical_group_dispute() -> None:
    decision = triage(case("公司拖欠工资三个月", workers=10), LEXICON)
    assert decision.urgency == "critical"
    assert "urgency.group_dispute" in [r.rule for r in decision.reasons]
    assert triage(case("公司拖欠工资三个月", workers=9), LEXICON).urgency == "normal"


def test_migrant_wage_arrears_is_urgent() -> None:
    decision = triage(case("老板拖欠工资不发", migrant=True), LEXICON)
    assert (decision.category, decision.urgency) == ("wage_arrears", "urgent")


def test_work_injury_goes_to_legal_aid() -> None:
    decision = triage(case("在车间受伤骨折，公司不申报工伤"), LEXICON)
    assert (decision.category, decision.urgency, decision.route) == (
        "work_injury",
        "urgent",
        "legal_aid",
    )


def test_decision_is_deterministic() -> None:
    summary = random.Random(1).choice(STORIES)[1].format(m=2, amount=100)
    assert triage(case(summary), LEXICON) == triage(case(summary), LEXICON)
