"""No personal data on Kafka, in clear in a database, in an API answer or in a log.

Kafka keeps case events forever, so whatever leaks there stays. Names, mobiles and ID
numbers are planted through every channel (hotline, walk-in desk, WeChat, consultation),
a case's note and a contact's remark (the case file), and the officer's override, in
the forms people type them (spaces, dashes, full-width digits, +86, names after
我叫/工友/同事); once intake, triage and projection have handled everything, every topic
of the namespace is read to its end, every row of the three databases is read as text,
the public APIs are asked, and the services' logs are searched for each planted value,
as typed and as bare digits.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.test_intake_channels import AES_KEY, APP_ID, TOKEN, FakeWeChatServer
from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import consultation, hotline_call, walk_in_group, wechat_answers

pytestmark = pytest.mark.integration

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spaced_mobile(mobile: str) -> str:
    return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"


def dashed_mobile(mobile: str) -> str:
    return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"


def dashed_id(id_number: str) -> str:
    return f"{id_number[:6]}-{id_number[6:14]}-{id_number[14:]}"


def forms(value: str) -> set[str]:
    """The planted value and how it may reappear: as typed, compact, bare digits."""
    compact = re.sub(
        r"[\s\-]", "", value.translate(str.maketrans("０１２３４５６７８９Ｘ", "0123456789X"))
    )
    found = {value, compact}
    digits = re.sub(r"\D", "", compact)
    if len(digits) >= 11:
        found.add(digits)
    return found


async def every_topic(deployment: Deployment) -> str:
    """Every record (key, value, headers) of every topic of the namespace, as one text."""
    settings = deployment.settings()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(settings.namespace + ".")]
    finally:
        await admin.close()
    assert settings.topic("case.reported") in topics and settings.topic("dlq.intake") in topics
    parts = []
    for topic in sorted(topics):
        for record in await read_topic(settings.kafka_bootstrap, topic):
            parts.append((record.key or b"").decode(errors="replace"))
            parts.append((record.value or b"").decode(errors="replace"))
            parts += [v.decode(errors="replace") for _, v in record.headers or ()]
    return "\n".join(parts)


async def every_row(deployment: Deployment) -> str:
    """Every row of every table of the three services' databases, as JSON text."""
    parts = []
    for service in ("intake", "triage", "projection"):
        conn = await deployment.connect(service)
        try:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
            for table in tables:
                rows = await conn.fetch(f'SELECT row_to_json(t)::text AS j FROM "{table[0]}" t')
                parts += [row["j"] for row in rows]
        finally:
            await conn.close()
    return "\n".join(parts)


def test_planted_personal_data_appears_nowhere(deployment: Deployment) -> None:
    deployment.start(
        "intake",
        "triage",
        "projection",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    intake, triage = deployment["intake"].url, deployment["triage"].url
    projection = deployment["projection"].url
    rng = random.Random(2026)
    planted: set[str] = set()

    # Hotline: the worker's own data typed into the text, co-workers introduced by cue words.
    call = hotline_call(rng, workers=1, story=0)
    worker = call["workers"][0]
    worker["occupation"] = "塔吊信号工"
    call["description"] = (
        f"我叫{worker['name']}，手机{spaced_mobile(worker['mobile'])}，身份证"
        f"{dashed_id(worker['id_number'])}。工友韩立新和同事邹美玲也被拖欠工资，"
        f"韩立新电话+86 {dashed_mobile('13800138000')}。" + call["description"]
    )
    call["demands"] = f"联系电话{worker['mobile'].translate(FULL_WIDTH)}，" + call["demands"]
    planted |= {worker["name"], worker["mobile"], worker["id_number"], "塔吊信号工"}
    planted |= {"韩立新", "邹美玲", "13800138000", spaced_mobile(worker["mobile"])}
    planted |= {dashed_id(worker["id_number"]), worker["mobile"].translate(FULL_WIDTH)}
    response = httpx.post(
        f"{intake}/api/v1/hotline-calls", json=call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert response.status_code == 201, response.text
    hotline_number = response.json()["case_number"]

    # The case file: a note and a contact's remark, each naming the worker and a number.
    note_text = f"案件记录暗记{secrets.token_hex(4)}：{worker['name']}说工资条在宿舍"
    remark = f"联系备注暗记{secrets.token_hex(4)}：改打家属电话13600136000"
    planted |= {note_text, remark, "13600136000"}
    for path, body in (
        ("notes", {"text": note_text}),
        ("contacts", {"method": "call_back", "outcome": "reached", "remark": remark}),
    ):
        written = httpx.post(
            f"{intake}/api/v1/cases/{hotline_number}/{path}",
            json=body,
            headers=signed_in(Role.OPERATOR) | {"Idempotency-Key": f"leak-{path}"},
        )
        assert written.status_code == 201, written.text

    # Walk-in group: names of the group in each other's text.
    group = walk_in_group(rng, workers=3, story=1)
    names = [w["name"] for w in group["workers"]]
    group["description"] = (
        f"本人{names[0]}，和{names[1]}、{names[2]}一起被辞退。" + group["description"]
    )
    planted |= {value for w in group["workers"] for value in (w["name"], w["mobile"])}
    planted |= {w["id_number"] for w in group["workers"]}
    assert (
        httpx.post(
            f"{intake}/api/v1/walk-in-registrations", json=group, headers=signed_in(Role.OPERATOR)
        ).status_code
        == 201
    )

    # Consultation: the caller gives a name and a number although none is asked for.
    question = consultation(rng)
    question["question"] = "我叫曹文轩，电话139-1234-0002，" + question["question"]
    planted |= {"曹文轩", "139-1234-0002"}
    assert (
        httpx.post(
            f"{intake}/api/v1/consultations", json=question, headers=signed_in(Role.OPERATOR)
        ).status_code
        == 201
    )

    # WeChat: the conversation, with a number typed with spaces into what happened.
    answers = wechat_answers(rng, story=0)
    answers[5] = f"我叫{answers[1]}，电话{spaced_mobile(answers[2])}，" + answers[5]
    planted |= {answers[1], answers[2], spaced_mobile(answers[2])}
    wechat = FakeWeChatServer(intake, "oLeak" + secrets.token_urlsafe(20))
    replies = [wechat.send(text) for text in answers]
    assert replies[-1].startswith("登记成功！")

    # The officer's override, with a name, a mobile and an ID number in the reason.
    decisions = f"{triage}/api/v1/cases/{hotline_number}/decisions"
    officer = signed_in(Role.TRIAGE_OFFICER)
    wait_until(lambda: httpx.get(decisions, headers=officer).status_code == 200)
    reason = (
        f"职工本人{worker['name']}来电补充（139 1234 0003），"
        f"身份证{worker['id_number']}，转法律援助"
    )
    planted |= {"139 1234 0003"}
    # Legal aid, and another urgency: something changes whatever triage decided.
    current = httpx.get(decisions, headers=officer).json()[-1]
    urgency = "normal" if current["urgency"] == "critical" else "critical"
    override = httpx.post(
        f"{triage}/api/v1/cases/{hotline_number}/override",
        json={"reason": reason, "route_detail": "legal_aid.union", "urgency": urgency},
        headers=officer,
    )
    assert override.status_code == 200, override.text

    # Wait for the pipeline: projection has the re-routing, intake tells the worker.
    timeline = f"{projection}/api/v1/cases/{hotline_number}/timeline"

    def retriaged_in_timeline() -> bool:
        answer = httpx.get(timeline, headers=signed_in(Role.SUPERVISOR))
        return answer.status_code == 200 and "case.retriaged" in answer.text

    wait_until(retriaged_in_timeline)
    wait_until(
        lambda: (
            httpx.get(
                f"{intake}/api/v1/cases/{hotline_number}", headers=signed_in(Role.OPERATOR)
            ).json()["status"]
            == "已分流至法律援助"
        )
    )
    wechat_number = replies[-1].split("您的案件编号是 ")[1].split("，")[0]
    wait_until(lambda: f"{wechat_number}：已分流" in wechat.send(f"查询 {wechat_number}"))

    answers_text = "\n".join(
        httpx.get(url, headers=signed_in(role)).text
        for url, role in (
            (decisions, Role.TRIAGE_OFFICER),
            (timeline, Role.SUPERVISOR),
            (f"{intake}/api/v1/cases/{hotline_number}", Role.OPERATOR),
        )
    )
    assert (
        "职工本人" in httpx.get(timeline, headers=signed_in(Role.SUPERVISOR)).text
    )  # the reason is published, redacted
    places = {
        "Kafka": asyncio.run(every_topic(deployment)),
        "databases": asyncio.run(every_row(deployment)),
        "API answers": answers_text,
        "logs": "\n".join(deployment[s].log_text() for s in ("intake", "triage", "projection")),
    }
    assert "case.retriaged" in places["Kafka"] and "塔吊" not in places["databases"]
    assert "case.note_added" in places["Kafka"] and "case.contact_recorded" in places["Kafka"]
    leaks = [
        (value, form, where)
        for value in sorted(planted)
        for form in sorted(forms(value))
        for where, text in places.items()
        if form in text
    ]
    assert leaks == []
