"""Composition root for triage."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from triage.domain import Lexicon
from triage.handlers import register_handlers
from triage.store import count_decisions
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import Settings


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("triage")
    runtime = Runtime(settings)
    consumer = runtime.consumer()
    register_handlers(consumer, settings, Lexicon.load())

    router = APIRouter(prefix="/api/v1", tags=["triage"])

    @router.get("/stats", summary="分流决定计数")
    async def stats() -> dict[str, int]:
        return await count_decisions(runtime.pool())

    app = create_service_app(
        runtime,
        title="维权 · 分流服务 (triage)",
        description="按类别、紧急程度与法定时限为案件分流。",
        migrations=Path(__file__).parent / "migrations",
        routers=[router],
        consumer=consumer,
        publishes_events=True,
    )
    return app, settings
