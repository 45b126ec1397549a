"""Survey links: signed, expiring; a changed character or another key is not a link. A
WeChat reply: a digit 1–5 and a comment; the OpenID kept as a keyed hash."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notification.survey import ExpiredLink, InvalidLink, SurveyLinks, token_hash
from notification.wechat_reply import parse_answer, signature

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_link_names_its_survey_until_it_expires() -> None:
    links = SurveyLinks(b"k" * 32, timedelta(days=14))
    survey = uuid.uuid4()
    token, expires = links.issue(survey, NOW)
    assert expires == NOW + timedelta(days=14)
    assert links.check(token, NOW + timedelta(days=13, hours=23)) == survey
    with pytest.raises(ExpiredLink):
        links.check(token, NOW + timedelta(days=14))
    assert len(token_hash(token)) == 32


def test_an_altered_or_foreign_link_is_invalid() -> None:
    links = SurveyLinks(b"k" * 32, timedelta(days=14))
    token, _ = links.issue(uuid.uuid4(), NOW)
    survey_hex, expires, signature = token.split(".")
    later = f"{survey_hex}.{int(expires) + 86400}.{signature}"  # a longer life, same signature
    other = f"{uuid.uuid4().hex}.{expires}.{signature}"
    foreign, _ = SurveyLinks(b"x" * 32, timedelta(days=14)).issue(uuid.uuid4(), NOW)
    for bad in (later, other, foreign, token[:-2], "nonsense", ""):
        with pytest.raises(InvalidLink):
            links.check(bad, NOW)


@pytest.mark.parametrize(
    ("content", "answer"),
    [
        ("5", (5, "")),
        ("5 律师很负责", (5, "律师很负责")),
        ("４分，调解员很耐心", (4, "调解员很耐心")),
        ("  1。太慢了", (1, "太慢了")),
        ("10", None),
        ("6", None),
        ("0", None),
        ("满意", None),
        ("", None),
    ],
)
def test_a_wechat_reply_is_an_answer_only_when_it_starts_with_a_digit_1_to_5(
    content: str, answer: tuple[int, str] | None
) -> None:
    assert parse_answer(content) == answer


def test_an_openid_is_kept_only_as_a_keyed_hash() -> None:
    links = SurveyLinks(b"k" * 32, timedelta(days=14))
    openid = "oWkr-abcdefghijklmnop"
    ref = links.openid_ref(openid)
    assert ref == links.openid_ref(openid) and len(ref) == 32
    assert openid.encode() not in ref
    assert ref != SurveyLinks(b"x" * 32, timedelta(days=14)).openid_ref(openid)
    assert ref != links.openid_ref(openid + "x")


def test_wechat_signature_is_sha1_of_the_sorted_parts() -> None:
    # WeChat's documented algorithm: sort token, timestamp, nonce; join; SHA-1 hex.
    expected = hashlib.sha1("".join(sorted(["tok", "1700000000", "nonce9"])).encode())
    assert signature("tok", "1700000000", "nonce9") == expected.hexdigest()
    assert signature("nonce9", "tok", "1700000000") == expected.hexdigest()
