"""Mediation on the real stack: cases routed to mediation open mediations (one per group
dispute), consent first, no double booking under real concurrency, clocks that run out."""

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

from tests.support.kafka import produce_raw, read_topic, wait_for_records
from tests.support.mediation_service import (
    consent,
    coordinator,
    events,
    mediator,
    open_numbers,
    publish,
    query,
    reported,
    triaged,
    voided,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import CaseGrouped, CaseRetriaged, TriageReason
from weiquan_shared.events.triage import DecisionSnapshot

pytestmark = pytest.mark.integration

ROOM = {
    "name": "南山区职工服务中心诉调对接工作室",
    "kind": "court_union_room",
    "district_code": "440305",
    "location": "南山区南海大道职工服务中心三楼",
    "capacity": 20,
}


def register(client: httpx.Client, subject: str, name: str, organisation: str) -> None:
    response = client.put(
        f"/api/v1/mediators/{subject}",
        json={"name": name, "organisation": organisation, "districts": ["440305"]},
        headers=coordinator(),
    )
    assert response.status_code == 200, response.text


def test_twelve_calls_against_one_employer_make_one_mediation(deployment: Deployment) -> None:
    """Twelve wage-arrears calls (real intake and triage): one group, one mediation with
    twelve workers, a union lead and the five-party mechanism; replaying triage's events
    changes nothing."""
    deployment.start("intake", "triage", "mediation")
    with httpx.Client(base_url=deployment["mediation"].url, timeout=10) as med:
        register(med, "mediator-chen", "陈调解", "union")
    rng = random.Random(1207)
    start = datetime.now(UTC) - timedelta(days=2)
    calls = [
        hotline_call(
            rng,
            story=0,
            employer=0,
            district="440305",
            called_at=start + timedelta(hours=3 * i),
        )
        for i in range(12)
    ]
    with httpx.Client(
        base_url=deployment["intake"].url, timeout=10, headers=signed_in(Role.OPERATOR)
    ) as client:
        numbers = []
        for call in calls:
            response = client.post("/api/v1/hotline-calls", json=call)
            assert response.status_code == 201, response.text
            numbers.append(response.json()["case_number"])

    def settled() -> bool:
        rows = query(
            deployment,
            "SELECT count(*) AS n FROM cases c JOIN mediations m USING (mediation_id) "
            "WHERE m.closed_at IS NULL AND m.group_id IS NOT NULL",
        )
        return rows[0]["n"] == 12

    wait_until(settled, what="twelve cases in one group mediation")
    open_ones = query(
        deployment,
        "SELECT mediation_id, mediation_number, group_id, route_detail, lead_mediator_id, "
        "organisations, five_party FROM mediations WHERE closed_at IS NULL",
    )
    assert len(open_ones) == 1
    group = open_ones[0]
    assert group["route_detail"] == "mediation.court_union_room"
    members = query(
        deployment,
        "SELECT case_number, workers FROM cases WHERE mediation_id = $1",
        group["mediation_id"],
    )
    assert sorted(m["case_number"] for m in members) == sorted(numbers)
    assert len({w["worker_ref"] for m in members for w in m["workers"]}) == 12
    assert group["five_party"] is True
    assert group["lead_mediator_id"] == "mediator-chen"
    # Any case triaged before the group formed had its own mediation, now merged into it.
    closed = query(
        deployment, "SELECT closed_result, merged_into FROM mediations WHERE closed_at IS NOT NULL"
    )
    assert all(
        c["closed_result"] == "merged" and c["merged_into"] == group["mediation_id"] for c in closed
    )

    # The events say the same: the group mediation's latest word holds twelve workers.
    mediation_id = str(group["mediation_id"])

    def latest_workers() -> int:
        about = [
            e
            for t in ("mediation.opened", "mediation.cases_changed")
            for e in events(deployment, t)
            if e["subject"] == mediation_id
        ]
        latest = max(about, key=lambda e: e["occurred_at"])
        return len(latest["payload"]["workers"])

    wait_until(lambda: latest_workers() == 12, what="events naming twelve workers")
    assigned = [e for e in events(deployment, "mediation.assigned") if e["subject"] == mediation_id]
    assert assigned[-1]["payload"]["five_party"] is True
    # Five parties: a group of ten or more, or (earlier, while it was smaller) a repeat
    # employer's sensitive dispute; the lead stays the union mediator throughout.
    assert assigned[-1]["payload"]["rule_ids"][0].startswith("assign.five_party.")
    assert {e["payload"]["lead_mediator_id"] for e in assigned} == {"mediator-chen"}
    for event in events(deployment, "mediation.opened"):
        text = str(event)
        assert all(c["workers"][0]["name"] not in text for c in calls)

    # Replaying every triage event (a redelivery) changes nothing.
    before = query(deployment, "SELECT count(*) AS n FROM mediations")

    # Late events (triage's group upgrades) may still be arriving: take the inbox once it
    # has stopped growing for two seconds.
    def settled_inbox() -> list[dict]:
        first = query(deployment, "SELECT count(*) AS n FROM inbox")
        time.sleep(2)
        return first if query(deployment, "SELECT count(*) AS n FROM inbox") == first else []

    inbox_before = wait_until(settled_inbox, what="mediation's inbox to settle")

    async def replay() -> None:
        for event_type in ("case.triaged", "case.retriaged", "case.grouped"):
            topic = deployment.settings().topic(event_type)
            for record in await read_topic(deployment.infra.kafka_bootstrap, topic):
                await produce_raw(
                    deployment.infra.kafka_bootstrap, topic, [record.value], key=record.key
                )

    replayed = sum(
        len(
            asyncio.run(
                read_topic(deployment.infra.kafka_bootstrap, deployment.settings().topic(t))
            )
        )
        for t in ("case.triaged", "case.retriaged", "case.grouped")
    )
    asyncio.run(replay())

    def duplicates() -> int:
        metrics = httpx.get(f"{deployment['mediation'].url}/metrics/").text
        return int(sum(
            float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
            if line.startswith("weiquan_events_consumed_total{") and 'outcome="duplicate"' in line
        ))  # fmt: skip

    wait_until(lambda: duplicates() >= replayed, what="every replayed event seen as a duplicate")
    assert query(deployment, "SELECT count(*) AS n FROM inbox") == inbox_before
    assert query(deployment, "SELECT count(*) AS n FROM mediations") == before
    assert open_numbers(deployment) == [group["mediation_number"]]

    # A five-party session of the twelve: their elected representatives come, not all twelve.
    number = group["mediation_number"]
    with httpx.Client(base_url=deployment["mediation"].url, timeout=10) as med:
        room = med.post("/api/v1/rooms", json=ROOM, headers=coordinator()).json()["room_id"]
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        session = {
            "room_id": room,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
        }
        chen = mediator("mediator-chen", Organisation.UNION, "陈调解")
        unelected = med.post(f"/api/v1/mediations/{number}/sessions", json=session, headers=chen)
        assert unelected.status_code == 422
        assert "劳动争议调解仲裁法第七条" in unelected.json()["message"]
        workers = sorted({w["worker_ref"] for m in members for w in m["workers"]})
        elected = med.put(
            f"/api/v1/mediations/{number}/representatives",
            json={
                "worker_refs": workers[:3],
                "elected_on": (datetime.now(UTC) + timedelta(hours=8)).date().isoformat(),
            },
            headers=chen,
        )
        assert elected.status_code == 200, elected.text
        booked = med.post(f"/api/v1/mediations/{number}/sessions", json=session, headers=chen)
        assert booked.status_code == 201, booked.text
    wait_until(
        lambda: len(events(deployment, "mediation.session_scheduled")) == 1, what="the session"
    )
    [scheduled] = events(deployment, "mediation.session_scheduled")
    parties = scheduled["payload"]["parties"]
    assert parties["representatives_elected"] is True and parties["workers"] == workers[:3]
    assert len(parties["organisations"]) == 5 and parties["mediator_ids"] == ["mediator-chen"]


def test_consent_first_for_court_mediators(deployment: Deployment) -> None:
    """A court mediator sees the mediation but not the case's personal data until the
    worker's consent covers the court; a union mediator sees it at once."""
    deployment.start("mediation")
    case = reported("440305-2026-100001", workers=2)
    publish(deployment, "intake", case)
    publish(deployment, "triage", triaged(case))
    wait_until(lambda: len(open_numbers(deployment)) == 1, what="a mediation")
    number = open_numbers(deployment)[0]
    court = mediator("court-wu", Organisation.PEOPLES_COURT, "吴法官")
    union = mediator("union-li", Organisation.UNION, "李调解")
    with httpx.Client(base_url=deployment["mediation"].url, timeout=10) as client:
        listing = client.get("/api/v1/mediations", params={"scope": "all"}, headers=court)
        assert listing.status_code == 200, listing.text
        [item] = listing.json()["mediations"]
        assert item["mediation_number"] == number
        assert item["withheld_cases"] == 1
        assert "尚未记录职工同意向人民法院提供个人信息" in item["missing"]
        detail = client.get(f"/api/v1/mediations/{number}", headers=court).json()
        [shown] = detail["cases"]
        assert shown["withheld"] is True and "workers" not in shown
        assert "claim_amount" not in shown and detail["claim_amount"] is None
        assert "个人信息保护法第二十三条" in shown["missing"]

        as_union = client.get(f"/api/v1/mediations/{number}", headers=union).json()
        assert as_union["cases"][0]["withheld"] is False
        assert len(as_union["cases"][0]["workers"]) == 2
        assert as_union["claim_amount"] == "18000.00"

        # A labour-bureau consent does not open it to the court; a court consent does.
        publish(deployment, "intake", consent(case, "labour_bureau"))
        wait_until(
            lambda: (
                query(deployment, "SELECT consent_scopes FROM cases")[0]["consent_scopes"]
                == ["labour_bureau"]
            ),
            what="labour bureau consent",
        )
        still = client.get(f"/api/v1/mediations/{number}", headers=court).json()
        assert still["cases"][0]["withheld"] is True
        publish(deployment, "intake", consent(case, "court", "labour_bureau"))
        wait_until(
            lambda: (
                query(deployment, "SELECT consent_scopes FROM cases")[0]["consent_scopes"]
                == ["court", "labour_bureau"]
            ),
            what="court consent",
        )
        opened = client.get(f"/api/v1/mediations/{number}", headers=court).json()
        assert opened["cases"][0]["withheld"] is False
        assert len(opened["cases"][0]["workers"]) == 2

        # A procuratorate mediator is never in a consent scope.
        procurator = mediator("proc-he", Organisation.PROCURATORATE, "何检察官")
        hidden = client.get(f"/api/v1/mediations/{number}", headers=procurator)
        assert hidden.status_code == 404  # not a party to this two-organisation mediation


def _two_mediations(deployment: Deployment) -> tuple[str, str]:
    first, second = reported("440305-2026-200001"), reported("440305-2026-200002")
    publish(deployment, "intake", first, second)
    publish(deployment, "triage", triaged(first), triaged(second))
    wait_until(lambda: len(open_numbers(deployment)) == 2, what="two mediations")
    a, b = open_numbers(deployment)
    return a, b


async def _race(
    url: str, requests: list[tuple[str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        return await asyncio.gather(
            *(client.post(path, json=body, headers=headers) for path, body, headers in requests)
        )


def test_no_double_booking_under_concurrency(deployment: Deployment) -> None:
    """Two bookings of one room slot at once: exactly one wins, the other gets a Chinese
    409 naming the room and the mediation holding it. Likewise one mediator in two rooms."""
    deployment.start("mediation")
    a, b = _two_mediations(deployment)
    url = deployment["mediation"].url
    with httpx.Client(base_url=url, timeout=10) as client:
        register(client, "mediator-chen", "陈调解", "union")
        register(client, "mediator-lin", "林调解", "union")
        room = client.post("/api/v1/rooms", json=ROOM, headers=coordinator())
        assert room.status_code == 201, room.text
        video = client.post(
            "/api/v1/rooms",
            json={**ROOM, "name": "南山区工会视频调解室", "kind": "video", "location": "线上"},
            headers=coordinator(),
        )
        room_id, video_id = room.json()["room_id"], video.json()["room_id"]
    booker = mediator("mediator-chen", Organisation.UNION, "陈调解")
    slot = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)

    def body(room: str, mediators: list[str], hours: float = 2) -> dict[str, Any]:
        return {
            "room_id": room,
            "starts_at": slot.isoformat(),
            "ends_at": (slot + timedelta(hours=hours)).isoformat(),
            "mediator_ids": mediators,
        }

    # Same room, overlapping times, different mediators: the room is the conflict.
    answers = asyncio.run(
        _race(
            url,
            [
                (f"/api/v1/mediations/{a}/sessions", body(room_id, ["mediator-chen"]), booker),
                (f"/api/v1/mediations/{b}/sessions", body(room_id, ["mediator-lin"], 1), booker),
            ],
        )
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201, 409], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409).json()["message"]
    winner = next(r for r in answers if r.status_code == 201).json()["mediation_number"]
    assert f"调解室“{ROOM['name']}”" in loser and winner in loser and "已被" in loser
    assert query(deployment, "SELECT count(*) AS n FROM sessions") == [{"n": 1}]

    # One mediator, two rooms, overlapping times: the mediator is the conflict.
    later = slot + timedelta(days=1)
    slot = later
    answers = asyncio.run(
        _race(
            url,
            [
                (f"/api/v1/mediations/{a}/sessions", body(room_id, ["mediator-lin"]), booker),
                (f"/api/v1/mediations/{b}/sessions", body(video_id, ["mediator-lin"]), booker),
            ],
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409).json()["message"]
    assert "调解员林调解" in loser and "同一时间不能出现在两个地方" in loser
    assert query(deployment, "SELECT count(*) AS n FROM sessions") == [{"n": 2}]
    wait_until(
        lambda: len(events(deployment, "mediation.session_scheduled")) == 2,
        what="two sessions announced",
    )
    scheduled = events(deployment, "mediation.session_scheduled")
    assert {e["payload"]["place"]["room_name"] for e in scheduled} <= {
        ROOM["name"],
        "南山区工会视频调解室",
    }


def test_clock_runs_out_without_agreement(deployment: Deployment) -> None:
    """A mediation received twenty days ago: the statutory clock has run out, so the sweep
    announces it once, offering arbitration and legal aid."""
    deployment.start("mediation", WEIQUAN_MEDIATION_SWEEP_INTERVAL_S="1")
    case = reported("440305-2026-300001")
    publish(deployment, "intake", case)
    publish(deployment, "triage", triaged(case, at=datetime.now(UTC) - timedelta(days=20)))
    wait_until(lambda: len(events(deployment, "mediation.expired")) == 1, what="expiry")
    [expired] = events(deployment, "mediation.expired")
    payload = expired["payload"]
    assert payload["clock"]["kind"] == "statutory_receipt"
    assert payload["deemed_failed"] is False
    assert payload["offers"] == ["arbitration", "legal_aid"]
    assert payload["case_numbers"] == [case.case_number]
    assert payload["worker_refs"] == [case.workers[0].worker_ref]
    # Announced once, however often the sweep runs.
    asyncio.run(asyncio.sleep(3))
    assert len(events(deployment, "mediation.expired")) == 1
    assert query(deployment, "SELECT status FROM mediations") == [{"status": "received"}]

    # Accepted (recorded late) on the day it was received: the regulation's clock has run
    # out too, so the mediation is deemed to have failed and closes as expired.
    [row] = query(deployment, "SELECT mediation_number, received_on FROM mediations")
    accepted = httpx.post(
        f"{deployment['mediation'].url}/api/v1/mediations/{row['mediation_number']}/accept",
        json={"accepted_on": row["received_on"].isoformat()},
        headers=coordinator(),
    )
    assert accepted.status_code == 200, accepted.text
    wait_until(lambda: len(events(deployment, "mediation.expired")) == 2, what="second expiry")
    regulation = events(deployment, "mediation.expired")[1]["payload"]
    assert regulation["clock"]["kind"] == "regulation_acceptance"
    assert regulation["clock"]["verified"] is False and regulation["deemed_failed"] is True
    wait_until(
        lambda: (
            [e["payload"]["result"] for e in events(deployment, "mediation.closed")] == ["expired"]
        ),
        what="closed as expired",
    )
    assert query(deployment, "SELECT status, closed_result FROM mediations") == [
        {"status": "expired", "closed_result": "expired"}
    ]


def test_retriage_away_voiding_and_a_late_group(deployment: Deployment) -> None:
    """A case retriaged away hands its mediation on (its booked session is cancelled); a
    case triaged alone joins its group's mediation once the group forms (its own closes as
    merged); voided cases leave, and the last one out closes the mediation as voided."""
    deployment.start("mediation")
    away, early, late = (reported(f"440305-2026-50000{i}") for i in (1, 2, 3))
    publish(deployment, "intake", away, early, late)
    publish(deployment, "triage", triaged(away), triaged(early))
    wait_until(lambda: len(open_numbers(deployment)) == 2, what="two single mediations")
    with httpx.Client(base_url=deployment["mediation"].url, timeout=10) as client:
        register(client, "mediator-chen", "陈调解", "union")
        room = client.post("/api/v1/rooms", json=ROOM, headers=coordinator()).json()["room_id"]
        [away_number] = [
            r["mediation_number"]
            for r in query(
                deployment,
                "SELECT m.mediation_number FROM mediations m JOIN cases c USING (mediation_id) "
                "WHERE c.case_id = $1",
                away.case_id,
            )
        ]
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        booked = client.post(
            f"/api/v1/mediations/{away_number}/sessions",
            json={
                "room_id": room,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "mediator_ids": ["mediator-chen"],
            },
            headers=coordinator(),
        )
        assert booked.status_code == 201, booked.text

    retriage = CaseRetriaged(
        case_id=away.case_id,
        case_number=away.case_number,
        category="wage_arrears",
        urgency="urgent",
        route="legal_aid",
        route_detail="legal_aid.union",
        reasons=[],
        previous=DecisionSnapshot(category="wage_arrears", urgency="urgent", route="mediation"),
        retriaged_by="officer",
        note="职工系农民工，改由工会法律援助",
        retriaged_at=datetime.now(UTC),
        decision_seq=2,
    )
    publish(deployment, "triage", retriage)
    group_id = uuid.uuid4()
    publish(deployment, "triage", triaged(late, group_id=group_id))
    publish(
        deployment,
        "triage",
        CaseGrouped(
            group_id=group_id,
            group_number="QT-440305-2026-000077",
            employer=early.employer,
            category="wage_arrears",
            case_ids=[early.case_id, late.case_id],
            case_numbers=[early.case_number, late.case_number],
            new_case_ids=[late.case_id],
            worker_count=2,
            formed_at=datetime.now(UTC),
            reason=TriageReason(rule="urgency.group_dispute", text="群体性劳动争议"),
        ),
        key=group_id,
    )

    def results() -> dict[str, int]:
        rows = query(deployment, "SELECT coalesce(closed_result, 'open') AS r FROM mediations")
        return {r: sum(1 for x in rows if x["r"] == r) for r in {x["r"] for x in rows}}

    wait_until(
        lambda: results() == {"handed_on": 1, "merged": 1, "open": 1}, what="hand-on and merge"
    )
    [handed] = [
        e for e in events(deployment, "mediation.closed") if e["payload"]["result"] == "handed_on"
    ]
    assert handed["payload"]["handed_on_route"] == "legal_aid"
    assert handed["payload"]["case_numbers"] == [away.case_number]
    assert query(deployment, "SELECT status FROM sessions") == [{"status": "cancelled"}]
    wait_until(
        lambda: len(events(deployment, "mediation.session_cancelled")) == 1,
        what="the cancelled session announced",
    )
    [cancelled] = events(deployment, "mediation.session_cancelled")
    assert cancelled["payload"]["session_id"] == booked.json()["session_id"]
    assert cancelled["payload"]["place"]["room_name"] == ROOM["name"]
    assert cancelled["payload"]["parties"]["workers"] == [away.workers[0].worker_ref]
    assert query(deployment, "SELECT count(*) AS n FROM mediator_bookings") == [{"n": 0}]
    [group] = query(
        deployment, "SELECT mediation_id, group_id FROM mediations WHERE closed_at IS NULL"
    )
    assert group["group_id"] == group_id
    held = query(
        deployment, "SELECT case_id FROM cases WHERE mediation_id = $1", group["mediation_id"]
    )
    assert {r["case_id"] for r in held} == {early.case_id, late.case_id}

    publish(deployment, "intake", voided(late))
    wait_until(
        lambda: any(
            e["payload"]["change"] == "left" and e["payload"]["reason"] == "voided"
            for e in events(deployment, "mediation.cases_changed")
        ),
        what="a voided case leaving",
    )
    publish(deployment, "intake", voided(early))
    wait_until(lambda: results().get("voided") == 1, what="the group mediation closed as voided")
    assert results() == {"handed_on": 1, "merged": 1, "voided": 1}


def test_malformed_events_are_dead_lettered_and_the_rest_flows(deployment: Deployment) -> None:
    deployment.start("mediation")
    settings = deployment.settings()
    case = reported("440305-2026-600001")
    bad = orjson.loads(
        encode(
            new_event(
                triaged(case), subject=str(case.case_id), producer="triage",
                actor=Actor.system("triage"),
            )
        )
    )  # fmt: skip
    bad["payload"]["route"] = "teleport"
    poison = [b"\x00 not json", orjson.dumps(bad)]
    asyncio.run(
        produce_raw(deployment.infra.kafka_bootstrap, settings.topic("case.triaged"), poison)
    )
    publish(deployment, "intake", case)
    publish(deployment, "triage", triaged(case))
    wait_until(lambda: len(open_numbers(deployment)) == 1, what="the good case's mediation")
    dead = asyncio.run(
        wait_for_records(
            deployment.infra.kafka_bootstrap, settings.topic("dlq.mediation"), len(poison)
        )
    )
    assert sorted(r.value for r in dead) == sorted(poison)
    reasons = " ".join(dict(r.headers)["dlq.reason"].decode() for r in dead)
    assert "not valid JSON" in reasons and "route" in reasons


def test_acceptance_extension_reassignment_and_moving_a_session(deployment: Deployment) -> None:
    """Accepting starts the regulation's clock; extending it needs both parties' consent;
    a coordinator's reassignment is recorded with the actor; a session moved onto a taken
    slot is refused in Chinese, onto a free one announced."""
    deployment.start("mediation")
    url = deployment["mediation"].url
    a, b = _two_mediations(deployment)
    lead = mediator("mediator-chen", Organisation.UNION, "陈调解")
    with httpx.Client(base_url=url, timeout=10) as client:
        register(client, "mediator-chen", "陈调解", "union")
        register(client, "court-liu", "刘法官", "peoples_court")
        room = client.post("/api/v1/rooms", json=ROOM, headers=coordinator()).json()["room_id"]

        today = (datetime.now(UTC) + timedelta(hours=8)).date()
        accepted = client.post(f"/api/v1/mediations/{a}/accept", json={}, headers=coordinator())
        assert accepted.status_code == 200, accepted.text
        regulation = accepted.json()["clocks"][1]
        assert regulation["starts_on"] == today.isoformat() and regulation["due_on"]
        again = client.post(f"/api/v1/mediations/{a}/accept", json={}, headers=coordinator())
        assert again.status_code == 409 and "已于" in again.json()["message"]

        one_side = client.post(
            f"/api/v1/mediations/{a}/extensions",
            json={"days": 10, "workers_consented_on": today.isoformat()},
            headers=coordinator(),
        )
        assert one_side.status_code == 409
        assert "尚未记录用人单位方的同意" in one_side.json()["message"]
        both = client.post(
            f"/api/v1/mediations/{a}/extensions",
            json={
                "days": 10,
                "workers_consented_on": today.isoformat(),
                "employer_consented_on": today.isoformat(),
            },
            headers=coordinator(),
        )
        assert both.status_code == 200, both.text
        extended = both.json()["clocks"][1]
        assert extended["extended_days"] == 10 and extended["due_on"] > regulation["due_on"]

        # Only a coordinator reassigns; the change names who made it.
        refused = client.put(
            f"/api/v1/mediations/{a}/assignment",
            json={"lead_mediator_id": "court-liu", "organisations": ["union", "peoples_court"],
                  "reason": "法院特邀调解员主持"},
            headers=lead,
        )  # fmt: skip
        assert refused.status_code == 403
        changed = client.put(
            f"/api/v1/mediations/{a}/assignment",
            json={"lead_mediator_id": "court-liu", "organisations": ["union", "peoples_court"],
                  "reason": "法院特邀调解员主持"},
            headers=coordinator(),
        )  # fmt: skip
        assert changed.status_code == 200, changed.text
        [row] = query(
            deployment, "SELECT actor_id, lead_mediator_id, reason FROM assignment_changes"
        )
        assert row == {"actor_id": "coordinator-zhou", "lead_mediator_id": "court-liu",
                       "reason": "法院特邀调解员主持"}  # fmt: skip

        def by_coordinator() -> list[dict[str, Any]]:
            return [
                e for e in events(deployment, "mediation.assigned")
                if e["payload"]["assigned_by"] == "coordinator"
            ]  # fmt: skip

        wait_until(lambda: len(by_coordinator()) == 1, what="the coordinator's assignment")
        assert by_coordinator()[0]["actor"]["id"] == "coordinator-zhou"
        assert by_coordinator()[0]["payload"]["lead_mediator_name"] == "刘法官"

        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)

        def book(number: str, mediators: list[str], at: datetime) -> str:
            answer = client.post(
                f"/api/v1/mediations/{number}/sessions",
                json={"room_id": room, "starts_at": at.isoformat(),
                      "ends_at": (at + timedelta(hours=2)).isoformat(),
                      "mediator_ids": mediators},
                headers=coordinator(),
            )  # fmt: skip
            assert answer.status_code == 201, answer.text
            return str(answer.json()["session_id"])

        first = book(a, ["court-liu"], start)
        second = book(b, ["mediator-chen"], start + timedelta(hours=3))
        clash = client.post(
            f"/api/v1/sessions/{second}/move",
            json={"starts_at": (start + timedelta(hours=1)).isoformat(),
                  "ends_at": (start + timedelta(hours=2)).isoformat(),
                  "reason": "party_request_employer"},
            headers=coordinator(),
        )  # fmt: skip
        assert clash.status_code == 409
        assert a in clash.json()["message"] and "调解室" in clash.json()["message"]
        moved = client.post(
            f"/api/v1/sessions/{second}/move",
            json={"starts_at": (start + timedelta(days=1)).isoformat(),
                  "ends_at": (start + timedelta(days=1, hours=2)).isoformat(),
                  "reason": "party_request_employer"},
            headers=coordinator(),
        )  # fmt: skip
        assert moved.status_code == 200, moved.text
        early = client.post(
            f"/api/v1/sessions/{first}/record",
            json={"outcome": "no_show", "no_show": "employer"},
            headers=coordinator(),
        )
        assert early.status_code == 409 and "尚未开始" in early.json()["message"]
    wait_until(lambda: len(events(deployment, "mediation.session_moved")) == 1, what="the move")
    [event] = events(deployment, "mediation.session_moved")
    assert event["payload"]["reason"] == "party_request_employer"
    assert event["payload"]["previous"]["starts_at"] < event["payload"]["place"]["starts_at"]
    history = query(deployment, "SELECT action FROM session_history ORDER BY id")
    assert [h["action"] for h in history] == ["scheduled", "scheduled", "moved"]
