"""Settling what triage flagged for review, without I/O: which clocks each resolution
recomputes or settles, what stays for a person, and when there is nothing to settle."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from triage.clocks import ClockInputs, compute_clocks
from triage.review import NothingToReview, resolve, without_confirmed
from triage.rules import RuleBook
from weiquan_shared.events import Category, Route, StatutoryClock
from weiquan_shared.legal_calendar import LegalCalendar

RULES = RuleBook.load()
CALENDAR = LegalCalendar.load()
TODAY = date(2026, 6, 15)


def clocks(
    knew_on: date | None, category: Category = "termination", route: Route = "mediation"
) -> list[StatutoryClock]:
    return compute_clocks(
        ClockInputs(knew_on, None),
        category=category,
        route=route,
        today=TODAY,
        rules=RULES,
        calendar=CALENDAR,
    )


def settle(before, resolution, on=None, category="termination", route="mediation"):
    return resolve(
        before,
        resolution,
        on,
        category=category,
        route=route,
        employment_ended_on=None,
        today=TODAY,
        rules=RULES,
        calendar=CALENDAR,
    )


def test_recording_the_start_date_counts_the_limitation_from_it() -> None:
    before = clocks(None)
    assert before[0].review == ["start_unknown"]
    after = settle(before, "start_date_recorded", TODAY - timedelta(days=30))
    assert after.clocks[0].starts_on == TODAY - timedelta(days=30)
    assert "start_unknown" not in after.clocks[0].review and after.confirmed == {}
    # The mediation window stays anchored on the routing day.
    assert after.clocks[1] == before[1]


def test_a_work_injury_gains_its_recognition_clocks_once_the_date_is_known() -> None:
    before = clocks(None, category="work_injury")
    after = settle(before, "start_date_recorded", TODAY - timedelta(days=5), "work_injury")
    assert [c.kind for c in after.clocks] == [
        "arbitration_limitation",
        "mediation_window",
        "injury_recognition_employer",
        "injury_recognition_worker",
    ]


def test_an_interruption_restarts_an_expired_limitation() -> None:
    before = clocks(TODAY - timedelta(days=800))
    assert "limitation_expired" in before[0].review
    after = settle(before, "limitation_interrupted", TODAY - timedelta(days=3))
    assert after.clocks[0].starts_on == TODAY - timedelta(days=3)
    assert "limitation_expired" not in after.clocks[0].review
    assert after.clocks[0].note.startswith("时效中断")


def test_a_recorded_interruption_survives_a_later_recomputation() -> None:
    """An officer's override or a group recomputes the clocks from the case's facts: the
    interruption is one of them, so the limitation still counts from it, whatever the new
    category (a wage claim during employment included)."""
    restarted_on = TODAY - timedelta(days=3)
    inputs = ClockInputs(TODAY - timedelta(days=800), None, limitation_restarted_on=restarted_on)
    for category in ("termination", "wage_arrears"):
        [limitation, *_] = compute_clocks(
            inputs,
            category=category,
            route="legal_aid",
            today=TODAY,
            rules=RULES,
            calendar=CALENDAR,
        )
        assert limitation.starts_on == restarted_on and limitation.note.startswith("时效中断")
        assert "limitation_expired" not in limitation.review


def test_confirming_the_expiry_or_a_suspension_settles_the_code_and_keeps_the_dates() -> None:
    before = clocks(TODAY - timedelta(days=800))
    confirmed = settle(before, "limitation_expiry_confirmed")
    assert confirmed.clocks[0].due_on == before[0].due_on
    assert "limitation_expired" not in confirmed.clocks[0].review
    assert "limitation_expired" in confirmed.confirmed["arbitration_limitation"]
    suspended = settle(before, "limitation_suspended")
    assert "时效中止" in suspended.clocks[0].note and suspended.clocks[0].due_on == before[0].due_on


def test_nothing_to_review_or_nothing_this_resolution_settles() -> None:
    clean = [c.model_copy(update={"review": []}) for c in clocks(TODAY - timedelta(days=10))]
    with pytest.raises(NothingToReview, match="没有待人工核实"):
        settle(clean, "dates_checked")
    with pytest.raises(NothingToReview, match="记录知道权利受侵害的日期"):
        settle(clocks(None), "dates_checked")
    with pytest.raises(NothingToReview, match="时效中止"):
        settle(clocks(None), "limitation_suspended")


def test_the_sweep_does_not_raise_a_settled_code_again_on_the_same_due_date() -> None:
    flagged = clocks(TODAY - timedelta(days=10))[0].model_copy(
        update={"review": ["make_up_workday"]}
    )
    same = without_confirmed([flagged], {flagged.kind: (flagged.due_on, ["make_up_workday"])})
    assert same[0].review == []
    moved = without_confirmed([flagged], {flagged.kind: (date(2000, 1, 1), ["make_up_workday"])})
    assert moved[0].review == ["make_up_workday"]
