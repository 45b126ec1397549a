"""Intake's pages in a real headless browser: Debian's chromium driven by Playwright.

Playwright's own browser download is never used (``playwright install`` does not work
here): chromium is launched from ``/usr/bin/chromium``. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page

from tests.support.browser import chromium, requires_chromium, sign_in
from tests.support.stack import ARTIFACTS, Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call, walk_in_group

pytestmark = [pytest.mark.integration, requires_chromium]


@pytest.fixture
def page(deployment: Deployment) -> Iterator[Page]:
    deployment.start("intake")
    with chromium() as browser:
        page = browser.new_page(base_url=deployment["intake"].url, locale="zh-CN")
        sign_in(page, deployment["intake"].url, Role.OPERATOR, subject="op-007")
        yield page


def test_walk_in_page_shows_chinese_errors_then_registers_a_group(
    page: Page, deployment: Deployment
) -> None:
    group = walk_in_group(random.Random(21), workers=2, story=0, employer=0)
    sign_in(page, deployment["intake"].url, Role.WALK_IN_CLERK)
    page.goto("/walk-in")
    assert page.evaluate("document.activeElement.id") == "centre"  # autofocus

    # Typed with the keyboard only: Tab from field to field in reading order.
    page.keyboard.type(group["centre"])
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
        "() => document.querySelector('[data-error-for=\"workers.1.mobile\"]').textContent !== ''"
    )
    assert (error.text_content() or "").startswith("手机号：格式不正确")
    assert page.get_attribute("#workers-1-mobile", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "workers-1-mobile"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "walk-in-validation.png"), full_page=True)

    page.fill("#workers-1-mobile", group["workers"][1]["mobile"])
    first_submission = page.input_value("#desk_submission_id")
    page.press("#workers-1-mobile", "Enter")
    result = page.locator(".result.ok")
    result.wait_for()
    assert (result.text_content() or "").startswith(
        "登记成功，案件编号：" + group["employer"]["district_code"]
    )
    assert page.locator(".error:not(:empty)").count() == 0  # the corrected error is gone
    page.screenshot(path=str(ARTIFACTS / "walk-in-registered.png"), full_page=True)

    # The form is ready for the next visitors: the centre stays, the rest is cleared, the
    # extra worker rows are gone and the desk submission id is a new one.
    assert page.input_value("#centre") == group["centre"]
    assert page.locator("fieldset.worker").count() == 1
    for cleared in ("#workers-0-name", "#workers-0-mobile", "#employer-name", "#description"):
        assert page.input_value(cleared) == "", cleared
    assert not page.is_checked("#consent-agreed")
    assert page.input_value("#desk_submission_id") not in ("", first_submission)
    assert page.evaluate("document.activeElement.id") == "workers-0-name"


def test_operator_page_refuses_a_wrong_id_number_next_to_the_field(page: Page) -> None:
    page.goto("/operator")
    assert page.evaluate("document.activeElement.id") == "call_id"
    page.keyboard.type("12351-BROWSER-0001")
    page.fill("#workers-0-name", "王建国")
    page.fill("#workers-0-mobile", "13912345678")
    page.fill("#workers-0-id_number", "110105194912310021")  # wrong check digit
    page.fill("#employer-name", "深圳市鹏程建筑劳务有限公司")
    page.select_option("#employer-district_code", "440305")
    page.fill("#description", "公司拖欠三个月工资共24000元。")
    page.fill("#demands", "要求支付拖欠工资")
    page.check("#consent-agreed")
    page.press("#employer-name", "Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=\"workers.0.id_number\"]')"
        ".textContent !== ''"
    )
    message = page.text_content('[data-error-for="workers.0.id_number"]')
    assert message == "身份证号：校验码不正确，请核对"
    page.screenshot(path=str(ARTIFACTS / "operator-validation.png"), full_page=True)

    page.fill("#workers-0-id_number", "11010519491231002X")
    page.press("#workers-0-id_number", "Enter")
    page.locator(".result.ok").first.wait_for()
    assert "登记成功，案件编号：440305-" in (page.text_content("#case-form .result") or "")


def base_of(page: Page) -> str:
    return str(page.evaluate("location.origin"))


def fill_call(page: Page, call_id: str, name: str, mobile: str, employer: str) -> None:
    """A complete, valid hotline call on /operator (the operator is the one signed in)."""
    page.fill("#call_id", call_id)
    page.fill("#workers-0-name", name)
    page.fill("#workers-0-mobile", mobile)
    page.fill("#employer-name", employer)
    page.select_option("#employer-district_code", "440305")
    page.fill("#description", "公司拖欠三个月工资共24000元。")
    page.fill("#demands", "要求支付拖欠工资")
    page.check("#consent-agreed")


def cases_of(page: Page, mobile: str) -> list[str]:
    found = httpx.post(
        f"{base_of(page)}/api/v1/case-searches/by-mobile",
        json={"mobile": mobile, "reason": "duplicate_check"},
        timeout=10,
        headers=signed_in(Role.OPERATOR),
    )
    return [case["case_number"] for case in found.json()]


def test_a_half_typed_date_blocks_the_save_with_a_message_beside_it(page: Page) -> None:
    page.goto("/operator")
    fill_call(page, "12351-BROWSER-DATE", "李秀英", "13812345678", "深圳市鹏程建筑劳务有限公司")
    page.focus("#knew_of_infringement_on")  # as Tab does: the year comes first
    # Half typed: two of the three parts (which ones depends on the browser's segment order,
    # mm/dd/yyyy in headless chromium, yyyy/mm/dd in a Chinese one). The field then holds a
    # partial date: value "" and validity.badInput, which used to be sent as no date at all.
    page.keyboard.type("1115")
    assert page.evaluate(
        "(() => { const el = document.getElementById('knew_of_infringement_on');"
        " return el.validity.badInput && el.value === ''; })()"
    )
    page.press("#employer-name", "Enter")

    slot = '[data-error-for="knew_of_infringement_on"]'
    page.wait_for_function(f"() => document.querySelector('{slot}').textContent !== ''")
    assert page.text_content(slot) == (
        "知道权利受侵害的日期：日期没有填写完整，请补全年、月、日，或清空此栏"
    )
    assert page.get_attribute("#knew_of_infringement_on", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "knew_of_infringement_on"
    assert "本次未保存" in (page.text_content("#case-form .result") or "")
    page.screenshot(path=str(ARTIFACTS / "operator-half-typed-date.png"), full_page=True)
    assert cases_of(page, "13812345678") == []  # nothing was sent

    # A half-cleared call time is refused the same way.
    page.fill("#knew_of_infringement_on", "2025-11-15")
    page.focus("#called_at")
    page.keyboard.press("Backspace")
    assert page.evaluate("document.getElementById('called_at').validity.badInput")
    page.press("#employer-name", "Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=\"called_at\"]').textContent !== ''"
    )
    assert page.text_content('[data-error-for="called_at"]') == (
        "来电时间：时间没有填写完整，请补全日期和时刻，或清空此栏"
    )
    assert page.text_content(slot) == ""
    assert cases_of(page, "13812345678") == []

    # Completed, the same form saves with the date.
    page.evaluate("document.getElementById('called_at').value = localNow()")
    page.press("#employer-name", "Enter")
    page.locator("#case-form .result.ok").wait_for()
    [number] = cases_of(page, "13812345678")
    case = httpx.get(
        f"{base_of(page)}/api/v1/cases/{number}", headers=signed_in(Role.OPERATOR)
    ).json()
    assert case["channel_ref"] == "12351-BROWSER-DATE"


def test_operator_form_is_cleared_after_a_save_so_the_next_call_is_not_lost(page: Page) -> None:
    page.goto("/operator")
    fill_call(page, "12351-BROWSER-0101", "王建国", "13912340101", "深圳市鹏程建筑劳务有限公司")
    page.press("#employer-name", "Enter")
    page.locator("#case-form .result.ok").wait_for()
    first = page.get_attribute("#case-form .result", "data-case-number")
    assert first and first.startswith("440305-")

    # Ready for the next call: every field is cleared; the case number stays shown.
    for cleared in (
        "#call_id",
        "#workers-0-name",
        "#workers-0-mobile",
        "#employer-name",
        "#employer-district_code",
        "#description",
        "#demands",
    ):
        assert page.input_value(cleared) == "", cleared
    assert not page.is_checked("#consent-agreed")
    assert page.input_value("#called_at") != ""
    assert first in (page.text_content("#case-form .result") or "")
    assert page.evaluate("document.activeElement.id") == "call_id"
    page.screenshot(path=str(ARTIFACTS / "operator-cleared-after-save.png"), full_page=True)

    # The next caller, with the previous call id typed by mistake: refused at the call id.
    fill_call(page, "12351-BROWSER-0101", "陈桂兰", "13712340102", "东莞市长安镇某电子厂")
    page.press("#employer-name", "Enter")
    page.locator("#case-form .result.bad").wait_for()
    message = page.text_content('[data-error-for="call_id"]') or ""
    assert message.startswith("来电流水号 12351-BROWSER-0101 已登记过内容不同的来电，本次未保存")
    assert page.evaluate("document.activeElement.id") == "call_id"
    assert page.input_value("#workers-0-name") == "陈桂兰"  # nothing typed is lost
    page.screenshot(path=str(ARTIFACTS / "operator-reused-call-id.png"), full_page=True)

    page.fill("#call_id", "12351-BROWSER-0102")
    page.press("#call_id", "Enter")
    page.locator("#case-form .result.ok").wait_for()
    second = page.get_attribute("#case-form .result", "data-case-number")
    assert second and second != first
    assert cases_of(page, "13712340102") == [second]

    # The consultation form is cleared the same way.
    consult = "#consultation-form"
    page.fill(f"{consult} [name=channel_ref]", "12351-BROWSER-0103")
    page.select_option(f"{consult} [name=district_code]", "440305")
    page.select_option(f"{consult} [name=topic]", "no_written_contract")
    page.fill(f"{consult} [name=question]", "入职三个月没签劳动合同怎么办？")
    page.fill(f"{consult} [name=answer]", "可主张二倍工资。")
    page.press(f"{consult} [name=channel_ref]", "Enter")
    page.locator(f"{consult} .result.ok").wait_for()
    assert page.text_content(f"{consult} .result") == "咨询已记录。"
    for cleared in ("channel_ref", "district_code", "topic", "question", "answer"):
        assert page.input_value(f"{consult} [name={cleared}]") == "", cleared


def test_a_browser_without_a_session_is_sent_to_sign_in(deployment: Deployment) -> None:
    deployment.start("intake")
    answer = httpx.get(
        f"{deployment['intake'].url}/walk-in", headers={"Accept": "text/html"}, timeout=10
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/identity/login?next=%2Fwalk-in"


def test_case_view_is_masked_and_shows_one_value_once_with_a_reason(
    page: Page, deployment: Deployment
) -> None:
    intake = deployment["intake"].url
    call = hotline_call(random.Random(31), district="440305")
    registered = httpx.post(
        f"{intake}/api/v1/hotline-calls", json=call, headers=signed_in(Role.OPERATOR), timeout=10
    )
    number = registered.json()["case_number"]
    page.goto("/operator")
    page.fill("#case_number", number)
    page.press("#case_number", "Enter")
    table = page.locator("#case-workers")
    table.wait_for()
    mobile_cell = table.locator("tbody tr").first.locator("td").nth(2)
    assert "****" in (mobile_cell.text_content() or "")

    mobile_cell.locator("button").click()  # no reason chosen yet: refused beside the list
    slot = '[data-error-for="reveal_reason"]'
    page.wait_for_function(f"() => document.querySelector('{slot}').textContent !== ''")
    assert page.text_content(slot) == "请先选择显示个人信息的理由"

    page.select_option("#reveal_reason", "call_back")
    mobile_cell.locator("button").click()
    page.wait_for_function("() => document.querySelector('#case-workers .revealed') !== null")
    assert mobile_cell.locator(".revealed").text_content() == "+86" + call["workers"][0]["mobile"]
    assert mobile_cell.locator("button").count() == 0  # shown once; no button to ask again
    name_cell = table.locator("tbody tr").first.locator("td").nth(1)
    assert "*" in (name_cell.text_content() or "")  # the rest stays masked
    page.screenshot(path=str(ARTIFACTS / "operator-case-revealed.png"), full_page=True)


def test_operator_records_separate_consent_opens_the_case_link_and_finds_the_case(
    page: Page, deployment: Deployment
) -> None:
    """The separate consent's checkboxes, the confirmation's 查看案件 link, and 查找案件
    by a spaced mobile and by the worker's name, each result linking to the case page."""
    page.goto("/operator")
    fill_call(page, "12351-BROWSER-CASEFILE", "欧阳浏览", "13912340777", "深圳市浏览测试有限公司")
    assert "单独同意" in (page.text_content("#case-form") or "")
    page.check("#sharing_consent-court")
    page.check("#sharing_consent-law_firm")
    page.press("#employer-name", "Enter")
    result = page.locator("#case-form .result.ok")
    result.wait_for()
    number = (page.get_attribute("#case-form .result", "data-case-number")) or ""
    link = page.locator("#case-form .result a.case-link")
    assert link.text_content() == "查看案件"
    assert link.get_attribute("href") == f"/projection/cases/{number}"
    assert not page.is_checked("#sharing_consent-court")  # cleared for the next call
    page.screenshot(path=str(ARTIFACTS / "operator-registered-case-link.png"), full_page=True)
    case = httpx.get(
        f"{base_of(page)}/api/v1/cases/{number}", headers=signed_in(Role.OPERATOR)
    ).json()
    assert case["sharing_consent"] == ["court", "law_firm"] and case["assignee_id"] == "op-007"

    page.goto("/search")
    assert page.evaluate("document.activeElement.id") == "query"
    for query in ("139 1234 0777", "欧阳浏览"):
        page.fill("#query", query)
        page.select_option("#reason", "progress_enquiry")
        page.press("#query", "Enter")
        found = page.locator(f'#found a[href="/projection/cases/{number}"]')
        found.wait_for()
        assert found.text_content() == number
        assert "欧**览" in (page.text_content("#found") or "")
    page.screenshot(path=str(ARTIFACTS / "search-by-name.png"), full_page=True)
    page.fill("#query", "12345")
    page.press("#query", "Enter")
    error = page.locator('[data-error-for="query"]')
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=\"query\"]').textContent !== ''"
    )
    assert "不是有效的中国大陆手机号" in (error.text_content() or "")
