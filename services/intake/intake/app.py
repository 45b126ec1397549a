"""Composition root: settings, keys, store and routes wired into the service app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from intake.api import MobileSearch, MobileSearchSettings, RevealIn, build_routers
from intake.api_casefile import CaseSearchIn, build_casefile_routers
from intake.casefile import CaseFileStore
from intake.domain import ConsultationIn, HotlineCallIn, WalkInGroupIn
from intake.domain_casework import AssignmentIn, ConsentPut, ContactIn, NoteIn, VoidIn
from intake.handlers import register_handlers
from intake.pages import build_pages_routers
from intake.store import CaseStore
from intake.survey_replies import SurveyReplies, SurveyReplySettings
from intake.wechat import WeChatCallback, WeChatSettings, build_wechat_router
from weiquan_shared.http import field_labels
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import PiiSettings, Settings


def labels() -> dict[str, str]:
    """Chinese field names for every request body intake takes."""
    merged: dict[str, str] = {}
    for model in (
        HotlineCallIn,
        WalkInGroupIn,
        ConsultationIn,
        MobileSearch,
        RevealIn,
        NoteIn,
        ContactIn,
        AssignmentIn,
        ConsentPut,
        VoidIn,
        CaseSearchIn,
    ):
        merged.update(field_labels(model))
    return merged


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("intake")
    cipher = PiiCipher.from_settings(PiiSettings())
    runtime = Runtime(settings)
    consumer = runtime.consumer()
    register_handlers(consumer)

    def store() -> CaseStore:
        return CaseStore(runtime.pool(), cipher, settings)

    def case_file() -> CaseFileStore:
        return CaseFileStore(runtime.pool(), cipher, settings)

    search_limit = MobileSearchSettings().limit()
    # Survey answers on the one official account are handed to notification (its token).
    survey_replies = SurveyReplies(SurveyReplySettings())
    wechat = WeChatCallback(WeChatSettings(), store, cipher, survey_replies=survey_replies)
    known = labels()
    app = create_service_app(
        runtime,
        title="维权 · 受理服务 (intake)",
        description=(
            "12351热线、微信公众号与来访窗口的案件受理接口。"
            "页面：/operator（热线接线员）、/walk-in（来访窗口）、/search（查找案件）。"
            "案件记录、联系记录、承办人、职工单独同意与作废案件也在这里。"
            "案件状态随分流服务的决定更新（已受理 → 已分流至…）。"
        ),
        migrations=Path(__file__).parent / "migrations",
        routers=[
            *build_routers(store, cipher, search_limit),
            *build_casefile_routers(case_file, cipher, search_limit),
            build_wechat_router(wechat),
            *build_pages_routers(),
        ],
        consumer=consumer,
        publishes_events=True,
        field_labels=known,
    )
    return app, settings
