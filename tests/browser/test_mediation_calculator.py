"""The entitlements calculator beside the agreement draft, in a real headless browser: a
mediator computes Art. 47 compensation (DOMAIN.md E1: 32,000), puts it into the draft and
records the agreement in two instalments."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.browser import chromium, requires_chromium, sign_in
from tests.support.stack import ARTIFACTS, Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role

pytestmark = [pytest.mark.integration, requires_chromium]
DISTRICT = "440305"
WORKERS = ["a" * 64, "b" * 64]


async def _mediation(deployment: Deployment, number: str) -> None:
    """An open mediation of one case with two workers, as mediation's consumers open one."""
    conn = await deployment.connect("mediation")
    try:
        mediation_id = uuid.uuid4()
        received = datetime.now(UTC) - timedelta(days=10)
        await conn.execute(
            """INSERT INTO mediations (mediation_id, mediation_number, district_code, category,
                   route_detail, employer, status, received_on, clocks, opened_at)
               VALUES ($1, $2, $3, 'termination', 'mediation.union',
                       '{"name": "示例公司", "district_code": "440305"}', 'accepted', $4, '[]',
                       $5)""",
            mediation_id,
            number,
            DISTRICT,
            received.date(),
            received,
        )
        await conn.execute(
            """INSERT INTO cases (case_id, case_number, district_code, workers, mediation_id)
               VALUES ($1, '440305-2026-990001', $2, $3, $4)""",
            uuid.uuid4(),
            DISTRICT,
            json.dumps([{"worker_ref": w} for w in WORKERS]),
            mediation_id,
        )
    finally:
        await conn.close()


def test_calculator_result_goes_into_the_agreement_draft(deployment: Deployment) -> None:
    deployment.start("mediation")
    url = deployment["mediation"].url
    number = "TJ-440305-2026-990001"
    asyncio.run(_mediation(deployment, number))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()

    with chromium() as browser:
        page = browser.new_page(base_url=url, locale="zh-CN")
        sign_in(page, url, Role.MEDIATOR, districts=(DISTRICT,), name="调解员王芳")
        page.goto("/calculator")
        assert page.title() == "维权 · 权益计算器"
        page.fill("#mediation_number", number)
        page.click("#load")
        page.wait_for_function("() => document.querySelectorAll('#items tbody tr').length === 1")
        page.fill("#items tbody tr:nth-child(1) [name=amount]", "6000")

        page.fill("#start", "2021-03-01")
        page.fill("#end", "2024-09-30")
        page.fill("#average_monthly_wage", "8000")
        page.click("#calc button[type=submit]")
        page.wait_for_selector("#calc_amount")
        assert page.inner_text("#calc_amount") == "32000.00 元"
        assert "劳动合同法" in page.inner_text("#calc_result")
        page.click("#use_amount")
        second = "#items tbody tr:nth-child(2)"
        page.select_option(f"{second} [name=worker_ref]", WORKERS[1])
        assert page.input_value(f"{second} [name=item]") == "compensation"

        page.fill("#effective_on", (today - timedelta(days=1)).isoformat())
        page.fill("#first_due_on", (today + timedelta(days=10)).isoformat())
        page.fill("#count", "2")
        page.click("#agreement button[type=submit]")
        page.wait_for_function(
            "() => document.getElementById('agreement_result').textContent.includes('已登记')"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "mediation-calculator.png"), full_page=True)

    outcome = httpx.get(
        f"{url}/api/v1/mediations/{number}/outcome",
        headers=signed_in(Role.MEDIATOR, districts=(DISTRICT,)),
    ).json()["agreement"]
    assert outcome["total_amount"] == "38000.00"
    assert [i["amount"] for i in outcome["instalments"]] == ["19000.00", "19000.00"]
    assert {(i["worker_ref"], i["item"]) for i in outcome["items"]} == {
        (WORKERS[0], "wages"),
        (WORKERS[1], "compensation"),
    }
