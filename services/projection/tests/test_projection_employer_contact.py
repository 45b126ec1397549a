"""The employer's contact person on the case page: a timeline line without any value, the
masked contact and its form (calling intake), and messages to the employer in the
timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from projection.api import STATIC
from projection.domain import facts_of
from projection.pages import case_page
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, new_event
from weiquan_shared.events import CaseEmployerContactRecorded, NotificationSent


def test_a_recorded_contact_is_a_timeline_line_naming_only_its_channels() -> None:
    case_id, now = uuid.uuid4(), datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    recorded = CaseEmployerContactRecorded(
        case_id=case_id,
        case_number="440305-2026-000184",
        district_code="440305",
        channels=["mobile", "email"],
        has_name=True,
        recorded_by="case_page",
        recorded_at=now,
    )
    envelope = new_event(recorded, subject=str(case_id), producer="intake", actor=Actor.system("x"))
    facts = facts_of(envelope, recorded)
    assert facts.cases == set()
    [(_, on_case, event_type, at, text)] = facts.rows["case_timeline"]
    assert (on_case, event_type, at) == (case_id, "case.employer_contact_recorded", now)
    assert text == "记录了用人单位联系人（案件页记录，可通过手机号、电子邮箱联系）"


def test_a_letter_to_the_employer_reads_as_such_in_the_timeline() -> None:
    case_id = uuid.uuid4()
    sent = NotificationSent(
        message_id=uuid.uuid4(),
        case_id=case_id,
        case_number="440305-2026-000184",
        district_code="440305",
        caused_by_event_id=uuid.uuid4(),
        caused_by_event_type="employer.flagged",
        template_id="email/employer_reminder_letter",
        channel="email",
        recipient_kind="employer",
        recipient_ref="employer:440305-2026-000184",
        attempts=1,
        provider_ref="<id@union>",
        sent_at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
    )
    envelope = new_event(
        sent, subject=str(case_id), producer="notification", actor=Actor.system("x")
    )
    [(*_, text)] = facts_of(envelope, sent).rows["case_timeline"]
    assert text == "已向用人单位发送电子邮件：工会劳动法律监督提示函"


def test_the_case_page_shows_the_masked_contact_and_its_form_calling_intake() -> None:
    page = case_page("440305-2026-000184", Role.OPERATOR)
    assert '<h2 id="h-employer-contact">用人单位联系人（已脱敏）</h2>' in page
    for name in ("name", "mobile", "email"):
        assert f'id="employer-contact-form-{name}"' in page
    script = (STATIC / "case.js").read_text(encoding="utf-8")
    assert 'INTAKE + "/employer-contact"' in script and 'method: "PUT"' in script
