"""The Chinese sign-in page in a real browser (Debian's chromium driven by Playwright):
a wrong password, then signing in, the session cookie's flags, and signing out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from identity import store
from identity.domain import Passwords
from tests.support.browser import chromium, requires_chromium
from tests.support.stack import ARTIFACTS, Deployment
from weiquan_shared.auth import CSRF_COOKIE, SESSION_COOKIE, Organisation, Role

pytestmark = [pytest.mark.integration, requires_chromium]

PASSWORD = "窗口-Secret-2026"


async def add_clerk(deployment: Deployment) -> None:
    conn = await deployment.connect("identity")
    try:
        await store.upsert_user(
            conn,
            username="wang.clerk",
            display_name="王受理",
            role=Role.WALK_IN_CLERK,
            organisation=Organisation.UNION,
            districts=["440305"],
            password_hash=Passwords().hash(PASSWORD),
        )
    finally:
        await conn.close()


@pytest.fixture
def context(deployment: Deployment, tmp_path: Path) -> Iterator[BrowserContext]:
    deployment.start(
        "identity",
        WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "signing-keys.json"),
        WEIQUAN_IDENTITY_FAILURE_DELAY_S="0.2",
    )
    asyncio.run(add_clerk(deployment))
    with chromium() as browser:
        yield browser.new_context(base_url=deployment["identity"].url, locale="zh-CN")


def test_signing_in_and_out_on_the_chinese_page(
    context: BrowserContext, deployment: Deployment
) -> None:
    page: Page = context.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto("/login")
    assert page.title() == "登录 · 维权案件管理系统"
    assert page.evaluate("document.activeElement.id") == "username"
    assert page.locator("script").count() == 0 and scripts == []

    page.keyboard.type("wang.clerk")
    page.keyboard.press("Tab")
    page.keyboard.type("错误的密码")
    page.keyboard.press("Enter")
    error = page.locator("#error")
    error.wait_for()
    assert error.text_content() == "用户名或密码错误"
    assert page.input_value("#username") == "wang.clerk"  # kept; the password is not
    assert page.input_value("#password") == ""
    assert page.evaluate("document.activeElement.id") == "password"  # ready for a retry
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "identity-login-wrong-password.png"), full_page=True)

    page.fill("#password", PASSWORD)
    page.click("#submit")
    # Signed in, the portal: who, role, organisation and scope, and the clerk's page.
    page.locator("#who").wait_for()
    assert page.url.rstrip("/") == deployment["identity"].url
    assert page.text_content("#who") == "王受理"
    assert page.text_content("#role") == "窗口受理员"
    assert page.text_content("#organisation") == "工会"
    assert page.text_content("#scope") == "南山区"
    assert page.locator("nav.site a[data-page]").all_text_contents() == [
        "我的工作",
        "来访窗口登记",
        "查找案件",
        "权益计算器",
    ]
    # The queue counts come from projection, which is not here: the portal shows nothing of
    # them, and no error.
    page.wait_for_load_state("networkidle")
    assert page.locator("#queues").count() == 1 and page.locator("#queues").is_hidden()
    assert page.locator("#queue-counts li").count() == 0
    page.screenshot(path=str(ARTIFACTS / "identity-login-signed-in.png"), full_page=True)

    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    session = cookies[SESSION_COOKIE]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert not session["secure"]  # plain http on loopback; Secure is set behind https
    assert cookies[CSRF_COOKIE]["httpOnly"] and cookies[CSRF_COOKIE]["sameSite"] == "Strict"
    # The page's cookie is the same bearer token the API accepts.
    me = httpx.get(
        f"{deployment['identity'].url}/api/v1/me",
        headers={"Authorization": f"Bearer {session['value']}"},
    )
    assert me.json()["role_name"] == "窗口受理员"

    page.click("#logout")
    page.locator("#username").wait_for()
    assert SESSION_COOKIE not in {cookie["name"] for cookie in context.cookies()}


def test_a_sign_in_posted_from_elsewhere_is_refused(
    context: BrowserContext, deployment: Deployment
) -> None:
    """No CSRF token (a form on another site): refused before the password is checked."""
    answer = httpx.post(
        f"{deployment['identity'].url}/login",
        data={"username": "wang.clerk", "password": PASSWORD, "csrf_token": "guess"},
    )
    assert answer.status_code == 403
    assert "页面已过期，请重新打开登录页面后再试" in answer.text
    assert SESSION_COOKIE not in answer.cookies
