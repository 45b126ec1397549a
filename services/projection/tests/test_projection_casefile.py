"""The case file's rules without a broker or a database: a case's status in plain Chinese,
which queues a case is in, and what the case events put in a timeline (never a note's words).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from projection.domain import facts_of
from projection.queues import QueueCase, open_reviews, queues_of
from projection.store import _clock_view
from weiquan_shared import labels
from weiquan_shared.envelope import Actor, EventPayload, new_event
from weiquan_shared.events import (
    CaseAssigned,
    CaseConsentRecorded,
    CaseContactRecorded,
    CaseNoteAdded,
    CaseVoided,
    StatutoryClock,
)
from weiquan_shared.events.triage import CaseReviewResolved

TODAY = date(2026, 12, 2)
AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
CASE = uuid.UUID(int=7)
NUMBER = "440305-2026-000007"
ME, OTHER = "staff-me", "staff-other"
NANSHAN = ("440305",)


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("voided", "route", "handling", "status", "words"),
    [
        (False, None, None, "received", "已受理"),
        (False, "mediation", None, "mediation", "调解中"),
        (False, "legal_aid", None, "legal_aid", "法律援助中"),
        (False, "referral", None, "triaged", "已分流"),
        (False, "consultation", None, "closed", "已结案"),
        (True, None, None, "voided", "已作废"),
        (True, "mediation", None, "voided", "已作废"),
        # Where mediation and legal aid stand outweighs the route (projection.handling).
        (False, "mediation", "closed", "closed", "已结案"),
        (False, "mediation", "legal_aid", "legal_aid", "法律援助中"),
        (False, "legal_aid", "mediation", "mediation", "调解中"),
        (True, "mediation", "mediation", "voided", "已作废"),
    ],
)
def test_a_case_status_in_plain_chinese(
    voided: bool, route: str | None, handling: str | None, status: str, words: str
) -> None:
    assert labels.case_status(voided=voided, route=route, handling=handling) == status
    assert labels.case_status_label(voided=voided, route=route, handling=handling) == words


def test_a_case_concluded_by_mediation_or_legal_aid_leaves_the_open_queues() -> None:
    assert queues_of(case(handling="mediation"), ME, NANSHAN, TODAY) == {"mine"}
    assert queues_of(case(handling="closed"), ME, NANSHAN, TODAY) == set()
    unassigned = case(assignee_id=None, handling="legal_aid")
    assert queues_of(unassigned, ME, NANSHAN, TODAY) == {"unassigned"}


def test_every_status_has_one_name_and_voided_wins() -> None:
    assert set(labels.CASE_STATUSES.values()) == {
        "已受理",
        "已分流",
        "调解中",
        "法律援助中",
        "已结案",
        "已作废",
    }
    for route in (None, "consultation", "mediation", "legal_aid", "referral"):
        assert labels.case_status(voided=True, route=route) == "voided"


# ---------------------------------------------------------------- queues


def clock(
    due: date | None = date(2027, 6, 1),
    at_risk_from: date | None = date(2027, 5, 2),
    review: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "kind": "arbitration_limitation",
        "due_on": due.isoformat() if due else None,
        "at_risk_from": at_risk_from.isoformat() if at_risk_from else None,
        "review": review or [],
    }


def case(**changes: Any) -> QueueCase:
    values: dict[str, Any] = {
        "district_code": "440305",
        "reported": True,
        "voided": False,
        "route": "mediation",
        "assignee_id": ME,
        "clocks": [clock()],
    }
    return QueueCase(**{**values, **changes})


def test_my_open_cases_are_mine_wherever_they_are() -> None:
    assert queues_of(case(), ME, NANSHAN, TODAY) == {"mine"}
    assert queues_of(case(district_code="440306"), ME, NANSHAN, TODAY) == {"mine"}
    assert queues_of(case(assignee_id=OTHER), ME, NANSHAN, TODAY) == set()
    # Answered on the spot: closed, no longer anyone's work.
    assert queues_of(case(route="consultation"), ME, NANSHAN, TODAY) == set()


def test_a_case_without_a_responsible_person_waits_in_its_district() -> None:
    unassigned = case(assignee_id=None)
    assert queues_of(unassigned, ME, NANSHAN, TODAY) == {"unassigned"}
    assert queues_of(unassigned, ME, ("440306",), TODAY) == set()
    assert queues_of(unassigned, ME, None, TODAY) == {"unassigned"}  # every district
    assert queues_of(case(assignee_id=None, route=None), ME, NANSHAN, TODAY) == {"unassigned"}
    assert queues_of(case(assignee_id=None, route="consultation"), ME, NANSHAN, TODAY) == set()


@pytest.mark.parametrize(
    "code",
    ["start_unknown", "make_up_workday", "calendar_missing", "calendar_unverified",
     "limitation_expired"],
)  # fmt: skip
def test_every_review_flag_puts_the_case_in_its_districts_review_queue(code: str) -> None:
    flagged = case(assignee_id=OTHER, clocks=[clock(), clock(review=[code])])
    assert queues_of(flagged, ME, NANSHAN, TODAY) == {"review"}
    assert queues_of(flagged, ME, ("440306",), TODAY) == set()
    assert labels.CLOCK_REVIEWS[code]


def test_a_resolved_review_leaves_the_queue() -> None:
    start_unknown = [clock(due=None, at_risk_from=None, review=["start_unknown"])]
    assert "review" in queues_of(case(clocks=start_unknown), ME, NANSHAN, TODAY)
    # case.review_resolved brings the clocks recomputed without a review code.
    assert "review" not in queues_of(case(clocks=[clock()]), ME, NANSHAN, TODAY)
    assert open_reviews([clock(review=["a", "b"]), clock(review=["b", "c"])]) == ["a", "b", "c"]


def test_a_deadline_at_risk_today_is_in_the_districts_at_risk_queue() -> None:
    risky = case(assignee_id=OTHER, clocks=[clock(due=date(2026, 12, 20), at_risk_from=TODAY)])
    assert queues_of(risky, ME, NANSHAN, TODAY) == {"at_risk"}
    last_day = case(assignee_id=OTHER, clocks=[clock(due=TODAY, at_risk_from=date(2026, 11, 2))])
    assert queues_of(last_day, ME, NANSHAN, TODAY) == {"at_risk"}
    expired = case(assignee_id=OTHER, clocks=[clock(due=date(2026, 12, 1))])
    assert queues_of(expired, ME, NANSHAN, TODAY) == set()
    assert queues_of(risky, ME, ("440306",), TODAY) == set()


def test_a_voided_case_or_one_not_yet_reported_is_in_no_queue() -> None:
    everything = case(
        assignee_id=None,
        clocks=[clock(due=date(2026, 12, 20), at_risk_from=TODAY, review=["make_up_workday"])],
    )
    assert queues_of(everything, ME, NANSHAN, TODAY) == {"unassigned", "review", "at_risk"}
    assert queues_of(case(voided=True), ME, NANSHAN, TODAY) == set()
    assert queues_of(replace_voided(everything), ME, NANSHAN, TODAY) == set()
    assert queues_of(case(reported=False), ME, NANSHAN, TODAY) == set()


def replace_voided(queue_case: QueueCase) -> QueueCase:
    return QueueCase(**{**queue_case.__dict__, "voided": True})


# ---------------------------------------------------------------- timeline


def timeline_text(payload: EventPayload) -> str:
    envelope = new_event(
        payload, subject=str(CASE), producer=payload.producer, actor=Actor.system("intake")
    )
    [(*_, text)] = facts_of(envelope, payload).rows["case_timeline"]
    return str(text)


def test_the_case_events_read_as_sentences_and_a_note_has_no_words() -> None:
    common = {"case_id": CASE, "case_number": NUMBER, "district_code": "440305"}
    note = CaseNoteAdded(**common, note_id=uuid.uuid4(), author_name="李敏", written_at=AT)
    assert timeline_text(note) == "李敏 添加了备注"
    contact = CaseContactRecorded(
        **common,
        contact_id=uuid.uuid4(),
        method="call_back",
        outcome="no_answer",
        next_action_on=date(2026, 12, 5),
        author_name="李敏",
        contacted_at=AT,
    )
    assert timeline_text(contact) == "李敏 回电：无人接听，下次 2026-12-05"
    taken = CaseAssigned(**common, assignee_id="s-1", assignee_name="李敏", assigned_at=AT)
    assert timeline_text(taken) == "承办人：李敏"
    moved = CaseAssigned(
        **common,
        assignee_id="s-2",
        assignee_name="王强",
        previous_assignee_id="s-1",
        reason="李敏休假，由王强接手，电话13912345678",
        assigned_at=AT,
    )
    text = timeline_text(moved)
    assert text.startswith("承办人改为 王强（原因：") and "13912345678" not in text
    back = CaseAssigned(**common, assignee_id=None, previous_assignee_id="s-2", assigned_at=AT)
    assert timeline_text(back) == "案件退回区县待分配"
    consent = CaseConsentRecorded(
        **common,
        scopes=["court", "law_firm"],
        wording_version="share-1",
        obtained_by="case_page",
        recorded_at=AT,
    )
    assert "职工同意向人民法院、律师事务所提供案件信息" in timeline_text(consent)
    withdrawn = consent.model_copy(update={"scopes": []})
    assert "撤回" in timeline_text(withdrawn)
    voided = CaseVoided(
        **common, reason="duplicate", duplicate_of="440305-2026-000001", voided_at=AT
    )
    assert timeline_text(voided) == (
        "案件已作废：重复登记（与案件 440305-2026-000001 重复），不再计入统计"
    )
    resolved = CaseReviewResolved(
        case_id=CASE,
        case_number=NUMBER,
        resolution="start_date_recorded",
        knew_of_infringement_on=date(2026, 10, 8),
        clocks=[
            StatutoryClock(
                kind="arbitration_limitation",
                rule_id="clock.arbitration_limitation",
                starts_on=date(2026, 10, 8),
                due_on=date(2027, 10, 8),
                at_risk_from=date(2027, 9, 8),
                note="仲裁时效一年",
            )
        ],
        note="职工来电确认",
        resolved_at=AT,
    )
    text = timeline_text(resolved)
    assert text.startswith(
        "人工核实：已核实并记录知道权利受侵害的日期（知道权利受侵害之日 2026年10月08日）"
    )
    assert "仲裁时效届满日 2027年10月08日" in text


# ---------------------------------------------------------------- the case page's clocks


def test_each_clock_has_its_state_days_left_and_review_flags_in_chinese() -> None:
    unknown = _clock_view(
        {"kind": "arbitration_limitation", "due_on": None, "review": ["start_unknown"]}, TODAY
    )
    assert (unknown["state_name"], unknown["days_left"]) == ("未计算", None)
    assert unknown["review"] == [
        {"code": "start_unknown", "text": labels.CLOCK_REVIEWS["start_unknown"]}
    ]
    expired = _clock_view(
        {
            "kind": "arbitration_limitation",
            "due_on": "2026-06-01",
            "at_risk_from": "2026-05-02",
            "review": ["limitation_expired"],
            "note": "时效期间已届满",
        },
        TODAY,
    )
    assert (expired["kind_name"], expired["state_name"], expired["days_left"]) == (
        "仲裁时效",
        "已届满，待人工核实",
        None,
    )
    assert "中断、中止" in expired["review"][0]["text"]
    at_risk = _clock_view(
        {"kind": "mediation_window", "due_on": "2026-12-17", "at_risk_from": "2026-11-27"}, TODAY
    )
    assert (at_risk["kind_name"], at_risk["state"], at_risk["days_left"]) == (
        "调解期限",
        "at_risk",
        15,
    )
    assert at_risk["review"] == []
