"""The audit page in a real browser (Debian's chromium driven by Playwright): sent to sign
in, an administrator signs in on identity's page, filters by 查看个人信息 and sees a
supervisor's reveal with its reason. No inline script or style, as the proxy's CSP needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.support.audit_service import PASSWORD, audit_event, publish, start_with_identity
from tests.support.audit_service import wait_for_records as wait_stored
from tests.support.browser import chromium, requires_chromium
from tests.support.stack import ARTIFACTS, Deployment
from weiquan_shared.envelope import Actor

pytestmark = [pytest.mark.integration, requires_chromium]


@pytest.fixture
def browser(deployment: Deployment, tmp_path: Path) -> Iterator[Browser]:
    start_with_identity(deployment, tmp_path)
    # Before Playwright's own event loop runs in this thread.
    supervisor = Actor.user("demo-supervisor-7f3a", "supervisor")
    operator = Actor.user("demo-operator-11c2", "operator")
    publish(
        deployment,
        [
            audit_event(
                operator,
                "case.reported",
                case_id=uuid.uuid4(),
                case_number="440305-2026-000122",
                district_code="440305",
            ),
            audit_event(
                supervisor,
                "pii.revealed",
                case_id=uuid.uuid4(),
                case_number="440305-2026-000123",
                district_code="440305",
                reason="contact_worker",
                detail="mobile",
            ),
        ],
    )
    wait_stored(deployment, 2)
    with chromium() as launched:
        yield launched


def test_an_administrator_finds_a_supervisors_reveal_with_its_reason(
    browser: Browser, deployment: Deployment
) -> None:
    audit, identity = deployment["audit"].url, deployment["identity"].url

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    blocked: list[str] = []
    # The page's own CSP (default-src 'self') would block any inline script or style.
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)

    # Not signed in: the page sends the browser to the sign-in page.
    page.goto(f"{audit}/records")
    assert page.url.startswith(f"{identity}/login")
    page.fill("#username", "admin.wang")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():  # the answer to the sign-in sets the session cookie
        page.click("#submit")
    # The session cookie is the host's (cookies ignore ports); behind the proxy the
    # sign-in page sends the browser straight back to the page it came from.
    page.goto(f"{audit}/records")
    assert page.title() == "审计记录 · 维权案件管理系统"
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#records tbody tr").count() == 2

    page.select_option("#f-action", label="查看个人信息")
    page.click("#search")
    row = page.locator("#records tbody tr")
    row.first.wait_for()
    page.wait_for_function("() => document.querySelectorAll('#records tbody tr').length === 1")
    cells = row.first.locator("td").all_inner_texts()
    assert cells[1:] == [
        "demo-supervisor-7f3a",
        "督导/领导",
        "查看个人信息",
        "440305-2026-000123",
        "南山区",
        "成功",
        "联系职工",
        "mobile",
    ]
    headers = page.locator("#records thead th").all_inner_texts()
    assert headers == ["时间", "操作人", "角色", "操作", "案件", "区", "结果", "理由", "详情"]
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("style").count() == 0 and page.locator("[style]").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit-records.png"), full_page=True)
    assert blocked == []

    # A bad date typed by hand is explained in Chinese, not failed silently.
    page.evaluate("document.getElementById('f-from').type = 'text'")
    page.fill("#f-from", "2026-02-30")
    page.click("#search")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "起始日期：日期格式不正确" in error.inner_text()
