"""Every route of the audit service declares who may call it (no database needed)."""

from __future__ import annotations

from fastapi.routing import APIRoute

from audit.app import create_app
from weiquan_shared.access import app_routes, declared_access, undeclared_routes


def test_every_route_declares_its_access_and_the_api_is_for_administrators_only() -> None:
    app, _ = create_app()
    assert undeclared_routes(app) == []
    api = {
        prefix + route.path: declared_access(route, included)
        for prefix, route, included in app_routes(app.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
    }
    assert set(api) == {"/api/v1/audit-records", "/api/v1/audit-labels"}
    assert all(found == [("roles", frozenset({"admin"}))] for found in api.values())
