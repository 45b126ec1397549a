"""HTTP plumbing: errors in Chinese that tell a person what to do.

Validation errors (422) name the field to correct; a database outage (503) asks to retry
instead of surfacing as an unexplained 500.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.logging import get_logger

log = get_logger(__name__)

_MESSAGES: dict[str, str] = {
    "missing": "必须填写",
    "string_too_short": "不能为空或过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "float_parsing": "应为数字",
    "greater_than_equal": "不能小于{ge}",
    "greater_than": "必须大于{gt}",
    "less_than_equal": "不能大于{le}",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多{max_length}项",
    "bool_parsing": "应为是或否",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确，应为 ISO 8601（如 2026-03-01T09:30:00+08:00）",
    "datetime_from_date_parsing": "时间格式不正确，应为 ISO 8601（如 2026-03-01T09:30:00+08:00）",
    "timezone_aware": "时间必须带时区（如 +08:00）",
    "literal_error": "取值无效，可选：{expected}",
    "enum": "取值无效，可选：{expected}",
    "extra_forbidden": "不认识的字段，请删除",
    "json_invalid": "请求内容不是有效的 JSON",
    "model_attributes_type": "格式不正确，应为对象",
    "dict_type": "格式不正确，应为对象",
    "list_type": "格式不正确，应为列表",
    "uuid_parsing": "应为 UUID",
}


def field_labels(model: type[BaseModel], prefix: str = "") -> dict[str, str]:
    """Dotted field path → the field's Chinese ``title``, for every nested model field."""
    labels: dict[str, str] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if info.title:
            labels[path] = info.title
        for nested in _nested_models(info.annotation):
            labels.update(field_labels(nested, prefix=f"{path}."))
    return labels


def _nested_models(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _nested_models(arg)


def describe_error(error: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    loc: Sequence[Any] = error.get("loc", ())
    parts = [str(p) for p in loc if p not in ("body", "query", "path") and not isinstance(p, int)]
    field = ".".join(parts)
    label = labels.get(field) or (parts[-1] if parts else "请求")
    error_type = error.get("type", "")
    if error_type == "value_error":
        # Our validators raise ValueError with a Chinese sentence; pydantic prefixes it.
        reason = str(error.get("msg", "")).removeprefix("Value error, ")
    else:
        template = _MESSAGES.get(error_type, "取值无效")
        try:
            reason = template.format(**(error.get("ctx") or {}))
        except (KeyError, IndexError):
            reason = template
    # ``path`` keeps list indexes (``workers.3.mobile``): with a dozen workers on one walk-in
    # form, a page needs to know which row is wrong; ``field`` groups by field.
    path = ".".join(str(p) for p in loc if p not in ("body", "query", "path"))
    return {
        "field": field or "body",
        "path": path or "body",
        "label": label,
        "message": f"{label}：{reason}",
    }


def install_dependency_outage_errors(app: FastAPI) -> None:
    """Answer 503 with ``Retry-After`` while PostgreSQL is unreachable (nothing was stored)."""

    async def on_outage(_: Request, exc: Exception) -> JSONResponse:
        log.warning("request failed: database unavailable", error=f"{type(exc).__name__}: {exc}")
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": "2"},
            content={"message": "系统暂时无法访问数据库，请稍后重试"},
        )

    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, on_outage)


# Starlette's own English answers (an unknown address, a wrong method), in Chinese.
_STANDARD_ERRORS = {
    "Not Found": "没有这个地址，请核对（接口列表见 /docs）",
    "Method Not Allowed": "此地址不支持这种请求方法（接口列表见 /docs）",
}


def install_http_errors(app: FastAPI) -> None:
    """Every 4xx/5xx raised as an HTTPException answers with a Chinese ``message``; a client
    gone before its request was read is no server error."""

    async def on_client_gone(request: Request, _: Exception) -> Response:
        # E.g. cut off by the body timeout (weiquan_shared.http_protocol): nobody to answer.
        log.info("client disconnected before its request was read", path=request.url.path)
        return Response(status_code=499)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = _STANDARD_ERRORS.get(str(exc.detail), exc.detail)
        # ``message`` like every other error answer; ``detail`` as FastAPI clients expect.
        return JSONResponse(
            status_code=exc.status_code,
            content={"message": detail, "detail": detail},
            headers=exc.headers,
        )

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(ClientDisconnect, on_client_gone)


def _parameter_labels(request: Request) -> dict[str, str]:
    """The Chinese ``title`` of each query, path and header parameter of the matched route,
    by the name the client used (``from``, not ``since``)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return {}
    params = (*dependant.query_params, *dependant.path_params, *dependant.header_params)
    return {p.alias: p.field_info.title for p in params if p.field_info.title}


def install_validation_errors(app: FastAPI, labels: dict[str, str]) -> None:
    """Answer invalid requests with 422 and one Chinese message per wrong field."""

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        known = {**_parameter_labels(request), **labels}
        errors = [describe_error(dict(e), known) for e in exc.errors()]
        return JSONResponse(
            status_code=422,
            content={
                "message": "提交的内容有误，请按提示修改："
                + "；".join(e["message"] for e in errors),
                "errors": errors,
            },
        )

    app.add_exception_handler(RequestValidationError, on_invalid)
