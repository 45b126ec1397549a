"""Mediators and lawyers, without I/O: who an assignment tells, the reminder's window and
identity, the messages' Chinese text."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from notification.reminders import ReminderTime
from notification.rules import plan, render, rule_book, staff_addressees
from notification.staff import deadline_id, reminder_id, reminder_messages

CHINA = ZoneInfo("Asia/Shanghai")
LEAD = "0b8f6d4e-1c55-4a1e-9f43-2d1c7e9b1001"
OTHER = "0b8f6d4e-1c55-4a1e-9f43-2d1c7e9b1002"


def assigned(**changes: Any) -> dict[str, Any]:
    return {
        "mediation_number": "TJ-440305-2026-000031",
        "case_numbers": ["440305-2026-000101", "440305-2026-000102"],
        "lead_mediator_id": LEAD,
        "lead_organisation": "union",
        "assigned_by": "rules",
        "previous_lead_mediator_id": None,
        **changes,
    }


def staff_plan(event_type: str, payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    planned = plan(
        rule_book(),
        event_type,
        payload,
        case_channel=None,
        workers=[],
        staff=staff_addressees(event_type, payload),
    )
    return sorted((m.rule.template, m.recipient.kind, m.recipient.ref) for m in planned)


def test_an_assignment_emails_the_lead_mediator_and_a_coordinator_change_the_new_lead() -> None:
    assert staff_plan("mediation.assigned", assigned()) == [
        ("email/mediator_assigned", "mediator", LEAD)
    ]
    changed = assigned(
        lead_mediator_id=OTHER, assigned_by="coordinator", previous_lead_mediator_id=LEAD
    )
    assert staff_plan("mediation.assigned", changed) == [
        ("email/mediator_assigned", "mediator", OTHER)
    ]
    # A coordinator changed only the organisations: the same lead is not told again.
    same = assigned(assigned_by="coordinator", previous_lead_mediator_id=LEAD)
    assert staff_plan("mediation.assigned", same) == []


def test_a_lawyer_is_told_by_email_and_sms_only_when_the_panel_entry_has_an_account() -> None:
    payload = {
        "application_number": "FY-440305-2026-000009",
        "case_number": "440305-2026-000101",
        "assigned_on": "2026-12-03",
        "lawyer_subject": OTHER,
    }
    assert staff_plan("legal_aid.lawyer_assigned", payload) == [
        ("email/lawyer_assigned", "lawyer", OTHER),
        ("sms/lawyer_assigned", "lawyer", OTHER),
    ]
    assert staff_plan("legal_aid.lawyer_assigned", {**payload, "lawyer_subject": None}) == []
    # Workers' rules of other events never reach staff, and staff rules no worker.
    workers_only = plan(
        rule_book(),
        "case.reported",
        {"case_number": "440305-2026-000101"},
        case_channel="hotline",
        workers=["a" * 64],
        staff={"mediator": [LEAD], "lawyer": [OTHER]},
    )
    assert {m.recipient.kind for m in workers_only} == {"worker"}


def test_the_assignment_email_is_chinese_with_the_mediation_and_its_cases() -> None:
    book = rule_book()
    values = book.values("mediation.assigned", assigned())
    text = render("email/mediator_assigned", values)
    subject, _, body = text.partition("\n")
    assert subject == "调解案件指派通知：TJ-440305-2026-000031"
    assert "440305-2026-000101；440305-2026-000102" in body
    assert "牵头单位：工会（按规则指派）" in body


def test_the_reminder_window_is_tomorrow_in_china_from_the_configured_hour() -> None:
    when = ReminderTime(time(9, 0), CHINA)
    # 00:59 UTC is 08:59 in Shenzhen: not yet.
    assert when.window(datetime(2030, 3, 4, 0, 59, tzinfo=UTC)) is None
    start, end = when.window(datetime(2030, 3, 4, 1, 0, tzinfo=UTC)) or (None, None)
    assert start == datetime(2030, 3, 5, 0, 0, tzinfo=CHINA)
    assert end == datetime(2030, 3, 6, 0, 0, tzinfo=CHINA)
    # 23:30 in Shenzhen is still the same local day: tomorrow is the same.
    late = when.window(datetime(2030, 3, 4, 15, 30, tzinfo=UTC))
    assert late == (start, end)


def test_a_reminder_is_one_per_session_start_and_mediator() -> None:
    session = uuid.uuid4()
    starts = datetime(2030, 3, 5, 6, 30, tzinfo=UTC)
    assert reminder_id(session, starts) == reminder_id(session, starts)
    moved = datetime(2030, 3, 6, 6, 30, tzinfo=UTC)
    assert reminder_id(session, moved) != reminder_id(session, starts)
    case = uuid.uuid4()
    assert deadline_id(case, "arbitration_limitation", date(2030, 3, 20)) != deadline_id(
        case, "arbitration_limitation", date(2030, 3, 27)
    )
    row = {
        "session_id": session,
        "mediation_number": "TJ-440305-2026-000031",
        "district_code": "440305",
        "case_ids": [case],
        "case_numbers": ["440305-2026-000101"],
        "starts_at": starts,
        "room_name": "南山区职工服务中心调解室",
        "mediator_ids": [LEAD, OTHER, LEAD],
    }
    planned = reminder_messages(rule_book(), [row])
    assert sorted(m.recipient.ref for _, _, _, m in planned) == [LEAD, OTHER]
    assert {event_id for event_id, _, _, _ in planned} == {reminder_id(session, starts)}
    text = render("email/mediator_session_reminder", planned[0][3].variables)
    assert text.startswith("明日调解提醒：3月5日 14:30 TJ-440305-2026-000031")
    assert "定于明天（3月5日）14:30在南山区职工服务中心调解室进行" in text
