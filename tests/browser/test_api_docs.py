"""A service's API docs (Swagger UI) render in a browser that cannot reach the internet.

Chromium may load only what the service itself serves: every request to another host is
refused and recorded, and the page must still show the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route

from tests.support.browser import chromium, requires_chromium
from tests.support.stack import ARTIFACTS, Deployment

pytestmark = [pytest.mark.integration, requires_chromium]


@pytest.fixture
def browser(deployment: Deployment) -> Iterator[Browser]:
    deployment.start("intake")
    with chromium() as launched:
        yield launched


def test_api_docs_render_offline(browser: Browser, deployment: Deployment) -> None:
    service = deployment["intake"]
    own_host = urlsplit(service.url).netloc
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page = browser.new_page(base_url=service.url, locale="zh-CN")
    page.route("**/*", offline)
    page.goto("/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for(state="visible", timeout=15_000)
    assert "受理" in title.inner_text() or "intake" in title.inner_text()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    assert elsewhere == []
