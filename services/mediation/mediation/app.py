"""Composition root for mediation: its database, its events, its API and pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from mediation.outcomes_api import build_outcome_routers, overdue_check
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import Settings


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("mediation")
    runtime = Runtime(settings)
    app = create_service_app(
        runtime,
        title="维权 · 调解服务 (mediation)",
        description="诉调对接与五方联动调解：调解案件、指派、调解室与调解员日程、法定期限。",
        migrations=Path(__file__).parent / "migrations",
        publishes_events=True,
        routers=[*build_outcome_routers(runtime)],
        background=[overdue_check(runtime)],
    )
    return app, settings
