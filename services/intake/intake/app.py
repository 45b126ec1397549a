"""Composition root: settings, keys, store and routes wired into the service app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake.api import MobileSearch, build_router
from intake.domain import ConsultationIn, HotlineCallIn, WalkInGroupIn
from intake.pages import build_pages_router
from intake.store import CaseStore
from intake.wechat import WeChatCallback, WeChatSettings, build_wechat_router
from weiquan_shared.http import describe_error, field_labels
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import PiiSettings, Settings


def labels() -> dict[str, str]:
    """Chinese field names for every request body intake takes."""
    merged: dict[str, str] = {}
    for model in (HotlineCallIn, WalkInGroupIn, ConsultationIn, MobileSearch):
        merged.update(field_labels(model))
    return merged


# Starlette's own English answers (an unknown address, a wrong method), in Chinese.
_STANDARD_ERRORS = {
    "Not Found": "没有这个地址，请核对（接口列表见 /docs）",
    "Method Not Allowed": "此地址不支持这种请求方法（接口列表见 /docs）",
}


def install_indexed_validation_errors(app: FastAPI, known: dict[str, str]) -> None:
    """The shared 422 answer, plus ``path`` with list indexes (``workers.3.mobile``).

    With a dozen workers on one walk-in form, the page needs to know which row's mobile is
    wrong; the shared ``field`` (``workers.mobile``) stays for clients that group by field.
    """

    async def on_invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = []
        for raw in exc.errors():
            described = describe_error(dict(raw), known)
            loc = [str(p) for p in raw.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({**described, "path": ".".join(loc) or "body"})
        return JSONResponse(
            status_code=422,
            content={
                "message": "提交的内容有误，请按提示修改："
                + "；".join(e["message"] for e in errors),
                "errors": errors,
            },
        )

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = _STANDARD_ERRORS.get(str(exc.detail), exc.detail)
        # ``message`` like every other error answer; ``detail`` as FastAPI clients expect.
        return JSONResponse(
            status_code=exc.status_code,
            content={"message": detail, "detail": detail},
            headers=exc.headers,
        )

    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("intake")
    cipher = PiiCipher.from_settings(PiiSettings())
    runtime = Runtime(settings)

    def store() -> CaseStore:
        return CaseStore(runtime.pool(), cipher, settings)

    wechat = WeChatCallback(WeChatSettings(), store, cipher)
    known = labels()
    app = create_service_app(
        runtime,
        title="维权 · 受理服务 (intake)",
        description=(
            "12351热线、微信公众号与来访窗口的案件受理接口。"
            "页面：/operator（热线接线员）、/walk-in（来访窗口）。"
        ),
        migrations=Path(__file__).parent / "migrations",
        routers=[build_router(store, cipher), build_wechat_router(wechat), build_pages_router()],
        publishes_events=True,
        field_labels=known,
    )
    install_indexed_validation_errors(app, known)
    return app, settings
