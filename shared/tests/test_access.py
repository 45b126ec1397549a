"""Every route declares who may call it: the declarations and the check over an app."""

from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from weiquan_shared.access import allow, app_routes, declared_access, public, undeclared_routes
from weiquan_shared.auth import Principal, Role, require


def app_with(*routers: APIRouter) -> FastAPI:
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    return app


def test_routes_of_declared_routers_pass_and_an_undeclared_one_is_named() -> None:
    staff = APIRouter(dependencies=[allow(Role.OPERATOR, Role.ADMIN)])
    callback = APIRouter(dependencies=[public("WeChat signs every call")])
    forgotten = APIRouter()

    @staff.get("/api/v1/cases/{number}")
    async def case(number: str, who: Annotated[Principal, Depends(require(Role.OPERATOR))]) -> str:
        return number

    @callback.post("/wechat/callback")
    async def wechat() -> None: ...

    @forgotten.get("/api/v1/secrets")
    async def secrets() -> None: ...

    app = app_with(staff, callback, forgotten)
    assert undeclared_routes(app) == ["GET /api/v1/secrets: []"]
    [(route, included_with)] = [
        (r, deps) for _, r, deps in app_routes(app.routes) if r is case_route(staff)
    ]
    # The route reads the principal again: still one declaration, from its router.
    assert declared_access(route, included_with) == [
        ("roles", frozenset({Role.OPERATOR, Role.ADMIN}))
    ]


def case_route(router: APIRouter) -> APIRoute:
    [route] = [r for r in router.routes if isinstance(r, APIRoute)]
    return route


def test_two_declarations_on_one_route_are_refused() -> None:
    both = APIRouter(dependencies=[allow(Role.ADMIN), public("oops")])

    @both.get("/x")
    async def x() -> None: ...

    [problem] = undeclared_routes(app_with(both))
    assert problem.startswith("GET /x:")


def test_probes_docs_and_metrics_need_no_router_declaration() -> None:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> None: ...

    assert undeclared_routes(app) == []  # /docs, /openapi.json: internal


def test_a_public_declaration_must_say_why() -> None:
    with pytest.raises(ValueError, match="say why"):
        public(" ")


def test_a_router_included_with_a_prefix_is_checked_under_its_full_path() -> None:
    inner = APIRouter()

    @inner.get("/records")
    async def records() -> None: ...

    outer = APIRouter(prefix="/api/v1")
    outer.include_router(inner, prefix="/audit")
    assert undeclared_routes(app_with(outer)) == ["GET /api/v1/audit/records: []"]
    declared = APIRouter(prefix="/api/v1")
    declared.include_router(inner, prefix="/audit", dependencies=[allow(Role.ADMIN)])
    assert undeclared_routes(app_with(declared)) == []


def test_the_offline_api_docs_are_internal() -> None:
    from fastapi_offline import FastAPIOffline

    from weiquan_shared.service import DOCS_ASSETS

    assert undeclared_routes(FastAPIOffline(static_url=DOCS_ASSETS, redoc_url=None)) == []


def test_page_assets_serve_only_the_named_files_publicly(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from weiquan_shared.access import page_assets

    (tmp_path / "page.js").write_text("console.log(1);", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    app = app_with(page_assets("/static/{name}", {"page.js": tmp_path / "page.js"}))
    assert undeclared_routes(app) == []
    client = TestClient(app)
    served = client.get("/static/page.js")
    assert served.status_code == 200
    assert served.headers["content-type"] == "text/javascript; charset=utf-8"
    refused = client.get("/static/secret.txt")
    assert (refused.status_code, refused.text) == (404, "没有这个文件")
