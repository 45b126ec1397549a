"""Every route of every service declares who may call it (issue 12, item 3).

Each service's app is built as ``python -m <service>`` builds it (not started: no database,
no Kafka) and walked by :func:`weiquan_shared.access.undeclared_routes`. The list of
services is ``SERVICE_PORTS``, so a new service is checked without touching this test.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

from tests.support.stack import pii_env
from weiquan_shared.access import undeclared_routes
from weiquan_shared.settings import SERVICE_PORTS


def build_app(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    for variable, value in pii_env().items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("WEIQUAN_IDENTITY_SIGNING_KEYS_FILE", str(tmp_path / "keys.json"))
    app, _ = importlib.import_module(f"{name}.app").create_app()
    return app


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_every_route_of_the_service_declares_who_may_call_it(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build_app(service, tmp_path, monkeypatch)
    api_routes = [r for r in app.routes if getattr(r, "methods", None)]
    assert len(api_routes) > 2, f"{service}: only the probes? the app was not built"
    assert undeclared_routes(app) == []


def test_a_route_added_without_a_declaration_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build_app("intake", tmp_path, monkeypatch)
    forgotten = APIRouter()

    @forgotten.get("/api/v1/everything")
    async def everything() -> None: ...

    app.include_router(forgotten)
    assert undeclared_routes(app) == ["GET /api/v1/everything: []"]
