"""Every service's /docs works without internet access: nothing from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from weiquan_shared.service import DOCS_ASSETS, Runtime, create_service_app
from weiquan_shared.settings import Settings

# src="…", href="…" and the OpenAPI document's address: everything the docs page makes
# the browser load.
_REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']|data-openapi-url=["']([^"']+)""")

_CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


def _docs_client(root_path: str = "") -> httpx.AsyncClient:
    """A service app without its lifespan: the docs need neither PostgreSQL nor Kafka."""
    runtime = Runtime(Settings(service_name="docs-test"))
    app = create_service_app(runtime, title="文档测试", description="", migrations=Path("."))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path=root_path), base_url="http://svc"
    )


async def test_docs_page_loads_everything_from_the_service_itself() -> None:
    async with _docs_client() as client:
        response = await client.get("/docs")
        assert response.status_code == 200
        html = response.text
        assert "http://" not in html and "https://" not in html
        references = {a or b for a, b in _REFERENCE.findall(html)}
        scripts = {r for r in references if r.endswith(".js")}
        assert scripts, html  # the page's viewer itself
        assert all(r.startswith(("/docs/", "/site/")) for r in scripts), scripts
        assert DOCS_ASSETS + "/swagger-ui-bundle.js" in scripts
        # No inline script: the proxy's Content-Security-Policy (script-src 'self') holds.
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        for reference in references:
            assert reference.startswith("/") and not reference.startswith("//"), reference
            asset = await client.get(reference)
            assert asset.status_code == 200, reference
            suffix = Path(reference).suffix
            assert asset.headers["content-type"].startswith(_CONTENT_TYPES[suffix]), reference
            assert len(asset.content) > 100, reference


async def test_no_redoc_page_that_would_fetch_from_the_internet() -> None:
    async with _docs_client() as client:
        assert (await client.get("/redoc")).status_code == 404


async def test_docs_behind_the_proxy_name_everything_under_the_service_prefix() -> None:
    """Behind the proxy (``/intake/docs``, prefix stripped, root_path set) the page points
    at ``/intake/openapi.json`` and ``/intake/docs/…``, which the proxy routes back."""
    async with _docs_client(root_path="/intake") as client:
        html = (await client.get("/intake/docs")).text
        references = {a or b for a, b in _REFERENCE.findall(html)}
        assert "/intake/openapi.json" in references
        assert references and all(r.startswith("/intake/") for r in references), references
        for reference in references:
            assert (await client.get(reference)).status_code == 200, reference
