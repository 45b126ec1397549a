"""The WeChat official account's server callback (消息推送), with wechatpy 1.8.18.

WeChat calls ``GET /wechat/callback`` once to verify the URL (``signature`` over token,
timestamp and nonce; we answer ``echostr``) and then ``POST``s every message there, either
in plain XML or, in "safe mode", wrapped as ``<Encrypt>`` with ``encrypt_type=aes`` and a
``msg_signature``. Signatures are compared with :func:`hmac.compare_digest` before wechatpy
sees the message (its own comparison is not constant-time). Replies are passive: the reply
XML is the response body, encrypted again in safe mode.

wechatpy does no network I/O here, and its AES and SHA-1 work on a few hundred bytes takes
microseconds, so it runs on the event loop; the only waiting is the database's.

The OpenID (``FromUserName``) is personal data: it is kept only as a keyed hash, and
never logged nor published.
"""

from __future__ import annotations

import hashlib
import hmac
import xml.parsers.expat
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import xmltodict
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import TextMessage

from intake.domain import DisputeIn, WorkerIdentity, identify
from intake.domain_wechat import WELCOME, step
from intake.store import CaseStore
from weiquan_shared.logging import get_logger
from weiquan_shared.pii import PiiCipher

log = get_logger(__name__)

MAX_BODY_BYTES = 64 * 1024
NOT_TEXT_REPLY = "目前只能处理文字消息。登记请回复「登记」，查询请回复「查询 案件编号」。"


class WeChatSettings(BaseSettings):
    """The official account's server configuration (公众号后台 → 设置与开发 → 基本配置).

    ``make up`` generates a token and EncodingAESKey for the local stack; a union enters
    its own account's values in production. Without a token the callback answers 503.
    """

    model_config = SettingsConfigDict(env_prefix="WEIQUAN_", extra="ignore")

    wechat_token: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_app_id: str | None = None


def signature(*parts: str) -> str:
    """WeChat's SHA-1 signature: the parts sorted, concatenated, hashed."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


class WeChatCallback:
    def __init__(
        self, settings: WeChatSettings, store: Callable[[], CaseStore], cipher: PiiCipher
    ) -> None:
        self._token = settings.wechat_token.get_secret_value() if settings.wechat_token else ""
        aes_key = settings.wechat_encoding_aes_key
        self._crypto = (
            WeChatCrypto(self._token, aes_key.get_secret_value(), settings.wechat_app_id)
            if aes_key and settings.wechat_app_id and self._token
            else None
        )
        self._store = store
        self._cipher = cipher

    def verify(self, sig: str, timestamp: str, nonce: str) -> None:
        if not self._token:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "本服务尚未配置微信公众号（WEIQUAN_WECHAT_TOKEN）",
            )
        if not _same(signature(self._token, timestamp, nonce), sig):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "签名校验失败：请求不是来自微信服务器")

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        if self._crypto is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "本服务未配置消息加解密密钥（WEIQUAN_WECHAT_ENCODING_AES_KEY、WEIQUAN_WECHAT_APP_ID）",
            )
        encrypted = _encrypted_part(body)
        if not _same(signature(self._token, timestamp, nonce, encrypted), msg_signature):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "消息签名校验失败：请求不是来自微信服务器"
            )
        try:
            return str(self._crypto.decrypt_message(body, msg_signature, timestamp, nonce))
        except (InvalidSignatureException, InvalidAppIdException, ValueError) as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "消息无法解密：AppID 或密钥与本服务配置不符"
            ) from exc

    def encrypt(self, reply_xml: str, nonce: str, timestamp: str) -> str:
        assert self._crypto is not None
        return str(self._crypto.encrypt_message(reply_xml, nonce, timestamp))

    async def answer(self, xml_text: str) -> str:
        """The passive reply (plain XML) to one message, or "" to acknowledge silently."""
        try:
            message = parse_message(xml_text)
        except (xml.parsers.expat.ExpatError, KeyError, TypeError, AttributeError) as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "消息不是有效的微信 XML") from exc
        if message is None or not message.source:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "消息缺少发送者（FromUserName）")
        if message.type == "event":
            if getattr(message, "event", "") in {"subscribe", "subscribe_scan"}:
                return str(create_reply(WELCOME, message).render())
            return ""
        if not isinstance(message, TextMessage):
            return str(create_reply(NOT_TEXT_REPLY, message).render())
        try:
            sent_at = datetime.fromtimestamp(int(message.time), UTC)
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "消息时间（CreateTime）无效") from exc
        received_at = min(sent_at, datetime.now(UTC))
        openid_index = self._cipher.blind_index(message.source, "wechat_openid")
        text = str(message.content or "")[:2000]

        def people(dispute: DisputeIn) -> list[WorkerIdentity]:
            return [identify(worker, self._cipher) for worker in dispute.workers]

        reply = await self._store().wechat_message(
            openid_index,
            str(message.id),
            received_at,
            lambda conversation: step(conversation, text, received_at),
            people,
        )
        log.info("wechat message answered", msg_id=str(message.id))
        return str(create_reply(reply, message).render())


def _encrypted_part(body: bytes) -> str:
    try:
        parsed = xmltodict.parse(body)
        return str(parsed["xml"]["Encrypt"])
    except (xml.parsers.expat.ExpatError, KeyError, TypeError) as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "加密消息格式不正确：缺少 <Encrypt>"
        ) from exc


SignatureQuery = Annotated[str, Query(description="微信服务器的签名", max_length=64)]
TimestampQuery = Annotated[
    str, Query(description="时间戳", pattern=r"^\d{1,12}$", examples=["1764000000"])
]
NonceQuery = Annotated[str, Query(description="随机数", max_length=64, examples=["123456789"])]


def build_wechat_router(callback: WeChatCallback) -> APIRouter:
    router = APIRouter(prefix="/wechat", tags=["wechat"])

    @router.get(
        "/callback",
        summary="微信服务器验证回调地址",
        description=(
            "公众号后台提交服务器配置时，微信服务器以 signature、timestamp、nonce、echostr "
            "调用此地址；签名正确时原样返回 echostr。"
            "示例：GET /wechat/callback?signature=…&timestamp=1764000000&nonce=123456789"
            "&echostr=5837397520"
        ),
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {"example": "5837397520"}}},
            403: {"description": "签名校验失败"},
            503: {"description": "未配置公众号"},
        },
    )
    async def verify_url(
        signature: SignatureQuery,
        timestamp: TimestampQuery,
        nonce: NonceQuery,
        echostr: Annotated[str, Query(description="随机字符串", max_length=128)],
    ) -> Response:
        callback.verify(signature, timestamp, nonce)
        return Response(echostr, media_type="text/plain")

    @router.post(
        "/callback",
        summary="接收微信消息并被动回复",
        description=(
            "职工发给公众号的消息。明文模式直接是消息 XML；安全模式（encrypt_type=aes）为 "
            "<Encrypt> 密文并带 msg_signature，回复同样加密。"
            "示例：职工回复「登记」开始8个问题的登记对话，完成后收到案件编号；"
            "回复「查询 440305-2026-000123」查看办理状态。"
        ),
        response_class=Response,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/xml": {
                        "schema": {"type": "string"},
                        "example": (
                            "<xml><ToUserName><![CDATA[gh_union]]></ToUserName>"
                            "<FromUserName><![CDATA[oWorkerOpenId]]></FromUserName>"
                            "<CreateTime>1764000000</CreateTime><MsgType><![CDATA[text]]>"
                            "</MsgType><Content><![CDATA[登记]]></Content>"
                            "<MsgId>24000000000000001</MsgId></xml>"
                        ),
                    }
                },
            }
        },
        responses={
            200: {
                "content": {
                    "application/xml": {"example": "<xml>…回复「1/8 请问您的姓名？」…</xml>"}
                }
            },
            400: {"description": "消息不是有效的微信 XML 或无法解密"},
            403: {"description": "签名校验失败"},
            413: {"description": "消息过大"},
            503: {"description": "未配置公众号"},
        },
    )
    async def receive(
        request: Request,
        signature: SignatureQuery,
        timestamp: TimestampQuery,
        nonce: NonceQuery,
        encrypt_type: Annotated[
            str | None, Query(description="安全模式时为 aes", pattern=r"^(raw|aes)$")
        ] = None,
        msg_signature: Annotated[
            str | None, Query(description="安全模式的消息签名", max_length=64)
        ] = None,
    ) -> Response:
        callback.verify(signature, timestamp, nonce)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "消息过大")
        if encrypt_type == "aes":
            if not msg_signature:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "安全模式消息缺少 msg_signature")
            xml_text = callback.decrypt(body, msg_signature, timestamp, nonce)
        else:
            xml_text = body.decode("utf-8", errors="replace")
        reply = await callback.answer(xml_text)
        if not reply:
            return Response("success", media_type="text/plain")
        if encrypt_type == "aes":
            reply = callback.encrypt(reply, nonce, timestamp)
        return Response(reply, media_type="application/xml")

    return router
