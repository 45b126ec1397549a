"""Rules and templates as data: every variable comes from a field of the event's contract,
every SMS fits one segment with the signature, and the rules pick the right messages."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import get_origin
from zoneinfo import ZoneInfo

import pytest

import weiquan_shared.events  # noqa: F401  (registers every contract)
from notification.channels.sms import SmsSettings
from notification.rules import (
    CONDITION_KEYS,
    TEMPLATES,
    placeholders,
    plan,
    render,
    rule_book,
    template_text,
    wechat_fields,
)
from notification.timing import QuietHours, RateLimit, RetryPolicy
from weiquan_shared import labels
from weiquan_shared.envelope import EventPayload, registered_payloads

SMS_SEGMENT = 70  # characters of one SMS, signature included (Tencent Cloud, Chinese text)
LONG_SMS_SEGMENT = 67  # each segment of a concatenated SMS (the rest carries the joining header)
# The longest case number intake makes: district-year-sequence (6 digits, 7 past a million).
LONGEST_CASE_NUMBER = "440305-2026-1000000"
CHINA = ZoneInfo("Asia/Shanghai")


def contracts(event_type: str) -> list[type[EventPayload]]:
    """Every version of the event still read (a field must be in each)."""
    found = [p for (kind, _), p in registered_payloads().items() if kind == event_type]
    assert found, event_type
    return found


def longest_values(event_type: str) -> dict[str, str]:
    """Each variable at its longest: label tables at their longest label."""
    values = {}
    for name, source in rule_book().variables[event_type].items():
        if source.field == "case_number":
            values[name] = LONGEST_CASE_NUMBER
        elif get_origin(contracts(event_type)[0].model_fields[source.field].annotation) is list:
            # A list of codes: every label, joined (e.g. both reasons of a denial).
            values[name] = "；".join(getattr(labels, str(source.labels)).values())
        else:
            tables = [source.labels] + ([source.fallback.labels] if source.fallback else [])
            values[name] = max(
                (label for table in tables if table for label in getattr(labels, table).values()),
                key=len,
            )
    return values


def test_every_template_variable_is_declared_for_its_event_and_read_from_its_contract() -> None:
    book = rule_book()
    for rule in book.rules:
        declared = book.variables[rule.event]
        assert set(placeholders(rule.template)) <= set(declared), rule.id
        for payload in contracts(rule.event):
            fields = payload.model_fields
            for source in declared.values():
                assert source.field in fields, (rule.event, source.field)
                assert source.fallback is None or source.fallback.field in fields
        for source in declared.values():
            tables = [source.labels, source.fallback.labels if source.fallback else None]
            for table in tables:
                assert table is None or isinstance(getattr(labels, table), dict)
        assert set(rule.when.model_dump(exclude_none=True)) <= set(CONDITION_KEYS)
        assert rule.template.split("/")[0] == rule.channel


def test_every_template_file_is_used_by_a_rule_and_written_in_chinese() -> None:
    used = {rule.template for rule in rule_book().rules}
    files = {str(p.relative_to(TEMPLATES).with_suffix("")) for p in TEMPLATES.rglob("*.txt")}
    assert files == used
    for template in files:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in template_text(template))


def test_every_sms_fits_its_segments_with_the_signature_at_its_longest() -> None:
    """One segment (70 characters) unless the rule declares more: then 67 each."""
    signature = f"【{SmsSettings().signature}】"
    assert signature.endswith("工会】")
    for rule in rule_book().rules:
        if rule.channel != "sms":
            continue
        text = signature + render(rule.template, longest_values(rule.event))
        limit = SMS_SEGMENT if rule.segments == 1 else LONG_SMS_SEGMENT * rule.segments
        assert len(text) <= limit, (rule.template, len(text), text)
        if rule.segments > 1:  # declared no longer than it needs
            assert len(text) > LONG_SMS_SEGMENT * (rule.segments - 1), rule.template


def test_the_case_accepted_sms_carries_the_case_number_and_the_signature() -> None:
    number = "440305-2026-000123"
    text = f"【{SmsSettings().signature}】" + render("sms/case_accepted", {"case_number": number})
    assert text.startswith("【深圳市总工会】")
    assert number in text
    assert placeholders("sms/case_accepted") == ["case_number"]


def reported(channel: str, workers: int) -> dict[str, object]:
    return {
        "case_id": str(uuid.uuid4()),
        "case_number": "440305-2026-000007",
        "channel": channel,
        "district_code": "440305",
        "route": None,
    }


def test_a_wechat_case_tells_its_worker_on_wechat_and_every_worker_by_sms() -> None:
    refs = ["a" * 64, "b" * 64]
    planned = plan(
        rule_book(), "case.reported", reported("wechat", 2), case_channel="wechat", workers=refs
    )
    got = sorted((m.rule.template, m.recipient.position) for m in planned)
    assert got == [("sms/case_accepted", 0), ("sms/case_accepted", 1), ("wechat/case_accepted", 0)]
    hotline = plan(
        rule_book(),
        "case.reported",
        reported("hotline", 1),
        case_channel="hotline",
        workers=refs[:1],
    )
    assert [m.rule.template for m in hotline] == ["sms/case_accepted"]


@pytest.mark.parametrize(
    ("route", "detail", "template", "words"),
    [
        (
            "mediation",
            "mediation.court_union_room",
            "sms/case_routed_mediation",
            "法院—工会诉调对接工作室",
        ),
        ("legal_aid", "legal_aid.union", "sms/case_routed_legal_aid", "工会法律援助"),
        (
            "referral",
            "referral.labour_inspection",
            "sms/case_routed_referral",
            "已转介劳动保障监察",
        ),
        ("referral", None, "sms/case_routed_referral", "已转介"),
    ],
)
def test_a_routed_case_is_told_in_chinese_where_it_went(
    route: str, detail: str | None, template: str, words: str
) -> None:
    payload = {"case_number": "440305-2026-000007", "route": route, "route_detail": detail}
    planned = plan(rule_book(), "case.triaged", payload, case_channel="hotline", workers=["a" * 64])
    assert [m.rule.template for m in planned] == [template]
    text = render(template, planned[0].variables)
    assert words in text and "440305-2026-000007" in text


def test_a_consultation_tells_nothing_and_a_retriage_only_when_the_route_changed() -> None:
    consult = {"case_number": "X", "route": "consultation", "route_detail": None}
    assert (
        plan(rule_book(), "case.triaged", consult, case_channel="hotline", workers=["a" * 64]) == []
    )
    same = {
        "case_number": "X",
        "route": "mediation",
        "route_detail": "mediation.union",
        "previous": {"route": "mediation", "route_detail": "mediation.union"},
    }
    assert (
        plan(rule_book(), "case.retriaged", same, case_channel="wechat", workers=["a" * 64]) == []
    )
    moved = {**same, "route": "legal_aid", "route_detail": "legal_aid.union"}
    planned = plan(rule_book(), "case.retriaged", moved, case_channel="wechat", workers=["a" * 64])
    assert sorted(m.rule.template for m in planned) == [
        "sms/case_routed_legal_aid",
        "wechat/case_routed",
    ]


def test_a_denied_application_tells_its_workers_the_reasons_in_chinese_and_the_review() -> None:
    payload = {
        "case_number": "440305-2026-000007",
        "reason_codes": ["out_of_scope", "income_above_standard"],
        "worker_refs": ["a" * 64],
    }
    planned = plan(
        rule_book(),
        "legal_aid.denied",
        payload,
        case_channel="wechat",
        workers=["a" * 64, "b" * 64],
    )
    got = sorted((m.rule.template, m.recipient.position) for m in planned)
    assert got == [
        ("sms/legal_aid_denied", 0),
        ("sms/legal_aid_denied", 1),
        ("wechat/legal_aid_denied", 0),
    ]
    sms = render("sms/legal_aid_denied", planned[0].variables)
    assert "440305-2026-000007" in sms and "未获批准" in sms
    assert labels.LEGAL_AID_DENIAL_REASONS["out_of_scope"] in sms
    assert labels.LEGAL_AID_DENIAL_REASONS["income_above_standard"] in sms
    assert "异议" in sms and "区司法局" in sms and "out_of_scope" not in sms
    one = plan(
        rule_book(),
        "legal_aid.denied",
        {**payload, "reason_codes": ["income_above_standard"]},
        case_channel="hotline",
        workers=["a" * 64],
    )
    assert [m.rule.template for m in one] == ["sms/legal_aid_denied"]
    assert one[0].variables["reasons"] == labels.LEGAL_AID_DENIAL_REASONS["income_above_standard"]
    wechat = wechat_fields(render("wechat/legal_aid_denied", planned[0].variables))
    assert wechat["keyword1"] == "440305-2026-000007"
    assert labels.LEGAL_AID_DENIAL_REASONS["out_of_scope"] in wechat["remark"]


def test_a_granted_application_is_told_by_sms_that_a_lawyer_will_call() -> None:
    payload = {"case_number": "440305-2026-000007", "worker_refs": ["a" * 64]}
    planned = plan(
        rule_book(), "legal_aid.granted", payload, case_channel="hotline", workers=["a" * 64]
    )
    assert [m.rule.template for m in planned] == ["sms/legal_aid_granted"]
    text = render("sms/legal_aid_granted", planned[0].variables)
    assert "440305-2026-000007" in text and "已获批准" in text and "律师" in text


def test_a_wechat_template_renders_into_its_data_fields() -> None:
    fields = wechat_fields(render("wechat/case_accepted", {"case_number": "440305-2026-000007"}))
    assert fields["keyword1"] == "440305-2026-000007"
    assert set(fields) == {"first", "keyword1", "keyword2", "remark"}


def test_quiet_hours_hold_a_message_due_at_23_00_until_the_morning_hour() -> None:
    quiet = QuietHours(time(21, 0), time(8, 0), CHINA)
    at_eleven = datetime(2026, 12, 2, 23, 0, tzinfo=CHINA)
    assert quiet.next_allowed(at_eleven) == datetime(2026, 12, 3, 8, 0, tzinfo=CHINA)
    early = datetime(2026, 12, 3, 6, 30, tzinfo=CHINA)
    assert quiet.next_allowed(early) == datetime(2026, 12, 3, 8, 0, tzinfo=CHINA)
    assert quiet.next_allowed(datetime(2026, 12, 3, 8, 0, tzinfo=CHINA)) is None
    assert quiet.next_allowed(datetime(2026, 12, 3, 20, 59, tzinfo=CHINA)) is None
    # The same instant given in UTC (15:00Z is 23:00 in Shanghai).
    assert quiet.next_allowed(datetime(2026, 12, 2, 15, 0, tzinfo=UTC)) == datetime(
        2026, 12, 3, 8, 0, tzinfo=CHINA
    )


def test_retries_back_off_doubling_up_to_a_cap_and_a_limit() -> None:
    retry = RetryPolicy(4, timedelta(seconds=30), timedelta(minutes=2))
    assert [retry.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 120]
    assert not retry.exhausted(3) and retry.exhausted(4)


def test_the_rate_per_recipient_defers_until_the_oldest_send_leaves_the_window() -> None:
    rate = RateLimit(2, timedelta(hours=1))
    oldest = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert rate.next_allowed(1, oldest) is None
    assert rate.next_allowed(2, oldest) == oldest + timedelta(hours=1)
    assert date(2026, 12, 2) == oldest.date()
