"""The satisfaction survey: links issued for a case's workers, the Chinese page a worker
opens from the link, and the answer as ``survey.answered``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from notification.survey import SCORES, ExpiredLink, InvalidLink, SurveyLinks, token_hash
from weiquan_shared.access import allow, public
from weiquan_shared.auth import Principal, Role
from weiquan_shared.envelope import Actor
from weiquan_shared.events import SurveyAnswered
from weiquan_shared.redaction import redact_text
from weiquan_shared.service import Runtime
from weiquan_shared.uow import UnitOfWork

SURVEY_ISSUERS = allow(Role.SUPERVISOR, Role.ADMIN, Role.MEDIATOR, Role.LEGAL_AID_OFFICER)
# The worker answering through the link: not signed in, named by the channel only.
SURVEY_TAKER = Actor.public("survey")
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


class SurveyIn(BaseModel):
    worker: int = Field(default=0, ge=0, le=500, title="职工序号（从 0 开始）")
    about: Literal["mediation", "legal_aid"] = Field(
        default="mediation", title="调查对象：mediation 调解，legal_aid 法律援助"
    )


class SurveyOut(BaseModel):
    survey_id: uuid.UUID
    link: str
    expires_at: datetime


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>",
        status_code=status,
        headers=PAGE_HEADERS,
    )


def _form(token: str, case_number: str) -> HTMLResponse:
    choices = "".join(
        f'<p><label><input type="radio" name="score" value="{n}" required> {n} 分：{label}'
        "</label></p>"
        for n, label in sorted(SCORES.items(), reverse=True)
    )
    return _page(
        "工会维权服务满意度调查",
        f"<p>您的案件 {escape(case_number)} 已办结。请为工会的服务打分（1–5 分）：</p>"
        f'<form method="post" action="{escape(token)}">{choices}'
        "<p><label>意见或建议（选填，请勿填写手机号、身份证号）<br>"
        '<textarea name="comment" maxlength="500" rows="4" cols="40"></textarea></label></p>'
        '<p><button type="submit">提交</button></p></form>'
        "<p>此链接只能提交一次，过期后失效。</p>",
    )


def _link_problem(exc: Exception) -> HTMLResponse:
    if isinstance(exc, ExpiredLink):
        return _page("链接已过期", "<p>此调查链接已过期，感谢您的关注。</p>", 410)
    return _page("链接无效", "<p>链接不完整或有误，请从短信中完整打开。</p>", 404)


async def record_answer(
    uow: UnitOfWork,
    survey: asyncpg.Record,
    score: int,
    comment: str,
    now: datetime,
    answered_by: Literal["link", "wechat"],
    wechat_msg_id: str | None = None,
) -> bool:
    """Record a survey's answer once and publish ``survey.answered``; False when it was
    already answered (the same single-use rule for the link and for a WeChat reply:
    ``answered_at`` is set by the statement that checks it is still empty)."""
    updated = await uow.conn.fetchval(
        "UPDATE surveys SET answered_at = $2, score = $3, comment = $4, answered_by = $5, "
        "wechat_msg_id = $6 WHERE id = $1 AND answered_at IS NULL RETURNING id",
        survey["id"],
        now,
        score,
        comment or None,
        answered_by,
        wechat_msg_id,
    )
    if updated is None:
        return False
    uow.emit(
        SurveyAnswered(
            survey_id=survey["id"],
            case_id=survey["case_id"],
            case_number=survey["case_number"],
            district_code=survey["district_code"],
            score=score,
            has_comment=bool(comment),
            answered_at=now,
            about=survey["about"],
            about_id=survey["about_id"],
            about_number=survey["about_number"],
            answered_by=answered_by,
        ),
        subject=str(survey["case_id"]),
    )
    return True


def build_survey_routers(
    runtime: Runtime,
    links: Callable[[], SurveyLinks | None],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[APIRouter]:
    issuing = APIRouter(prefix="/api/v1", tags=["survey"], dependencies=[SURVEY_ISSUERS])
    answering = APIRouter(
        tags=["survey"],
        dependencies=[
            public("the worker's survey: the signed, expiring, single-use link is the credential")
        ],
    )

    def pool() -> asyncpg.Pool:
        return runtime.pool()

    def signer() -> SurveyLinks:
        configured = links()
        if configured is None:
            raise HTTPException(
                503, "未配置满意度调查链接的签名密钥（WEIQUAN_NOTIFICATION_SURVEY_KEY）"
            )
        return configured

    @issuing.post(
        "/cases/{case_number}/surveys",
        response_model=SurveyOut,
        status_code=201,
        summary="为案件的一名职工生成满意度调查链接（签名、一次有效、会过期）",
        description='示例：{"worker": 0}。链接可随结案短信发出；每名职工每案一份。',
        responses={404: {"description": "没有这个案件或职工"}, 409: {"description": "已发出"}},
    )
    async def issue(
        case_number: Annotated[str, Path(max_length=40)],
        body: SurveyIn,
        request: Request,
        principal: Annotated[Principal, SURVEY_ISSUERS],
    ) -> SurveyOut:
        sign = signer()
        case = await pool().fetchrow("SELECT * FROM cases WHERE case_number = $1", case_number)
        if case is None or not principal.covers(case["district_code"]):
            raise HTTPException(404, f"没有案件 {case_number}，或该案件不在您的工作范围内")
        if body.worker >= len(case["worker_refs"]):
            raise HTTPException(404, f"案件 {case_number} 没有第 {body.worker + 1} 名职工")
        survey_id = uuid.uuid4()
        token, expires = sign.issue(survey_id, clock())
        actor = Actor.user(principal.subject, principal.role.value)
        async with runtime.unit_of_work(actor) as uow:
            inserted = await uow.conn.fetchval(
                "INSERT INTO surveys (id, case_id, case_number, district_code, worker_ref, "
                "token_hash, expires_at, about) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (case_id, worker_ref, about) DO NOTHING RETURNING id",
                survey_id,
                case["case_id"],
                case_number,
                case["district_code"],
                case["worker_refs"][body.worker],
                token_hash(token),
                expires,
                body.about,
            )
            if inserted is None:
                raise HTTPException(409, "该职工的满意度调查已发出，不能重复生成")
            uow.audit(
                "survey.issued",
                case_id=case["case_id"],
                case_number=case_number,
                district_code=case["district_code"],
                detail=f"worker {body.worker}, about {body.about}",
            )
        root = request.scope.get("root_path", "")
        return SurveyOut(survey_id=survey_id, link=f"{root}/survey/{token}", expires_at=expires)

    async def _open(token: str) -> asyncpg.Record | HTMLResponse:
        try:
            survey_id = signer().check(token, clock())
        except (InvalidLink, ExpiredLink) as exc:
            return _link_problem(exc)
        row = await pool().fetchrow(
            "SELECT * FROM surveys WHERE id = $1 AND token_hash = $2", survey_id, token_hash(token)
        )
        if row is None:
            return _link_problem(InvalidLink(token[:20]))
        if row["answered_at"] is not None:
            return _page("您已提交过", "<p>感谢您的评价，此链接已使用。</p>", 410)
        return row

    @answering.get("/survey/{token}", response_class=HTMLResponse, summary="满意度调查页面")
    async def survey_page(token: Annotated[str, Path(max_length=200)]) -> HTMLResponse:
        opened = await _open(token)
        if isinstance(opened, HTMLResponse):
            return opened
        return _form(token, opened["case_number"])

    @answering.post("/survey/{token}", response_class=HTMLResponse, summary="提交满意度评价")
    async def answer(token: Annotated[str, Path(max_length=200)], request: Request) -> HTMLResponse:
        opened = await _open(token)
        if isinstance(opened, HTMLResponse):
            return opened
        form = await request.form()
        raw_score, raw_comment = form.get("score"), form.get("comment")
        if not isinstance(raw_score, str) or raw_score not in {str(n) for n in SCORES}:
            return _page("请选择分数", "<p>请选择 1 到 5 分中的一项后再提交。</p>", 422)
        score = int(raw_score)
        comment = redact_text(raw_comment.strip()[:500]) if isinstance(raw_comment, str) else ""
        now = clock()
        async with runtime.unit_of_work(SURVEY_TAKER) as uow:
            if not await record_answer(uow, opened, score, comment, now, "link"):
                return _page("您已提交过", "<p>感谢您的评价，此链接已使用。</p>", 410)
        return _page("提交成功", f"<p>感谢您的评价（{score} 分：{SCORES[score]}）。</p>")

    return [issuing, answering]
