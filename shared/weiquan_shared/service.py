"""The application every service runs: FastAPI for HTTP, FastStream for Kafka, one lifespan.

Start-up order: database (migrated; provisioned beforehand by the deployment, see
``weiquan_shared.db``), Kafka producer, outbox relay, consumers.
Each dependency is awaited with :func:`wait_for_dependency`, so a service started before
Kafka or PostgreSQL says which one it waits for and carries on once it is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import STARTUP_FAILURE

from weiquan_shared.access import page_assets
from weiquan_shared.auth import AuthSettings, TokenVerifier, install_token_verifier
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.db import prepare_database
from weiquan_shared.envelope import Actor
from weiquan_shared.http import (
    install_dependency_outage_errors,
    install_http_errors,
    install_validation_errors,
)
from weiquan_shared.http_protocol import limited_http_protocol
from weiquan_shared.logging import configure_logging, get_logger
from weiquan_shared.metrics import HTTP_LATENCY
from weiquan_shared.outbox import OutboxRelay
from weiquan_shared.retry import wait_for_dependency
from weiquan_shared.settings import Settings, service_settings
from weiquan_shared.uow import UnitOfWork, unit_of_work

log = get_logger(__name__)

# Where the API docs' JavaScript, CSS and icon are served from.
DOCS_ASSETS = "/docs/assets"
# The script that starts Swagger UI: a file, not inline, so the pages' Content-Security-Policy
# (script-src 'self', set by the reverse proxy) holds on /docs too.
STATIC = Path(__file__).parent / "static"
DOCS_INIT_SCRIPT = STATIC / "swagger-init.js"
# The one navigation bar (weiquan_shared.navigation), served by every service under its own
# prefix so a page links it relatively: site/nav.js, site/nav.css.
SITE_ASSETS = {"nav.js": STATIC / "site-nav.js", "nav.css": STATIC / "site-nav.css"}


@dataclass
class Runtime:
    """What a service holds once started; handlers reach the pool and producer through it."""

    settings: Settings
    _pool: asyncpg.Pool | None = None
    _producer: AIOKafkaProducer | None = None
    ready: bool = False
    _renewing: asyncio.Lock = field(default_factory=asyncio.Lock)
    background: list[asyncio.Task[None]] = field(default_factory=list)

    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database pool used before start-up finished")
        return self._pool

    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("Kafka producer used before start-up finished")
        return self._producer

    def unit_of_work(
        self, actor: Actor, *, correlation_id: uuid.UUID | None = None
    ) -> contextlib.AbstractAsyncContextManager[UnitOfWork]:
        """A transaction on this service's database acting for ``actor`` (see ``uow``)."""
        return unit_of_work(self.pool(), self.settings, actor, correlation_id=correlation_id)

    def consumer(self) -> EventConsumer:
        return EventConsumer(self.settings, self.pool, self.producer, self.renew_producer)

    async def start_producer(self) -> None:
        """An idempotent producer (acks=all), waiting for Kafka as long as it takes."""

        async def attempt() -> None:
            producer = _new_producer(self.settings)
            try:
                await producer.start()
            except Exception:
                await producer.stop()  # a producer that failed to start cannot be reused
                raise
            self._producer = producer

        await wait_for_dependency(
            "Kafka", self.settings.kafka_bootstrap, attempt, self.settings.startup_timeout_s
        )

    async def renew_producer(self, failed: AIOKafkaProducer) -> None:
        """Replace a producer Kafka no longer accepts (e.g. sequence numbers out of order
        after a broker restart): a new one gets a new producer id. Events it had sent but
        not confirmed go out again, and consumers drop the copies by event id. Several
        callers may report the same failed producer; it is replaced once."""
        async with self._renewing:
            current = self._producer
            if current is None or current is not failed:
                return  # already replaced by another caller
            self._producer = None
            with contextlib.suppress(Exception):
                await current.stop()
            await self.start_producer()


class RequestTimer:
    """Pure ASGI middleware recording each request's latency by route and status.

    Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``) runs each request
    through an extra task and memory stream; this does the same job at a fraction of it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_LATENCY.labels(scope["method"], route, status).observe(
                time.perf_counter() - started
            )


def _new_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.consumer_group}.producer",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15000,
    )


async def _start_kafka_client(settings: Settings, start: Callable[[], Awaitable[None]]) -> None:
    await wait_for_dependency("Kafka", settings.kafka_bootstrap, start, settings.startup_timeout_s)


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    migrations: Path,
    routers: Sequence[APIRouter] = (),
    consumer: EventConsumer | None = None,
    publishes_events: bool = False,
    field_labels: dict[str, str] | None = None,
    background: Sequence[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = (),
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    """The service's app. ``background`` names coroutines (a scheduler, a sender) started
    once the database and Kafka are ready and cancelled at shutdown, like the outbox relay.
    Every route's access declaration (``weiquan_shared.access``) checks tokens with
    ``token_verifier``: by default the trusted issuers of ``WEIQUAN_OIDC_*``.
    """
    settings = runtime.settings
    broker = KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"{settings.consumer_group}.consumer",
        graceful_timeout=15.0,
        log_level=10,  # FastStream's per-message lines at DEBUG; our handlers log what matters
    )
    if consumer is not None:
        consumer.subscribe(broker)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime._pool = await prepare_database(settings, migrations)
        await runtime.start_producer()
        if publishes_events:
            relay = OutboxRelay(runtime.pool(), runtime.producer, runtime.renew_producer)
            runtime.background.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        if consumer is not None:
            await _start_kafka_client(settings, broker.start)
            consumer.quiet_when_idle()
        for name, run in background:
            runtime.background.append(asyncio.create_task(run(), name=name))
        runtime.ready = True
        log.info("service started", port=settings.port, database=settings.database)
        try:
            yield
        finally:
            runtime.ready = False
            if consumer is not None:
                await broker.stop()
            for task in runtime.background:
                task.cancel()
            await asyncio.gather(*runtime.background, return_exceptions=True)
            await runtime.producer().stop()
            await runtime.pool().close()
            log.info("service stopped")

    # Swagger UI from the installed package, not a CDN: the machine a union runs this on
    # may have no internet access. No ReDoc: its page fetches a logo from the internet and
    # shows nothing /docs does not.
    app = FastAPIOffline(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        docs_url=None,
        redoc_url=None,
    )
    _install_api_docs(app)
    install_validation_errors(app, field_labels or {})
    install_dependency_outage_errors(app)
    install_http_errors(app)
    auth = AuthSettings()
    install_token_verifier(
        app, token_verifier or TokenVerifier.from_settings(auth), sign_in_url=auth.sign_in_url
    )
    app.mount("/metrics", make_asgi_app())

    app.add_middleware(RequestTimer)

    @app.get("/healthz", tags=["ops"], summary="存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="就绪检查（数据库与 Kafka 均可用）")
    async def readyz() -> JSONResponse:
        checks = {"started": runtime.ready, "postgresql": False, "kafka": False}
        if runtime.ready:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    checks["postgresql"] = await runtime.pool().fetchval("SELECT true")
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await runtime.producer().client.fetch_all_metadata()
                    checks["kafka"] = True
        ok = all(checks.values())
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)

    for router in routers:
        app.include_router(router)
    return app


def _install_api_docs(app: FastAPI) -> None:  # and the navigation bar's files
    """Swagger UI at ``/docs`` from the installed package, started by a script file (FastAPI's
    own page starts it with an inline script, which a strict CSP refuses)."""

    @app.get("/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        root = escape(request.scope.get("root_path", ""))
        title = escape(f"{app.title} · 接口文档")
        return HTMLResponse(
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{root}{DOCS_ASSETS}/swagger-ui.css">'
            f'<link rel="icon" href="{root}{DOCS_ASSETS}/favicon.png"><title>{title}</title>'
            f'</head><body><div id="swagger-ui" data-openapi-url="{root}{app.openapi_url}">'
            f'</div><script src="{root}{DOCS_ASSETS}/swagger-ui-bundle.js"></script>'
            f'<script src="{root}/docs/init.js"></script>'
            f'<script src="{root}/site/nav.js"></script></body></html>'
        )

    @app.get("/docs/init.js", include_in_schema=False)
    async def api_docs_script() -> FileResponse:
        return FileResponse(DOCS_INIT_SCRIPT, media_type="text/javascript")

    app.include_router(page_assets("/site/{name}", SITE_ASSETS))


class QuietServer(uvicorn.Server):
    """uvicorn's server without its tenth-of-a-second tick.

    uvicorn's main loop wakes every 0.1 s to look for a shutdown request and, every tenth
    time, to refresh the ``Date`` header: ten wake-ups a second in every idle service. Here
    it refreshes the header once a second and a signal wakes it at once (as fast a shutdown
    as uvicorn's, a tenth of the wake-ups).
    """

    _exit_requested: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._exit_requested = asyncio.Event()
        # on_tick(0): counter 0 is uvicorn's once-a-second round (Date header, exit check).
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), 1.0)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._exit_requested is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._exit_requested.set)


def serve(app: FastAPI, settings: Settings) -> None:
    """Run the service in the foreground (what ``python -m <service>`` does).

    The HTTP protocol is uvicorn's httptools one with deadlines for a request's headers and
    body and a limit on the headers' size (see :mod:`weiquan_shared.http_protocol`); idle
    kept-alive connections close after uvicorn's ``timeout_keep_alive`` (5 s). The server is
    :class:`QuietServer` (uvicorn's, waking once a second instead of ten times when idle).
    """
    if settings.niceness:
        os.nice(settings.niceness)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.port,
        http=limited_http_protocol(settings),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
        root_path=settings.http_root_path,
        proxy_headers=True,
        forwarded_allow_ips=settings.http_forwarded_allow_ips,
    )
    server = QuietServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def bootstrap_settings(service_name: str) -> Settings:
    """The service's settings (logging in as its own PostgreSQL role) and its logging."""
    settings = service_settings(service_name)
    configure_logging(service_name, settings.log_level)
    return settings
