"""Composition root for projection."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from projection.api import build_routers
from projection.handlers import register_handlers
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("projection")
    runtime = Runtime(settings)
    consumer = runtime.consumer()
    register_handlers(consumer)
    app = create_service_app(
        runtime,
        title="维权 · 统计看板服务 (projection)",
        description="由案件事件构建的读模型：案件时间线、案件列表、统计数据与年度报表。",
        migrations=MIGRATIONS,
        routers=build_routers(runtime),
        consumer=consumer,
        publishes_events=True,  # the audit records of report downloads
    )
    return app, settings
