"""The employer as a recipient: a session's invitation or move by SMS and email where the
employer sends a representative and intake holds its contact by that channel, and the
union's reminder letter (提示函) on a flagged employer, in Chinese."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from notification.channels.base import PermanentFailure
from notification.contacts import CaseContacts, EmployerContact, _employer
from notification.letter import PDF_LETTERS, letter_html, render_pdf
from notification.rules import employer_ref, plan, render, rule_book
from notification.sender import _address

NUMBER = "440305-2026-000007"
ROOM = "南山区职工服务中心诉调对接工作室"


def session(employer_representative: bool) -> dict[str, Any]:
    place = {
        "room_id": str(uuid.uuid4()),
        "room_name": ROOM,
        "room_kind": "court_union_room",
        "starts_at": "2026-12-09T06:30:00+00:00",
        "ends_at": "2026-12-09T08:30:00+00:00",
    }
    return {
        "case_number": NUMBER,
        "case_numbers": [NUMBER],
        "place": place,
        "previous": {**place, "starts_at": "2026-12-07T02:00:00+00:00"},
        "parties": {
            "workers": ["a" * 64],
            "representatives_elected": False,
            "employer_representative": employer_representative,
            "mediator_ids": ["m1"],
            "organisations": ["union"],
        },
    }


def employer_messages(event_type: str, payload: dict[str, Any], channels: tuple[str, ...]) -> Any:
    planned = plan(
        rule_book(),
        event_type,
        payload,
        case_channel="hotline",
        workers=["a" * 64],
        employer_channels=channels,
    )
    return [m for m in planned if m.recipient.kind == "employer"]


def test_the_employers_representative_is_invited_by_sms_and_email_with_date_time_place() -> None:
    found = employer_messages("mediation.session_scheduled", session(True), ("mobile", "email"))
    assert sorted(m.rule.template for m in found) == [
        "email/employer_session_scheduled",
        "sms/employer_session_scheduled",
    ]
    assert {m.recipient.ref for m in found} == {employer_ref(NUMBER)}
    sms = render("sms/employer_session_scheduled", found[0].variables)
    assert sms.startswith("贵单位劳动争议调解定于12月9日14:30在" + ROOM)
    email = render("email/employer_session_scheduled", found[0].variables)
    subject, _, body = email.partition("\n")
    assert NUMBER in subject
    assert f"12月9日 14:30在{ROOM}进行" in body


def test_only_the_channels_intake_holds_and_only_when_the_employer_is_called() -> None:
    only_email = employer_messages("mediation.session_scheduled", session(True), ("email",))
    assert [m.rule.channel for m in only_email] == ["email"]
    assert employer_messages("mediation.session_scheduled", session(True), ()) == []
    assert (
        employer_messages("mediation.session_scheduled", session(False), ("mobile", "email")) == []
    )


def test_a_moved_session_says_so_and_when_it_was() -> None:
    found = employer_messages("mediation.session_moved", session(True), ("mobile", "email"))
    by_channel = {m.rule.channel: m for m in found}
    sms = render("sms/employer_session_moved", by_channel["sms"].variables)
    assert sms.startswith("贵单位劳动争议调解改为12月9日14:30") and "原定时间取消" in sms
    email = render("email/employer_session_moved", by_channel["email"].variables)
    assert "改期" in email.splitlines()[0]
    assert "原定12月7日 10:00的调解取消" in email


def test_the_reminder_letter_names_the_employer_its_count_and_the_ladder_it_starts() -> None:
    flagged = {
        "employer_id": str(uuid.uuid4()),
        "employer": {"name": "深圳市鹏程建筑劳务有限公司", "district_code": "440305"},
        "case_count": 5,
        "window_days": 90,
        "case_ids": [str(uuid.uuid4())],
        "reason": {"code": "repeat_employer", "text": "x"},
        "flagged_at": "2026-12-02T02:00:00+00:00",
        "case_number": NUMBER,
    }
    [letter] = employer_messages("employer.flagged", flagged, ("email",))
    assert letter.rule.template == "email/employer_reminder_letter"
    text = render(letter.rule.template, letter.variables)
    assert text.splitlines()[0] == "工会劳动法律监督提示函（深圳市鹏程建筑劳务有限公司）"
    assert "截至2026年12月2日，近90日内涉及贵单位的职工投诉已有5件" in text
    assert "《中华人民共和国工会法》第二十一条至第二十三条" in text
    assert "总工办发〔2021〕9号" in text
    assert "15日内" in text and "意见书" in text and "建议书" in text
    assert text.rstrip().splitlines()[-4:-2] == ["深圳市南山区总工会", "2026年12月2日"]
    # No employer email at intake: no letter.
    assert employer_messages("employer.flagged", flagged, ("mobile",)) == []


def test_intakes_answer_is_read_tolerantly_and_the_right_address_is_chosen() -> None:
    assert _employer(None) is None
    assert _employer({"name": "李经理", "mobile": " ", "email": None}) is None
    contact = _employer({"mobile": "+8613912345678", "extra": 1})
    assert contact == EmployerContact(None, "+8613912345678", None)
    contacts = CaseContacts({0: "+8613800000000"}, None, contact)
    assert _address({"channel": "sms", "recipient_kind": "employer"}, contacts) == "+8613912345678"
    with pytest.raises(PermanentFailure):
        _address({"channel": "email", "recipient_kind": "employer"}, contacts)
    assert _address(
        {"channel": "sms", "recipient_kind": "worker", "worker_position": 0}, contacts
    ) == ("+8613800000000")


def test_the_letter_is_also_a_pdf_of_the_same_text() -> None:
    variables = {
        "employer_name": "深圳市鹏程建筑劳务有限公司",
        "district": "南山区",
        "case_count": "3",
        "window_days": "90",
        "flagged_on": "2026年12月2日",
    }
    text = render("email/employer_reminder_letter", variables)
    html = letter_html(text)
    assert "<h1>工会劳动法律监督提示函</h1>" in html
    assert '<p class="to">深圳市鹏程建筑劳务有限公司：</p>' in html
    assert '<p class="sign first">深圳市南山区总工会</p><p class="sign">2026年12月2日</p>' in html
    assert "总工办发〔2021〕9号" in html
    pdf = render_pdf(text)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    assert PDF_LETTERS == {"email/employer_reminder_letter": "工会劳动法律监督提示函.pdf"}
