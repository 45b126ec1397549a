"""Load the demo data set through intake, on all three channels, as people would.

Hotline calls and consultations as 12351 operators log them, walk-in groups as a service
centre's clerks register them (each signed in with the demo accounts of
``.run/demo-accounts.txt`` at identity's token endpoint, so every case is registered by
someone), and WeChat conversations as WeChat's servers deliver them
(signed and encrypted with the account's secrets from ``.run/secrets.env``; skipped when
they are not set). Deterministic (seeded call ids, desk ids and WeChat MsgIds), so running
it again (every `make up`) registers nothing new. The first run also reveals a few masked
values, searches by mobile and overrides a few triage decisions, as the demo users, so the
audit trail has content.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto

from identity.demo import read_passwords
from weiquan_shared.demo import consultation, hotline_call, walk_in_group, wechat_answers
from weiquan_shared.settings import SERVICE_PORTS

DEMO_CASES = 80
DEMO_WALK_INS = 6
DEMO_CONSULTATIONS = 30
DEMO_WECHAT = 5


def demo_calls() -> list[dict[str, object]]:
    rng = random.Random(12351)
    now = datetime.now(UTC).replace(microsecond=0)
    calls = [
        hotline_call(
            rng,
            call_id=f"12351-DEMO-{i:04d}",
            called_at=now - timedelta(minutes=rng.randint(10, 60 * 24 * 90)),
            workers=rng.choice((1, 1, 1, 1, 2, 3)),
        )
        for i in range(DEMO_CASES)
    ]
    # A group dispute: twelve workers of one construction subcontractor, one call.
    calls.append(
        hotline_call(
            rng,
            call_id="12351-DEMO-GROUP",
            called_at=now - timedelta(days=2),
            workers=12,
            story=0,
            employer=0,
            district="440309",
        )
    )
    return calls


def demo_walk_ins() -> list[dict[str, Any]]:
    rng = random.Random(4403)
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        walk_in_group(
            rng,
            desk_submission_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"weiquan-demo-walk-in-{i}")),
            visited_at=now - timedelta(minutes=rng.randint(10, 60 * 24 * 60)),
            workers=12 if i == 0 else rng.choice((1, 2, 4)),
            story=1 if i == 0 else None,
        )
        for i in range(DEMO_WALK_INS)
    ]


def demo_consultations() -> list[dict[str, Any]]:
    rng = random.Random(12352)
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        consultation(
            rng,
            channel_ref=f"12351-DEMO-ZX-{i:04d}",
            occurred_at=now - timedelta(minutes=rng.randint(10, 60 * 24 * 90)),
            channel="walk_in" if i % 5 == 0 else "hotline",
        )
        for i in range(DEMO_CONSULTATIONS)
    ]


def _post(client: httpx.Client, path: str, body: dict[str, Any], counts: dict[str, int]) -> None:
    response = client.post(path, json=body)
    if response.status_code == 201:
        counts["created"] += 1
    elif response.status_code == 200:
        counts["existing"] += 1
    elif response.status_code == 409:
        # Loaded by an earlier run, whose times were relative to that run's "now": the same
        # key with other content, which intake refuses to treat as a retry.
        counts["existing"] += 1
    else:
        sys.exit(f"demo data: intake refused a {path} submission: {response.text}")


def _wechat_conversations(client: httpx.Client) -> int:
    token = os.environ.get("WEIQUAN_WECHAT_TOKEN")
    aes_key = os.environ.get("WEIQUAN_WECHAT_ENCODING_AES_KEY")
    app_id = os.environ.get("WEIQUAN_WECHAT_APP_ID")
    if not (token and aes_key and app_id):
        print("demo data: no WeChat secrets in the environment, WeChat conversations skipped")
        return 0
    crypto = WeChatCrypto(token, aes_key, app_id)
    rng = random.Random(12353)
    finished = 0
    for person in range(DEMO_WECHAT):
        openid = f"oDemo{hashlib.sha256(f'demo-openid-{person}'.encode()).hexdigest()[:23]}"
        reply = ""
        for turn, text in enumerate(wechat_answers(rng)):
            timestamp, nonce = str(int(datetime.now(UTC).timestamp())), str(rng.getrandbits(30))
            message = (
                f"<xml><ToUserName><![CDATA[gh_demo_union]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
                f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{text}]]></Content>"
                f"<MsgId>{7_000_000_000_000_000 + person * 100 + turn}</MsgId></xml>"
            )
            wrapped = xmltodict.parse(crypto.encrypt_message(message, nonce, timestamp))["xml"]
            response = client.post(
                "/wechat/callback",
                params={
                    "signature": hashlib.sha1(
                        "".join(sorted([token, timestamp, nonce])).encode()
                    ).hexdigest(),
                    "timestamp": timestamp,
                    "nonce": nonce,
                    "openid": openid,
                    "encrypt_type": "aes",
                    "msg_signature": wrapped["MsgSignature"],
                },
                content=f"<xml><Encrypt><![CDATA[{wrapped['Encrypt']}]]></Encrypt></xml>",
            )
            if response.status_code != 200:
                sys.exit(f"demo data: the WeChat callback refused a message: {response.text}")
            answer = xmltodict.parse(response.text)["xml"]
            plain = crypto.decrypt_message(
                response.text, answer["MsgSignature"], answer["TimeStamp"], answer["Nonce"]
            )
            reply = str(xmltodict.parse(plain)["xml"]["Content"])
        finished += reply.startswith("登记成功")
    return finished


def _url(service: str) -> str:
    default = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
    return os.environ.get(f"WEIQUAN_{service.upper()}_URL", default)


def sign_in(username: str) -> dict[str, str]:
    """A demo user's bearer token from identity (password from the demo accounts file)."""
    accounts = Path(os.environ.get("WEIQUAN_RUN_DIR", ".run")) / "demo-accounts.txt"
    password = read_passwords(accounts).get(username)
    if password is None:
        sys.exit(f"demo data: no password for {username} in {accounts} (make up writes it)")
    response = httpx.post(
        f"{_url('identity')}/api/v1/token",
        data={"grant_type": "password", "username": username, "password": password},
        timeout=10,
    )
    if response.status_code != 200:
        sys.exit(f"demo data: {username} could not sign in: {response.text}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _decided(triage: httpx.Client, number: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if triage.get(f"/api/v1/cases/{number}/decisions").status_code == 200:
            return True
        time.sleep(0.5)
    return False


def demo_work(operator: httpx.Client, officer: httpx.Client, triage: httpx.Client) -> int:
    """What staff do with registered cases, for the audit trail: an operator searches by
    mobile and reveals a number to call back, an officer checks an identity and re-routes."""
    done = 0
    calls = [c for c in demo_calls() if c["employer"]["district_code"] == "440305"][:3]  # type: ignore[index]
    for call in calls:
        mobile = call["workers"][0]["mobile"]  # type: ignore[index]
        found = operator.post(
            "/api/v1/case-searches/by-mobile", json={"mobile": mobile, "reason": "progress_enquiry"}
        )
        if found.status_code != 200 or not found.json():
            continue
        number = found.json()[0]["case_number"]
        reveals = (
            (operator, {"worker": 0, "field": "mobile", "reason": "call_back"}),
            (officer, {"worker": 0, "field": "id_number", "reason": "verify_identity"}),
        )
        for client, body in reveals:
            done += client.post(f"/api/v1/cases/{number}/reveal", json=body).status_code == 200
        if _decided(triage, number):
            override = triage.post(
                f"/api/v1/cases/{number}/override",
                json={"reason": "职工来电补充：情况紧急，需优先处理", "urgency": "urgent"},
            )
            done += override.status_code == 200
    return done


def main() -> None:
    counts = {"created": 0, "existing": 0}
    operator_auth, clerk_auth, officer_auth = (
        sign_in(name) for name in ("demo-operator", "demo-clerk", "demo-triage")
    )
    with (
        httpx.Client(base_url=_url("intake"), timeout=10, headers=operator_auth) as client,
        httpx.Client(base_url=_url("intake"), timeout=10, headers=clerk_auth) as clerk,
        httpx.Client(base_url=_url("intake"), timeout=10, headers=officer_auth) as officer,
        httpx.Client(base_url=_url("triage"), timeout=10, headers=officer_auth) as triage,
    ):
        for call in demo_calls():
            _post(client, "/api/v1/hotline-calls", call, counts)
        for group in demo_walk_ins():
            _post(clerk, "/api/v1/walk-in-registrations", group, counts)
        print(
            f"demo data: {counts['created']} cases registered, {counts['existing']} already there"
        )
        if counts["created"]:
            print(f"demo data: {demo_work(client, officer, triage)} reveals and overrides audited")
        counts = {"created": 0, "existing": 0}
        for asked in demo_consultations():
            _post(client, "/api/v1/consultations", asked, counts)
        print(
            f"demo data: {counts['created']} consultations recorded, "
            f"{counts['existing']} already there"
        )
        wechat = _wechat_conversations(client)
        if wechat:
            print(f"demo data: {wechat} WeChat conversations ended with a case number")


if __name__ == "__main__":
    main()
