"""Services as OAuth 2 clients (client credentials): who may get a token, what it says,
and that it opens service routes only, never a person's."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt

from identity.domain import User, access_token_claims
from identity.keys import SigningKeys
from identity.service_clients import ClientRefused, ServiceClients, basic_credentials
from weiquan_shared.access import allow, allow_services, undeclared_routes
from weiquan_shared.auth import (
    AuthenticationError,
    Organisation,
    Role,
    TokenVerifier,
    install_token_verifier,
)

ISSUER = "http://id.test"
SECRET = "s" * 64


def clients() -> ServiceClients:
    return ServiceClients({"notification": SECRET}, ISSUER, "weiquan", timedelta(minutes=5))


def verifier(keys: SigningKeys) -> TokenVerifier:
    checker = TokenVerifier([ISSUER], "weiquan")
    checker.trust_keys(ISSUER, keys.public_set())
    return checker


def test_only_a_listed_client_with_its_secret_is_authenticated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert clients().authenticate("notification", SECRET) == "notification"
    for client_id, secret in (("notification", "wrong"), ("intake", SECRET), ("", "")):
        with pytest.raises(ClientRefused):
            clients().authenticate(client_id, secret)
    monkeypatch.setenv("WEIQUAN_SERVICE_SECRET_NOTIFICATION", SECRET)
    monkeypatch.delenv("WEIQUAN_SERVICE_SECRET_AUDIT", raising=False)
    configured = ServiceClients.from_environment(
        ["notification", "audit"], issuer=ISSUER, audience="weiquan", lifetime=timedelta(1)
    )
    assert set(configured.secrets) == {"notification"}  # no secret, no client


def test_basic_credentials_as_rfc_6749_sends_them() -> None:
    encoded = base64.b64encode(f"notification:{SECRET}".encode()).decode()
    assert basic_credentials(f"Basic {encoded}") == ("notification", SECRET)
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("Basic !!!") is None


async def test_a_service_token_names_the_service_and_is_no_persons_token() -> None:
    keys = SigningKeys.generate()
    token = clients().access_token(keys, "notification", datetime.now(UTC))
    checker = verifier(keys)
    assert await checker.verify_service(token) == "notification"
    with pytest.raises(AuthenticationError, match="no Weiquan role"):
        await checker.verify(token)


def test_service_routes_take_service_tokens_and_person_routes_person_tokens() -> None:
    keys = SigningKeys.generate()
    app = FastAPI()
    install_token_verifier(app, verifier(keys))

    services = APIRouter(dependencies=[allow_services("notification")])
    people = APIRouter(dependencies=[allow(Role.OPERATOR)])

    @services.get("/internal")
    async def internal() -> dict[str, str]:
        return {"ok": "service"}

    @people.get("/cases")
    async def cases() -> dict[str, str]:
        return {"ok": "person"}

    app.include_router(services)
    app.include_router(people)
    assert undeclared_routes(app) == []
    now = datetime.now(UTC)
    service_token = clients().access_token(keys, "notification", now)
    other = ServiceClients({"audit": SECRET}, ISSUER, "weiquan", timedelta(minutes=5))
    other_token = other.access_token(keys, "audit", now)
    user = User("u1", "op", "张三", Role.OPERATOR, Organisation.UNION, ("440305",))
    claims = access_token_claims(
        user, issuer=ISSUER, audience="weiquan", now=now, lifetime=timedelta(minutes=5)
    )
    person_token = jwt.encode({"alg": "ES256", "kid": keys.active.kid}, claims, keys.active)

    with TestClient(app) as client:

        def get(path: str, token: str) -> int:
            return client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code

        assert get("/internal", service_token) == 200
        assert get("/internal", other_token) == 403
        assert get("/internal", person_token) == 403
        assert client.get("/internal").status_code == 401
        assert get("/cases", person_token) == 200
        assert get("/cases", service_token) == 401
