"""The supervisors' dashboard in a real headless browser (Debian's chromium via Playwright).

Supervisors sign in on the identity service's page; its session cookie (same host) is what
the dashboard's requests carry. Cases go in through intake's API; the page must show them
within seconds without a reload, follow the district and period selectors, drill down from
a chart bar and a figure to the cases behind it, and open a case's page from a list. A district
supervisor's page offers and shows only their district. Screenshots are kept in
tests/artifacts/.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.support.browser import chromium, requires_chromium
from tests.support.stack import ARTIFACTS, Deployment
from tests.support.staff import CITY, PASSWORD, signed_in, start_identity
from tests.support.tokens import signed_in as staff_token
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call, walk_in_group

pytestmark = [pytest.mark.integration, requires_chromium]


def register(intake: str, path: str, body: dict[str, Any]) -> str:
    clerk = Role.WALK_IN_CLERK if "walk-in" in path else Role.OPERATOR
    response = httpx.post(f"{intake}{path}", json=body, timeout=15, headers=staff_token(clerk))
    assert response.status_code == 201, response.text
    return str(response.json()["case_number"])


NANSHAN_SUPERVISOR = "nanshan.supervisor"


@pytest.fixture
def page(deployment: Deployment, tmp_path: Path) -> Iterator[Any]:
    accounts = {**CITY, NANSHAN_SUPERVISOR: (Role.SUPERVISOR, ["440305"])}
    start_identity(deployment, tmp_path, accounts)
    # Services trust the test issuer (the clerks' tokens) and this identity (the supervisors').
    deployment.start("intake", "triage", "projection")
    with chromium() as browser:
        page = browser.new_page(
            base_url=deployment["projection"].url,
            locale="zh-CN",
            viewport={"width": 1400, "height": 1000},
        )
        page.set_default_timeout(20_000)
        yield page


def kpi(page: Any, name: str) -> str:
    return str(page.text_content(f"#kpi-{name}"))


def sign_in(page: Any, identity: str, username: str) -> None:
    """On the identity service's sign-in page, as a person would."""
    page.goto(f"{identity}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.locator("#who").wait_for()


def test_dashboard_is_live_filters_and_drills_down(page: Any, deployment: Deployment) -> None:
    intake = deployment["intake"].url
    rng = random.Random(66)
    districts: Counter[str] = Counter()
    for story in (0, 2, 5, 9, 0, 3):
        call = hotline_call(rng, story=story)
        register(intake, "/api/v1/hotline-calls", call)
        districts[call["employer"]["district_code"]] += 1
    group = walk_in_group(rng, workers=12, story=1, employer=0, district="440305")
    group_number = register(intake, "/api/v1/walk-in-registrations", group)
    districts["440305"] += 1
    cases = sum(districts.values())

    identity = deployment["identity"].url
    sign_in(page, identity, "city.supervisor")
    page.goto("/dashboard")
    page.select_option("#period", "all")
    page.wait_for_function(
        f"() => document.querySelector('#kpi-cases').textContent === '{cases}'"
        " && document.querySelector('#kpi-awaiting').textContent === '0'"
    )
    assert kpi(page, "groups") == "1"
    # No survey answered in this deployment: no rate, said in Chinese.
    assert kpi(page, "satisfaction") == "—"
    assert page.text_content("#satisfaction-by-district") == "本期尚未收回评价"
    assert int(kpi(page, "workers")) == 6 + 12

    # Live: a new call shows up without reloading the page.
    started = time.monotonic()
    register(intake, "/api/v1/hotline-calls", hotline_call(rng, story=4, district="440305"))
    districts["440305"] += 1
    page.wait_for_function(
        f"() => document.querySelector('#kpi-cases').textContent === '{cases + 1}'", timeout=10_000
    )
    print(f"\nnew case on the open dashboard after {time.monotonic() - started:.1f} s")

    # District selector.
    page.select_option("#district", "440305")
    page.wait_for_function(
        f"() => document.querySelector('#kpi-cases').textContent === '{districts['440305']}'"
    )

    # Drill-down from a bar of the category chart: a real click on the canvas.
    point = click_first_category_bar(page)
    categories = page.locator("#drill-body tr td:nth-child(7)").all_text_contents()
    assert set(categories) == {point["name"]}

    # Drill-down from a figure: the group dispute, then its timeline.
    page.click("[data-drill=groups]")
    with signed_in(identity, base_url=deployment["projection"].url) as api:
        grouped = api.get("/api/v1/cases", params={"grouped": "true"}).json()["cases"]
    assert group_number in {c["case_number"] for c in grouped}  # and any case that joined it
    page.wait_for_function(
        "() => document.querySelector('#drill-title').textContent.includes('群体性劳动争议')"
        f" && document.querySelectorAll('#drill-body tr a').length === {len(grouped)}"
    )
    # A case in the list opens its case page (案件详情), no pop-up.
    page.click(f"#drill-body a[href='cases/{group_number}']")
    page.wait_for_url(f"**/cases/{group_number}")
    page.wait_for_selector("#timeline li")
    events = page.locator("#timeline li").all_text_contents()
    assert "来访窗口受理，12名职工" in events[0]
    assert any("分流" in text for text in events)
    # Each clock says where it stands today; an expired one would show no days at all.
    page.wait_for_selector("#clocks tbody tr th")
    states = page.locator("#clocks tbody tr td:nth-child(3)").all_text_contents()
    assert states and set(states) <= {"未届满", "即将届满", "已届满，待人工核实", "未计算"}, states
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-case-page.png"), full_page=True)
    page.go_back()
    page.select_option("#period", "all")

    page.select_option("#district", "")
    page.wait_for_function(
        f"() => document.querySelector('#kpi-cases').textContent === '{cases + 1}'"
    )
    page.click("[data-drill=cases]")
    page.wait_for_function("() => document.querySelectorAll('#drill-body tr').length > 1")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    # Relative to the page, so it works under /projection/ behind the proxy too.
    export = page.evaluate("document.getElementById('export').href")
    assert export.startswith(f"{deployment['projection'].url}/api/v1/report.xlsx?"), export

    # 南山区's supervisor: one district on offer, its cases only, another's case not found.
    elsewhere = next(
        c["case_number"] for c in api_cases(deployment, identity) if c["district_code"] != "440305"
    )
    page.context.clear_cookies()
    sign_in(page, identity, NANSHAN_SUPERVISOR)
    page.goto("/dashboard")
    page.select_option("#period", "all")
    page.wait_for_function(
        f"() => document.querySelector('#kpi-cases').textContent === '{districts['440305']}'"
    )
    options = page.locator("#district option").all_text_contents()
    assert options == ["南山区"]
    page.click("[data-drill=cases]")
    page.wait_for_function(
        f"() => document.querySelectorAll('#drill-body tr').length === {districts['440305']}"
    )
    assert set(page.locator("#drill-body tr td:nth-child(3)").all_text_contents()) == {"南山区"}
    status = page.evaluate("async (n) => (await fetch('/api/v1/cases/' + n)).status", elsewhere)
    assert status == 404
    page.screenshot(path=str(ARTIFACTS / "dashboard-district.png"), full_page=True)


def click_first_category_bar(page: Any) -> dict[str, Any]:
    """Click the first bar of the category chart until its cases are listed.

    After a filter change the chart is redrawn and its bars grow for a moment, and opening a
    list scrolls the page to it; so before each click the chart is brought into view and the
    bar's place read afresh. Once the list's title names the bar, no more clicks.
    """
    point: dict[str, Any] = {}
    for _ in range(20):
        point = page.evaluate(
            """() => {
                const box = document.getElementById('chart-category');
                box.scrollIntoView({block: 'center', behavior: 'instant'});
                const chart = echarts.getInstanceByDom(box);
                const bar = chart.getOption().series[0].data[0];
                const [x, y] = chart.convertToPixel({seriesIndex: 0}, [bar.value / 2, 0]);
                const at = box.getBoundingClientRect();
                return {x: at.left + x, y: at.top + y, name: bar.name, value: bar.value};
            }"""
        )
        page.mouse.click(point["x"], point["y"])
        try:
            page.wait_for_function(
                "() => document.querySelector('#drill-title').textContent"
                f".includes('{point['name']}')",
                timeout=1_000,
            )
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_function(
        f"() => document.querySelector('#drill-title').textContent.includes('{point['name']}')"
        f" && document.querySelectorAll('#drill-body tr').length === {point['value']}",
        timeout=30_000,
    )
    return point


def api_cases(deployment: Deployment, identity: str) -> list[dict[str, Any]]:
    """Every case, as the city's supervisor reads them."""
    with signed_in(identity, base_url=deployment["projection"].url) as api:
        return list(api.get("/api/v1/cases", params={"limit": 500}).json()["cases"])
