"""The one address in a real browser (Debian's chromium, Playwright), through the proxy.

Each demo role signs in at ``/``, lands on the portal and sees in the navigation exactly
the pages its role may use (``weiquan_shared.navigation``); a screenshot per role goes to
the test artifacts (``portal-<role>.png``). Every page the navigation leads to loads
through the proxy, works under its prefix, and breaks no rule of the proxy's
Content-Security-Policy. Signing out clears the session at every prefix.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from identity.demo import DEMO_ACCOUNTS
from tests.support.browser import chromium, requires_chromium
from tests.support.stack import ARTIFACTS, ROOT, Deployment, Infra
from weiquan_shared.auth import SESSION_COOKIE, Role
from weiquan_shared.navigation import PAGES, pages_for
from weiquan_shared.navigation import Page as NavPage

pytestmark = [pytest.mark.integration, requires_chromium]

# The first demo account of each role (a role may have several: city and district ones).
ACCOUNT_OF_ROLE = {
    role: next(account for account in DEMO_ACCOUNTS if account.role == role) for role in Role
}
# Listens for every CSP violation from the first moment of each document.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


@pytest.fixture(scope="module")
def site(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """The whole deployment behind its proxy, with the demo accounts; (address, passwords)."""
    deployment = Deployment(infra)
    run_dir = tmp_path_factory.mktemp("portal")
    try:
        deployment.start_proxied(
            "intake",
            "triage",
            "projection",
            "identity",
            "audit",
            "mediation",
            "notification",
            "legal_aid",
            WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(run_dir / "signing-keys.json"),
        )
        accounts_file = run_dir / "demo-accounts.txt"
        subprocess.run(
            [sys.executable, "-m", "identity", "demo-accounts", str(accounts_file)],
            env=deployment.service_env("identity"),
            cwd=ROOT,
            check=True,
        )
        passwords = {
            line.split()[0]: line.split()[1]
            for line in accounts_file.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")
        }
        yield deployment.start_proxy(run_dir).url, passwords
    finally:
        deployment.teardown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def csp_watched(page: Page) -> list[str]:
    """Every CSP complaint on this page: the event, and chromium's console message."""
    complaints: list[str] = []
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return complaints


def violations(page: Page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__cspViolations || []"), *console]


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/")
    # Not signed in: the portal sends the visitor to sign in, and back afterwards.
    page.locator("#username").wait_for()
    assert page.url.endswith("/identity/login?next=%2F"), page.url
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")
    page.locator("#who").wait_for()


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
def test_each_role_sees_only_its_pages(
    site: tuple[str, dict[str, str]], browser: Browser, role: Role
) -> None:
    address, passwords = site
    account = ACCOUNT_OF_ROLE[role]
    context = browser.new_context(base_url=address, locale="zh-CN")
    try:
        page = context.new_page()
        console = csp_watched(page)
        sign_in(page, account.username, passwords[account.username])

        assert page.url == f"{address}/"
        assert page.text_content("#who") == account.display_name
        assert page.text_content("#role") == role.label
        assert page.text_content("#organisation") == account.organisation.label
        nav = page.locator("nav.site a[data-page]")
        expected = pages_for(role)
        assert nav.all_text_contents() == [entry.title for entry in expected]
        assert [nav.nth(i).get_attribute("href") for i in range(nav.count())] == [
            entry.href for entry in expected
        ]
        # Every other page is absent from this role's navigation.
        others = {entry.href for entry in PAGES} - {entry.href for entry in expected}
        assert not any(page.locator(f'nav.site a[href="{href}"]').count() for href in others)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"portal-{role.value}.png"), full_page=True)
        assert violations(page, console) == []

        cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["path"] == "/" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        # Each of the role's pages carries the same bar (site-nav.js), its own entry current.
        for entry in expected:
            page.goto(entry.href)
            wait_until_working(page, entry)
            bar = page.locator("nav.site a[data-page]")
            bar.last.wait_for()
            assert [bar.nth(i).get_attribute("href") for i in range(bar.count())] == [
                e.href for e in expected
            ], entry.href
            assert page.locator("nav").count() == 1  # the one bar, no page-local menu
            current = page.locator('nav.site a[aria-current="page"]')
            assert current.get_attribute("href") == entry.href
            assert role.label in (page.text_content("nav.site .who") or "")
            assert violations(page, console) == [], entry.href
        if expected:
            page.screenshot(path=str(ARTIFACTS / f"portal-{role.value}-page.png"))
    finally:
        context.close()


# What shows that each page works under its prefix: its script ran, its data arrived.
# Functions, not bare expressions: Playwright polls an expression with eval(), which the
# page's CSP (rightly) refuses.
PAGE_READY = {
    "/intake/operator": "() => document.querySelector('#case-form [name=called_at]').value !== ''",
    "/intake/walk-in": "() => document.getElementById('desk_submission_id').value !== ''",
    "/intake/search": "() => document.getElementById('find-form').dataset.ready === 'yes'",
    "/triage/override": "() => document.querySelectorAll('#category option').length > 1",
    "/projection/dashboard": (
        "() => document.getElementById('updated').textContent.includes('更新于')"
    ),
    "/audit/records": "() => document.querySelectorAll('#f-role option').length > 1",
    "/mediation/workbench": "() => document.getElementById('who').textContent !== ''",
    "/projection/queues": (
        "() => /^\\d+$/.test(document.getElementById('count-mine').textContent)"
        " && document.querySelector('#items thead tr') !== null"
    ),
    "/mediation/calculator": "() => document.getElementById('end').hidden === false",
    "/legal-aid/queue": "() => document.getElementById('today').textContent.includes('今天')",
    "/legal-aid/my-cases": (
        "() => document.getElementById('empty').hidden === false"
        " || document.querySelectorAll('#cases tbody tr').length > 0"
    ),
}


def wait_until_working(page: Page, entry: NavPage) -> None:
    if entry.path == "/docs":
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(state="visible", timeout=15_000)
        assert f"({entry.service})" in title.inner_text()
    else:
        page.wait_for_function(PAGE_READY[entry.href])


def test_every_page_works_through_the_proxy_without_breaking_the_csp(
    site: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """Each role's pages load under the CSP (test_each_role_sees_only_its_pages); here what
    their scripts do after loading: the walk-in page's copied worker fields, the charts."""
    address, passwords = site
    clerk = ACCOUNT_OF_ROLE[Role.WALK_IN_CLERK]
    with_clerk = browser.new_context(base_url=address, locale="zh-CN")
    try:
        page = with_clerk.new_page()
        console = csp_watched(page)
        sign_in(page, clerk.username, passwords[clerk.username])
        # The walk-in page's template of a further worker is copied by its script.
        page.goto("/intake/walk-in")
        page.click("#add-worker")
        page.locator("#workers-1-name").wait_for()
        assert violations(page, console) == []
    finally:
        with_clerk.close()
    supervisor = ACCOUNT_OF_ROLE[Role.SUPERVISOR]
    context = browser.new_context(base_url=address, locale="zh-CN")
    try:
        page = context.new_page()
        console = csp_watched(page)
        sign_in(page, supervisor.username, passwords[supervisor.username])
        # The dashboard's charts drew from figures fetched under its prefix.
        page.goto("/projection/dashboard")
        page.wait_for_function(PAGE_READY["/projection/dashboard"])
        page.locator("#chart-channel canvas").wait_for()
        assert violations(page, console) == []
        page.screenshot(path=str(ARTIFACTS / "portal-dashboard-through-proxy.png"))

        # Signing out (from the portal) ends the session for every prefix.
        page.goto("/")
        page.click("#logout")
        page.locator("#username").wait_for()
        assert SESSION_COOKIE not in {c["name"] for c in context.cookies()}
        page.goto("/")
        page.locator("#username").wait_for()
        assert violations(page, console) == []
    finally:
        context.close()
