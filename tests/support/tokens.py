"""Signed-in callers for tests: a test issuer whose tokens every service under test trusts.

The issuer holds an ES256 key and serves its discovery document and key set over HTTP
(a thread in the test process), so a service started as a real process verifies its tokens
exactly as it verifies identity's or Keycloak's: fetched keys, signature, issuer, audience,
expiry. In-process apps get a verifier that already holds the key. The role × route matrix
uses the identity service itself (tests/integration/test_access_matrix.py).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from weiquan_shared.auth import Organisation, Role, TokenVerifier
from weiquan_shared.labels import DISTRICTS

AUDIENCE = "weiquan"
CITY = tuple(DISTRICTS)
# Where each role's test user belongs (a mediator and a lawyer are not union staff).
ORGANISATIONS = {
    Role.MEDIATOR: Organisation.PEOPLES_COURT,
    Role.LAWYER: Organisation.LAW_FIRM,
}


class TestIssuer:
    """An OpenID Connect issuer reduced to what verifiers need: discovery, JWKS, tokens."""

    __test__ = False  # not a test class for pytest

    def __init__(self, url: str) -> None:
        self.url = url
        self.key = ECKey.generate_key("P-256", parameters={"kid": "test-1"}, private=True)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False) | {"alg": "ES256", "use": "sig"}]}

    def verifier(self) -> TokenVerifier:
        verifier = TokenVerifier([self.url], AUDIENCE)
        verifier.trust_keys(self.url, KeySet([ECKey.import_key(self.key.as_dict(private=False))]))
        return verifier

    def token(
        self,
        role: Role,
        *,
        districts: tuple[str, ...] = CITY,
        subject: str | None = None,
        name: str | None = None,
        expires_in: int = 600,
        key: ECKey | None = None,
        organisation: Organisation | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": subject or f"test-{role.value}-{uuid.uuid4().hex[:6]}",
            "iat": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
            "name": name or f"测试{role.label}",
            "weiquan_role": role.value,
            "weiquan_org": (organisation or ORGANISATIONS.get(role, Organisation.UNION)).value,
            "weiquan_districts": list(districts),
        }
        signing = key or self.key
        return jwt.encode({"alg": "ES256", "kid": signing.kid}, claims, signing)

    def headers(self, role: Role, **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **options)}"}


@contextmanager
def serving() -> Iterator[TestIssuer]:
    """A test issuer on a free local port, serving until the block ends."""
    documents: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = TestIssuer(f"http://127.0.0.1:{server.server_address[1]}")
    documents["/.well-known/openid-configuration"] = {
        "issuer": issuer.url,
        "jwks_uri": f"{issuer.url}/.well-known/jwks.json",
    }
    documents["/.well-known/jwks.json"] = issuer.public_jwks()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()


_lock = threading.Lock()
# The running issuer's context: held, or collecting it would stop the server.
_serving: list[AbstractContextManager[TestIssuer]] = []


@cache
def _started() -> TestIssuer:
    context = serving()
    _serving.append(context)
    return context.__enter__()  # serves as long as the test process lives


def test_issuer() -> TestIssuer:
    """The test process's issuer, started on first use."""
    with _lock:
        return _started()


test_issuer.__test__ = False  # type: ignore[attr-defined]


def signed_in(role: Role, **options: Any) -> dict[str, str]:
    """Headers of a request made by a test user of ``role`` (city-wide by default)."""
    return test_issuer().headers(role, **options)
