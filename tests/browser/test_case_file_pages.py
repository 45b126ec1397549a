"""The case file in a real browser (Debian's chromium), through the one address (the proxy in
front of intake, triage, projection and identity, each under its prefix).

- An operator logs a call, opens its case page from the confirmation's link, adds a note and
  a contact with a next-action date (each seen in the timeline), finds the case in 我的工作
  and on the portal's counts, and finds it again on 查找案件 by a spaced mobile and by the
  worker's name (the issue's "Done when" #1).
- A district triage officer finds the case triage flagged in 待核实, resolves it on the case
  page (errors beside the form first), and the case leaves the queue; a supervisor voids a
  case from its page; other roles see neither form.

Screenshots go to the test artifacts (tests/artifacts/casefile-*.png).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from projection.periods import today
from tests.support.browser import chromium, requires_chromium, sign_in
from tests.support.stack import ARTIFACTS, Deployment, Infra
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.labels import CASE_STATUSES

pytestmark = [pytest.mark.integration, requires_chromium]

NANSHAN = "440305"
TERMINATION = 2  # demo.STORIES: the limitation period runs from the date of knowledge


@pytest.fixture(scope="module")
def site(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    deployment = Deployment(infra)
    run_dir: Path = tmp_path_factory.mktemp("casefile")
    try:
        deployment.start_proxied(
            "intake",
            "triage",
            "projection",
            "identity",
            # No channel configured: its messages wait, and the case page's 通知记录 shows
            # them as 待发送.
            "notification",
            WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(run_dir / "signing-keys.json"),
        )
        yield deployment.start_proxy(run_dir).url
    finally:
        deployment.teardown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def new_page(browser: Browser, address: str, role: Role, **person: object) -> Page:
    context = browser.new_context(
        base_url=address, locale="zh-CN", viewport={"width": 1400, "height": 1100}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, address, role, **person)
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"casefile-{name}.png"), full_page=True)


def timeline_says(page: Page, text: str) -> None:
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('#timeline li')]"
        ".some(li => li.textContent.includes(t))",
        arg=text,
    )


def test_an_operator_logs_a_call_works_its_case_and_finds_it_again(
    site: str, browser: Browser
) -> None:
    operator = {"subject": "op-e2e-1", "name": "李接线", "districts": (NANSHAN,)}
    page = new_page(browser, site, Role.OPERATOR, **operator)

    # Logs a call on the operator page.
    page.goto("/intake/operator")
    page.fill("#call_id", "12351-E2E-CASEFILE-0001")
    page.fill("#workers-0-name", "王建国")
    page.fill("#workers-0-mobile", "13912345678")
    page.fill("#workers-0-id_number", "11010519491231002X")
    page.fill("#employer-name", "深圳市鹏程建筑劳务有限公司")
    page.select_option("#employer-district_code", NANSHAN)
    page.fill("#employer-contact-name", "李经理")
    page.fill("#employer-contact-email", "hr@pengcheng.example.cn")
    page.fill("#description", "公司拖欠三个月工资共24000元。")
    page.fill("#demands", "要求支付拖欠工资")
    page.check("#consent-agreed")
    page.press("#employer-name", "Enter")
    page.locator("#case-form .result.ok").wait_for()
    saved = re.search(r"\d{6}-\d{4}-\d{6}", page.text_content("#case-form .result") or "")
    assert saved is not None and saved.group().startswith(f"{NANSHAN}-")
    number = saved.group()

    # Opens its case page from the confirmation.
    page.click("#case-form a.case-link")
    page.wait_for_url(f"**/projection/cases/{number}")
    page.wait_for_function("() => document.getElementById('state').textContent !== ''")
    assert page.text_content("#case-number") == number
    assert page.text_content("#state") in CASE_STATUSES.values()
    timeline_says(page, "经12351热线受理")
    page.wait_for_function("() => document.querySelector('#parties tbody tr') !== null")
    assert page.text_content("#parties tbody tr td:nth-child(2) span") == "王*国"
    page.wait_for_function(
        "() => document.getElementById('responsible').textContent.includes('李接线')"
    )
    # 通知记录, fetched from notification: the acceptance SMS to the first worker, waiting
    # (no channel configured here), its text with the number; no address, no error.
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('#deliveries li')]"
        ".some(li => li.textContent.includes(n) && li.textContent.includes('待发送'))",
        arg=number,
        timeout=60_000,  # notification records it a moment later; the page reads it again
    )
    delivery = page.text_content("#deliveries li") or ""
    assert "短信 → 职工1：您反映的劳动争议已受理" in delivery and "13912345678" not in delivery
    assert page.text_content("#deliveries-error") == ""

    # A note, typed and sent with the keyboard: an empty one is refused beside the form.
    page.click("#note-form button[type=submit]")
    assert page.text_content("#note-form-text-error") == "请填写备注内容"
    assert page.get_attribute("#note-form-text", "aria-invalid") == "true"
    page.focus("#note-form-text")
    page.keyboard.type("职工补充：10月工资条已拍照，下周送来。")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('note-form-ok').textContent === '备注已保存。'"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('#notes li.note')].some(li => "
        "li.textContent.includes('10月工资条已拍照'))"
    )
    timeline_says(page, "李接线 添加了备注")

    # A contact with its next-action date.
    next_day = (today() + timedelta(days=3)).isoformat()
    page.select_option("#contact-form-method", "call_back")
    page.select_option("#contact-form-outcome", "no_answer")
    page.fill("#contact-form-remark", "两次未接通，改日再打")
    page.fill("#contact-form-next_action_on", next_day)
    page.click("#contact-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('contact-form-ok').textContent !== ''")
    timeline_says(page, f"李接线 回电：无人接听，下次 {next_day}")
    page.wait_for_function(
        "(d) => document.getElementById('summary').textContent.includes(d)", arg=next_day
    )
    # The worker's separate consent to share, asked for from the case page.
    assert page.text_content("#consent") == "未取得共享同意"
    page.check("#consent-form input[value=court]")
    page.click("#consent-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('consent').textContent.startsWith('职工同意向人民法院提供')"
    )
    timeline_says(page, "职工同意向人民法院提供案件信息")

    # The employer's contact from the form, masked; corrected here with a mobile added.
    page.wait_for_function(
        "() => document.getElementById('employer-contact').textContent.includes('h***@')"
    )
    assert "李*理" in (page.text_content("#employer-contact") or "")
    page.fill("#employer-contact-form-name", "李经理")
    page.fill("#employer-contact-form-mobile", "139 8765 4321")
    page.fill("#employer-contact-form-email", "hr@pengcheng.example.cn")
    page.click("#employer-contact-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('employer-contact').textContent.includes('139****4321')"
    )
    assert "13987654321" not in (page.text_content("#employer-contact") or "")

    # A masked value shown once, with a reason (asked for first, beside the parties).
    page.click("#parties button.reveal >> nth=1")
    assert "请先选择显示个人信息的理由" in (page.text_content("#parties-error") or "")
    page.select_option("#reveal-reason", "call_back")
    page.click("#parties button.reveal >> nth=1")
    page.wait_for_function(
        "() => (document.querySelector('#parties .revealed')?.textContent || '')"
        ".endsWith('13912345678')"
    )
    assert page.locator("#void-form").count() == 0  # supervisors only
    assert page.locator("#review-form").count() == 0  # triage officers and supervisors
    shot(page, "case-page-operator")

    # 我的工作: the case is the operator's, and links to its page.
    page.goto("/projection/queues")
    link = page.locator(f"#items a[href='cases/{number}']")
    link.wait_for()
    assert page.get_attribute("#tab-mine", "aria-selected") == "true"
    page.wait_for_function("() => /^\\d+$/.test(document.getElementById('count-mine').textContent)")
    assert int(page.text_content("#count-mine") or "0") >= 1
    page.focus("#tab-mine")
    page.keyboard.press("ArrowRight")  # the tabs move with the arrow keys
    assert page.get_attribute("#tab-review", "aria-selected") == "true"
    page.keyboard.press("ArrowLeft")
    link.wait_for()
    shot(page, "queues-operator")
    link.click()
    page.wait_for_url(f"**/projection/cases/{number}")

    # The portal shows the four counts (fetched from projection by the browser).
    page.goto("/")
    page.locator("#queue-mine").wait_for()
    assert "我的案件" in (page.text_content("#queue-mine") or "")
    assert page.get_attribute("#queue-mine", "href") == "/projection/queues#mine"
    shot(page, "portal-counts")

    # Finds it again: by the mobile as people type it, then by the worker's name.
    for query in ("139 1234 5678", "王建国"):
        page.goto("/intake/search")
        page.wait_for_function("() => document.getElementById('find-form').dataset.ready === 'yes'")
        page.fill("#query", query)
        page.select_option("#reason", "progress_enquiry")
        page.press("#query", "Enter")
        found = page.locator(f"#found a[href='/projection/cases/{number}']")
        found.wait_for()
        shot(page, "search-mobile" if query[0].isdigit() else "search-name")
    found.click()
    page.wait_for_url(f"**/projection/cases/{number}")
    page.context.close()


def test_a_review_flag_resolved_and_a_case_voided_on_the_case_page(
    site: str, browser: Browser
) -> None:
    rng = random.Random(160)
    body = hotline_call(rng, story=TERMINATION, district=NANSHAN)
    body["knew_of_infringement_on"] = None  # triage flags the limitation for review
    intake = site + "/intake"
    response = httpx.post(
        f"{intake}/api/v1/hotline-calls", json=body, timeout=15, headers=signed_in(Role.OPERATOR)
    )
    assert response.status_code == 201, response.text
    number = response.json()["case_number"]

    officer = {"subject": "triage-e2e-1", "name": "赵分流", "districts": (NANSHAN,)}
    page = new_page(browser, site, Role.TRIAGE_OFFICER, **officer)
    page.goto("/projection/queues#review")
    item = page.locator(f"#items a[href='cases/{number}']")
    for _ in range(40):  # triage decides, then projection learns of it
        if item.count():
            break
        page.wait_for_timeout(500)
        page.click("#tab-review")
    item.wait_for()
    row = page.locator("#items tr", has=page.locator(f"a[href='cases/{number}']"))
    assert "未记录知道或应当知道权利受侵害的日期" in (row.text_content() or "")
    shot(page, "queue-review")
    item.click()
    page.wait_for_url(f"**/projection/cases/{number}")
    page.wait_for_selector("#clocks tbody tr.needs-review")

    # Errors beside the form: the date the resolution needs is missing.
    page.select_option("#review-form-resolution", "start_date_recorded")
    page.click("#review-form button[type=submit]")
    assert "请填写知道或应当知道权利受侵害之日" in (
        page.text_content("#review-form-knew_of_infringement_on-error") or ""
    )
    assert page.locator("#void-form").count() == 0
    page.fill("#review-form-knew_of_infringement_on", (today() - timedelta(days=20)).isoformat())
    page.fill("#review-form-note", "职工来电确认")
    page.click("#review-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('review-form-ok').textContent !== ''")
    timeline_says(page, "人工核实：已核实并记录知道权利受侵害的日期")
    # The recomputed date may itself need checking (a year whose holidays are not entered).
    page.wait_for_function("() => document.querySelector('#clocks tbody tr th') !== null")
    if page.locator("#clocks tbody tr.needs-review").count():
        page.select_option("#review-form-resolution", "dates_checked")
        page.fill("#review-form-note", "已核对节假日安排")
        page.click("#review-form button[type=submit]")
        page.wait_for_function(
            "() => document.querySelectorAll('#clocks tbody tr.needs-review').length === 0"
        )
    shot(page, "case-page-review-resolved")
    page.goto("/projection/queues#review")
    page.wait_for_function("() => document.querySelector('#items tbody tr') !== null")
    assert page.locator(f"#items a[href='cases/{number}']").count() == 0
    page.context.close()

    # A supervisor voids it (a test call): the page says so; errors beside the form first.
    supervisor = new_page(browser, site, Role.SUPERVISOR, name="钱督导", districts=(NANSHAN,))
    supervisor.goto(f"/projection/cases/{number}")
    supervisor.wait_for_function("() => document.getElementById('state').textContent !== ''")
    supervisor.select_option("#void-form-reason", "duplicate")
    supervisor.click("#void-form button[type=submit]")
    assert "请填写与之重复的案件编号" in (
        supervisor.text_content("#void-form-duplicate_of-error") or ""
    )
    supervisor.select_option("#void-form-reason", "test_call")
    supervisor.click("#void-form button[type=submit]")
    supervisor.wait_for_function("() => document.getElementById('state').textContent === '已作废'")
    assert "不计入任何统计" in (supervisor.text_content("#voided") or "")
    timeline_says(supervisor, "案件已作废：测试来电")
    shot(supervisor, "case-page-voided")
    supervisor.context.close()
