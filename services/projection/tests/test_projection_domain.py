"""What projection makes of events and of a deadline on a given day (no broker, no database)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from projection.domain import facts_of
from projection.store import deadline_state
from weiquan_shared.envelope import Actor, new_event
from weiquan_shared.events import CaseTriaged, StatutoryClock, TriageReason

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
