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
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto

from identity.demo import read_passwords
from intake.domain import CURRENT_SHARING_CONSENT_VERSION
from weiquan_shared.demo import DISTRICTS, consultation, hotline_call, walk_in_group, wechat_answers
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
        done += _case_file_work(operator, number)
    return done


def _case_file_work(operator: httpx.Client, number: str) -> int:
    """The case file's content: a note, a call back with its next step, and the worker's
    separate consent to share the case with the court and the labour bureau."""
    next_week = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=7)).date()
    answers = (
        operator.post(
            f"/api/v1/cases/{number}/notes",
            json={"text": "职工补充：欠薪自今年8月起，工资条和考勤记录已拍照，下次来访时带原件。"},
        ),
        operator.post(
            f"/api/v1/cases/{number}/contacts",
            json={
                "method": "call_back",
                "outcome": "reached",
                "remark": "已告知调解安排，职工同意参加调解。",
                "next_action_on": next_week.isoformat(),
            },
        ),
        operator.put(
            f"/api/v1/cases/{number}/consent",
            json={
                "scopes": ["court", "labour_bureau"],
                "wording_version": CURRENT_SHARING_CONSENT_VERSION,
            },
        ),
    )
    return sum(answer.status_code in (200, 201) for answer in answers)


def void_test_call(operator: httpx.Client, supervisor: httpx.Client) -> int:
    """A test call an operator saved by mistake, voided by a supervisor: it stays findable
    but leaves every figure and queue."""
    rng = random.Random(110)
    call = hotline_call(
        rng,
        call_id="12351-DEMO-TEST",
        called_at=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3),
        workers=1,
        district="440305",
    )
    saved = operator.post("/api/v1/hotline-calls", json=call)
    if saved.status_code != 201:
        return 0
    number = saved.json()["case_number"]
    voided = supervisor.post(f"/api/v1/cases/{number}/void", json={"reason": "test_call"})
    return int(voided.status_code == 200)


# ---------------------------------------------------------------- mediation

ROOMS = [
    (
        "南山区职工服务中心诉调对接工作室",
        "court_union_room",
        "440305",
        "南山区南海大道职工服务中心三楼",
        20,
    ),
    ("南山区总工会劳动争议调解室", "union_room", "440305", "南山区总工会二楼", 10),
    ("南山区工会视频调解室", "video", "440305", "线上（政务视频会议系统）", 12),
    (
        "龙华区职工服务中心诉调对接工作室",
        "court_union_room",
        "440309",
        "龙华区人民路职工服务中心",
        20,
    ),
    ("宝安区新安街道工会驿站调解室", "union_room", "440306", "宝安区新安街道工会驿站", 8),
    ("福田区“工会+仲裁”调解室", "union_room", "440304", "福田区劳动人事争议仲裁院一楼", 10),
]
# Mediators without a demo account (the demo accounts put themselves on the roster).
MEDIATORS = [
    ("demo-roster-zhang", "张丽华", "union", ["440305", "440306"]),
    ("demo-roster-huang", "黄志强", "union", ["440309", "440304"]),
    ("demo-roster-liu", "刘建国", "peoples_court", ["440305", "440309"]),
    ("demo-roster-wu", "吴海燕", "union", ["440303", "440307", "440308", "440310", "440311"]),
    ("demo-roster-zhou", "周敏", "labour_bureau", sorted(DISTRICTS)),
    ("demo-roster-sun", "孙检察官", "procuratorate", ["440305", "440309"]),
    ("demo-roster-ma", "马志远", "justice_bureau", ["440305", "440309"]),
]
RECORDS = {
    "held": "双方到场。职工方陈述拖欠工资数额及计算依据，用人单位代表对数额无异议，"
    "提出资金周转困难，请求分期支付。调解员释明劳动合同法相关规定，双方同意下次调解前各自核对工资明细。",
    "adjourned": "用人单位代表称需向公司负责人请示分期方案，双方同意休会，另行安排续调。",
    "no_show": "用人单位经电话通知未派代表到场，调解员已再次书面通知。",
}


def setup_mediation(coordinator: httpx.Client, mediators: list[httpx.Client]) -> int:
    """Rooms and the mediators' roster, before the cases arrive (so the rules can assign)."""
    added = 0
    for name, kind, district, location, capacity in ROOMS:
        answer = coordinator.post(
            "/api/v1/rooms",
            json={"name": name, "kind": kind, "district_code": district,
                  "location": location, "capacity": capacity},
        )  # fmt: skip
        if answer.status_code not in (201, 409):
            sys.exit(f"demo data: mediation refused a room: {answer.text}")
        added += answer.status_code == 201
    for subject, name, organisation, districts in MEDIATORS:
        answer = coordinator.put(
            f"/api/v1/mediators/{subject}",
            json={"name": name, "organisation": organisation, "districts": districts},
        )
        if answer.status_code != 200:
            sys.exit(f"demo data: mediation refused a mediator: {answer.text}")
    for client in mediators:  # a mediator who opens the workbench is on the roster
        client.get("/api/v1/me").raise_for_status()
    return added


def _slots(day: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """Morning and afternoon slots (China time) from ``day`` on, skipping weekends."""
    out: list[tuple[datetime, datetime]] = []
    while len(out) < count:
        if day.weekday() < 5:
            for hour, minute in ((9, 30), (14, 30)):
                start = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
                out.append((start, start + timedelta(hours=2)))
        day += timedelta(days=1)
    return out[:count]


def demo_sessions(coordinator: httpx.Client) -> int:
    """Sessions for the open mediations: some held yesterday (recorded), most in the coming
    days; a large group elects representatives first. Mediations that already have sessions
    (an earlier run) are left alone."""
    deadline = time.monotonic() + 90
    listing: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        listing = coordinator.get("/api/v1/mediations", params={"scope": "all"}).json()[
            "mediations"
        ]
        if len(listing) >= 8:
            break
        time.sleep(2)
    rooms = coordinator.get("/api/v1/rooms").json()
    by_district: dict[str, list[dict[str, Any]]] = {}
    for room in rooms:
        by_district.setdefault(room["district_code"], []).append(room)
    china = timezone(timedelta(hours=8))
    today = datetime.now(china)
    past = _slots(today - timedelta(days=7), 10)
    past = [s for s in past if s[1] < today][-4:]
    future = _slots(today + timedelta(days=1), 24)
    booked = 0
    outcomes = ["held", "adjourned", "no_show"]
    led = [m for m in listing if m["lead_mediator_id"]]
    for index, item in enumerate(sorted(led, key=lambda m: m["mediation_number"])[:12]):
        number = item["mediation_number"]
        detail = coordinator.get(f"/api/v1/mediations/{number}").json()
        if detail["sessions"]:
            continue
        if detail["needs_representatives"] and not detail["representatives"]:
            workers = [w["worker_ref"] for c in detail["cases"] for w in c.get("workers", [])]
            coordinator.put(
                f"/api/v1/mediations/{number}/representatives",
                json={"worker_refs": workers[:3], "elected_on": today.date().isoformat()},
            ).raise_for_status()
        if item["status"] == "received":
            coordinator.post(f"/api/v1/mediations/{number}/accept", json={})
        choices = by_district.get(item["district_code"]) or rooms
        slots = (past if index < len(past) else []) + future
        for attempt, (start, end) in enumerate(slots):
            room = choices[(index + attempt) % len(choices)]
            answer = coordinator.post(
                f"/api/v1/mediations/{number}/sessions",
                json={"room_id": room["room_id"], "starts_at": start.isoformat(),
                      "ends_at": end.isoformat()},
            )  # fmt: skip
            if answer.status_code == 409:
                continue  # the room or the mediator is taken: the next slot
            if answer.status_code != 201:
                break  # e.g. outside the window a session may be entered in
            booked += 1
            if start < today:
                outcome = outcomes[index % len(outcomes)]
                body: dict[str, Any] = {"outcome": outcome, "record": RECORDS[outcome]}
                if outcome == "no_show":
                    body["no_show"] = "employer"
                coordinator.post(
                    f"/api/v1/sessions/{answer.json()['session_id']}/record", json=body
                ).raise_for_status()
            break
    return booked


def main() -> None:
    counts = {"created": 0, "existing": 0}
    coordinator_auth = sign_in("demo-supervisor")
    with (
        httpx.Client(base_url=_url("mediation"), timeout=10, headers=coordinator_auth) as coord,
        httpx.Client(
            base_url=_url("mediation"), timeout=10, headers=sign_in("demo-mediator")
        ) as union_mediator,
        httpx.Client(
            base_url=_url("mediation"), timeout=10, headers=sign_in("demo-court-mediator")
        ) as court_mediator,
    ):
        rooms = setup_mediation(coord, [union_mediator, court_mediator])
        print(f"demo data: {rooms} mediation rooms added, {len(MEDIATORS)} roster mediators")
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
            print(
                f"demo data: {demo_work(client, officer, triage)} reveals, overrides, notes, "
                "contacts and consents recorded"
            )
            with httpx.Client(
                base_url=_url("intake"), timeout=10, headers=sign_in("demo-supervisor-440305")
            ) as supervisor:
                print(f"demo data: {void_test_call(client, supervisor)} test call voided")
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
    with httpx.Client(base_url=_url("mediation"), timeout=10, headers=coordinator_auth) as coord:
        print(f"demo data: {demo_sessions(coord)} mediation sessions booked")


if __name__ == "__main__":
    main()
