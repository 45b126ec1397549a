"""A triage officer settles what triage flagged for review (请人工核实), on the real stack:
the clocks recomputed with the date recorded, stored, and published as case.review_resolved."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from tests.integration.test_triage_pipeline import events, query
from tests.support.kafka import produce_raw
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef

pytestmark = pytest.mark.integration

DISMISSED = "公司以业绩不达标为由口头辞退，没有任何经济补偿，工作了三年。"


def report(deployment: Deployment, number: str, knew_on: date | None) -> CaseReported:
    case = CaseReported(
        case_id=uuid.uuid4(),
        case_number=number,
        channel="hotline",
        channel_ref=f"12351-review-{number}",
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(name=f"深圳市核实测试{number[-3:]}有限公司", district_code="440305"),
        workers=[WorkerRef(worker_ref=uuid.uuid4().hex * 2, is_migrant_worker=False)],
        summary=DISMISSED,
        knew_of_infringement_on=knew_on,
    )
    envelope = new_event(
        case, subject=str(case.case_id), producer="intake", actor=Actor.system("intake")
    )
    asyncio.run(
        produce_raw(
            deployment.infra.kafka_bootstrap,
            deployment.settings().topic("case.reported"),
            [encode(envelope)],
            key=str(case.case_id).encode(),
        )
    )
    return case


def limitation(clocks: list[dict]) -> dict:
    return next(c for c in clocks if c["kind"] == "arbitration_limitation")


def test_review_resolutions_recompute_store_and_publish_the_clocks(
    deployment: Deployment,
) -> None:
    deployment.start("triage")
    url = deployment["triage"].url
    today = datetime.now(UTC).date()
    unknown = report(deployment, "440305-2026-700001", None)
    expired = report(deployment, "440305-2026-700002", today - timedelta(days=800))
    confirmed = report(deployment, "440305-2026-700003", today - timedelta(days=900))
    wait_until(lambda: len(events(deployment, "case.triaged")) == 3)
    triaged = {
        e["payload"]["case_number"]: e["payload"] for e in events(deployment, "case.triaged")
    }
    assert limitation(triaged[unknown.case_number]["clocks"])["review"] == ["start_unknown"]
    assert "limitation_expired" in limitation(triaged[expired.case_number]["clocks"])["review"]

    officer = signed_in(Role.TRIAGE_OFFICER, districts=("440305",))

    def review(number: str, body: dict, headers: dict[str, str] = officer) -> httpx.Response:
        return httpx.post(f"{url}/api/v1/cases/{number}/review", json=body, headers=headers)

    # 4xx first: who, where, what is missing, what does not apply.
    number = unknown.case_number
    assert (
        review(number, {"resolution": "dates_checked"}, signed_in(Role.OPERATOR)).status_code == 403
    )
    elsewhere = signed_in(Role.TRIAGE_OFFICER, districts=("440306",))
    assert review(number, {"resolution": "dates_checked"}, elsewhere).status_code == 404
    no_date = review(number, {"resolution": "start_date_recorded"})
    assert no_date.status_code == 422 and "知道权利受侵害的日期" in no_date.json()["message"]
    future = review(
        number,
        {"resolution": "start_date_recorded", "knew_of_infringement_on": "2999-01-01"},
    )
    assert future.status_code == 422 and "不能晚于今天" in future.json()["message"]
    too_long = review(number, {"resolution": "dates_checked", "note": "字" * 201})
    assert too_long.status_code == 422
    # A missing start date is not settled by "dates checked".
    unsettled = review(number, {"resolution": "dates_checked"})
    assert (
        unsettled.status_code == 409 and "记录知道权利受侵害的日期" in unsettled.json()["message"]
    )

    # The date of knowing recorded: the limitation counts from it, nothing left to review.
    knew_on = today - timedelta(days=20)
    recorded = review(
        number,
        {
            "resolution": "start_date_recorded",
            "knew_of_infringement_on": knew_on.isoformat(),
            "note": "已电话核实，职工本人王建国13912345678说被口头辞退",
        },
    )
    assert recorded.status_code == 200, recorded.text
    clock = limitation(recorded.json()["clocks"])
    assert clock["starts_on"] == knew_on.isoformat() and "start_unknown" not in clock["review"]
    # A new due date may need its own check (next year's holidays not yet published):
    # those codes stay until a person checks the dates.
    left = recorded.json()["still_to_review"]
    assert set(left) <= {"calendar_missing", "calendar_unverified", "make_up_workday"}
    checked = review(number, {"resolution": "dates_checked"})
    if left:
        assert checked.status_code == 200 and checked.json()["still_to_review"] == []
    else:
        assert checked.status_code == 409
    again = review(number, {"resolution": "dates_checked"})
    assert again.status_code == 409 and "没有待人工核实的事项" in again.json()["message"]
    stored = query(
        deployment,
        "SELECT clock FROM clocks c JOIN cases USING (case_id) "
        "WHERE case_number = $1 AND kind = 'arbitration_limitation'",
        number,
    )
    assert json.loads(stored[0]["clock"])["starts_on"] == knew_on.isoformat()

    # An interruption restarts the expired limitation from the date recorded.
    interrupted_on = today - timedelta(days=10)
    restarted = review(
        expired.case_number,
        {
            "resolution": "limitation_interrupted",
            "knew_of_infringement_on": interrupted_on.isoformat(),
            "note": "职工曾向用人单位书面主张",
        },
        signed_in(Role.SUPERVISOR, districts=("440305",)),
    )
    assert restarted.status_code == 200, restarted.text
    clock = limitation(restarted.json()["clocks"])
    assert (
        clock["starts_on"] == interrupted_on.isoformat()
        and "limitation_expired" not in clock["review"]
    )
    assert clock["note"].startswith("时效中断")
    # An officer's later override recomputes the clocks from the case's facts, the
    # interruption among them: the limitation still counts from it.
    moved = httpx.post(
        f"{url}/api/v1/cases/{expired.case_number}/override",
        json={"route": "mediation", "reason": "职工同意先行调解"},
        headers=signed_in(Role.TRIAGE_OFFICER, districts=("440305",)),
    )
    assert moved.status_code == 200, moved.text
    [after_override] = query(
        deployment,
        "SELECT clock FROM clocks c JOIN cases USING (case_id) "
        "WHERE case_number = $1 AND kind = 'arbitration_limitation'",
        expired.case_number,
    )
    assert json.loads(after_override["clock"])["starts_on"] == interrupted_on.isoformat()

    # A confirmed expiry settles the limitation's code and keeps its dates.
    before = limitation(triaged[confirmed.case_number]["clocks"])
    settled = review(confirmed.case_number, {"resolution": "limitation_expiry_confirmed"})
    assert settled.status_code == 200, settled.text
    clock = limitation(settled.json()["clocks"])
    assert clock["due_on"] == before["due_on"] and "limitation_expired" not in clock["review"]

    # One topic, partitioned by case: the order holds within a case only. The outbox relay
    # publishes a moment after the answer, so wait for the last resolution to arrive.
    expected = sorted(
        [
            "start_date_recorded",
            *(["dates_checked"] if left else []),
            "limitation_interrupted",
            "limitation_expiry_confirmed",
        ]
    )
    wait_until(lambda: len(events(deployment, "case.review_resolved")) >= len(expected))
    resolved = events(deployment, "case.review_resolved")
    assert sorted(e["payload"]["resolution"] for e in resolved) == expected
    [recorded_event] = [e for e in resolved if e["payload"]["resolution"] == "start_date_recorded"]
    first = recorded_event["payload"]
    assert first["knew_of_infringement_on"] == knew_on.isoformat()
    assert {c["kind"] for c in first["clocks"]} == {c["kind"] for c in triaged[number]["clocks"]}
    # The note is published redacted: no name, no mobile.
    assert "王建国" not in first["note"] and "13912345678" not in first["note"]
    assert recorded_event["actor"]["role"] == "triage_officer"
    assert query(deployment, "SELECT count(*) AS n FROM reviews") == [{"n": len(resolved)}]
