"""The WeChat callback refuses hostile input with a 4xx before anything reaches the store.

The callback runs in a real FastAPI app (the same router, error handlers and wechatpy) with
a store that fails the test if it is ever reached; no database or broker is needed. The
decrypt/parse path is property-tested with hypothesis over random bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from wechatpy.crypto import WeChatCrypto

from intake.store import CaseStore
from intake.wechat import (
    WeChatCallback,
    WeChatCallbackSettings,
    WeChatSettings,
    build_wechat_router,
    read_message,
    signature,
)
from weiquan_shared.http import install_http_errors
from weiquan_shared.pii import PiiCipher

TOKEN = "unitTestToken"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
APP_ID = "wx5d1c8e2f3a4b6c7d"
OPENID = "oWkrUnitTestOpenId0000000000"


def no_store() -> CaseStore:
    raise AssertionError("a refused callback must not reach the store")


def callback(aes: bool = True) -> WeChatCallback:
    configured = WeChatSettings(
        wechat_token=SecretStr(TOKEN),
        wechat_encoding_aes_key=SecretStr(AES_KEY) if aes else None,
        wechat_app_id=APP_ID,
    )
    cipher = PiiCipher({"k1": os.urandom(32)}, "k1", os.urandom(32))
    strictness = WeChatCallbackSettings(wechat_timestamp_tolerance_seconds=300)
    return WeChatCallback(configured, no_store, cipher, strictness)


def client(aes: bool = True) -> TestClient:
    app = FastAPI()
    install_http_errors(app)
    app.include_router(build_wechat_router(callback(aes)))
    return TestClient(app)  # raises any exception that escapes, instead of a bare 500


def signed(timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(secrets.randbelow(10**9))
    return {"signature": signature(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}


def text_xml(content: str = "你好", msg_id: str = "24000000000000001", created: str = "") -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_union]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def aes_envelope(encrypted: str, query: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A safe-mode body around ``encrypted``, with a valid msg_signature for it."""
    body = f"<xml><ToUserName>gh_union</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    msg_signature = signature(TOKEN, query["timestamp"], query["nonce"], encrypted)
    return body.encode(), query | {"encrypt_type": "aes", "msg_signature": msg_signature}


def encrypted_xml(xml: str, key: str = AES_KEY) -> tuple[bytes, dict[str, str]]:
    """``xml`` encrypted and signed as WeChat's server does, under ``key``."""
    query = signed()
    wrapped = WeChatCrypto(TOKEN, key, APP_ID).encrypt_message(
        xml, query["nonce"], query["timestamp"]
    )
    encrypted = wrapped.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    return aes_envelope(encrypted, query)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>'
)


@pytest.mark.parametrize("size", [32, 48, 64])
def test_random_ciphertext_with_a_valid_signature_is_a_400(size: int) -> None:
    wechat = client()
    for _ in range(20):  # wechatpy raised struct.error for about 9 in 10 of these
        body, query = aes_envelope(base64.b64encode(os.urandom(size)).decode(), signed())
        answer = wechat.post("/wechat/callback", params=query, content=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["message"] == "消息无法解密：AppID 或密钥与本服务配置不符"


def test_a_message_encrypted_with_another_key_is_a_400() -> None:
    other_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    wechat = client()
    for _ in range(20):
        body, query = encrypted_xml(text_xml(), key=other_key)
        answer = wechat.post("/wechat/callback", params=query, content=body)
        assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_with_entities_is_refused_in_either_mode(xml: str) -> None:
    plain = client(aes=False).post("/wechat/callback", params=signed(), content=xml.encode())
    assert plain.status_code == 400, plain.text
    assert plain.json()["message"] == "消息不是有效的微信 XML"
    # As the outer safe-mode envelope, and as the XML inside a valid ciphertext.
    outer = client().post(
        "/wechat/callback",
        params=signed() | {"encrypt_type": "aes", "msg_signature": "0" * 40},
        content=xml.encode(),
    )
    assert outer.status_code == 400, outer.text
    body, query = encrypted_xml(xml)
    inner = client().post("/wechat/callback", params=query, content=body)
    assert inner.status_code == 400, inner.text


@pytest.mark.parametrize(
    ("msg_id", "created"),
    [
        ("not-a-number", ""),
        ("9" * 5000, ""),  # past Python's int() digit limit
        ("9" * 4000, ""),  # a number, but not a 64-bit one
        (str(2**64), ""),
        ("-5", ""),
        ("24000000000000001", "yesterday"),
    ],
)
def test_a_msg_id_or_create_time_that_is_not_a_number_is_a_400(msg_id: str, created: str) -> None:
    body, query = encrypted_xml(text_xml(msg_id=msg_id, created=created))
    answer = client().post("/wechat/callback", params=query, content=body)
    assert answer.status_code == 400, answer.text
    assert ("CreateTime" if created else "MsgId") in answer.json()["message"]


def test_a_timestamp_outside_the_window_is_refused() -> None:
    wechat = client()
    for stamp in (978307200, int(time.time()) - 301, int(time.time()) + 301):  # 2001, ±5 min
        query = signed(stamp)
        verify = wechat.get("/wechat/callback", params=query | {"echostr": "42"})
        assert verify.status_code == 403, verify.text
        assert "时间戳" in verify.json()["message"]
        body, aes_query = aes_envelope("x", query)
        assert wechat.post("/wechat/callback", params=aes_query, content=body).status_code == 403
    # A signed request inside the window passes the check (and is then a 400: bad ciphertext).
    body, query = aes_envelope("x", signed(int(time.time()) - 250))
    assert wechat.post("/wechat/callback", params=query, content=body).status_code == 400


def test_a_message_created_long_ago_is_refused_even_in_a_fresh_request() -> None:
    body, query = encrypted_xml(text_xml(created="978307200"))
    answer = client().post("/wechat/callback", params=query, content=body)
    assert answer.status_code == 400
    assert "CreateTime" in answer.json()["message"]


def test_only_the_configured_mode_is_accepted() -> None:
    plain_in_aes = client(aes=True).post(
        "/wechat/callback", params=signed(), content=text_xml().encode()
    )
    assert plain_in_aes.status_code == 400
    assert "安全模式" in plain_in_aes.json()["message"]
    raw_in_aes = client(aes=True).post(
        "/wechat/callback", params=signed() | {"encrypt_type": "raw"}, content=text_xml().encode()
    )
    assert raw_in_aes.status_code == 400
    body, query = encrypted_xml(text_xml())
    aes_in_plain = client(aes=False).post("/wechat/callback", params=query, content=body)
    assert aes_in_plain.status_code == 400
    assert "明文模式" in aes_in_plain.json()["message"]


# ------------------------------------------------------------------ properties

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refused_or_read(action: object) -> None:
    """Run ``action``; the only exception allowed out is a 4xx HTTPException."""
    try:
        action()  # type: ignore[operator]
    except HTTPException as refused:
        assert 400 <= refused.status_code < 500, refused.detail


@PROPERTY
@given(st.binary(max_size=512))
def test_any_signed_ciphertext_decrypts_or_is_a_4xx(payload: bytes) -> None:
    wechat = callback()
    encrypted = base64.b64encode(payload).decode()
    query = signed()
    msg_signature = signature(TOKEN, query["timestamp"], query["nonce"], encrypted)
    body = f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode()

    def decrypt_and_read() -> None:
        xml = wechat.decrypt(body, msg_signature, query["timestamp"], query["nonce"])
        read_message(xml)

    _refused_or_read(decrypt_and_read)


@PROPERTY
@given(st.binary(max_size=2048))
def test_any_body_in_safe_mode_is_read_or_a_4xx(body: bytes) -> None:
    wechat = callback()
    query = signed()
    _refused_or_read(
        lambda: wechat.decrypt(body, hashlib.sha1(body).hexdigest(), query["timestamp"], "1")
    )


@PROPERTY
@given(st.text(max_size=2048))
def test_any_text_inside_a_valid_frame_is_read_or_a_4xx(text: str) -> None:
    """Our own key and AppID around random content: the XML parse must hold."""
    wechat = callback()
    body, query = encrypted_xml(text)

    def decrypt_and_read() -> None:
        xml = wechat.decrypt(body, query["msg_signature"], query["timestamp"], query["nonce"])
        read_message(xml)

    _refused_or_read(decrypt_and_read)


@PROPERTY
@given(
    st.dictionaries(
        st.sampled_from(
            ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event"]
        ),
        st.one_of(st.text(max_size=40), st.integers().map(str), st.just("<a>1</a><a>2</a>")),
    )
)
def test_any_message_fields_are_read_or_a_4xx(fields: dict[str, str]) -> None:
    """Plausible WeChat XML with random field values (nested, repeated, huge numbers)."""
    from xml.sax.saxutils import escape

    inner = "".join(
        f"<{name}>{value if value.startswith('<a>') else escape(value)}</{name}>"
        for name, value in fields.items()
    )
    _refused_or_read(lambda: read_message(f"<xml>{inner}</xml>"))
