"""A WeChat reply is a survey answer only when it starts with a digit 1–5 (half- or
full-width), optionally followed by 分 and a comment."""

from __future__ import annotations

import pytest

from weiquan_shared.survey_reply import looks_like_answer, parse_answer


@pytest.mark.parametrize(
    ("content", "answer"),
    [
        ("5", (5, "")),
        ("1", (1, "")),
        ("5 律师很负责", (5, "律师很负责")),
        ("5律师很负责", (5, "律师很负责")),
        ("４分，调解员很耐心", (4, "调解员很耐心")),
        ("３", (3, "")),
        ("  1。太慢了", (1, "太慢了")),
        ("2分", (2, "")),
        ("5\n第二行意见", (5, "第二行意见")),
        ("10", None),
        ("１０", None),
        ("5０", None),
        ("6", None),
        ("0", None),
        ("６", None),
        ("满意", None),
        ("登记", None),
        ("查询 440305-2026-000123", None),
        ("", None),
        ("   ", None),
    ],
)
def test_a_reply_is_an_answer_only_when_it_starts_with_a_digit_1_to_5(
    content: str, answer: tuple[int, str] | None
) -> None:
    assert parse_answer(content) == answer
    assert looks_like_answer(content) is (answer is not None)


def test_a_mobile_number_or_an_amount_is_not_an_answer() -> None:
    # What a worker types in intake's dialog must never read as a score.
    for text in ("13800138000", "24000", "1.5万", "３０００元"):
        assert parse_answer(text) is None, text
