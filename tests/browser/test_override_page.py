"""Triage's re-routing page in a real headless browser: Chinese names, never raw codes."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from tests.support.browser import chromium, requires_chromium, sign_in
from tests.support.stack import ARTIFACTS, Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = [pytest.mark.integration, requires_chromium]


def test_history_and_choices_read_in_the_shared_chinese_labels(deployment: Deployment) -> None:
    deployment.start("intake", "triage")
    call = hotline_call(random.Random(31), story=0, workers=1)
    accepted = httpx.post(
        f"{deployment['intake'].url}/api/v1/hotline-calls",
        json=call,
        headers=signed_in(Role.OPERATOR),
    )
    assert accepted.status_code == 201, accepted.text
    number = accepted.json()["case_number"]
    triage = deployment["triage"].url
    deadline = time.monotonic() + 60
    officer = signed_in(Role.TRIAGE_OFFICER)
    while (
        httpx.get(f"{triage}/api/v1/cases/{number}/decisions", headers=officer).status_code != 200
    ):
        assert time.monotonic() < deadline, "triage did not decide the case"
        time.sleep(0.5)

    with chromium() as browser:
        page = browser.new_page(base_url=triage, locale="zh-CN")
        sign_in(page, triage, Role.TRIAGE_OFFICER, name="分流员李明")
        page.goto("/override")
        assert page.title() == "维权 · 调整分流"
        page.wait_for_function("() => document.querySelectorAll('#route_detail option').length > 1")
        assert "行业性劳动争议调解委员会" in page.inner_text("#route_detail")
        page.fill("#case_number", number)
        page.click("#lookup button")
        page.wait_for_selector("#history table")

        page.select_option("#route_detail", "legal_aid.union")
        page.select_option("#category", "platform_work")
        page.fill("#reason", "职工补充：是平台骑手，需法律援助")
        page.click("#override button")
        page.wait_for_function("() => document.querySelectorAll('#history tr').length === 3")
        history = page.inner_text("#history")
        page.screenshot(path=str(ARTIFACTS / "override-page.png"), full_page=True)

    assert "首次分流" in history and "分流员调整分流" in history
    assert "分流员李明" in history  # the signed-in officer, sent with the CSRF header
    assert "新就业形态/平台用工" in history and "工会法律援助" in history
    for code in ("platform_work", "legal_aid.union", "normal", "mediation", "override"):
        assert code not in history
    assert "改判" not in history
