"""Composition root: settings, keys, store and routes wired into the service app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from intake.api import build_router
from intake.domain import HotlineCallIn
from intake.store import CaseStore
from weiquan_shared.http import field_labels
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import PiiSettings, Settings


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("intake")
    cipher = PiiCipher.from_settings(PiiSettings())
    runtime = Runtime(settings)

    def store() -> CaseStore:
        return CaseStore(runtime.pool(), cipher, settings)

    app = create_service_app(
        runtime,
        title="维权 · 受理服务 (intake)",
        description="12351热线、微信公众号与来访窗口的案件受理接口。",
        migrations=Path(__file__).parent / "migrations",
        routers=[build_router(store, cipher)],
        publishes_events=True,
        field_labels=field_labels(HotlineCallIn),
    )
    return app, settings
