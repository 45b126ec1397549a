"""Headless Debian chromium for browser tests (Playwright never downloads a browser here)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.tokens import test_issuer
from weiquan_shared.auth import SESSION_COOKIE, Role

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium keeps dialling out of a closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
)


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, base_url: str, role: Role, **options: Any) -> None:
    """Sign the page's browser in at ``base_url`` as a test user of ``role``: the session
    cookie identity's sign-in page would set, holding a token of the tests' issuer."""
    token = test_issuer().token(role, **options)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])
