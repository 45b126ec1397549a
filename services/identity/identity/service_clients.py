"""Services as OAuth 2 clients: the client-credentials grant (RFC 6749 §4.4).

A service that calls another one as itself (notification asking intake for a worker's
mobile at send time) gets a short-lived access token here with its client id (its name)
and its secret. The secrets are ``WEIQUAN_SERVICE_SECRET_<NAME>`` (``make up`` generates
them into ``.run/secrets.env``; each service process keeps only its own, identity all of
the clients'). Only services listed in ``WEIQUAN_IDENTITY_SERVICE_CLIENTS`` with a secret
set may sign in. The token names the service (``sub`` ``service:<name>``, claim
``weiquan_service``) and carries no role, so no route for people accepts it, and a route
for services (``weiquan_shared.access.allow_services``) accepts no person's token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt

from identity.keys import ALGORITHM, SigningKeys
from weiquan_shared.auth import SERVICE_CLAIM
from weiquan_shared.service_client import service_secret_variable

CLIENT_REFUSED = "服务凭证无效"


class ClientRefused(Exception):
    pass


@dataclass(frozen=True)
class ServiceClients:
    secrets: Mapping[str, str]  # client id -> secret
    issuer: str
    audience: str
    lifetime: timedelta

    @classmethod
    def from_environment(
        cls, names: Sequence[str], *, issuer: str, audience: str, lifetime: timedelta
    ) -> ServiceClients:
        found = {name: os.environ.get(service_secret_variable(name), "") for name in names}
        return cls({n: s for n, s in found.items() if s}, issuer, audience, lifetime)

    def authenticate(self, client_id: str, client_secret: str) -> str:
        """The client id when the secret is right (compared in constant time); an unknown
        client is compared against a random secret so it costs the same."""
        expected = self.secrets.get(client_id)
        matches = hmac.compare_digest(
            client_secret.encode(), (expected or secrets.token_hex(32)).encode()
        )
        if expected is None or not matches:
            raise ClientRefused(CLIENT_REFUSED)
        return client_id

    def claims(self, client_id: str, now: datetime) -> dict[str, Any]:
        issued = int(now.timestamp())
        return {
            "iss": self.issuer,
            "sub": f"service:{client_id}",
            "aud": self.audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(self.lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(16),
            SERVICE_CLAIM: client_id,
        }

    def access_token(self, keys: SigningKeys, client_id: str, now: datetime) -> str:
        header = {"alg": ALGORITHM, "kid": keys.active.kid, "typ": "at+jwt"}
        return jwt.encode(header, self.claims(client_id, now), keys.active)


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """``Authorization: Basic`` as RFC 6749 §2.3.1 sends client credentials."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, client_secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, client_secret) if sep else None
