"""The one address: nginx (the stack's own config) in front of a deployment's services.

Every service answers under its prefix with the prefix stripped, ``/docs`` works under the
prefix, every answer (pages, APIs, errors, the proxy's own 404 and 413) carries the
security headers, bodies over the limit stop at the proxy, and the portal at ``/`` sends a
visitor who is not signed in to the sign-in page and back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.stack import Deployment, Infra
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.navigation import PREFIXES

pytestmark = pytest.mark.integration

SERVICES = ("intake", "triage", "projection", "identity")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


@pytest.fixture(scope="module")
def proxied(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    deployment = Deployment(infra)
    run_dir = tmp_path_factory.mktemp("proxy")
    try:
        deployment.start_proxied(
            *SERVICES,
            WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(run_dir / "signing-keys.json"),
        )
        yield deployment.start_proxy(run_dir).url
    finally:
        deployment.teardown()


def assert_security_headers(response: httpx.Response) -> None:
    what = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    # Exactly one value each: the proxy's (a service's own CSP may be added, never looser).
    assert CSP in headers.get_list("content-security-policy"), what
    assert headers.get_list("x-content-type-options") == ["nosniff"], what
    assert headers.get_list("x-frame-options") == ["DENY"], what
    assert headers.get_list("referrer-policy") == ["same-origin"], what
    assert "server" not in headers or "nginx/" not in headers["server"], what


def test_every_service_answers_under_its_prefix(proxied: str) -> None:
    for service in SERVICES:
        prefix = PREFIXES[service]
        health = httpx.get(f"{proxied}{prefix}/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}, service
        assert_security_headers(health)
        spec = httpx.get(f"{proxied}{prefix}/openapi.json").json()
        assert f"({service})" in spec["info"]["title"], spec["info"]["title"]
        # Operations only: metrics are on the service's own port, not the one address.
        assert httpx.get(f"{proxied}{prefix}/metrics").status_code == 404, service
        assert httpx.get(f"{proxied}{prefix}/metrics/").status_code == 404, service
    # A prefix without its slash is sent to the one with it; an unknown path is the proxy's 404.
    bare = httpx.get(f"{proxied}/intake")
    assert bare.status_code == 301 and bare.headers["location"].endswith("/intake/")
    unknown = httpx.get(f"{proxied}/mediation/cases")
    assert unknown.status_code == 404
    assert_security_headers(unknown)


# Page → the role that may open it (scripts, styles, sign-in and keys are public).
PAGE_ROLES = {
    "/intake/operator": Role.OPERATOR,
    "/intake/walk-in": Role.WALK_IN_CLERK,
    "/triage/override": Role.TRIAGE_OFFICER,
    "/projection/dashboard": Role.SUPERVISOR,
}


def test_pages_and_apis_carry_the_security_headers(proxied: str) -> None:
    for path in (
        *PAGE_ROLES,
        "/intake/static/intake.js",
        "/triage/static/override.css",
        "/projection/dashboard/dashboard.js",
        "/identity/login",
        "/identity/.well-known/jwks.json",
    ):
        role = PAGE_ROLES.get(path)
        response = httpx.get(f"{proxied}{path}", headers=signed_in(role) if role else {})
        assert response.status_code == 200, (path, response.text[:200])
        assert_security_headers(response)
        if path.endswith(("operator", "walk-in", "override", "dashboard", "login")):
            html = response.text
            assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path  # no inline script
            assert "<style" not in html and " style=" not in html, path
            assert re.findall(r"\son[a-z]+=", html) == [], path  # no inline handlers
    for path in ("/identity/api/v1/me", "/projection/api/v1/dashboard"):
        refused = httpx.get(f"{proxied}{path}")
        assert refused.status_code == 401, path
        assert_security_headers(refused)


def test_bodies_over_the_limit_stop_at_the_proxy(proxied: str) -> None:
    url = f"{proxied}/intake/api/v1/hotline-calls"
    too_big = httpx.post(
        url,
        content=b"{" + b" " * (1024 * 1024 + 1) + b"}",
        headers={"content-type": "application/json"},
    )
    assert too_big.status_code == 413
    assert_security_headers(too_big)
    # Under the limit the body reaches intake, whose Chinese validation answers.
    small = httpx.post(url, json={"call_id": ""}, headers=signed_in(Role.OPERATOR))
    assert small.status_code == 422
    assert small.json()["errors"], small.text
    assert_security_headers(small)


def test_api_docs_work_under_the_prefix(proxied: str) -> None:
    for service in SERVICES:
        prefix = PREFIXES[service]
        docs = httpx.get(f"{proxied}{prefix}/docs")
        assert docs.status_code == 200
        assert_security_headers(docs)
        references = re.findall(r'(?:src|href|data-openapi-url)="([^"]+)"', docs.text)
        assert f"{prefix}/openapi.json" in references
        assert f"{prefix}/docs/assets/swagger-ui-bundle.js" in references
        for reference in references:
            assert reference.startswith(f"{prefix}/"), reference
            assert httpx.get(f"{proxied}{reference}").status_code == 200, reference


def test_the_portal_sends_a_stranger_to_sign_in_and_back(proxied: str) -> None:
    portal = httpx.get(f"{proxied}/")
    assert portal.status_code == 303
    assert portal.headers["location"] == "/identity/login?next=%2F"
    assert_security_headers(portal)
    login = httpx.get(f"{proxied}{portal.headers['location']}")
    assert login.status_code == 200
    assert 'action="/identity/login"' in login.text
    assert 'href="/identity/static/identity.css"' in login.text
    assert '<input type="hidden" name="next" value="/">' in login.text
    # The CSRF cookie reaches every prefix.
    assert "Path=/" in login.headers["set-cookie"]


def test_the_proxy_config_names_every_service_from_one_list(tmp_path: Path) -> None:
    from weiquan_shared.proxy import local_upstreams, render

    conf = render(local_upstreams(), listen="127.0.0.1:8100", pid_file=str(tmp_path / "pid"))
    for service, prefix in PREFIXES.items():
        assert f"location {prefix}/ {{" in conf, service
    assert "client_max_body_size 1m;" in conf


def test_forwarded_headers_come_from_the_proxy_only(proxied: str) -> None:
    """A client claiming https through the proxy is not believed (the proxy replaces the
    header), so the cookie is not marked Secure on plain http; the proxy's own claim is
    what the service trusts (from 127.0.0.1 only)."""
    claimed = httpx.get(f"{proxied}/identity/login", headers={"X-Forwarded-Proto": "https"})
    assert claimed.status_code == 200
    cookie = claimed.headers["set-cookie"]
    assert "Path=/" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie
