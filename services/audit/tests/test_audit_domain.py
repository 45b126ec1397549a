"""The audit trail's rules without a database: labels, filters, cursors, partitions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from audit.domain import (
    CHINA,
    AuditFilters,
    Cursor,
    InvalidFilters,
    action_label,
    expired_partitions,
    month_partition,
    outcome_label,
    parse_filters,
    partition_for,
    partitions_ahead,
    reason_label,
    record_view,
    retention_cutoff,
    role_label,
)


def test_actions_reasons_outcomes_and_roles_are_shown_in_chinese_and_unknown_codes_as_such() -> (
    None
):
    assert action_label("pii.revealed") == "查看个人信息"
    assert action_label("case.searched_by_mobile") == "按手机号查找"
    assert action_label("report.downloaded") == "下载报表"
    assert action_label("case.reported") == "登记案件"
    assert action_label("case.retriaged") == "调整分流"
    assert action_label("mediation.closed") == "调解结案"
    assert action_label("a_service.new_action") == "a_service.new_action"
    assert reason_label("contact_worker") == "联系职工"
    assert reason_label("a_new_reason") == "a_new_reason"
    assert reason_label(None) == ""
    assert outcome_label("denied") == "被拒绝"
    assert role_label("supervisor") == "督导/领导"
    assert role_label(None) == ""


def test_filters_are_read_blank_ones_ignored_and_dates_taken_as_china_days() -> None:
    filters = parse_filters(
        {
            "actor": " demo-supervisor-1 ",
            "role": "supervisor",
            "action": "pii.revealed",
            "case_number": "WQ-2026-000123",
            "district": "440305",
            "outcome": "success",
            "from": "2026-03-01",
            "to": "2026-03-31",
            "limit": "20",
            "unrelated": "ignored",
            "cursor": "",
        }
    )
    assert filters == AuditFilters(
        actor="demo-supervisor-1",
        role="supervisor",
        action="pii.revealed",
        case_number="WQ-2026-000123",
        district="440305",
        outcome="success",
        since=datetime(2026, 3, 1, tzinfo=CHINA),
        until=datetime(2026, 4, 1, tzinfo=CHINA),
        limit=20,
    )
    # 1 March China time begins at 16:00 UTC the day before.
    assert filters.since == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert parse_filters({}) == AuditFilters()


def test_every_wrong_filter_is_named_in_chinese() -> None:
    with pytest.raises(InvalidFilters) as refused:
        parse_filters(
            {
                "role": "boss",
                "action": "DROP TABLE",
                "district": "110101",
                "outcome": "maybe",
                "from": "2026-13-01",
                "limit": "5000",
                "cursor": "yesterday",
            }
        )
    messages = {e["field"]: e["message"] for e in refused.value.errors}
    assert set(messages) == {"role", "action", "district", "outcome", "from", "limit", "cursor"}
    assert (
        messages["role"].startswith("角色：取值无效，可选：")
        and "督导/领导（supervisor）" in (messages["role"])
    )
    assert (
        messages["action"].startswith("操作：不认识的操作")
        and "查看个人信息（pii.revealed）" in (messages["action"])
    )
    assert messages["district"].startswith("区：区县代码 110101 不在本市区县表中")
    assert messages["from"] == "起始日期：日期格式不正确，应为 YYYY-MM-DD（如 2026-03-01）"
    assert messages["limit"] == "每页条数：应为 1 到 200 之间的整数"
    assert messages["cursor"] == "翻页位置：无效，请从第一页重新查询"

    with pytest.raises(InvalidFilters) as reversed_dates:
        parse_filters({"from": "2026-03-31", "to": "2026-03-01"})
    assert [e["message"] for e in reversed_dates.value.errors] == [
        "截止日期：截止日期不能早于起始日期"
    ]


def test_a_cursor_survives_its_round_trip_to_the_microsecond() -> None:
    cursor = Cursor(datetime(2026, 3, 5, 1, 2, 3, 456789, tzinfo=UTC), uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    assert parse_filters({"cursor": cursor.encode()}).cursor == cursor


def test_a_record_is_shown_with_the_chinese_names_beside_its_codes() -> None:
    row = {
        "record_id": uuid.uuid4(),
        "occurred_at": datetime(2026, 3, 5, 18, 30, tzinfo=UTC),
        "actor_kind": "user",
        "actor_id": "demo-supervisor-1",
        "actor_role": "supervisor",
        "service": "intake",
        "action": "pii.revealed",
        "outcome": "success",
        "case_id": None,
        "case_number": "WQ-2026-000123",
        "district_code": "440305",
        "reason": "contact_worker",
        "detail": "mobile",
    }
    view = record_view(row)
    assert view["occurred_at_china"] == "2026-03-06 02:30:00"
    assert (view["action_name"], view["actor_role_name"], view["reason_name"]) == (
        "查看个人信息",
        "督导/领导",
        "联系职工",
    )
    assert (view["district_name"], view["outcome_name"]) == ("南山区", "成功")


def test_months_are_china_months_and_made_ahead() -> None:
    march = month_partition(date(2026, 3, 17))
    assert march.name == "audit_records_2026_03"
    assert (march.starts, march.ends) == (
        datetime(2026, 3, 1, tzinfo=CHINA),
        datetime(2026, 4, 1, tzinfo=CHINA),
    )
    # 31 March 17:00 UTC is already 1 April in China.
    assert partition_for(datetime(2026, 3, 31, 17, tzinfo=UTC)).name == "audit_records_2026_04"
    ahead = partitions_ahead(datetime(2026, 11, 20, tzinfo=UTC), 2)
    assert [p.name for p in ahead] == [
        "audit_records_2026_11",
        "audit_records_2026_12",
        "audit_records_2027_01",
    ]


def test_only_months_wholly_past_retention_expire() -> None:
    now = datetime(2026, 12, 2, 6, tzinfo=UTC)
    cutoff = retention_cutoff(now, 60)  # 3 October 2026, 06:00 UTC
    assert cutoff == now - timedelta(days=60)
    names = [
        "audit_records_2026_08",
        "audit_records_2026_09",
        "audit_records_2026_10",  # holds records younger than the cutoff: kept
        "audit_records_2026_12",
        "audit_records_default",  # not a month of ours: never touched
    ]
    assert expired_partitions(names, cutoff) == ["audit_records_2026_08", "audit_records_2026_09"]
