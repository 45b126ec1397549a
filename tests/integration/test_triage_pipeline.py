"""Triage on the real stack: inbox idempotency, a group dispute over a week, the override."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.test_walking_skeleton import wait_for_dashboard
from tests.support.kafka import produce_raw, read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef

pytestmark = pytest.mark.integration


def events(deployment: Deployment, event_type: str) -> list[dict[str, Any]]:
    topic = deployment.settings().topic(event_type)
    records = asyncio.run(read_topic(deployment.infra.kafka_bootstrap, topic))
    return [orjson.loads(r.value) for r in records]


def query(deployment: Deployment, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await deployment.connect("triage")
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def test_replayed_case_reported_yields_one_decision(deployment: Deployment) -> None:
    deployment.start("triage")
    case = CaseReported(
        case_id=uuid.uuid4(),
        case_number="440305-2026-000001",
        channel="hotline",
        channel_ref="12351-replay",
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(name="深圳市华南电子科技有限公司", district_code="440305"),
        workers=[WorkerRef(worker_ref="a" * 64, is_migrant_worker=True)],
        summary="公司已经三个月没发工资了，拖欠金额约一万元。",
    )
    envelope = new_event(
        case, subject=str(case.case_id), producer="intake", actor=Actor.system("intake")
    )
    topic = deployment.settings().topic("case.reported")
    raw = encode(envelope)
    asyncio.run(
        produce_raw(
            deployment.infra.kafka_bootstrap, topic, [raw, raw], key=str(case.case_id).encode()
        )
    )
    wait_until(lambda: len(events(deployment, "case.triaged")) >= 1)
    time.sleep(2)  # give the duplicate every chance to be (wrongly) applied
    assert query(deployment, "SELECT count(*) AS n FROM decisions") == [{"n": 1}]
    assert query(deployment, "SELECT count(*) AS n FROM inbox") == [{"n": 1}]
    triaged = events(deployment, "case.triaged")
    assert len(triaged) == 1
    assert triaged[0]["payload"]["category"] == "wage_arrears"
    assert triaged[0]["causation_id"] == str(envelope.event_id)


CASES = 30


def test_thirty_calls_over_a_week_become_one_critical_group(deployment: Deployment) -> None:
    deployment.start("intake", "triage", "projection")
    rng = random.Random(530)
    start = datetime.now(UTC) - timedelta(days=7)
    calls = [
        hotline_call(
            rng,
            story=0,
            employer=0,
            district="440305",
            called_at=start + timedelta(hours=i * 7 * 24 / CASES),
        )
        for i in range(CASES)
    ]
    with httpx.Client(
        base_url=deployment["intake"].url, timeout=10, headers=signed_in(Role.OPERATOR)
    ) as client:
        numbers = []
        for call in calls:
            response = client.post("/api/v1/hotline-calls", json=call)
            assert response.status_code == 201, response.text
            numbers.append(response.json()["case_number"])

    # The upgrades and the flag are published by the outbox relay a moment after the
    # decisions they rode with: wait for them too before reading the story off Kafka.
    wait_until(
        lambda: (
            len(events(deployment, "case.triaged")) == CASES
            and len(events(deployment, "case.retriaged")) >= 9
            and len(events(deployment, "employer.flagged")) >= 1
        )
    )

    # In triage's database: one group, thirty linked cases, every one critical, flagged.
    groups = query(deployment, "SELECT group_id, case_count, worker_count FROM groups")
    assert [(g["case_count"], g["worker_count"]) for g in groups] == [(CASES, CASES)]
    linked = query(
        deployment, "SELECT case_number FROM cases WHERE group_id = $1", groups[0]["group_id"]
    )
    assert sorted(r["case_number"] for r in linked) == sorted(numbers)
    current = query(
        deployment,
        "SELECT DISTINCT ON (case_id) urgency, route_detail FROM decisions "
        "ORDER BY case_id, id DESC",
    )
    assert len(current) == CASES
    assert {(r["urgency"], r["route_detail"]) for r in current} == {
        ("critical", "mediation.court_union_room")
    }
    upgrades = query(deployment, "SELECT count(*) AS n FROM decisions WHERE kind = 'group'")
    assert upgrades == [{"n": 9}]  # the cases decided before the tenth worker's call
    flags = query(deployment, "SELECT flagged_on FROM employers WHERE flagged_on IS NOT NULL")
    assert len(flags) == 1

    # On Kafka: the same story, told by events.
    triaged = events(deployment, "case.triaged")
    retriaged = events(deployment, "case.retriaged")
    assert len(retriaged) == 9
    assert {e["payload"]["retriaged_by"] for e in retriaged} == {"system"}
    assert {e["schema_version"] for e in retriaged} == {2}
    assert {e["payload"]["decision_seq"] for e in retriaged} == {2}  # each upgrades decision 1
    latest: dict[str, str] = {}
    for event in [*triaged, *retriaged]:  # retriaged always follows the case's triage
        latest[event["payload"]["case_number"]] = event["payload"]["urgency"]
    assert sorted(latest) == sorted(numbers)
    assert set(latest.values()) == {"critical"}
    grouped = events(deployment, "case.grouped")
    assert grouped[0]["payload"]["worker_count"] == 10
    assert sorted(grouped[-1]["payload"]["case_numbers"]) == sorted(numbers)
    assert {e["subject"] for e in grouped} == {str(groups[0]["group_id"])}
    flagged = events(deployment, "employer.flagged")
    assert len(flagged) == 1
    assert flagged[0]["payload"]["case_count"] == 3

    # Projection shows every case's current decision, including those triaged and upgraded
    # in one batch (both decisions then bear the same time).
    figures = wait_for_dashboard(
        deployment,
        lambda f: (
            f["totals"]["cases"] == CASES
            and {u["code"]: u["cases"] for u in f["by_urgency"]} == {"critical": CASES}
        ),
    )
    assert figures["totals"]["awaiting_triage"] == 0
    assert {u["code"]: u["cases"] for u in figures["by_urgency"]} == {"critical": CASES}


def test_override_emits_case_retriaged_and_keeps_both_decisions(deployment: Deployment) -> None:
    deployment.start("intake", "triage")
    call = hotline_call(random.Random(77), story=2, workers=1)  # dismissal
    accepted = httpx.post(
        f"{deployment['intake'].url}/api/v1/hotline-calls",
        json=call,
        timeout=10,
        headers=signed_in(Role.OPERATOR),
    )
    assert accepted.status_code == 201, accepted.text
    number = accepted.json()["case_number"]
    triage = deployment["triage"].url
    wait_until(
        lambda: (
            httpx.get(
                f"{triage}/api/v1/cases/{number}/decisions", headers=signed_in(Role.TRIAGE_OFFICER)
            ).status_code
            == 200
        )
    )

    officer = signed_in(Role.TRIAGE_OFFICER, subject="officer-017", name="分流员李明")
    invalid = httpx.post(
        f"{triage}/api/v1/cases/{number}/override",
        json={"reason": "", "urgency": "critical"},
        headers=officer,
    )
    assert invalid.status_code == 422
    assert "调整理由" in invalid.json()["message"]

    response = httpx.post(
        f"{triage}/api/v1/cases/{number}/override",
        json={
            "reason": "职工补充：同车间另有多人被辞退，需尽快处理",
            "urgency": "critical",
            "route_detail": "mediation.court_union_room",
        },
        headers=officer,
    )
    assert response.status_code == 200, response.text
    assert response.json()["current"]["urgency"] == "critical"

    history = httpx.get(
        f"{triage}/api/v1/cases/{number}/decisions", headers=signed_in(Role.TRIAGE_OFFICER)
    ).json()
    assert [(d["kind"], d["seq"]) for d in history] == [("initial", 1), ("override", 2)]
    assert history[1]["actor"] == "分流员李明"  # who the token says, not the body
    assert history[1]["previous"]["urgency"] == history[0]["urgency"]
    assert history[1]["route_detail"] == "mediation.court_union_room"

    wait_until(lambda: len(events(deployment, "case.retriaged")) == 1, timeout_s=30)
    [retriaged] = events(deployment, "case.retriaged")
    payload = retriaged["payload"]
    assert (payload["retriaged_by"], payload["officer_id"], payload["urgency"]) == (
        "officer",
        "officer-017",
        "critical",
    )
    assert payload["previous"]["urgency"] == history[0]["urgency"]
    assert (retriaged["schema_version"], payload["decision_seq"]) == (2, 2)

    page = httpx.get(f"{triage}/override", headers=officer)
    assert page.status_code == 200 and "调整分流" in page.text
