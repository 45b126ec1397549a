"""Answering the survey by WeChat: the worker's reply, handed over by intake.

A union has one official account, and an account has one server address: intake's
``/intake/wechat/callback`` (safe mode, the worker's dialog that registers a case). When a
text message from an OpenID looks like a survey answer (a digit 1–5, optionally followed by
a comment: :mod:`weiquan_shared.survey_reply`) and that OpenID has no dialog in progress at
intake, intake asks here, synchronously, with its own service token:
``POST /api/v1/internal/wechat-replies`` ``{openid, text, msg_id}``.

The sender kept a keyed hash of the OpenID it sent the survey to (``surveys.wechat_ref``);
the OpenID in the request is hashed the same way and matched to that worker's latest
unexpired survey. The answer is recorded once by the same statement as the link's
(``survey_api.record_answer``) and published as the same ``survey.answered`` (answered by
``wechat``). The answer is 200 with the Chinese text intake sends back to the worker
(thanks, or "already answered"), or 404 when this OpenID has no survey open here, and
intake goes on with its own dialog (a text that is not a score is a 422). WeChat
redelivers a message it got no reply to in time: the message that answered (its MsgId)
gets the same thanks again.

The OpenID crosses from intake to here over HTTP only, is hashed at once, and is never
stored in clear nor logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from notification.survey import SCORES, SurveyLinks
from notification.survey_api import record_answer
from weiquan_shared.access import allow_services
from weiquan_shared.envelope import Actor
from weiquan_shared.logging import get_logger
from weiquan_shared.redaction import redact_text
from weiquan_shared.service import Runtime
from weiquan_shared.survey_reply import parse_answer

log = get_logger(__name__)

# Only intake, which receives the official account's messages, hands replies over.
RECEIVER = allow_services("intake")
# The worker answering by WeChat: not signed in, named by the channel only.
WECHAT_TAKER = Actor.public("survey-wechat")

THANKS = "感谢您的评价（{score} 分：{name}）。您的意见将帮助工会改进服务。"
NOT_A_SCORE = "消息不是评分：应以数字 1 到 5 开头，可在数字后附上意见，例如：5 服务很好"
ALREADY = "您已评价过本次服务，感谢您的支持。每份调查只能评价一次。"
NO_SURVEY = "该微信用户没有待评价的满意度调查"


class WeChatReplyIn(BaseModel):
    openid: str = Field(
        min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$", title="微信用户 OpenID"
    )
    text: str = Field(max_length=2000, title="消息内容")
    msg_id: str = Field(pattern=r"^\d{1,20}$", title="微信消息编号（MsgId）")


class WeChatReplyOut(BaseModel):
    outcome: Literal["answered", "already_answered"]
    reply: str = Field(title="回复职工的文字")


def build_wechat_reply_router(
    runtime: Runtime,
    links: Callable[[], SurveyLinks | None],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/internal", tags=["survey"], dependencies=[RECEIVER])

    @router.post(
        "/wechat-replies",
        response_model=WeChatReplyOut,
        summary="职工在公众号回复的满意度评价（仅受理服务以服务凭证调用）",
        description=(
            "受理服务收到公众号文字消息、看似评分（1–5）且该职工没有进行中的登记对话时调用。"
            '示例：{"openid": "oWorkerOpenId", "text": "5 律师很负责", "msg_id": '
            '"24000000000000001"}。200：回复职工的文字；404：该微信用户没有待评价的调查。'
        ),
        responses={
            403: {"description": "不是受理服务的服务凭证（工作人员的令牌一律拒绝）"},
            404: {"description": "该微信用户没有待评价的满意度调查"},
            422: {"description": "消息不是评分（应以数字 1 到 5 开头）"},
            503: {"description": "未配置满意度调查的签名密钥"},
        },
    )
    async def receive(body: WeChatReplyIn) -> WeChatReplyOut:
        signer = links()
        if signer is None:
            raise HTTPException(
                503, "未配置满意度调查的签名密钥（WEIQUAN_NOTIFICATION_SURVEY_KEY）"
            )
        answer = parse_answer(body.text)
        if answer is None:
            # Intake hands over only what reads as a score; anything else is its dialog's.
            raise HTTPException(422, NOT_A_SCORE)
        ref = signer.openid_ref(body.openid)
        now = clock()
        async with runtime.unit_of_work(WECHAT_TAKER) as uow:
            survey = await uow.conn.fetchrow(
                "SELECT * FROM surveys WHERE wechat_ref = $1 AND expires_at > $2 "
                "ORDER BY answered_at IS NULL DESC, issued_at DESC LIMIT 1 FOR UPDATE",
                ref,
                now,
            )
            if survey is None:
                raise HTTPException(404, NO_SURVEY)
            if survey["answered_at"] is not None:
                if survey["wechat_msg_id"] == body.msg_id and survey["score"] is not None:
                    # WeChat's redelivery of the message that answered: the same thanks.
                    score = int(survey["score"])
                    return WeChatReplyOut(
                        outcome="answered", reply=THANKS.format(score=score, name=SCORES[score])
                    )
                return WeChatReplyOut(outcome="already_answered", reply=ALREADY)
            score, comment = answer
            comment = redact_text(comment[:500])
            if not await record_answer(
                uow, survey, score, comment, now, "wechat", wechat_msg_id=body.msg_id
            ):
                return WeChatReplyOut(outcome="already_answered", reply=ALREADY)
        log.info("survey answered by wechat", survey_id=str(survey["id"]))
        return WeChatReplyOut(
            outcome="answered", reply=THANKS.format(score=score, name=SCORES[score])
        )

    return router
