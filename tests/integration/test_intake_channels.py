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
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
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

    first = httpx.post(
        f"{url}/api/v1/hotline-calls", json=call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert first.status_code == 201, first.text
    accepted = first.json()
    assert accepted["warnings"][0]["field"] == "employer.credit_code"
    retry = httpx.post(
        f"{url}/api/v1/hotline-calls", json=call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert retry.status_code == 200
    assert retry.json()["case_number"] == accepted["case_number"] and retry.json()["duplicate"]

    worker = call["workers"][1]
    found = httpx.post(
        f"{url}/api/v1/case-searches/by-mobile",
        json={"mobile": worker["mobile"], "reason": "progress_enquiry"},
        timeout=10,
        headers=signed_in(Role.OPERATOR),
    ).json()
    assert [c["case_number"] for c in found] == [accepted["case_number"]]
    assert found[0]["status"] == "已受理，待分流"
    case = httpx.get(
        f"{url}/api/v1/cases/{accepted['case_number']}", headers=signed_in(Role.OPERATOR)
    ).json()
    assert (
        case["workers"][1]["id_number"]
        == worker["id_number"][:6] + "********" + worker["id_number"][-4:]
    )

    asked = consultation(random.Random(5))
    assert (
        httpx.post(
            f"{url}/api/v1/consultations", json=asked, headers=signed_in(Role.OPERATOR)
        ).status_code
        == 201
    )
    assert (
        httpx.post(
            f"{url}/api/v1/consultations", json=asked, headers=signed_in(Role.OPERATOR)
        ).json()["duplicate"]
        is True
    )

    [(_, payload, raw)] = events(deployment, "case.reported")
    assert payload.case_number == accepted["case_number"] and len(payload.workers) == 2
    assert payload.demands and payload.channel == "hotline"
    for secret in (worker["name"], worker["mobile"], worker["id_number"]):
        assert secret not in raw
    [(_, recorded, _)] = events(deployment, "consultation.recorded")
    assert recorded.topic == asked["topic"] and recorded.channel_ref == asked["channel_ref"]


def test_a_reused_key_with_another_body_is_a_conflict_never_a_replay(
    deployment: Deployment,
) -> None:
    """Same key + same content: the earlier answer. Same key + other content: 409, unsaved."""
    deployment.start("intake")
    url = deployment["intake"].url
    rng = random.Random(11)

    first_call = hotline_call(rng, story=0, employer=0)
    next_call = hotline_call(rng, story=1, employer=1, call_id=first_call["call_id"])
    registered = httpx.post(
        f"{url}/api/v1/hotline-calls", json=first_call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert registered.status_code == 201, registered.text
    reused = httpx.post(
        f"{url}/api/v1/hotline-calls", json=next_call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert reused.status_code == 409, reused.text
    assert reused.json()["message"].startswith(f"来电流水号 {first_call['call_id']} 已登记过")
    assert "本次未保存" in reused.json()["message"]
    assert "请填写这通来电自己的来电流水号" in reused.json()["message"]
    assert [e["path"] for e in reused.json()["errors"]] == ["call_id"]
    # The page stamps the consent time when it sends: a retry of the same form is a replay.
    first_call["consent"]["given_at"] = datetime.now(UTC).isoformat()
    retry = httpx.post(
        f"{url}/api/v1/hotline-calls", json=first_call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert (retry.status_code, retry.json()["duplicate"]) == (200, True)
    assert retry.json()["case_number"] == registered.json()["case_number"]

    group = walk_in_group(rng, workers=3, story=2, employer=2)
    other_group = walk_in_group(
        rng, workers=2, story=3, employer=3, desk_submission_id=group["desk_submission_id"]
    )
    assert (
        httpx.post(
            f"{url}/api/v1/walk-in-registrations", json=group, headers=signed_in(Role.OPERATOR)
        ).status_code
        == 201
    )
    reused = httpx.post(
        f"{url}/api/v1/walk-in-registrations", json=other_group, headers=signed_in(Role.OPERATOR)
    )
    assert reused.status_code == 409, reused.text
    assert [e["path"] for e in reused.json()["errors"]] == ["desk_submission_id"]

    asked = consultation(rng)
    other_question = asked | {"question": "另一位来电职工问：公司一直不交社保怎么办？"}
    assert (
        httpx.post(
            f"{url}/api/v1/consultations", json=asked, headers=signed_in(Role.OPERATOR)
        ).status_code
        == 201
    )
    reused = httpx.post(
        f"{url}/api/v1/consultations", json=other_question, headers=signed_in(Role.OPERATOR)
    )
    assert reused.status_code == 409, reused.text
    assert [e["path"] for e in reused.json()["errors"]] == ["channel_ref"]
    assert (
        httpx.post(
            f"{url}/api/v1/consultations", json=asked, headers=signed_in(Role.OPERATOR)
        ).json()["duplicate"]
        is True
    )

    # Nothing of the refused submissions was stored or announced (the relay publishes a
    # moment after each answer: wait for the two accepted ones, then count).
    wait_until(lambda: len(events(deployment, "case.reported")) >= 2)
    reported = events(deployment, "case.reported")
    assert sorted(p.channel_ref for _, p, _ in reported) == sorted(
        [first_call["call_id"], group["desk_submission_id"]]
    )
    [(_, recorded, _)] = events(deployment, "consultation.recorded")
    assert recorded.summary.startswith(asked["question"][:5])

    # A case stored before request hashes existed keeps the replay behaviour.
    async def forget_hash() -> None:
        conn = await deployment.connect("intake")
        try:
            await conn.execute(
                "UPDATE cases SET request_hash = NULL WHERE channel_ref = $1", first_call["call_id"]
            )
        finally:
            await conn.close()

    asyncio.run(forget_hash())
    legacy = httpx.post(
        f"{url}/api/v1/hotline-calls", json=next_call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert (legacy.status_code, legacy.json()["duplicate"]) == (200, True)


def test_walk_in_group_of_twelve_is_one_case_with_twelve_workers(deployment: Deployment) -> None:
    deployment.start("intake")
    url = deployment["intake"].url
    group = walk_in_group(random.Random(12), workers=12, story=1, employer=1, district="440306")
    first = httpx.post(
        f"{url}/api/v1/walk-in-registrations",
        json=group,
        timeout=10,
        headers=signed_in(Role.OPERATOR),
    )
    assert first.status_code == 201, first.text
    number = first.json()["case_number"]
    assert number.startswith("440306-")
    retry = httpx.post(
        f"{url}/api/v1/walk-in-registrations",
        json=group,
        timeout=10,
        headers=signed_in(Role.OPERATOR),
    )
    assert (retry.status_code, retry.json()["case_number"]) == (200, number)

    case = httpx.get(f"{url}/api/v1/cases/{number}", headers=signed_in(Role.OPERATOR)).json()
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

    def text_xml(self, content: str, msg_id: int | str) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{UNION_ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
        )

    def post_encrypted(self, xml: str) -> httpx.Response:
        """``xml`` encrypted, signed and posted in safe mode, as WeChat's server does."""
        query = self.signed_query()
        wrapped = xmltodict.parse(
            self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
        )["xml"]
        return self.post_ciphertext(wrapped["Encrypt"], query)

    def post_ciphertext(self, encrypted: str, query: dict[str, str]) -> httpx.Response:
        """``encrypted`` in a safe-mode body with a valid msg_signature for it."""
        body = (
            f"<xml><ToUserName><![CDATA[{UNION_ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        parts = "".join(sorted([TOKEN, query["timestamp"], query["nonce"], encrypted]))
        query = query | {
            "encrypt_type": "aes",
            "msg_signature": hashlib.sha1(parts.encode()).hexdigest(),
        }
        return httpx.post(self.url, params=query, content=body.encode(), timeout=10)

    def send(self, content: str, msg_id: int | None = None) -> str:
        """One encrypted text message; returns the decrypted reply's text."""
        if msg_id is None:
            self.msg_id += 1
            msg_id = self.msg_id
        response = self.post_encrypted(self.text_xml(content, msg_id))
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

    # Safe mode is configured: a plain message is refused, even with a valid signature.
    plain = httpx.post(
        wechat.url, params=wechat.signed_query(), content=wechat.text_xml("你好", 1).encode()
    )
    assert plain.status_code == 400 and "安全模式" in plain.json()["message"]

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

    case = httpx.get(f"{base}/api/v1/cases/{number}", headers=signed_in(Role.OPERATOR)).json()
    assert case["channel"] == "wechat" and case["workers"][0]["mobile"].startswith(answers[2][:3])
    # A case from WeChat starts without a responsible person: its district takes it.
    assert case["assignee_id"] is None and events(deployment, "case.assigned") == []
    [(_, payload, raw)] = events(deployment, "case.reported")
    assert payload.case_number == number and payload.channel == "wechat"
    assert payload.claim_amount is not None
    for secret in (openid, answers[1], answers[2]):
        assert secret not in raw
    log = deployment["intake"].log_text()
    for secret in (openid, answers[1], answers[2]):
        assert secret not in log


def wechat_deployment(deployment: Deployment) -> str:
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    return deployment["intake"].url


def test_wechat_msg_id_is_deduplicated_per_openid(deployment: Deployment) -> None:
    """A second OpenID sending the first one's MsgIds gets its own replies and its own case."""
    base = wechat_deployment(deployment)
    first = FakeWeChatServer(base, "oFirst" + secrets.token_urlsafe(20))
    second = FakeWeChatServer(base, "oSecond" + secrets.token_urlsafe(20))
    second.msg_id = first.msg_id  # the same MsgIds, message for message

    first_done = [first.send(text) for text in wechat_answers(random.Random(31), story=0)][-1]
    second_answers = wechat_answers(random.Random(32), story=1)
    second_replies = [second.send(text) for text in second_answers]
    assert second_replies[0].startswith("好的，我们开始登记")
    numbers = [
        done.split("您的案件编号是 ")[1].split("，")[0] for done in (first_done, second_replies[-1])
    ]
    assert numbers[0] != numbers[1], "the second OpenID got the first one's case number"
    # Each sender's redelivery still gets its own earlier reply.
    assert first.send("同意", msg_id=first.msg_id) == first_done
    assert second.send("同意", msg_id=second.msg_id) == second_replies[-1]
    wait_until(lambda: len(events(deployment, "case.reported")) >= len(numbers))
    reported = events(deployment, "case.reported")
    assert sorted(p.case_number for _, p, _ in reported) == sorted(numbers)
    assert len({p.channel_ref for _, p, _ in reported}) == 1  # the same last MsgId


def test_wechat_hostile_callbacks_are_4xx_and_store_nothing(deployment: Deployment) -> None:
    base = wechat_deployment(deployment)
    wechat = FakeWeChatServer(base, "oHostile" + secrets.token_urlsafe(20))
    other_key = FakeWeChatServer(base, wechat.openid)
    other_key.crypto = WeChatCrypto(
        TOKEN, base64.b64encode(os.urandom(32)).decode().rstrip("="), APP_ID
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f"<xml><FromUserName>{wechat.openid}</FromUserName><CreateTime>{int(time.time())}"
        "</CreateTime><MsgType>text</MsgType><Content>&lol2;</Content><MsgId>7</MsgId></xml>"
    )
    stale = wechat.signed_query()
    stale_stamp = "978307200"  # 2001
    stale_parts = "".join(sorted([TOKEN, stale_stamp, stale["nonce"]]))
    stale |= {"timestamp": stale_stamp, "signature": hashlib.sha1(stale_parts.encode()).hexdigest()}
    answers: dict[str, httpx.Response] = {
        "random ciphertext": wechat.post_ciphertext(
            base64.b64encode(os.urandom(48)).decode(), wechat.signed_query()
        ),
        "another key": other_key.post_encrypted(wechat.text_xml("登记", 1)),
        "billion laughs": wechat.post_encrypted(laughs),
        "MsgId not a number": wechat.post_encrypted(wechat.text_xml("登记", "abc")),
        "MsgId of 5000 digits": wechat.post_encrypted(wechat.text_xml("登记", "9" * 5000)),
        "timestamp from 2001": httpx.post(
            wechat.url, params=stale, content=wechat.text_xml("登记", 2).encode()
        ),
        "plain mode": httpx.post(
            wechat.url, params=wechat.signed_query(), content=wechat.text_xml("登记", 3).encode()
        ),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert all(400 <= code < 500 for code in statuses.values()), statuses
    assert all(answer.json()["message"] for answer in answers.values())

    async def stored() -> tuple[int, int, int]:
        conn = await deployment.connect("intake")
        try:
            return (
                await conn.fetchval("SELECT count(*) FROM wechat_messages"),
                await conn.fetchval("SELECT count(*) FROM wechat_conversations"),
                await conn.fetchval("SELECT count(*) FROM cases"),
            )
        finally:
            await conn.close()

    assert asyncio.run(stored()) == (0, 0, 0)
    # The same account still works for a well-formed message.
    assert wechat.send("你好").startswith("您好，这里是职工维权服务")
