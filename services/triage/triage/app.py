"""Composition root for triage: policy data, the event handler, the API and the clock sweep."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict

from triage.api import build_routers, override_labels
from triage.domain import Policy
from triage.handlers import register_handlers
from triage.sweeper import run_daily
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import Settings


class TriageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_TRIAGE_", extra="ignore")

    # How often the clock sweep checks whether today's re-evaluation is done.
    clock_check_interval_s: float = 3600.0


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("triage")
    own = TriageSettings()
    runtime = Runtime(settings)
    policy = Policy.load()
    consumer = runtime.consumer()
    register_handlers(consumer, policy)

    async def sweep_clocks_daily() -> None:
        await run_daily(runtime.pool(), settings, policy, own.clock_check_interval_s)

    return create_service_app(
        runtime,
        title="维权 · 分流服务 (triage)",
        description="按类别、紧急程度与法定时限为案件分流；群体性争议、重复投诉单位、分流员调整分流。",
        migrations=Path(__file__).parent / "migrations",
        routers=build_routers(runtime, policy),
        consumer=consumer,
        publishes_events=True,
        field_labels=override_labels(),
        background=[("clock-sweep", sweep_clocks_daily)],
    ), settings
