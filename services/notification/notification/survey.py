"""Satisfaction survey links: signed, expiring, single use.

A link is ``/survey/<id>.<expiry>.<signature>``: the survey's id, when the link stops
working (Unix time), and an HMAC-SHA256 of both under ``WEIQUAN_NOTIFICATION_SURVEY_KEY``.
A forged or altered link fails the signature; an old one its expiry; only a hash of the
whole link is stored, and the answer is accepted once (``answered_at`` set in the same
statement that checks it is still empty).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SCORES = {1: "很不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "很满意"}


class InvalidLink(Exception):
    """Not a link we signed (mistyped, cut short, altered)."""


class ExpiredLink(Exception):
    """A link we signed whose time has passed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class SurveyLinks:
    key: bytes
    lifetime: timedelta

    def _signature(self, survey_id: uuid.UUID, expires: int) -> str:
        mac = hmac.new(self.key, f"{survey_id.hex}.{expires}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self, survey_id: uuid.UUID, now: datetime) -> tuple[str, datetime]:
        expires = int((now + self.lifetime).timestamp())
        return self.token(survey_id, expires), datetime.fromtimestamp(expires, UTC)

    def token(self, survey_id: uuid.UUID, expires: int) -> str:
        """The link's token for a survey expiring at ``expires`` (Unix time): the same each
        time, so a link issued at closure is stored only as its hash and made again by the
        sender at send time."""
        return f"{survey_id.hex}.{expires}.{self._signature(survey_id, expires)}"

    def openid_ref(self, openid: str) -> bytes:
        """A keyed hash of a WeChat OpenID (HMAC-SHA256 under a key derived from the survey
        key): what a survey keeps to match a reply to the official account, never the
        OpenID itself."""
        derived = hmac.new(self.key, b"wechat-openid", hashlib.sha256).digest()
        return hmac.new(derived, openid.encode(), hashlib.sha256).digest()

    def check(self, token: str, now: datetime) -> uuid.UUID:
        """The survey a link is for; InvalidLink or ExpiredLink otherwise."""
        try:
            survey_hex, expires_text, signature = token.split(".")
            survey_id = uuid.UUID(hex=survey_hex)
            expires = int(expires_text)
        except ValueError as exc:
            raise InvalidLink(token[:20]) from exc
        expected = self._signature(survey_id, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidLink(survey_hex)
        if now.timestamp() >= expires:
            raise ExpiredLink(survey_hex)
        return survey_id
