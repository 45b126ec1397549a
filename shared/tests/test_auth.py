"""The shared token verifier and the ``require`` dependency, against a real key set.

The issuer here is a dictionary of URL -> JSON document served through the verifier's
``fetch`` hook; the tokens are real ES256/RS256 JWS signed with joserfc.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, Response
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from weiquan_shared.auth import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    AuthenticationError,
    IssuerUnavailable,
    Organisation,
    Principal,
    Role,
    TokenVerifier,
    install_token_verifier,
    page_with_csrf,
    require,
)
from weiquan_shared.http import install_http_errors

ISSUER = "https://idp.example.test/realms/union"
OTHER_ISSUER = "https://idp.example.test/realms/other"
AUDIENCE = "weiquan"


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256"}, private=True)


class FakeIssuer:
    """An issuer's discovery document and JWKS, counting how often they are fetched."""

    def __init__(self, issuer: str, keys: list[Any]) -> None:
        self.issuer = issuer
        self.keys = keys
        self.fetches = 0

    async def fetch(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        if url == f"{self.issuer}/.well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/certs"}
        if url == f"{self.issuer}/certs":
            return {"keys": [k.as_dict(private=False) for k in self.keys]}
        raise httpx.ConnectError(f"nothing at {url}")


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": "u-1",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": "j-1",
        "name": "李调解",
        "weiquan_role": "mediator",
        "weiquan_org": "peoples_court",
        "weiquan_districts": ["440305"],
        **overrides,
    }


def sign(key: Any, payload: dict[str, Any], alg: str = "ES256", kid: str | None = None) -> str:
    header = {"alg": alg, "kid": kid if kid is not None else key.kid}
    return jwt.encode(header, payload, key)


def verifier_for(issuer: FakeIssuer, **kwargs: Any) -> TokenVerifier:
    return TokenVerifier([issuer.issuer], AUDIENCE, fetch=issuer.fetch, **kwargs)


async def test_a_valid_token_gives_the_principal_and_keys_are_fetched_once() -> None:
    key = ec_key("k1")
    idp = FakeIssuer(ISSUER, [key])
    verifier = verifier_for(idp)
    for _ in range(3):
        principal = await verifier.verify(sign(key, claims()))
    assert principal == Principal(
        subject="u-1",
        name="李调解",
        role=Role.MEDIATOR,
        organisation=Organisation.PEOPLES_COURT,
        districts=("440305",),
        issuer=ISSUER,
    )
    assert principal.covers("440305") and not principal.covers("440304")
    assert idp.fetches == 2  # discovery + JWKS, then offline


@pytest.mark.parametrize(
    ("case", "make_token"),
    [
        ("forged signature", lambda key: sign(ec_key(key.kid), claims())),
        ("wrong issuer", lambda key: sign(key, claims(iss=OTHER_ISSUER))),
        ("expired", lambda key: sign(key, claims(exp=int(time.time()) - 120))),
        ("wrong audience", lambda key: sign(key, claims(aud="another-system"))),
        ("no audience", lambda key: sign(key, {k: v for k, v in claims().items() if k != "aud"})),
        ("no role", lambda key: sign(key, claims(weiquan_role="janitor"))),
        ("unknown organisation", lambda key: sign(key, claims(weiquan_org="bank"))),
        ("not a JWT", lambda key: "not.a.token"),
        (
            "shared-secret algorithm",
            lambda key: sign(OctKey.generate_key(256), claims(), "HS256", kid=key.kid),
        ),
    ],
)
async def test_bad_tokens_are_refused(case: str, make_token: Any) -> None:
    key = ec_key("k1")
    verifier = verifier_for(FakeIssuer(ISSUER, [key]))
    with pytest.raises(AuthenticationError):
        await verifier.verify(make_token(key))


async def test_expiry_allows_the_configured_leeway_only() -> None:
    key = ec_key("k1")
    verifier = verifier_for(FakeIssuer(ISSUER, [key]), leeway_s=30)
    await verifier.verify(sign(key, claims(exp=int(time.time()) - 10)))
    with pytest.raises(AuthenticationError):
        await verifier.verify(sign(key, claims(exp=int(time.time()) - 60)))


async def test_an_unknown_key_id_refetches_at_most_once_per_interval() -> None:
    old, new = ec_key("k-old"), ec_key("k-new")
    idp = FakeIssuer(ISSUER, [old])
    now = [1_000.0]
    verifier = verifier_for(idp, jwks_refresh_s=60, clock=lambda: now[0])
    now[0] = time.time()
    await verifier.verify(sign(old, claims()))
    assert idp.fetches == 2

    # The issuer rotates; a token with the new kid arrives within the interval: refused
    # without asking the issuer again (a flood of made-up kids cannot hammer it).
    idp.keys = [new, old]
    with pytest.raises(AuthenticationError, match="unknown key id"):
        await verifier.verify(sign(new, claims()))
    assert idp.fetches == 2

    now[0] += 61
    assert (await verifier.verify(sign(new, claims()))).subject == "u-1"
    assert idp.fetches == 4
    with pytest.raises(AuthenticationError, match="unknown key id"):
        await verifier.verify(sign(new, claims(), kid="made-up"))
    assert idp.fetches == 4


async def test_an_unreachable_issuer_is_reported_as_unavailable_not_as_a_bad_token() -> None:
    key = ec_key("k1")
    elsewhere = FakeIssuer(OTHER_ISSUER, [key])  # answers nothing at ISSUER's addresses
    now = [time.time()]
    verifier = TokenVerifier([ISSUER], AUDIENCE, fetch=elsewhere.fetch, clock=lambda: now[0])
    with pytest.raises(IssuerUnavailable):
        await verifier.verify(sign(key, claims()))
    assert elsewhere.fetches == 1
    # Every request in the next seconds is answered at once, without asking again.
    with pytest.raises(IssuerUnavailable):
        await verifier.verify(sign(key, claims()))
    assert elsewhere.fetches == 1
    now[0] += 6
    with pytest.raises(IssuerUnavailable):
        await verifier.verify(sign(key, claims()))
    assert elsewhere.fetches == 2


async def test_an_external_idps_claims_map_by_configuration() -> None:
    """Keycloak puts realm roles in realm_access.roles beside roles of its own."""
    key = RSAKey.generate_key(2048, parameters={"kid": "kc", "alg": "RS256"}, private=True)
    verifier = verifier_for(
        FakeIssuer(ISSUER, [key]),
        claims={"role": "realm_access.roles", "organisation": "org", "districts": "scope_d"},
    )
    token = sign(
        key,
        claims(
            realm_access={"roles": ["offline_access", "supervisor", "uma_authorization"]},
            org="union",
            scope_d="440303 440305",
            weiquan_role=None,
            name=None,
            preferred_username="zhang.san",
            aud=[AUDIENCE, "account"],
        ),
        "RS256",
    )
    principal = await verifier.verify(token)
    assert principal.role is Role.SUPERVISOR
    assert principal.organisation is Organisation.UNION
    assert principal.districts == ("440303", "440305")
    assert principal.name == "zhang.san"


def test_every_role_and_organisation_has_a_chinese_name() -> None:
    assert Role.WALK_IN_CLERK.label == "窗口受理员"
    assert Role.SUPERVISOR.label == "督导/领导"
    assert Organisation.PROCURATORATE.label == "人民检察院"
    assert all(role.label for role in Role) and all(org.label for org in Organisation)


# ---------------------------------------------------------------- require()


@pytest.fixture
def signing_key() -> ECKey:
    return ec_key("k1")


@pytest.fixture
def client(signing_key: ECKey) -> httpx.AsyncClient:
    app = FastAPI()
    install_http_errors(app)
    verifier = TokenVerifier([ISSUER], AUDIENCE)
    verifier.trust_keys(ISSUER, KeySet([signing_key]))
    install_token_verifier(app, verifier)

    @app.get("/cases")
    async def cases(who: Annotated[Principal, Depends(require(Role.MEDIATOR))]) -> dict[str, str]:
        return {"subject": who.subject}

    @app.post("/cases")
    async def change(who: Annotated[Principal, Depends(require())]) -> dict[str, str]:
        return {"subject": who.subject}

    @app.get("/page")
    async def page(request: Request, _: Annotated[Principal, Depends(require())]) -> Response:
        return page_with_csrf(request, "<html><head><title>页</title></head><body></body></html>")

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_require_answers_401_in_chinese_without_a_valid_token(
    client: httpx.AsyncClient, signing_key: ECKey
) -> None:
    missing = await client.get("/cases")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json()["message"].startswith("请先登录")

    forged = sign(ec_key("k1"), claims())
    refused = await client.get("/cases", headers={"Authorization": f"Bearer {forged}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


async def test_require_answers_403_for_another_role(
    client: httpx.AsyncClient, signing_key: ECKey
) -> None:
    lawyer = sign(signing_key, claims(weiquan_role="lawyer", weiquan_org="law_firm"))
    answer = await client.get("/cases", headers={"Authorization": f"Bearer {lawyer}"})
    assert answer.status_code == 403
    assert answer.json()["message"] == "您的角色（律师）无权进行此操作，需要：调解员"

    mediator = sign(signing_key, claims())
    answer = await client.get("/cases", headers={"Authorization": f"Bearer {mediator}"})
    assert answer.status_code == 200 and answer.json() == {"subject": "u-1"}


async def test_the_session_cookie_works_for_pages_and_needs_csrf_to_change_anything(
    client: httpx.AsyncClient, signing_key: ECKey
) -> None:
    client.cookies.set(SESSION_COOKIE, sign(signing_key, claims()))
    client.cookies.set(CSRF_COOKIE, "csrf-123")
    assert (await client.get("/cases")).status_code == 200

    without = await client.post("/cases")
    assert without.status_code == 403
    assert without.json()["message"] == "页面已过期，请刷新页面后重试"
    wrong = await client.post("/cases", headers={CSRF_HEADER: "csrf-999"})
    assert wrong.status_code == 403
    form = await client.post("/cases", data={"csrf_token": "csrf-123"})
    assert form.status_code == 200
    assert (await client.post("/cases", headers={CSRF_HEADER: "csrf-123"})).status_code == 200


async def test_a_bearer_token_needs_no_csrf(client: httpx.AsyncClient, signing_key: ECKey) -> None:
    token = sign(signing_key, claims())
    answer = await client.post("/cases", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


async def test_a_browser_without_a_session_is_sent_to_sign_in_and_comes_back(
    client: httpx.AsyncClient, signing_key: ECKey
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    anonymous = await client.get("/page?case=440305-2026-000001", headers=browser)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == (
        "/identity/login?next=%2Fpage%3Fcase%3D440305-2026-000001"
    )
    client.cookies.set(SESSION_COOKIE, sign(signing_key, claims(exp=int(time.time()) - 600)))
    expired = await client.get("/page", headers={**browser, "X-Forwarded-Prefix": "/intake"})
    assert expired.headers["location"] == "/identity/login?next=%2Fintake%2Fpage"
    # A script or an API client still gets 401, not a page.
    assert (await client.get("/page")).status_code == 401


async def test_a_page_carries_the_csrf_token_of_its_cookie(
    client: httpx.AsyncClient, signing_key: ECKey
) -> None:
    client.cookies.set(SESSION_COOKIE, sign(signing_key, claims()))
    fresh = await client.get("/page")
    token = fresh.cookies[CSRF_COOKIE]
    assert f'<meta name="csrf-token" content="{token}"></head>' in fresh.text
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, sign(signing_key, claims()))
    client.cookies.set(CSRF_COOKIE, "csrf-from-sign-in")
    again = await client.get("/page")
    assert '<meta name="csrf-token" content="csrf-from-sign-in">' in again.text
    sent = await client.post("/cases", headers={CSRF_HEADER: "csrf-from-sign-in"})
    assert sent.status_code == 200
