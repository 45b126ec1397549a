"""Intake's pages in a real headless browser: Debian's chromium driven by Playwright.

Playwright's own browser download is never used (``playwright install`` does not work
here): chromium is launched from ``/usr/bin/chromium``. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.support.browser import CHROMIUM, FLAGS, requires_chromium
from tests.support.stack import ARTIFACTS, Deployment
from weiquan_shared.demo import walk_in_group

pytestmark = [pytest.mark.integration, requires_chromium]


@pytest.fixture
def page(deployment: Deployment) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    deployment.start("intake")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser.new_page(base_url=deployment["intake"].url, locale="zh-CN")
        finally:
            browser.close()


def test_walk_in_page_shows_chinese_errors_then_registers_a_group(page: Page) -> None:
    group = walk_in_group(random.Random(21), workers=2, story=0, employer=0)
    page.goto("/walk-in")
    assert page.evaluate("document.activeElement.id") == "centre"  # autofocus

    # Typed with the keyboard only: Tab from field to field in reading order.
    page.keyboard.type(group["centre"])
    page.keyboard.press("Tab")
    page.keyboard.type(group["clerk_id"])
    for index, worker in enumerate(group["workers"]):
        if index:
            page.click("#add-worker")
        page.fill(f"#workers-{index}-name", worker["name"])
        page.fill(f"#workers-{index}-mobile", worker["mobile"])
        page.fill(f"#workers-{index}-id_number", worker["id_number"])
    page.fill("#workers-1-mobile", "1391234")  # too short: refused
    page.fill("#employer-name", group["employer"]["name"])
    page.select_option("#employer-district_code", group["employer"]["district_code"])
    page.fill("#description", group["description"])
    page.fill("#demands", group["demands"])
    page.check("#consent-agreed")
    page.press("#employer-name", "Enter")  # Enter submits

    error = page.locator('[data-error-for="workers.1.mobile"]')
    error.wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('[data-error-for=\"workers.1.mobile\"]').textContent !== ''"
    )
    assert error.text_content() == "手机号：格式不正确"
    assert page.get_attribute("#workers-1-mobile", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "workers-1-mobile"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "walk-in-validation.png"), full_page=True)

    page.fill("#workers-1-mobile", group["workers"][1]["mobile"])
    page.press("#workers-1-mobile", "Enter")
    result = page.locator(".result.ok")
    result.wait_for()
    assert (result.text_content() or "").startswith(
        "登记成功，案件编号：" + group["employer"]["district_code"]
    )
    assert error.text_content() == ""
    page.screenshot(path=str(ARTIFACTS / "walk-in-registered.png"), full_page=True)


def test_operator_page_refuses_a_wrong_id_number_next_to_the_field(page: Page) -> None:
    page.goto("/operator")
    assert page.evaluate("document.activeElement.id") == "call_id"
    page.keyboard.type("12351-BROWSER-0001")
    page.fill("#operator_id", "op-007")
    page.fill("#workers-0-name", "王建国")
    page.fill("#workers-0-mobile", "13912345678")
    page.fill("#workers-0-id_number", "110105194912310021")  # wrong check digit
    page.fill("#employer-name", "深圳市鹏程建筑劳务有限公司")
    page.select_option("#employer-district_code", "440305")
    page.fill("#description", "公司拖欠三个月工资共24000元。")
    page.fill("#demands", "要求支付拖欠工资")
    page.check("#consent-agreed")
    page.press("#operator_id", "Enter")
    page.wait_for_function(
        "document.querySelector('[data-error-for=\"workers.0.id_number\"]').textContent !== ''"
    )
    message = page.text_content('[data-error-for="workers.0.id_number"]')
    assert message == "身份证号：校验码不正确，请核对"
    page.screenshot(path=str(ARTIFACTS / "operator-validation.png"), full_page=True)

    page.fill("#workers-0-id_number", "11010519491231002X")
    page.press("#workers-0-id_number", "Enter")
    page.locator(".result.ok").first.wait_for()
    assert "登记成功，案件编号：440305-" in (page.text_content("#case-form .result") or "")
