"""What projection makes of events and of a deadline on a given day (no broker, no database)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from projection.api import STATIC
from projection.domain import facts_of
from projection.pages import case_page
from projection.store import deadline_state
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, new_event
from weiquan_shared.events import (
    CaseTriaged,
    NotificationFailed,
    NotificationSent,
    StatutoryClock,
    TriageReason,
)

TODAY = date(2026, 12, 2)


def test_an_expired_deadline_is_a_state_not_a_negative_number_of_days() -> None:
    expired = deadline_state(date(2026, 6, 1), date(2026, 5, 2), TODAY)
    assert expired == {"state": "expired", "state_name": "已届满，待人工核实", "days_left": None}
    last_day = deadline_state(TODAY, date(2026, 11, 2), TODAY)
    assert (last_day["state"], last_day["days_left"]) == ("at_risk", 0)
    running = deadline_state(date(2027, 3, 1), date(2027, 1, 30), TODAY)
    assert (running["state"], running["days_left"]) == ("running", 89)


def test_a_decision_on_an_expired_limitation_reads_as_expired_in_the_timeline() -> None:
    case_id = uuid.uuid4()
    triaged = CaseTriaged(
        case_id=case_id,
        case_number="440305-2026-000184",
        category="termination",
        urgency="urgent",
        route="legal_aid",
        route_detail="legal_aid.union",
        reasons=[TriageReason(rule="urgency.limitation_expired", text="仲裁时效已届满")],
        triaged_at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
        clocks=[
            StatutoryClock(
                kind="arbitration_limitation",
                rule_id="clock.arbitration_limitation",
                starts_on=date(2025, 6, 1),
                due_on=date(2026, 6, 1),
                at_risk_from=date(2026, 5, 2),
                review=["limitation_expired"],
                note="仲裁时效：自2025-06-01起算，2026-06-01届满；时效期间已届满",
            )
        ],
    )
    envelope = new_event(
        triaged, subject=str(case_id), producer="triage", actor=Actor.system("triage")
    )
    [(*_, text)] = facts_of(envelope, triaged).rows["case_timeline"]
    assert "仲裁时效已于2026年06月01日届满（待核实有无中断、中止情形）" in text
    assert not re.search(r"-\d+天", text)


def test_a_message_to_a_worker_is_a_timeline_line_without_any_address() -> None:
    case_id, now = uuid.uuid4(), datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    common = {
        "message_id": uuid.uuid4(),
        "case_id": case_id,
        "case_number": "440305-2026-000184",
        "district_code": "440305",
        "caused_by_event_id": uuid.uuid4(),
        "caused_by_event_type": "mediation.session_scheduled",
        "template_id": "sms/mediation_session_scheduled",
        "channel": "sms",
        "recipient_kind": "worker",
        "recipient_ref": "a" * 64,
    }
    sent = NotificationSent(**common, attempts=1, provider_ref="sid-1", sent_at=now)
    failed = NotificationFailed(
        **common, attempts=8, reason="ContactNotFound: 440305-2026-000184", failed_at=now
    )
    lines = []
    for payload in (sent, failed):
        envelope = new_event(
            payload, subject=str(case_id), producer="notification", actor=Actor.system("x")
        )
        facts = facts_of(envelope, payload)
        assert facts.cases == set()  # a line only: no figure changes
        [(_, on_case, event_type, at, text)] = facts.rows["case_timeline"]
        assert (on_case, event_type, at) == (case_id, payload.event_type, now)
        lines.append(text)
    assert lines == [
        "已向职工发送短信：调解时间地点通知",
        "短信未能送达职工：调解时间地点通知（已重试8次，见通知记录）",
    ]
    no_case = sent.model_copy(update={"case_id": None})
    envelope = new_event(no_case, subject="x", producer="notification", actor=Actor.system("x"))
    assert facts_of(envelope, no_case).rows == {}


def test_the_case_page_has_the_delivery_log_fetched_from_notification() -> None:
    page = case_page("440305-2026-000184", Role.MEDIATOR)
    assert '<h2 id="h-deliveries">通知记录</h2>' in page and 'id="deliveries"' in page
    script = (STATIC / "case.js").read_text(encoding="utf-8")
    assert '"/notification/api/v1/cases/" + CASE' in script and "/deliveries" in script
