"""Survey links: signed, expiring; a changed character or another key is not a link. The
OpenID a WeChat survey went to is kept as a keyed hash (the reply's parser is the shared
library's: shared/tests/test_survey_reply.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notification.survey import ExpiredLink, InvalidLink, SurveyLinks, token_hash

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


def test_an_openid_is_kept_only_as_a_keyed_hash() -> None:
    links = SurveyLinks(b"k" * 32, timedelta(days=14))
    openid = "oWkr-abcdefghijklmnop"
    ref = links.openid_ref(openid)
    assert ref == links.openid_ref(openid) and len(ref) == 32
    assert openid.encode() not in ref
    assert ref != SurveyLinks(b"x" * 32, timedelta(days=14)).openid_ref(openid)
    assert ref != links.openid_ref(openid + "x")
