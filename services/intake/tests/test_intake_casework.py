"""The case file's rules without I/O: how a typed query is read, mobiles and names
normalised for their blind indexes, who may assign a case, what a note or void may say."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from intake.domain_casework import (
    AssignmentIn,
    AssignmentRefused,
    ContactIn,
    NoteIn,
    UnreadableQuery,
    VoidIn,
    body_digest,
    decide_assignment,
    name_index,
    recognise,
)
from intake.domain_identifiers import normalise_mobile, normalise_name
from weiquan_shared.pii import PiiCipher

CIPHER = PiiCipher({"k1": bytes(range(32))}, "k1", bytes(range(32, 64)))


@pytest.mark.parametrize(
    "typed",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "+86 13912345678",
        "+86 139-1234-5678",
        "86 139 1234 5678",
        "0086 139 1234 5678",
        "008613912345678",
        "１３９１２３４５６７８",
        "１３９　１２３４　５６７８",
        "＋８６ １３９１２３４５６７８",
        "(139) 1234 5678",
    ],
)
def test_a_mobile_in_any_form_people_type_is_one_number(typed: str) -> None:
    assert normalise_mobile(typed) == "+8613912345678"
    assert recognise(typed).kind == "mobile" and recognise(typed).value == "+8613912345678"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("王建国", "王建国"),
        ("王 建 国", "王建国"),
        (" 王建国　", "王建国"),  # a full-width space
        ("买买提·艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),
        ("买买提.艾力", "买买提·艾力"),
        ("买买提 • 艾力", "买买提·艾力"),
        ("Ｚｈａｎｇ Ｗｅｉ", "ZHANGWEI"),
    ],
)
def test_names_are_normalised_before_their_blind_index(typed: str, normalised: str) -> None:
    assert normalise_name(typed) == normalised
    assert name_index(typed, CIPHER) == name_index(normalised, CIPHER)


def test_the_name_index_is_keyed_and_apart_from_other_indexes() -> None:
    other = PiiCipher({"k1": bytes(range(32))}, "k1", bytes(range(1, 33)))
    assert name_index("王建国", CIPHER) != name_index("王建国", other)
    assert name_index("王建国", CIPHER) != CIPHER.blind_index("王建国", "mobile")
    assert "王建国" not in name_index("王建国", CIPHER)


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("440305-2026-000123", "case_number", "440305-2026-000123"),
        (" ４４０３０５-２０２６-０００１２３ ", "case_number", "440305-2026-000123"),
        ("王建国", "worker_name", "王建国"),
        ("欧阳 修文", "worker_name", "欧阳修文"),
        ("Zhang Wei", "worker_name", "ZHANGWEI"),
        ("深圳市鹏程建筑劳务有限公司", "employer_name", "深圳市鹏程建筑劳务有限公司"),
        ("鹏程劳务", "employer_name", "鹏程劳务"),
        ("华南电子厂", "employer_name", "华南电子厂"),
        ("91350100M000100Y43", "credit_code", "91350100M000100Y43"),
        ("91350100m000100y43", "credit_code", "91350100M000100Y43"),
        ("11010519491231002X", "id_number", "11010519491231002X"),
        ("110105-19491231-002x", "id_number", "11010519491231002X"),
    ],
)
def test_a_query_is_read_as_what_it_looks_like(typed: str, kind: str, value: str) -> None:
    query = recognise(typed)
    assert (query.kind, query.value) == (kind, value)
    assert query.personal == (kind in {"mobile", "id_number", "worker_name"})


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "请输入"),
        ("   ", "请输入"),
        ("12345", "不是有效的中国大陆手机号"),
        ("12345678901", "不是有效的中国大陆手机号"),  # 11 digits, not a mobile block
        ("139 1234 567", "不是有效的中国大陆手机号"),
        ("厂", "至少输入2个字"),
    ],
)
def test_an_unreadable_query_is_explained_in_chinese(typed: str, words: str) -> None:
    with pytest.raises(UnreadableQuery, match=words):
        recognise(typed)


def test_anyone_takes_an_unassigned_case_for_themselves() -> None:
    taken = decide_assignment(
        AssignmentIn(), me_id="m1", me_name="调解员甲", my_role="mediator", current_assignee=None
    )
    assert (taken.assignee_id, taken.assignee_name, taken.reason) == ("m1", "调解员甲", None)


@pytest.mark.parametrize(
    ("body", "role", "current", "status", "words"),
    [
        ({}, "mediator", "op1", 403, "督导"),
        ({"assignee_id": "x", "assignee_name": "乙"}, "operator", None, 403, "督导"),
        ({"assignee_id": "x", "assignee_name": "乙"}, "supervisor", "op1", 422, "理由"),
        ({"assignee_id": "x", "reason": "转交"}, "triage_officer", None, 422, "姓名"),
        (
            {"assignee_id": "op1", "assignee_name": "甲", "reason": "r"},
            "supervisor",
            "op1",
            409,
            "无需",
        ),
        ({}, "operator", "me", 409, "无需"),
    ],
)
def test_reassigning_is_for_supervisors_and_triage_officers_with_a_reason(
    body: dict, role: str, current: str | None, status: int, words: str
) -> None:
    with pytest.raises(AssignmentRefused) as refused:
        decide_assignment(
            AssignmentIn(**body), me_id="me", me_name="我", my_role=role, current_assignee=current
        )
    assert refused.value.status == status and words in refused.value.message


def test_a_supervisor_reassigns_with_a_reason() -> None:
    moved = decide_assignment(
        AssignmentIn(assignee_id="m2", assignee_name="调解员乙", reason="休假转交"),
        me_id="s1",
        me_name="督导",
        my_role="supervisor",
        current_assignee="m1",
    )
    assert (moved.assignee_id, moved.assignee_name, moved.reason) == ("m2", "调解员乙", "休假转交")


def test_contacts_look_forward_and_voids_name_the_original() -> None:
    with pytest.raises(ValidationError, match="不能早于今天"):
        ContactIn(method="call_back", outcome="reached", next_action_on=date(2020, 1, 1))
    soon = date.today() + timedelta(days=3)
    assert ContactIn(method="visit", outcome="reached", next_action_on=soon).remark is None
    with pytest.raises(ValidationError, match="重复的案件编号"):
        VoidIn(reason="duplicate")
    with pytest.raises(ValidationError, match="只有以“重复登记”作废"):
        VoidIn(reason="test_call", duplicate_of="440305-2026-000001")
    with pytest.raises(ValidationError, match="格式应如"):
        VoidIn(reason="duplicate", duplicate_of="第一个案子")
    with pytest.raises(ValidationError):
        NoteIn(text="")


def test_the_digest_tells_another_body_or_another_case_apart() -> None:
    note = NoteIn(text="回访：职工已收到工资条")
    same = body_digest("note", "440305-2026-000001", NoteIn(text=" 回访：职工已收到工资条 "))
    assert body_digest("note", "440305-2026-000001", note) == same
    assert body_digest("note", "440305-2026-000002", note) != same
    assert body_digest("note", "440305-2026-000001", NoteIn(text="另一条")) != same
