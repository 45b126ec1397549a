"""Who may call each route: declared once per router, checked for every route of every app.

A router says who may call its routes with one dependency::

    router = APIRouter(prefix="/api/v1", dependencies=[allow(Role.OPERATOR, Role.ADMIN)])
    callback = APIRouter(dependencies=[public("WeChat's servers sign each call instead")])

:func:`allow` is :func:`weiquan_shared.auth.require` (401 without a valid token, 403 for
another role) made recognisable; a route that needs the caller reads the same declaration
again, ``principal: Annotated[Principal, OFFICERS]`` with ``OFFICERS = allow(...)`` (FastAPI
runs a dependency once per request, and it still counts as one declaration).
:func:`public` names why anyone may call a route. Paths FastAPI and the service
framework add themselves (the API docs, ``/metrics``) are :data:`INTERNAL_PATHS`:
served on the service's own port for operators of the system, never through the one
address. :func:`undeclared_routes` lists every route of an app with no declaration; a
test runs it over every service, so a new route without one fails the build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import FileResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from weiquan_shared.auth import Role, require, require_service

ACCESS_ATTRIBUTE = "weiquan_access"

# Added by FastAPI and create_service_app, for the people who run the system.
INTERNAL_PATHS = frozenset(
    {
        "/docs",
        "/docs/init.js",
        "/docs/oauth2-redirect",
        "/docs/assets",
        "/redoc",
        "/openapi.json",
        "/metrics",
    }
)
# Liveness and readiness: probes carry no token, and answer nothing about cases.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def allow(*roles: Role) -> Any:
    """The router-level declaration: callers need a valid token with one of ``roles``
    (any role when none are named)."""
    dependency = require(*roles)
    setattr(dependency, ACCESS_ATTRIBUTE, ("roles", frozenset(roles)))
    return Depends(dependency)


def allow_services(*services: str) -> Any:
    """The router-level declaration for routes other services call with their own
    credentials (a client-credentials token from identity), never a person."""
    dependency = require_service(*services)
    setattr(dependency, ACCESS_ATTRIBUTE, ("services", frozenset(services)))
    return Depends(dependency)


def public(why: str) -> Any:
    """The router-level declaration that anyone may call: ``why`` says what protects it."""
    if not why.strip():
        raise ValueError("a public route must say why it may be public")

    async def anyone() -> None:
        return None

    setattr(anyone, ACCESS_ATTRIBUTE, ("public", why))
    return Depends(anyone)


MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


def page_assets(path: str, files: dict[str, Path]) -> APIRouter:
    """A public router serving a page's own scripts and styles (files, not inline, for the
    proxy's Content-Security-Policy): ``path`` holds ``{name}``, ``files`` maps each name
    to its file. Anything else is a Chinese 404."""
    router = APIRouter(dependencies=[public("a page's script and style: code, no data")])

    @router.get(path, include_in_schema=False)
    async def asset(name: str) -> Response:
        file = files.get(name)
        if file is None:
            return Response("没有这个文件", status_code=404, media_type="text/plain")
        return FileResponse(file, media_type=f"{MEDIA_TYPES[file.suffix]}; charset=utf-8")

    return router


def declared_access(route: APIRoute, included_with: Sequence[Any] = ()) -> list[tuple[str, Any]]:
    """The access declarations among a route's dependencies, and those it was included
    with (exactly one is right)."""
    calls = [dependant.call for dependant in _dependants(route.dependant)]
    calls += [depends.dependency for depends in included_with]
    # The router's declaration read again by a handler for its Principal is the same one.
    unique = {id(call): call for call in calls if hasattr(call, ACCESS_ATTRIBUTE)}
    return [getattr(call, ACCESS_ATTRIBUTE) for call in unique.values()]


def app_routes(routes: Sequence[BaseRoute]) -> Iterator[tuple[str, BaseRoute, list[Any]]]:
    """Every route with its full path prefix and the dependencies it was included with.

    FastAPI (0.16x) keeps an included router as one entry that points at the original
    router, whose routes already carry that router's own dependencies.
    """
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = route.include_context  # type: ignore[attr-defined]
            for prefix, inner, deps in app_routes(original.routes):
                yield context.prefix + prefix, inner, [*context.dependencies, *deps]
        else:
            yield "", route, []


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from _dependants(child)


def undeclared_routes(
    app: FastAPI, public_mounts: Callable[[str], bool] = lambda _: False
) -> list[str]:
    """Routes of ``app`` that declare no access, or more than one.

    Probes and internal paths are declared here; a static-file mount must be accepted by
    ``public_mounts`` (a page's scripts and styles carry no data).
    """
    problems = []
    for prefix, route, included_with in app_routes(app.routes):
        if isinstance(route, APIRoute):
            path = prefix + route.path
            # The docs are API routes too when served offline (fastapi-offline).
            if path in PROBE_PATHS or path in INTERNAL_PATHS:
                continue
            found = declared_access(route, included_with)
            if len(found) != 1:
                problems.append(f"{','.join(sorted(route.methods or ()))} {path}: {found}")
        elif isinstance(route, Mount | Route):
            path = prefix + route.path
            if path in INTERNAL_PATHS or path in PROBE_PATHS or public_mounts(path):
                continue
            problems.append(f"{type(route).__name__} {path}: not declared")
    return problems
