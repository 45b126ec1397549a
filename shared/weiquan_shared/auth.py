"""Who is calling: roles, organisations, and offline verification of OpenID Connect tokens.

Every service checks tokens with :class:`TokenVerifier`: it trusts the issuers listed in
``WEIQUAN_OIDC_ISSUERS``, fetches each one's discovery document and key set (JWKS) once,
and from then on verifies signature, issuer, audience and expiry without calling anyone.
A key id it does not know makes it fetch that issuer's key set again (at most once per
``WEIQUAN_OIDC_JWKS_REFRESH_S``), which is how key rotation reaches it.

Weiquan's own identity service issues tokens whose claims are ``weiquan_role``,
``weiquan_org``, ``weiquan_districts`` and ``name``. A union that runs its own identity
provider (Keycloak, say) either emits the same claims, or names its own claims in
``WEIQUAN_OIDC_CLAIMS`` (a JSON object; dotted paths reach nested claims, so
``{"role": "realm_access.roles"}`` reads Keycloak's realm roles and takes the one that is a
Weiquan role code).

Routes ask for a caller with :func:`require`: API clients send ``Authorization: Bearer``,
pages carry the same token in the HttpOnly session cookie, and a state-changing request
that relies on the cookie must also carry the CSRF token (double submit).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from weiquan_shared import labels
from weiquan_shared.logging import get_logger

log = get_logger(__name__)

SESSION_COOKIE = "weiquan_session"
CSRF_COOKIE = "weiquan_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# The claim naming the service a client-credentials token was issued to (identity's
# ``grant_type=client_credentials``): services calling each other, never a person.
SERVICE_CLAIM = "weiquan_service"

# Asymmetric algorithms only: a shared-secret (HS*) token could be forged by anyone who
# verifies, and "none" is no signature at all.
# After a failed fetch of an issuer's keys, the next attempt waits this long.
RETRY_AFTER_FAILURE_S = 5.0
ALGORITHMS = ("ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA")


class Role(StrEnum):
    OPERATOR = "operator"
    WALK_IN_CLERK = "walk_in_clerk"
    TRIAGE_OFFICER = "triage_officer"
    MEDIATOR = "mediator"
    LEGAL_AID_OFFICER = "legal_aid_officer"
    LAWYER = "lawyer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_NAMES[self]


ROLE_NAMES: dict[Role, str] = {Role(code): name for code, name in labels.ROLES.items()}


class Organisation(StrEnum):
    UNION = "union"
    PEOPLES_COURT = "peoples_court"
    LABOUR_BUREAU = "labour_bureau"
    PROCURATORATE = "procuratorate"
    JUSTICE_BUREAU = "justice_bureau"
    LAW_FIRM = "law_firm"

    @property
    def label(self) -> str:
        return ORGANISATION_NAMES[self]


ORGANISATION_NAMES: dict[Organisation, str] = {
    Organisation(code): name for code, name in labels.ORGANISATIONS.items()
}


@dataclass(frozen=True)
class Principal:
    """The signed-in person a request acts for, as the token's issuer vouches."""

    subject: str
    name: str
    role: Role
    organisation: Organisation | None
    districts: tuple[str, ...]
    issuer: str

    def covers(self, district_code: str) -> bool:
        """Whether the person's scope includes the district (a city scope lists them all)."""
        return district_code in self.districts


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_", extra="ignore")

    # Issuers whose tokens are accepted (their `iss`, where `/.well-known/openid-configuration`
    # is found). Weiquan's own identity service on a developer machine by default.
    oidc_issuers: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8107"])
    # The `aud` every accepted token must name.
    oidc_audience: str = "weiquan"
    # Principal field -> claim (dotted path for nested claims) for every trusted issuer.
    oidc_claims: dict[str, str] = Field(default_factory=dict)
    # Clock skew tolerated on exp/iat/nbf.
    oidc_leeway_s: int = 30
    # At most one key-set refetch per issuer in this many seconds (unknown key ids).
    oidc_jwks_refresh_s: float = 60.0
    # Where a browser without a valid session is sent to sign in (``?next=`` is added):
    # identity's sign-in page under the one address.
    sign_in_url: str = "/identity/login"


DEFAULT_CLAIMS: dict[str, str] = {
    "role": "weiquan_role",
    "organisation": "weiquan_org",
    "districts": "weiquan_districts",
    "name": "name",
}


class AuthenticationError(Exception):
    """The token is missing, malformed, forged, expired or from an issuer not trusted."""


class IssuerUnavailable(Exception):
    """A trusted issuer's discovery document or key set cannot be fetched right now."""


@dataclass
class _IssuerKeys:
    keys: KeySet | None = None
    fetched_at: float = float("-inf")
    failed_at: float = float("-inf")
    lock: asyncio.Lock | None = None


Fetch = Callable[[str], Awaitable[dict[str, Any]]]


async def _fetch_json(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url)
        response.raise_for_status()
        body = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"{url} did not answer with a JSON object")
    return body


class TokenVerifier:
    """Verifies access tokens offline once each trusted issuer's keys are cached."""

    def __init__(
        self,
        issuers: Sequence[str],
        audience: str,
        *,
        claims: Mapping[str, str] | None = None,
        leeway_s: int = 30,
        jwks_refresh_s: float = 60.0,
        fetch: Fetch = _fetch_json,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = {issuer.rstrip("/") for issuer in issuers}
        self.audience = audience
        self.claims = {**DEFAULT_CLAIMS, **(claims or {})}
        self.leeway_s = leeway_s
        self.jwks_refresh_s = jwks_refresh_s
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, _IssuerKeys] = {issuer: _IssuerKeys() for issuer in self.issuers}

    @classmethod
    def from_settings(cls, settings: AuthSettings | None = None) -> TokenVerifier:
        settings = settings or AuthSettings()
        return cls(
            settings.oidc_issuers,
            settings.oidc_audience,
            claims=settings.oidc_claims,
            leeway_s=settings.oidc_leeway_s,
            jwks_refresh_s=settings.oidc_jwks_refresh_s,
        )

    def trust_keys(self, issuer: str, keys: KeySet) -> None:
        """Use keys already at hand for an issuer (the identity service's own)."""
        issuer = issuer.rstrip("/")
        self.issuers.add(issuer)
        self._keys[issuer] = _IssuerKeys(keys=keys, fetched_at=self._clock())

    async def verify(self, token: str) -> Principal:
        """The person a token signs in (a service's token has no role: refused)."""
        issuer, claims = await self._verified_claims(token)
        return self._principal(issuer, claims)

    async def verify_service(self, token: str) -> str:
        """The service a client-credentials token names (``weiquan_service``, subject
        ``service:<name>``); a person's token is refused."""
        _, claims = await self._verified_claims(token)
        service = claims.get(SERVICE_CLAIM)
        if not isinstance(service, str) or claims.get("sub") != f"service:{service}":
            raise AuthenticationError("not a service token")
        return service

    async def _verified_claims(self, token: str) -> tuple[str, Mapping[str, Any]]:
        try:
            unverified = jws.extract_compact(token.encode("ascii"))
            header = unverified.protected
            payload = json.loads(unverified.payload)
            if not isinstance(payload, dict):
                raise ValueError("payload is not a JSON object")
        except (JoseError, ValueError, UnicodeError, TypeError) as exc:
            raise AuthenticationError(f"malformed token: {exc}") from exc
        issuer = str(payload.get("iss", "")).rstrip("/")
        if issuer not in self.issuers:
            raise AuthenticationError(f"issuer not trusted: {issuer!r}")
        if header.get("alg") not in ALGORITHMS:
            raise AuthenticationError(f"algorithm not accepted: {header.get('alg')!r}")
        keys = await self._keys_for(issuer, header.get("kid"))
        try:
            verified = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
            jwt.JWTClaimsRegistry(
                now=int(self._clock()),
                leeway=self.leeway_s,
                iss={"essential": True, "value": str(payload.get("iss"))},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(verified.claims)
        except JoseError as exc:
            raise AuthenticationError(f"{type(exc).__name__}: {exc}") from exc
        return issuer, verified.claims

    async def _keys_for(self, issuer: str, kid: Any) -> KeySet:
        state = self._keys[issuer]
        if state.keys is not None and _has_kid(state.keys, kid):
            return state.keys
        if state.lock is None:
            state.lock = asyncio.Lock()
        async with state.lock:
            # Another request may have refreshed while this one waited.
            if state.keys is not None and _has_kid(state.keys, kid):
                return state.keys
            if state.keys is None or self._clock() - state.fetched_at >= self.jwks_refresh_s:
                # An issuer that just failed to answer is not asked again by every request.
                if self._clock() - state.failed_at < RETRY_AFTER_FAILURE_S:
                    raise IssuerUnavailable(issuer)
                try:
                    state.keys = await self._download(issuer)
                except IssuerUnavailable:
                    state.failed_at = self._clock()
                    raise
                state.fetched_at = self._clock()
            if not _has_kid(state.keys, kid):
                raise AuthenticationError(f"unknown key id {kid!r} for issuer {issuer}")
            return state.keys

    async def _download(self, issuer: str) -> KeySet:
        try:
            discovery = await self._fetch(f"{issuer}/.well-known/openid-configuration")
            if str(discovery.get("issuer", "")).rstrip("/") != issuer:
                raise ValueError("discovery document names another issuer")
            jwks: Any = await self._fetch(str(discovery["jwks_uri"]))
            key_set = KeySet.import_key_set(jwks)
        except (httpx.HTTPError, ValueError, KeyError, JoseError) as exc:
            log.warning("issuer keys unavailable", issuer=issuer, error=str(exc))
            raise IssuerUnavailable(issuer) from exc
        log.info("issuer keys fetched", issuer=issuer, keys=len(key_set.keys))
        return key_set

    def _principal(self, issuer: str, claims: Mapping[str, Any]) -> Principal:
        role = _role(_claim(claims, self.claims["role"]))
        if role is None:
            raise AuthenticationError("token carries no Weiquan role")
        organisation_code = _claim(claims, self.claims["organisation"])
        try:
            organisation = Organisation(organisation_code) if organisation_code else None
        except ValueError as exc:
            raise AuthenticationError(f"unknown organisation {organisation_code!r}") from exc
        districts = _claim(claims, self.claims["districts"]) or []
        if isinstance(districts, str):
            districts = districts.replace(",", " ").split()
        name = _claim(claims, self.claims["name"]) or claims.get("preferred_username") or ""
        return Principal(
            subject=str(claims["sub"]),
            name=str(name),
            role=role,
            organisation=organisation,
            districts=tuple(str(d) for d in districts),
            issuer=issuer,
        )


def _has_kid(keys: KeySet, kid: Any) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _role(value: Any) -> Role | None:
    """A role claim may be one code, or a list of roles of which one is a Weiquan role."""
    candidates = value if isinstance(value, list) else [value]
    roles = {Role(v) for v in candidates if isinstance(v, str) and v in Role.__members__.values()}
    return roles.pop() if len(roles) == 1 else None


# ---------------------------------------------------------------- FastAPI


def install_token_verifier(
    app: Any, verifier: TokenVerifier, *, sign_in_url: str = "/identity/login"
) -> None:
    """Make ``verifier`` the one :func:`require` uses in this application; a browser
    opening a page without a valid session is sent to ``sign_in_url``."""
    app.state.token_verifier = verifier
    app.state.sign_in_url = sign_in_url


_UNAUTHENTICATED = "请先登录：缺少有效的登录凭证，或登录已过期"
_FORBIDDEN = "您的角色（{role}）无权进行此操作，需要：{needed}"
_CSRF = "页面已过期，请刷新页面后重试"
_ISSUER_DOWN = "暂时无法核验登录凭证（身份认证服务不可用），请稍后重试"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _unauthenticated(reason: str) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=_UNAUTHENTICATED,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


def _wants_page(request: Request) -> bool:
    """A browser navigating to a page (not a script's fetch, not an API client)."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _to_sign_in(request: Request) -> HTTPException:
    """303 to the sign-in page, which sends the person back here afterwards."""
    sign_in = getattr(request.app.state, "sign_in_url", "/identity/login")
    here = request.headers.get("X-Forwarded-Prefix", "").rstrip("/") + request.url.path
    if request.url.query:
        here += "?" + request.url.query
    location = f"{sign_in}?{urlencode({'next': here})}"
    return HTTPException(status_code=303, detail=_UNAUTHENTICATED, headers={"Location": location})


def bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


async def csrf_token_matches(request: Request) -> bool:
    """Double submit: the token in the CSRF cookie also came in a header or form field."""
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


def page_with_csrf(request: Request, html: str) -> HTMLResponse:
    """A signed-in page carrying the CSRF token (``<meta name="csrf-token">``) that its
    scripts send back in the :data:`CSRF_HEADER` of every state-changing request.

    The token is the one in the CSRF cookie (set by the sign-in page), or a new one set
    here; the cookie is HttpOnly, so a script learns it only from the page.
    """
    token = csrf_token(request)
    meta = f'<meta name="csrf-token" content="{escape(token)}">'
    response = HTMLResponse(html.replace("</head>", f"{meta}</head>", 1))
    set_csrf_cookie(request, response, token)
    return response


def csrf_token(request: Request) -> str:
    """The CSRF token a page is served with: the one in the CSRF cookie, else a new one."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """The cookie half of the double submit: HttpOnly, SameSite=Strict, for every prefix."""
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def require(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the caller's :class:`Principal`, if one of ``roles`` (any role
    when none are named); 401 without a valid token, 403 for another role."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
        if verifier is None:
            raise RuntimeError("require() used without install_token_verifier()")
        token = bearer_token(request)
        from_cookie = token is None
        if from_cookie:
            token = request.cookies.get(SESSION_COOKIE)
        if not token:
            if _wants_page(request):
                raise _to_sign_in(request)
            raise HTTPException(
                status_code=401, detail=_UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            principal = await verifier.verify(token)
        except AuthenticationError as exc:
            log.info("token refused", reason=str(exc), path=request.url.path)
            if from_cookie and _wants_page(request):
                raise _to_sign_in(request) from exc
            raise _unauthenticated("token refused") from exc
        except IssuerUnavailable as exc:
            raise HTTPException(
                status_code=503, detail=_ISSUER_DOWN, headers={"Retry-After": "5"}
            ) from exc
        if (
            from_cookie
            and request.method not in _SAFE_METHODS
            and not await csrf_token_matches(request)
        ):
            raise HTTPException(status_code=403, detail=_CSRF)
        if allowed and principal.role not in allowed:
            needed = "、".join(role.label for role in sorted(allowed))
            raise HTTPException(
                status_code=403,
                detail=_FORBIDDEN.format(role=principal.role.label, needed=needed),
            )
        return principal

    return dependency


_SERVICE_ONLY = "此接口仅供系统内部服务调用"
_PEOPLE_REFUSED = "此接口仅供系统内部服务以服务凭证调用，工作人员账户无权调用"


async def _is_persons_token(verifier: TokenVerifier, token: str) -> bool:
    try:
        await verifier.verify(token)
    except (AuthenticationError, IssuerUnavailable):
        return False
    return True


def require_service(*services: str) -> Callable[[Request], Awaitable[str]]:
    """A FastAPI dependency: the calling service's name, from a bearer token identity issued
    with the client-credentials grant, if it is one of ``services``. No person may call: 403 for a
    person's valid token or another service's, 401 without a valid token (or a cookie)."""
    allowed = frozenset(services)

    async def dependency(request: Request) -> str:
        verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
        if verifier is None:
            raise RuntimeError("require_service() used without install_token_verifier()")
        token = bearer_token(request)
        if not token:
            raise HTTPException(
                status_code=401, detail=_SERVICE_ONLY, headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            service = await verifier.verify_service(token)
        except AuthenticationError as exc:
            # A person's valid token: signed in, but no person may call this (403; a 401
            # would only send the browser to sign in again).
            if await _is_persons_token(verifier, token):
                log.info("person's token on a service route", path=request.url.path)
                raise HTTPException(status_code=403, detail=_PEOPLE_REFUSED) from exc
            log.info("service token refused", reason=str(exc), path=request.url.path)
            raise _unauthenticated("service token refused") from exc
        except IssuerUnavailable as exc:
            raise HTTPException(
                status_code=503, detail=_ISSUER_DOWN, headers={"Retry-After": "5"}
            ) from exc
        if service not in allowed:
            raise HTTPException(status_code=403, detail=_SERVICE_ONLY)
        return service

    return dependency
