"""Answering the survey by WeChat: the official account's server callback (消息推送).

WeChat verifies the URL once with ``GET ?signature&timestamp&nonce&echostr`` (we answer
``echostr`` when ``signature`` is the SHA-1 of token, timestamp and nonce sorted and
joined) and then ``POST``s each message a follower sends, as XML, signed the same way.
**Plaintext mode** (明文模式): the signature covers the token, timestamp and nonce, not the
body, so a request is also refused when its timestamp is more than
``WEIQUAN_NOTIFICATION_WECHAT_CALLBACK_TOLERANCE_S`` (300 s) from our clock (a replayed
signature); safe mode (AES, ``msg_signature`` over the body) is not implemented here.

A worker who got a survey by WeChat replies ``1``–``5``, optionally followed by a comment
(``5 律师很负责``). The sender kept a keyed hash of the OpenID it sent the survey to
(``surveys.wechat_ref``); the reply's ``FromUserName`` is hashed the same way and matched
to that worker's open survey (the latest unanswered, unexpired one). The answer is recorded
once by the same statement as the link's (``survey_api.record_answer``) and published as
the same ``survey.answered``. The passive reply is Chinese XML: thanks, "please reply with
1 to 5", "already answered", or "no survey open". The OpenID is never stored in clear nor
logged.

XML: the standard library's expat parser (2.4+ refuses entity expansion attacks); a body
declaring a DOCTYPE or an entity, or longer than 16 KB, is refused before parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from xml.sax.saxutils import escape

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from notification.survey import SCORES, SurveyLinks
from notification.survey_api import record_answer
from weiquan_shared.access import public
from weiquan_shared.envelope import Actor
from weiquan_shared.logging import get_logger
from weiquan_shared.redaction import redact_text
from weiquan_shared.service import Runtime

log = get_logger(__name__)

MAX_BODY_BYTES = 16 * 1024
# A reply: a digit 1-5 first, then anything (the comment), separated or not.
ANSWER = re.compile(r"^\s*([1-5１-５])(?![0-9０-９])\s*分?[\s,，。.:：;；、\-]*(.*)$", re.DOTALL)
FULLWIDTH = str.maketrans("１２３４５", "12345")
# The worker answering by WeChat: not signed in, named by the channel only.
WECHAT_TAKER = Actor.public("survey-wechat")

THANKS = "感谢您的评价（{score} 分：{name}）。您的意见将帮助工会改进服务。"
ASK_DIGIT = "请回复数字 1 到 5 为本次服务评分（5 分最满意），可在数字后附上意见，例如：5 服务很好。"
ALREADY = "您已评价过本次服务，感谢您的支持。每份调查只能评价一次。"
NO_SURVEY = "您目前没有待评价的满意度调查。如需咨询或登记维权，请拨打 12351 职工服务热线。"


# A signature parameter; missing or empty, the signature check refuses it (403).
Sig = Annotated[str, Query(max_length=64)]


class WeChatCallbackSettings(BaseSettings):
    """The official account's server configuration (公众号后台 → 设置与开发 → 基本配置 →
    服务器配置, 明文模式): the token entered there."""

    model_config = SettingsConfigDict(
        env_prefix="WEIQUAN_NOTIFICATION_WECHAT_CALLBACK_", extra="ignore"
    )

    token: SecretStr = SecretStr("")
    tolerance_s: int = Field(default=300, ge=1)


def signature(*parts: str) -> str:
    """WeChat's SHA-1 signature: the parts sorted, concatenated, hashed."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _reply(to_user: str, from_user: str, text: str, now: int) -> Response:
    body = (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
        f"<FromUserName><![CDATA[{from_user}]]></FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content></xml>"
    )
    return Response(body, media_type="application/xml")


def parse_answer(content: str) -> tuple[int, str] | None:
    """``(score, comment)`` of a reply that starts with a digit 1–5, else None."""
    found = ANSWER.match(content)
    if found is None:
        return None
    return int(found.group(1).translate(FULLWIDTH)), found.group(2).strip()


def _field(root: ET.Element, name: str) -> str:
    value = root.findtext(name)
    return value.strip() if value else ""


def build_wechat_router(
    runtime: Runtime,
    links: Callable[[], SurveyLinks | None],
    settings: WeChatCallbackSettings,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    router = APIRouter(
        tags=["survey"],
        dependencies=[
            public(
                "WeChat's server callback: WeChat's signature over the configured token is "
                "the credential"
            )
        ],
    )

    def checked(signature_: str, timestamp: str, nonce: str) -> None:
        token = settings.token.get_secret_value()
        if not token:
            raise HTTPException(
                503, "未配置公众号服务器令牌（WEIQUAN_NOTIFICATION_WECHAT_CALLBACK_TOKEN）"
            )
        expected = signature(token, timestamp, nonce)
        if not hmac.compare_digest(expected.encode(), signature_.encode()):
            log.warning("wechat callback refused: bad signature")
            raise HTTPException(403, "签名无效：请求不是来自微信服务器")
        try:
            sent_at = int(timestamp)
        except ValueError as exc:
            raise HTTPException(403, "时间戳无效") from exc
        if abs(clock().timestamp() - sent_at) > settings.tolerance_s:
            log.warning("wechat callback refused: timestamp out of window")
            raise HTTPException(403, "时间戳超出允许范围：请求可能被重放")

    @router.get("/wechat/callback", summary="公众号服务器地址验证（微信调用）")
    async def verify(
        echostr: Annotated[str, Query(max_length=128)],
        signature: Sig = "",
        timestamp: Sig = "",
        nonce: Sig = "",
    ) -> Response:
        checked(signature, timestamp, nonce)
        return Response(echostr, media_type="text/plain")

    @router.post("/wechat/callback", summary="公众号消息（微信调用）：职工回复 1–5 评价服务")
    async def message(
        request: Request, signature: Sig = "", timestamp: Sig = "", nonce: Sig = ""
    ) -> Response:
        checked(signature, timestamp, nonce)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "消息过长")
        if b"<!doctype" in body.lower() or b"<!entity" in body.lower():
            raise HTTPException(400, "消息不是有效的微信 XML")
        try:
            root = ET.fromstring(body)
        except (ET.ParseError, LookupError, ValueError) as exc:  # LookupError: encoding="x"
            raise HTTPException(400, "消息不是有效的微信 XML") from exc
        openid, account = _field(root, "FromUserName"), _field(root, "ToUserName")
        if not openid or not account:
            raise HTTPException(400, "消息缺少发送者或接收者（FromUserName / ToUserName）")
        now = clock()

        def reply(text: str) -> Response:
            return _reply(escape(openid), escape(account), text, int(now.timestamp()))

        if _field(root, "MsgType") != "text":
            # An event (subscribe, menu click) or a picture: nothing to answer here.
            return Response("success", media_type="text/plain")
        signer = links()
        if signer is None:
            raise HTTPException(
                503, "未配置满意度调查的签名密钥（WEIQUAN_NOTIFICATION_SURVEY_KEY）"
            )
        ref = signer.openid_ref(openid)
        answer = parse_answer(_field(root, "Content"))
        async with runtime.unit_of_work(WECHAT_TAKER) as uow:
            survey = await uow.conn.fetchrow(
                "SELECT * FROM surveys WHERE wechat_ref = $1 AND expires_at > $2 "
                "ORDER BY answered_at IS NULL DESC, issued_at DESC LIMIT 1 FOR UPDATE",
                ref,
                now,
            )
            if survey is None:
                return reply(NO_SURVEY)
            if survey["answered_at"] is not None:
                return reply(ALREADY)
            if answer is None:
                return reply(ASK_DIGIT)
            score, comment = answer
            comment = redact_text(comment[:500])
            if not await record_answer(uow, survey, score, comment, now, "wechat"):
                return reply(ALREADY)
        log.info("survey answered by wechat", survey_id=str(survey["id"]))
        return reply(THANKS.format(score=score, name=SCORES[score]))

    return router
