"""Composition root for mediation: rules and clocks as data, the consumer of triage's and
intake's case events, the periodic sweep, the API and the workbench."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediation.api import body_labels, build_routers
from mediation.clocks import DEFAULT_CLOCKS, ClockPolicy
from mediation.handlers import register_handlers
from mediation.outcomes_api import build_outcome_routers, overdue_check
from mediation.rules import DEFAULT_RULES, AssignmentBook
from mediation.sweeper import run_periodically
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import PiiSettings, Settings


class MediationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_MEDIATION_", extra="ignore")

    # How often clocks are checked for expiry and unassigned mediations get a lead.
    sweep_interval_s: float = Field(default=300.0, gt=0)
    # The assignment rules and the two clocks' periods (versioned data, not code).
    rules_file: Path = DEFAULT_RULES
    clocks_file: Path = DEFAULT_CLOCKS


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("mediation")
    own = MediationSettings()
    runtime = Runtime(settings)
    book = AssignmentBook.load(own.rules_file)
    policy = ClockPolicy.load(own.clocks_file)
    calendar = LegalCalendar.load()
    cipher = PiiCipher.from_settings(PiiSettings())
    consumer = runtime.consumer()
    register_handlers(consumer, book, policy, calendar)

    async def sweep() -> None:
        await run_periodically(runtime, policy, calendar, book, own.sweep_interval_s)

    app = create_service_app(
        runtime,
        title="维权 · 调解服务 (mediation)",
        description="诉调对接与五方联动调解：调解案件、指派、调解室与调解员日程、法定期限。",
        migrations=Path(__file__).parent / "migrations",
        routers=[
            *build_routers(runtime, policy, calendar, cipher),
            *build_outcome_routers(runtime),
        ],
        consumer=consumer,
        publishes_events=True,
        field_labels=body_labels(),
        background=[("mediation-sweep", sweep), overdue_check(runtime)],
    )
    return app, settings
