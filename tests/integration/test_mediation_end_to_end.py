"""The mediation issue's whole flow on real Kafka and PostgreSQL, with intake, triage,
mediation and projection as processes and nothing written behind their backs.

Twelve wage-arrears hotline calls against one employer → triage makes them one group
dispute and routes it to the court–union room → mediation opens one mediation and its
rules assign the union mediator on the roster as lead, with the five parties → acceptance,
three elected representatives, a five-party session held → an agreement with two
instalments → judicial confirmation applied for and granted by the inviting court → both
instalments paid → the mediation closes as fulfilled. Projection's dashboard counts one
dispute mediated (the mediations merged into the group's count nowhere), twelve workers,
and the recovered amount once, also after the payments are delivered again.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.kafka import produce_raw, read_topic
from tests.support.mediation_service import coordinator, events, query
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration

DISTRICT = "440305"
COURT = "深圳市南山区人民法院"
ROOM = {
    "name": "南山区职工服务中心诉调对接工作室",
    "kind": "court_union_room",
    "district_code": DISTRICT,
    "location": "南山区南海大道职工服务中心三楼",
    "capacity": 20,
}


def _consumed(url: str, outcome: str) -> int:
    metrics = httpx.get(f"{url}/metrics/", timeout=10).text
    return int(sum(
        float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
        if line.startswith("weiquan_events_consumed_total{") and f'outcome="{outcome}"' in line
    ))  # fmt: skip


def test_twelve_calls_to_a_fulfilled_agreement_counted_once(deployment: Deployment) -> None:
    deployment.start("intake", "triage", "mediation", "projection")
    intake, mediation, projection = (
        deployment[s].url for s in ("intake", "mediation", "projection")
    )
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    chen = signed_in(
        Role.MEDIATOR,
        subject="mediator-chen",
        organisation=Organisation.UNION,
        name="陈调解",
        districts=(DISTRICT,),
    )
    with httpx.Client(base_url=mediation, timeout=15) as med:
        registered = med.put(
            "/api/v1/mediators/mediator-chen",
            json={"name": "陈调解", "organisation": "union", "districts": [DISTRICT]},
            headers=coordinator(),
        )
        assert registered.status_code == 200, registered.text

    # Twelve callers of one employer over two days, as the hotline records them.
    rng = random.Random(1207)
    start = datetime.now(UTC) - timedelta(days=2)
    calls = [
        hotline_call(
            rng, story=0, employer=0, district=DISTRICT, called_at=start + timedelta(hours=3 * i)
        )
        for i in range(12)
    ]
    with httpx.Client(base_url=intake, timeout=15, headers=signed_in(Role.OPERATOR)) as client:
        numbers = []
        for call in calls:
            answer = client.post("/api/v1/hotline-calls", json=call)
            assert answer.status_code == 201, answer.text
            numbers.append(answer.json()["case_number"])

    # One mediation holding the twelve cases, with its lead.
    def the_mediation() -> list[dict[str, Any]]:
        return query(
            deployment,
            "SELECT m.mediation_id, m.mediation_number, m.route_detail, m.lead_mediator_id, "
            "m.organisations, m.five_party, count(c.case_id) AS cases "
            "FROM mediations m JOIN cases c USING (mediation_id) "
            "WHERE m.closed_at IS NULL AND m.group_id IS NOT NULL "
            "AND m.lead_mediator_id IS NOT NULL GROUP BY m.mediation_id",
        )

    wait_until(
        lambda: [m["cases"] for m in the_mediation()] == [12],
        what="one group mediation of twelve cases with a lead",
    )

    def grouped() -> list[dict[str, Any]]:
        return [
            e["payload"]
            for e in events(deployment, "case.grouped")
            if len(e["payload"]["case_numbers"]) == 12
        ]

    # triage grouped them and routed every one to the court–union room.
    assert grouped(), "triage's group of twelve cases"
    assert sorted(grouped()[-1]["case_numbers"]) == sorted(numbers)
    decisions = {
        e["payload"]["case_number"]: e["payload"]["route_detail"]
        for t in ("case.triaged", "case.retriaged")
        for e in sorted(events(deployment, t), key=lambda e: e["occurred_at"])
    }
    assert {decisions[n] for n in numbers} == {"mediation.court_union_room"}

    [held] = the_mediation()
    assert held["route_detail"] == "mediation.court_union_room"
    assert held["lead_mediator_id"] == "mediator-chen" and held["five_party"] is True
    assert len(held["organisations"]) == 5
    number, mediation_id = held["mediation_number"], str(held["mediation_id"])
    api = f"/api/v1/mediations/{number}"

    with httpx.Client(base_url=mediation, timeout=30) as med:
        accepted = med.post(f"{api}/accept", json={}, headers=chen)
        assert accepted.status_code == 200, accepted.text
        detail = med.get(api, headers=chen).json()
        workers = sorted({w["worker_ref"] for c in detail["cases"] for w in c["workers"]})
        assert len(workers) == 12

        # Three elected representatives, then a five-party session, held (entered after it).
        elected = med.put(
            f"{api}/representatives",
            json={"worker_refs": workers[:3], "elected_on": today.isoformat()},
            headers=chen,
        )
        assert elected.status_code == 200, elected.text
        room = med.post("/api/v1/rooms", json=ROOM, headers=coordinator())
        assert room.status_code == 201, room.text
        began = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
        booked = med.post(
            f"{api}/sessions",
            json={
                "room_id": room.json()["room_id"],
                "starts_at": began.isoformat(),
                "ends_at": (began + timedelta(hours=2)).isoformat(),
            },
            headers=chen,
        )
        assert booked.status_code == 201, booked.text
        session_id = booked.json()["session_id"]
        recorded = med.post(
            f"/api/v1/sessions/{session_id}/record", json={"outcome": "held"}, headers=chen
        )
        assert recorded.status_code == 200, recorded.text

        # The agreement: every worker's wages, in two instalments.
        items = [
            {"worker_ref": ref, "item": "wages", "amount": f"{9000 + 500 * i}.00"}
            for i, ref in enumerate(workers)
        ]
        total = sum((Decimal(i["amount"]) for i in items), Decimal(0))
        first = (total / 2).quantize(Decimal("0.01"))
        agreed = med.post(
            f"{api}/agreement",
            json={
                "items": items,
                "effective_on": today.isoformat(),
                "instalments": [
                    {"due_on": (today + timedelta(days=10)).isoformat(), "amount": str(first)},
                    {
                        "due_on": (today + timedelta(days=40)).isoformat(),
                        "amount": str(total - first),
                    },
                ],
            },
            headers=chen,
        )
        assert agreed.status_code == 201, agreed.text

        # Judicial confirmation by the court that invited the room, granted.
        applied = med.post(
            f"{api}/confirmation",
            json={
                "court_name": COURT,
                "court_basis": "invited",
                "applied_on": today.isoformat(),
                "both_parties": True,
            },
            headers=chen,
        )
        assert applied.status_code == 200, applied.text
        ruled = med.post(
            f"{api}/confirmation/ruling",
            json={
                "ruling": "confirmed",
                "ruling_number": f"（{today.year}）粤0305民特456号",
                "decided_on": today.isoformat(),
            },
            headers=chen,
        )
        assert ruled.status_code == 200, ruled.text

        # Both instalments paid: the second closes the mediation.
        for n, amount in ((1, first), (2, total - first)):
            paid = med.post(
                f"{api}/instalments/{n}/payment",
                json={
                    "amount": str(amount),
                    "paid_on": today.isoformat(),
                    "evidence": "bank_transfer",
                },
                headers=chen,
            )
            assert paid.status_code == 200, paid.text
        assert paid.json()["closed"] is True

    def closed() -> list[dict[str, Any]]:
        return [e["payload"] for e in events(deployment, "mediation.closed")
                if e["subject"] == mediation_id]  # fmt: skip

    wait_until(lambda: bool(closed()), what="mediation.closed")
    [end] = closed()
    assert end["result"] == "fulfilled" and end["worker_count"] == 12
    assert Decimal(str(end["amount_recovered"])) == total
    [session] = [
        e["payload"]
        for e in events(deployment, "mediation.session_scheduled")
        if e["subject"] == mediation_id
    ]
    assert session["parties"]["representatives_elected"] is True
    assert session["parties"]["workers"] == workers[:3]
    assert len(session["parties"]["organisations"]) == 5
    [ruling] = [
        e["payload"]
        for e in events(deployment, "mediation.confirmation_decided")
        if e["subject"] == mediation_id
    ]
    assert ruling["ruling"] == "confirmed"

    # The dashboard: one dispute, twelve workers, the money once.
    supervisor = signed_in(Role.SUPERVISOR, districts=(DISTRICT,))
    params = {
        "district": DISTRICT,
        "from": (today - timedelta(days=7)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }

    def figures() -> dict[str, Any]:
        answer = httpx.get(
            f"{projection}/api/v1/dashboard", params=params, headers=supervisor, timeout=15
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["mediation"])

    def settled() -> bool:
        now = figures()
        return (
            Decimal(str(now["money_recovered"])) == total
            and now["disputes_mediated"] == 1
            and now["workers_covered"] == 12
            and now["concluded"] == 1
        )

    wait_until(settled, what="projection's mediation figures")

    # The payments delivered again (a redelivery): seen as duplicates, counted once.
    bootstrap = deployment.infra.kafka_bootstrap
    topic = deployment.settings().topic("mediation.instalment_paid")
    duplicates = _consumed(projection, "duplicate")
    records = asyncio.run(read_topic(bootstrap, topic))
    for r in records:
        asyncio.run(produce_raw(bootstrap, topic, [r.value], key=r.key))
    wait_until(
        lambda: _consumed(projection, "duplicate") >= duplicates + len(records),
        what="the redelivered payments seen by projection",
    )
    counted = figures()
    assert counted["disputes_mediated"] == 1 and counted["workers_covered"] == 12
    assert counted["succeeded"] == 1
    assert Decimal(str(counted["money_agreed"])) == total
    assert Decimal(str(counted["money_recovered"])) == total
