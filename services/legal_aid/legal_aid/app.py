"""Composition root for legal aid: rules, the consumers, the API and pages, the periodic
withdrawal of applications whose missing documents never came."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from legal_aid.api import build_routers, withdrawal_check
from legal_aid.handlers import register_handlers
from legal_aid.rules import RuleBook
from legal_aid.store import Context
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import PiiSettings, Settings


class LegalAidSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_LEGAL_AID_", extra="ignore")

    # How often unanswered requests for documents are checked (withdrawn past their due day).
    withdrawal_check_s: float = Field(default=3600.0, gt=0)


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("legal_aid")
    own = LegalAidSettings()
    runtime = Runtime(settings)
    ctx = Context(RuleBook.load(), LegalCalendar.load(), PiiCipher.from_settings(PiiSettings()))
    consumer = runtime.consumer()
    register_handlers(consumer, ctx)
    app = create_service_app(
        runtime,
        title="维权 · 法律援助服务 (legal_aid)",
        description="工会法律援助：申请、按规则审查（说明理由）、七日决定与三日指派、先行援助、"
        "律师库与利益冲突回避、仲裁诉讼执行进展、结案与满意度。",
        migrations=Path(__file__).parent / "migrations",
        routers=build_routers(runtime, ctx),
        consumer=consumer,
        publishes_events=True,
        background=[withdrawal_check(runtime, ctx, own.withdrawal_check_s)],
    )
    return app, settings
