"""Each intake channel end to end on the real stack: HTTP in, PostgreSQL, Kafka out.

The WeChat test plays WeChat's server: it signs and encrypts each callback with wechatpy's
``WeChatCrypto`` and the account's token, EncodingAESKey and AppID, exactly as WeChat does
in "safe mode", and decrypts the passive replies.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
import secrets
import time
from typing import Any

import httpx
import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from weiquan_shared.demo import consultation, hotline_call, walk_in_group, wechat_answers
from weiquan_shared.envelope import decode

pytestmark = pytest.mark.integration

TOKEN = "weiquanTestToken"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
APP_ID = "wx5d1c8e2f3a4b6c7d"
UNION_ACCOUNT = "gh_3f5e7a9b1c2d"


def events(deployment: Deployment, event_type: str) -> list[tuple[Any, Any, str]]:
    topic = deployment.settings().topic(event_type)
    records = asyncio.run(read_topic(deployment.infra.kafka_bootstrap, topic))
    return [(*decode(r.value), r.value.decode()) for r in records]


def test_hotline_call_retry_search_and_consultation(deployment: Deployment) -> None:
    deployment.start("intake")
    url = deployment["intake"].url
    call = hotline_call(random.Random(4), story=0, workers=2)
    call["employer"]["credit_code"] = "91350100M000100Y44"  # fails its check: a warning only

    first = httpx.post(f"{url}/api/v1/hotline-calls", json=call, timeout=10)
    assert first.status_code == 201, first.text
    accepted = first.json()
    assert accepted["warnings"][0]["field"] == "employer.credit_code"
    retry = httpx.post(f"{url}/api/v1/hotline-calls", json=call, timeout=10)
    assert retry.status_code == 200
    assert retry.json()["case_number"] == accepted["case_number"] and retry.json()["duplicate"]

    worker = call["workers"][1]
    found = httpx.post(
        f"{url}/api/v1/case-searches/by-mobile", json={"mobile": worker["mobile"]}, timeout=10
    ).json()
    assert [c["case_number"] for c in found] == [accepted["case_number"]]
    assert found[0]["status"] == "已受理，待分流"
    case = httpx.get(f"{url}/api/v1/cases/{accepted['case_number']}").json()
    assert (
        case["workers"][1]["id_number"]
        == worker["id_number"][:6] + "********" + worker["id_number"][-4:]
    )

    asked = consultation(random.Random(5))
    assert httpx.post(f"{url}/api/v1/consultations", json=asked).status_code == 201
    assert httpx.post(f"{url}/api/v1/consultations", json=asked).json()["duplicate"] is True

    [(_, payload, raw)] = events(deployment, "case.reported")
    assert payload.case_number == accepted["case_number"] and len(payload.workers) == 2
    assert payload.demands and payload.channel == "hotline"
    for secret in (worker["name"], worker["mobile"], worker["id_number"]):
        assert secret not in raw
    [(_, recorded, _)] = events(deployment, "consultation.recorded")
    assert recorded.topic == asked["topic"] and recorded.channel_ref == asked["channel_ref"]


def test_walk_in_group_of_twelve_is_one_case_with_twelve_workers(deployment: Deployment) -> None:
    deployment.start("intake")
    url = deployment["intake"].url
    group = walk_in_group(random.Random(12), workers=12, story=1, employer=1, district="440306")
    first = httpx.post(f"{url}/api/v1/walk-in-registrations", json=group, timeout=10)
    assert first.status_code == 201, first.text
    number = first.json()["case_number"]
    assert number.startswith("440306-")
    retry = httpx.post(f"{url}/api/v1/walk-in-registrations", json=group, timeout=10)
    assert (retry.status_code, retry.json()["case_number"]) == (200, number)

    case = httpx.get(f"{url}/api/v1/cases/{number}").json()
    assert case["channel"] == "walk_in" and len(case["workers"]) == 12
    [(_, payload, raw)] = events(deployment, "case.reported")
    assert payload.channel_ref == group["desk_submission_id"]
    assert len({w.worker_ref for w in payload.workers}) == 12
    for worker in group["workers"]:
        assert worker["mobile"] not in raw and worker["name"] not in raw


class FakeWeChatServer:
    """Builds callbacks the way WeChat's servers do, for one worker's OpenID."""

    def __init__(self, base_url: str, openid: str) -> None:
        self.url = f"{base_url}/wechat/callback"
        self.openid = openid
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        self.msg_id = random.Random(openid).randrange(10**16, 10**17)

    def signed_query(self) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
        parts = "".join(sorted([TOKEN, timestamp, nonce]))
        return {
            "signature": hashlib.sha1(parts.encode()).hexdigest(),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
        }

    def text_xml(self, content: str, msg_id: int) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{UNION_ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
        )

    def send(self, content: str, msg_id: int | None = None) -> str:
        """One encrypted text message; returns the decrypted reply's text."""
        if msg_id is None:
            self.msg_id += 1
            msg_id = self.msg_id
        query = self.signed_query()
        wrapped = xmltodict.parse(
            self.crypto.encrypt_message(
                self.text_xml(content, msg_id), query["nonce"], query["timestamp"]
            )
        )["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[{UNION_ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{wrapped['Encrypt']}]]></Encrypt></xml>"
        )
        query |= {"encrypt_type": "aes", "msg_signature": wrapped["MsgSignature"]}
        response = httpx.post(self.url, params=query, content=body.encode(), timeout=10)
        assert response.status_code == 200, response.text
        reply = xmltodict.parse(response.text)["xml"]
        plain = self.crypto.decrypt_message(
            response.text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"]
        )
        message = xmltodict.parse(plain)["xml"]
        assert message["ToUserName"] == self.openid and message["FromUserName"] == UNION_ACCOUNT
        return str(message["Content"])


def test_wechat_conversation_signed_and_encrypted(deployment: Deployment) -> None:
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    base = deployment["intake"].url
    openid = "oWkr" + secrets.token_urlsafe(20)
    wechat = FakeWeChatServer(base, openid)

    # URL verification, as when the union saves the server configuration.
    query = wechat.signed_query() | {"echostr": "5837397520"}
    assert httpx.get(wechat.url, params=query).text == "5837397520"
    forged = query | {"signature": "0" * 40}
    refused = httpx.get(wechat.url, params=forged)
    assert refused.status_code == 403 and "签名校验失败" in refused.json()["message"]

    # Plain mode (no encryption): the welcome, in a passive XML reply.
    plain = httpx.post(
        wechat.url, params=wechat.signed_query(), content=wechat.text_xml("你好", 1).encode()
    )
    assert "登记劳动争议" in xmltodict.parse(plain.text)["xml"]["Content"]

    answers = wechat_answers(random.Random(8), story=0)
    replies = [wechat.send(text) for text in answers[:-1]]
    assert replies[0].startswith("好的，我们开始登记")
    assert replies[-1].startswith("8/8 个人信息处理告知")
    done = wechat.send(answers[-1])
    assert done.startswith("登记成功！您的案件编号是 ")
    number = done.split("您的案件编号是 ")[1].split("，")[0]

    # WeChat redelivers a message it got no answer to in time: same MsgId, same reply.
    assert wechat.send(answers[-1], msg_id=wechat.msg_id) == done
    assert wechat.send(f"查询 {number}").startswith(f"案件 {number}：已受理")
    stranger = FakeWeChatServer(base, "oOther" + secrets.token_urlsafe(20))
    assert stranger.send(f"查询 {number}").startswith("没有找到您登记的案件")

    case = httpx.get(f"{base}/api/v1/cases/{number}").json()
    assert case["channel"] == "wechat" and case["workers"][0]["mobile"].startswith(answers[2][:3])
    [(_, payload, raw)] = events(deployment, "case.reported")
    assert payload.case_number == number and payload.channel == "wechat"
    assert payload.claim_amount is not None
    for secret in (openid, answers[1], answers[2]):
        assert secret not in raw
    log = deployment["intake"].log_text()
    for secret in (openid, answers[1], answers[2]):
        assert secret not in log
