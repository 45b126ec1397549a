"""Legal aid's pages in a real browser (Debian's chromium driven by Playwright), legal_aid
on real Kafka and PostgreSQL: the officer's queue lists the applications with their clocks,
provisional aid first; opening one shows its checklist and, once decided, the rules and
reasons. The lawyer's page lists only the cases assigned to that lawyer. Screenshots of
both pages are kept in tests/artifacts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.support.browser import chromium, requires_chromium, sign_in
from tests.support.legal_aid import DISTRICT, LAWYERS, report, triage
from tests.support.stack import ARTIFACTS, Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role

pytestmark = [pytest.mark.integration, requires_chromium]


@pytest.fixture
def stocked(deployment: Deployment) -> Iterator[dict[str, Any]]:
    deployment.start("legal_aid")
    base = deployment["legal_aid"].url + "/api/v1"
    officer = signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,))
    for code, body in LAWYERS.items():
        assert httpx.put(f"{base}/lawyers/{code}", json=body, headers=officer).status_code == 200
        httpx.put(
            f"{base}/lawyers/{code}/account", json={"subject": f"sub-{code}"}, headers=officer
        )
    numbers = []
    for i, days in enumerate((65, 5, 40)):
        number = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}"
        case_id = report(deployment, number, f"{i:02d}" * 32)
        triage(deployment, case_id, number, "legal_aid", limitation_days=days)
        numbers.append(number)

    def queued() -> list[dict[str, Any]]:
        found = httpx.get(f"{base}/applications", headers=officer).json()["applications"]
        return found if len(found) == 3 else []

    applications = wait_until(queued, what="three applications in the queue")
    # The first case: household and documents recorded, then granted by the rules.
    first = next(a for a in applications if a["case_number"] == numbers[0])
    api = f"{base}/applications/{first['application_number']}"
    httpx.put(
        f"{api}/facts",
        json={
            "household_size": 4,
            "monthly_household_income": "7200.00",
            "documents_received": [
                "identity",
                "application_form",
                "hardship_pledge",
                "employment_proof",
                "wage_evidence",
            ],
        },
        headers=officer,
    ).raise_for_status()
    httpx.post(f"{api}/decision", headers=officer).raise_for_status()
    with chromium() as browser:
        yield {"browser": browser, "numbers": numbers, "applications": applications, "first": first}


def test_officer_queue_and_lawyer_page(stocked: dict[str, Any], deployment: Deployment) -> None:
    browser: Browser = stocked["browser"]
    url = deployment["legal_aid"].url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []

    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}).new_page()
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    sign_in(page, url, Role.LEGAL_AID_OFFICER, districts=(DISTRICT,), name="王专员")
    page.goto(f"{url}/queue")
    page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 3")
    rows = page.locator("#queue tbody tr")
    # Provisional aid (5 days before limitation) is at the top, with its clock.
    assert "先行援助中" in rows.nth(0).inner_text()
    assert "剩" in rows.nth(0).locator("td.clock").inner_text()
    page.click(f"a[data-number='{stocked['first']['application_number']}']")
    page.wait_for_function("() => document.getElementById('detail').hidden === false")
    explanation = page.locator("#explanation").inner_text()
    assert "法律援助法第三十一条" in explanation and "决定给予法律援助" in explanation
    assert page.locator("#checklist input:checked").count() == 5
    page.screenshot(path=str(ARTIFACTS / "legal-aid-officer-queue.png"), full_page=True)
    # A walk-in application at the desk joins the queue.
    page.fill("#wi_district", DISTRICT)
    page.select_option("#wi_matter", "work_injury")
    page.check("#wi_migrant")
    page.fill("#wi_employer", "深圳市华南电子科技有限公司")
    page.click("#walk_in button[type=submit]")
    page.wait_for_function("() => document.getElementById('wi_result').textContent.includes('FY-')")
    page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 4")
    assert "窗口申请" in page.locator("#queue tbody").inner_text()

    lawyer_code = (
        stocked["first"]["lawyer_code"]
        or httpx.get(
            f"{url}/api/v1/applications/{stocked['first']['application_number']}",
            headers=signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,)),
        ).json()["lawyer_code"]
    )
    lawyer = browser.new_context(locale="zh-CN").new_page()
    sign_in(lawyer, url, Role.LAWYER, subject=f"sub-{lawyer_code}", name="律师")
    lawyer.goto(f"{url}/my-cases")
    lawyer.wait_for_function("() => document.querySelectorAll('#cases tbody tr').length > 0")
    listed = lawyer.locator("#cases tbody").inner_text()
    mine = httpx.get(
        f"{url}/api/v1/my/applications",
        headers=signed_in(Role.LAWYER, subject=f"sub-{lawyer_code}"),
    ).json()["applications"]
    assert {a["application_number"] for a in mine} == {
        a["application_number"]
        for a in stocked["applications"]
        if a["application_number"] in listed
    }
    assert stocked["first"]["application_number"] in listed
    # The lawyer records the arbitration application on the page.
    lawyer.click(f"a[data-number='{stocked['first']['application_number']}']")
    lawyer.wait_for_function("() => document.getElementById('detail').hidden === false")
    lawyer.select_option("#step_kind", "arbitration_filed")
    lawyer.fill("#occurred_on", "2026-12-01")
    lawyer.fill("#doc_title", "劳动人事争议仲裁申请书")
    lawyer.click("#step button[type=submit]")
    lawyer.wait_for_function(
        "() => document.getElementById('result').textContent.includes('已登记')"
    )
    assert "仲裁申请书" in lawyer.locator("#steps").inner_text()
    assert "仲裁受理审查期限" in lawyer.locator("#summary").inner_text()
    lawyer.screenshot(path=str(ARTIFACTS / "legal-aid-lawyer-cases.png"), full_page=True)
    # Another lawyer's case, asked for by number: 404.
    other = next(a for a in stocked["applications"] if a["application_number"] not in listed)
    answer = httpx.get(
        f"{url}/api/v1/my/applications/{other['application_number']}",
        headers=signed_in(Role.LAWYER, subject=f"sub-{lawyer_code}"),
    )
    assert answer.status_code == 404
    assert blocked == []
