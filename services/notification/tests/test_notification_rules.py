"""Rules and templates as data: every variable comes from a field of the event's contract,
every SMS fits one segment with the signature, and the rules pick the right messages."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import get_args, get_origin
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

import weiquan_shared.events  # noqa: F401  (registers every contract)
from notification.channels.sms import SmsSettings
from notification.rules import (
    CONDITION_KEYS,
    INTERNAL_TRIGGERS,
    PER_CASE_FIELD,
    SEND_TIME_VARIABLES,
    TEMPLATES,
    placeholders,
    plan,
    render,
    rule_book,
    template_text,
    wechat_fields,
)
from notification.survey import SurveyLinks
from notification.timing import QuietHours, RateLimit, RetryPolicy
from weiquan_shared import labels
from weiquan_shared.envelope import registered_payloads

SMS_SEGMENT = 70  # characters of one SMS, signature included (Tencent Cloud, Chinese text)
LONG_SMS_SEGMENT = 67  # characters of each segment of a long SMS
# The longest case number intake makes: district-year-sequence (6 digits, 7 past a million).
LONGEST_CASE_NUMBER = "440305-2026-1000000"
CHINA = ZoneInfo("Asia/Shanghai")


def contracts(event_type: str) -> list[type[BaseModel]]:
    """Every version of the event still read (a field must be in each); notification's own
    triggers (a session tomorrow, a deadline at risk) by their model."""
    if event_type in INTERNAL_TRIGGERS:
        return [INTERNAL_TRIGGERS[event_type]]
    found: list[type[BaseModel]] = [
        p for (kind, _), p in registered_payloads().items() if kind == event_type
    ]
    assert found, event_type
    return found


# A survey link at its longest: a public address of 40 characters and the signed token.
LONGEST_LINK = (
    "https://"
    + "x" * 32
    + "/survey/"
    + SurveyLinks(b"k", timedelta(days=14)).token(uuid.uuid4(), 9_999_999_999)
)
# Formatted values at their longest; an instalment's number up to two digits.
LONGEST_FORMATTED = {"date": "12月31日", "time": "23:59", "yuan": "9,999,999.99"}
LONGEST_FIELD = {"number": "99", "application_number": "FY-440305-2026-1000000"}


def contract_has(payload: type[BaseModel], path: str) -> bool:
    """Whether a contract has the (dotted) field; ``case_number`` of an event naming
    several cases is the one case's number (from ``case_numbers``)."""
    fields = payload.model_fields
    if path == PER_CASE_FIELD and "case_numbers" in fields:
        return True
    head, _, rest = path.partition(".")
    if head not in fields:
        return False
    if not rest:
        return True
    nested = [
        t
        for t in (fields[head].annotation, *get_args(fields[head].annotation))
        if isinstance(t, type) and issubclass(t, BaseModel)
    ]
    return any(contract_has(t, rest) for t in nested)


def longest_values(event_type: str) -> dict[str, str]:
    """Each variable at its longest: label tables at their longest label, free text at its
    cut (unbounded free text only in WeChat templates: 100 characters)."""
    values = {}
    for name, source in rule_book().variables[event_type].items():
        if source.field == "case_number":
            values[name] = LONGEST_CASE_NUMBER
        elif source.format:
            values[name] = LONGEST_FORMATTED[source.format]
        elif source.field in LONGEST_FIELD:
            values[name] = LONGEST_FIELD[source.field]
        elif (
            "." not in source.field
            and get_origin(contracts(event_type)[0].model_fields[source.field].annotation) is list
        ):
            # A list of codes: every label, joined (e.g. both reasons of a denial).
            values[name] = "；".join(getattr(labels, str(source.labels)).values())
        elif not source.labels:
            values[name] = "字" * (source.max_length or 100)
        else:
            tables = [source.labels] + ([source.fallback.labels] if source.fallback else [])
            values[name] = max(
                (label for table in tables if table for label in getattr(labels, table).values()),
                key=len,
            )
    return {**values, "link": LONGEST_LINK}


def test_every_template_variable_is_declared_for_its_event_and_read_from_its_contract() -> None:
    book = rule_book()
    for rule in book.rules:
        declared = book.variables[rule.event]
        assert set(placeholders(rule.template)) <= set(declared) | SEND_TIME_VARIABLES, rule.id
        for payload in contracts(rule.event):
            for source in declared.values():
                assert contract_has(payload, source.field), (rule.event, source.field)
                assert source.fallback is None or contract_has(payload, source.fallback.field)
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


def session_payload(*, workers: list[str], elected: bool, room: str) -> dict[str, object]:
    place = {
        "room_id": str(uuid.uuid4()),
        "room_name": room,
        "room_kind": "union_room",
        # 06:30 UTC is 14:30 in Shenzhen; the next day's date there too at 16:30 UTC.
        "starts_at": "2026-12-09T06:30:00+00:00",
        "ends_at": "2026-12-09T08:30:00+00:00",
    }
    return {
        "case_number": "440305-2026-000007",
        "case_numbers": ["440305-2026-000007"],
        "place": place,
        "previous": {**place, "starts_at": "2026-12-07T16:30:00+00:00"},
        "parties": {
            "workers": workers,
            "representatives_elected": elected,
            "employer_representative": True,
            "mediator_ids": ["m1"],
            "organisations": ["union"],
        },
    }


def test_a_session_invitation_gives_the_local_date_time_and_place_to_every_worker() -> None:
    refs = ["a" * 64, "b" * 64]
    payload = session_payload(workers=refs, elected=False, room="南山区职工服务中心调解室")
    planned = plan(
        rule_book(), "mediation.session_scheduled", payload, case_channel="wechat", workers=refs
    )
    got = sorted((m.rule.template, m.recipient.position) for m in planned)
    assert got == [
        ("sms/mediation_session_scheduled", 0),
        ("sms/mediation_session_scheduled", 1),
        ("wechat/mediation_session_scheduled", 0),
    ]
    sms = render("sms/mediation_session_scheduled", planned[0].variables)
    assert "12月9日14:30在南山区职工服务中心调解室" in sms
    wechat = wechat_fields(render("wechat/mediation_session_scheduled", planned[0].variables))
    assert wechat["keyword1"] == "440305-2026-000007"


def test_a_group_with_elected_representatives_invites_only_them_and_long_rooms_are_cut() -> None:
    refs = [f"{n:x}" * 64 for n in range(12)]
    representatives = refs[3:6]
    room = "深圳市南山区人民法院—南山区总工会劳动争议诉调对接工作室第二调解室"
    payload = session_payload(workers=representatives, elected=True, room=room)
    planned = plan(
        rule_book(), "mediation.session_moved", payload, case_channel="hotline", workers=refs
    )
    assert [m.recipient.position for m in planned] == [3, 4, 5]
    sms = render("sms/mediation_session_moved", planned[0].variables)
    assert "12月9日14:30" in sms and room[:19] + "…" in sms
    # The previous start, 16:30 UTC, was the next day in Shenzhen.
    assert planned[0].variables["previous_date"] == "12月8日"
    assert planned[0].variables["previous_time"] == "00:30"
    everyone = session_payload(workers=refs, elected=False, room=room)
    assert (
        len(
            plan(
                rule_book(),
                "mediation.session_cancelled",
                everyone,
                case_channel="hotline",
                workers=refs,
            )
        )
        == 12
    )


def test_expiry_tells_the_workers_it_names_and_offers_arbitration_or_legal_aid() -> None:
    refs = ["a" * 64, "b" * 64]
    payload = {"case_number": "440305-2026-000007", "worker_refs": refs[1:]}
    planned = plan(rule_book(), "mediation.expired", payload, case_channel="hotline", workers=refs)
    assert [m.recipient.position for m in planned] == [1]
    text = render(planned[0].rule.template, planned[0].variables)
    assert "劳动仲裁" in text and "法律援助" in text
    payload["worker_refs"] = []
    assert (
        len(plan(rule_book(), "mediation.expired", payload, case_channel="hotline", workers=refs))
        == 2
    )


def test_an_overdue_instalment_says_which_and_that_the_union_follows_up() -> None:
    payload = {"case_number": "440305-2026-000007", "number": 2, "due_on": "2027-01-15"}
    planned = plan(
        rule_book(),
        "mediation.instalment_overdue",
        payload,
        case_channel="hotline",
        workers=["a" * 64],
    )
    text = render(planned[0].rule.template, planned[0].variables)
    assert "第2期（1月15日到期）" in text and "工会正在跟进" in text
    agreed = {"case_number": "440305-2026-000007", "effective_on": "2026-12-20"}
    planned = plan(
        rule_book(),
        "mediation.agreement_reached",
        agreed,
        case_channel="hotline",
        workers=["a" * 64],
    )
    assert "已达成调解协议，12月20日生效" in render(planned[0].rule.template, planned[0].variables)


@pytest.mark.parametrize(
    ("result", "surveyed"),
    [
        ("fulfilled", True),
        ("agreement", True),
        ("failed", True),
        ("withdrawn", True),
        ("expired", True),
        ("merged", False),
        ("handed_on", False),
        ("voided", False),
    ],
)
def test_a_closure_that_ended_the_dispute_surveys_the_workers(result: str, surveyed: bool) -> None:
    payload = {"case_number": "440305-2026-000007", "result": result}
    planned = plan(
        rule_book(),
        "mediation.closed",
        payload,
        case_channel="wechat",
        workers=["a" * 64, "b" * 64],
    )
    expected = (
        [("sms/mediation_survey", 0), ("sms/mediation_survey", 1), ("wechat/mediation_survey", 0)]
        if surveyed
        else []
    )
    assert sorted((m.rule.template, m.recipient.position) for m in planned) == expected
    if surveyed:
        text = render("sms/mediation_survey", {**planned[0].variables, "link": "https://x/s/t"})
        assert text.endswith("https://x/s/t") and "440305-2026-000007" in text


def test_every_template_has_a_chinese_name_for_the_case_timeline() -> None:
    names = {rule.template.partition("/")[2] for rule in rule_book().rules}
    assert names <= set(labels.NOTIFICATION_TEMPLATES), names - set(labels.NOTIFICATION_TEMPLATES)


@pytest.mark.parametrize(
    ("reason", "surveyed"),
    [
        ("concluded_award", True),
        ("concluded_settlement", True),
        ("concluded_judgment", True),
        ("concluded_enforcement", True),
        ("withdrawn_by_worker", True),
        ("withdrawn_documents", False),
        ("denied", False),
        ("declined_by_worker", False),
        ("voided", False),
        ("terminated", False),
    ],
)
def test_a_legal_aid_closure_after_aid_surveys_the_applying_workers(
    reason: str, surveyed: bool
) -> None:
    payload = {"case_number": "440305-2026-000008", "reason": reason, "worker_refs": ["b" * 64]}
    planned = plan(
        rule_book(),
        "legal_aid.closed",
        payload,
        case_channel="wechat",
        workers=["a" * 64, "b" * 64],
    )
    # Only the applying worker (the second); WeChat goes to the first worker only.
    expected = [("sms/legal_aid_survey", 1)] if surveyed else []
    assert sorted((m.rule.template, m.recipient.position) for m in planned) == expected
    if surveyed:
        text = render("sms/legal_aid_survey", {**planned[0].variables, "link": "https://x/s/t"})
        assert "法律援助已办结" in text and text.endswith("https://x/s/t")
        everyone = plan(
            rule_book(),
            "legal_aid.closed",
            {**payload, "worker_refs": ["a" * 64, "b" * 64]},
            case_channel="wechat",
            workers=["a" * 64, "b" * 64],
        )
        wechat = [m for m in everyone if m.rule.channel == "wechat"]
        assert [m.recipient.position for m in wechat] == [0]
        assert "回复数字1-5" in render(
            "wechat/legal_aid_survey", {**wechat[0].variables, "link": "https://x/s/t"}
        )
