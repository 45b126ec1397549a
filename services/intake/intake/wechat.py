"""The WeChat official account's server callback (消息推送), with wechatpy 1.8.18.

WeChat calls ``GET /wechat/callback`` once to verify the URL (``signature`` over token,
timestamp and nonce; we answer ``echostr``) and then ``POST``s every message there, either
in plain XML or, in "safe mode", wrapped as ``<Encrypt>`` with ``encrypt_type=aes`` and a
``msg_signature``. Signatures are compared with :func:`hmac.compare_digest` before wechatpy
sees the message (its own comparison is not constant-time). Replies are passive: the reply
XML is the response body, encrypted again in safe mode.

wechatpy does no network I/O here, and its AES and SHA-1 work on a few hundred bytes takes
microseconds, so it runs on the event loop; the only waiting is the database's.

Everything in a callback is untrusted until proven otherwise: a request is refused (4xx,
nothing stored) when its signature is wrong, its timestamp is outside the configured window
(a replayed request), its mode (plain or AES) is not the configured one, its ciphertext does
not decrypt to WeChat's frame for our AppID, its XML declares entities, or its MsgId is not
a 64-bit number. wechatpy's decryption and parser raise whatever their input provokes
(``struct.error``, ``IndexError``, ``ValueError``…), so :meth:`WeChatCallback.decrypt` and
:func:`read_message` turn every such failure into a 400.

The OpenID (``FromUserName``) is personal data: it is kept only as a keyed hash, and
never logged nor published.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
import xml.parsers.expat
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import xmltodict
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from wechatpy import create_reply, parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.messages import BaseMessage, TextMessage

from intake.domain import DisputeIn, WorkerIdentity, identify
from intake.domain_wechat import WELCOME, step
from intake.store import CaseStore
from intake.survey_replies import SurveyReplies
from weiquan_shared.access import public
from weiquan_shared.logging import get_logger
from weiquan_shared.pii import PiiCipher
from weiquan_shared.survey_reply import looks_like_answer

log = get_logger(__name__)

MAX_BODY_BYTES = 64 * 1024
# WeChat's MsgId is a 64-bit unsigned integer.
MAX_MSG_ID = 2**64 - 1
NOT_TEXT_REPLY = "目前只能处理文字消息。登记请回复「登记」，查询请回复「查询 案件编号」。"


class WeChatSettings(BaseSettings):
    """The official account's server configuration (公众号后台 → 设置与开发 → 基本配置).

    ``make up`` generates a token and EncodingAESKey for the local stack; a union enters
    its own account's values in production. Without a token the callback answers 503.
    With an EncodingAESKey the account is in safe mode and only AES messages are taken;
    without one, only plain messages.
    """

    model_config = SettingsConfigDict(env_prefix="WEIQUAN_", extra="ignore")

    wechat_token: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_app_id: str | None = None


class WeChatCallbackSettings(BaseSettings):
    """How strict the callback is (not secrets; the account's secrets are above)."""

    model_config = SettingsConfigDict(env_prefix="WEIQUAN_", extra="ignore")

    # How far a callback's timestamp (and a message's CreateTime) may be from our clock.
    # WeChat retries an unanswered message three times within about 15 seconds.
    wechat_timestamp_tolerance_seconds: int = Field(default=300, ge=1)


def signature(*parts: str) -> str:
    """WeChat's SHA-1 signature: the parts sorted, concatenated, hashed."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _bad_request(message: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, message)


def _parse_xml(text: str | bytes) -> Any:
    """xmltodict's parse; malformed XML and entity declarations (refused) become a 400."""
    try:
        return xmltodict.parse(text, disable_entities=True)
    except (xml.parsers.expat.ExpatError, ValueError) as exc:
        # ValueError: "entities are disabled" (DOCTYPE with entities, billion laughs).
        raise _bad_request("消息不是有效的微信 XML") from exc


def read_message(xml_text: str) -> BaseMessage:
    """The message in a callback's (decrypted) XML, checked as far as we rely on it.

    A text message must carry a MsgId that is a 64-bit number and a CreateTime that is a
    number; anything else about a message wechatpy cannot read is a 400.
    """
    _parse_xml(xml_text)  # refuses entities before wechatpy's own parse sees them
    try:
        message = parse_message(xml_text)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise _bad_request("消息不是有效的微信 XML") from exc
    if message is None or not isinstance(message.source, str) or not message.source:
        raise _bad_request("消息缺少发送者（FromUserName）")
    if isinstance(message, TextMessage):
        msg_id = _integer(lambda: message.id)
        if msg_id is None or not 0 < msg_id <= MAX_MSG_ID:
            raise _bad_request("消息编号（MsgId）无效：应为微信生成的数字编号")
        if _integer(lambda: message.time) is None:
            raise _bad_request("消息时间（CreateTime）无效：应为 Unix 时间戳")
    return message


def _integer(read: Callable[[], object]) -> int | None:
    """A wechatpy integer field, or None when it is missing, nested or not a number.

    wechatpy converts on access with ``int()``, which raises ValueError for text and for
    numbers longer than Python's digit limit (4,300 digits).
    """
    try:
        value = read()
    except ValueError:
        return None
    return value if isinstance(value, int) else None


class WeChatCallback:
    def __init__(
        self,
        settings: WeChatSettings,
        store: Callable[[], CaseStore],
        cipher: PiiCipher,
        strictness: WeChatCallbackSettings | None = None,
        survey_replies: SurveyReplies | None = None,
    ) -> None:
        self._token = settings.wechat_token.get_secret_value() if settings.wechat_token else ""
        aes_key = settings.wechat_encoding_aes_key
        self.mode: Literal["aes", "plain"] = "aes" if aes_key else "plain"
        self._app_id = settings.wechat_app_id or ""
        self._crypto = (
            WeChatCrypto(self._token, aes_key.get_secret_value(), self._app_id)
            if aes_key and self._app_id and self._token
            else None
        )
        strictness = strictness or WeChatCallbackSettings()
        self._tolerance = strictness.wechat_timestamp_tolerance_seconds
        self._store = store
        self._cipher = cipher
        self._survey_replies = survey_replies

    def verify(self, sig: str, timestamp: str, nonce: str) -> None:
        """The request comes from WeChat (signature) and is not a replay (timestamp)."""
        if not self._token:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "本服务尚未配置微信公众号（WEIQUAN_WECHAT_TOKEN）",
            )
        if not _same(signature(self._token, timestamp, nonce), sig):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "签名校验失败：请求不是来自微信服务器")
        if not self.is_recent(int(timestamp)):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"请求时间戳与服务器时间相差超过{self._tolerance}秒：可能是重放的旧请求，"
                "或服务器时钟不准，请核对服务器时间",
            )

    def is_recent(self, unix_seconds: int) -> bool:
        return abs(unix_seconds - time.time()) <= self._tolerance

    def check_mode(self, encrypt_type: str | None) -> None:
        """Only the configured mode is taken: an AES account never accepts plain messages."""
        given = "aes" if encrypt_type == "aes" else "plain"
        if given == self.mode:
            return
        if self.mode == "aes":
            raise _bad_request(
                "本服务已配置为安全模式（消息加密），不接受明文消息；"
                "请在公众号后台核对「消息加解密方式」"
            )
        raise _bad_request(
            "本服务配置为明文模式，不接受加密消息；请在公众号后台核对「消息加解密方式」"
        )

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The plain XML inside a safe-mode message; any ciphertext that is not ours: 400."""
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
            # The signature is checked above (in constant time): decrypt the frame directly.
            return str(PrpCrypto(self._crypto.key).decrypt(encrypted, self._app_id))
        except (InvalidAppIdException, ValueError, struct.error, IndexError) as exc:
            # Random or foreign ciphertext: bad base64 or block length, a wrong length
            # prefix (struct.error), an empty frame (IndexError), not UTF-8 (ValueError).
            raise _bad_request("消息无法解密：AppID 或密钥与本服务配置不符") from exc

    def encrypt(self, reply_xml: str, nonce: str, timestamp: str) -> str:
        assert self._crypto is not None
        return str(self._crypto.encrypt_message(reply_xml, nonce, timestamp))

    async def answer(self, xml_text: str) -> str:
        """The passive reply (plain XML) to one message, or "" to acknowledge silently."""
        message = read_message(xml_text)
        if message.type == "event":
            if getattr(message, "event", "") in {"subscribe", "subscribe_scan"}:
                return str(create_reply(WELCOME, message).render())
            return ""
        if not isinstance(message, TextMessage):
            return str(create_reply(NOT_TEXT_REPLY, message).render())
        if not self.is_recent(message.time):
            raise _bad_request(
                f"消息时间（CreateTime）与服务器时间相差超过{self._tolerance}秒，消息未处理"
            )
        received_at = min(datetime.fromtimestamp(message.time, UTC), datetime.now(UTC))
        openid_index = self._cipher.blind_index(message.source, "wechat_openid")
        text = str(message.content or "")[:2000]
        surveyed = await self._survey_answer(message, openid_index, text, received_at)
        if surveyed is not None:
            return str(create_reply(surveyed, message).render())

        def people(dispute: DisputeIn) -> list[WorkerIdentity]:
            return [identify(worker, self._cipher) for worker in dispute.workers]

        reply = await self._store().wechat_message(
            openid_index,
            str(message.id),
            received_at,
            lambda conversation: step(conversation, text, received_at),
            people,
            openid=str(message.source),
        )
        log.info("wechat message answered", msg_id=str(message.id))
        return str(create_reply(reply, message).render())

    async def _survey_answer(
        self, message: TextMessage, openid_index: str, text: str, received_at: datetime
    ) -> str | None:
        """Notification's reply when the message answers a survey it sent this OpenID
        (one official account, one address: the survey's answers arrive here); None when
        it does not look like an answer, the worker is in the middle of registering, the
        OpenID has no open survey, or notification cannot say: then the dialog goes on."""
        if self._survey_replies is None or not looks_like_answer(text):
            return None
        msg_id = str(message.id)
        store = self._store()
        in_dialog, earlier = await store.wechat_waiting(openid_index, msg_id)
        if earlier is not None or in_dialog:
            return None  # a redelivery is answered by the dialog's record of it
        reply = await self._survey_replies.answer(str(message.source), text, msg_id)
        if reply is None:
            return None
        kept = await store.wechat_answered_elsewhere(openid_index, msg_id, received_at, reply)
        log.info("wechat survey answer handed to notification", msg_id=msg_id)
        return kept


def _encrypted_part(body: bytes) -> str:
    parsed = _parse_xml(body)
    try:
        encrypted = parsed["xml"]["Encrypt"]
    except (KeyError, TypeError) as exc:
        raise _bad_request("加密消息格式不正确：缺少 <Encrypt>") from exc
    if not isinstance(encrypted, str):
        raise _bad_request("加密消息格式不正确：<Encrypt> 应为文字")
    return encrypted


SignatureQuery = Annotated[str, Query(description="微信服务器的签名", max_length=64)]
TimestampQuery = Annotated[
    str, Query(description="时间戳", pattern=r"^\d{1,12}$", examples=["1764000000"])
]
NonceQuery = Annotated[str, Query(description="随机数", max_length=64, examples=["123456789"])]


def build_wechat_router(callback: WeChatCallback) -> APIRouter:
    router = APIRouter(
        prefix="/wechat",
        tags=["wechat"],
        dependencies=[public("WeChat's servers sign every call (signature, timestamp, nonce)")],
    )

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
            400: {
                "description": "消息不是有效的微信 XML、无法解密、消息编号或时间无效，"
                "或加密方式与本服务配置不符"
            },
            403: {"description": "签名校验失败，或时间戳超出允许范围（重放的旧请求）"},
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
        callback.check_mode(encrypt_type)
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
