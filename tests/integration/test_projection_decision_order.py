"""Projection on the real stack: which decision of a case is current when two decisions bear
the same time, and how many repeat employers there are when one company is flagged in
several districts. Both answers must survive a rebuild from the topics.

The events are built here, with event ids chosen so that breaking a tie by event id (what
projection did before decisions were numbered) gives the wrong answer.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.test_projection_rebuild import publish, run_rebuild
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, Envelope, EventPayload, new_event
from weiquan_shared.events import (
    CaseReported,
    CaseRetriaged,
    CaseRetriagedV1,
    CaseTriaged,
    DecisionSnapshot,
    EmployerFlagged,
    EmployerRef,
    TriageReason,
    WorkerRef,
)

pytestmark = pytest.mark.integration

REASON = TriageReason(rule="test.rule", text="测试规则")


def event(payload: EventPayload, subject: uuid.UUID, event_id: uuid.UUID) -> tuple[str, Envelope]:
    envelope = new_event(
        payload,
        subject=str(subject),
        producer=payload.producer,
        actor=Actor.system(payload.producer),
    )
    return payload.event_type, envelope.model_copy(update={"event_id": event_id})


def tied_decisions(number: int, *, retriage_first: bool, numbered: bool) -> tuple[str, list]:
    """A case triaged (normal, union mediation) and upgraded into a group (critical, the
    court–union room) at the same instant, the upgrade with the lower event id."""
    case_id, at = uuid.uuid4(), datetime.now(UTC).replace(microsecond=0)
    case_number = f"440305-2026-{number:06d}"
    reported = CaseReported(
        case_id=case_id,
        case_number=case_number,
        channel="hotline",
        channel_ref=f"call-{number}",
        reported_at=at - timedelta(minutes=5),
        district_code="440305",
        employer=EmployerRef(name="深圳市鹏程建筑劳务有限公司", district_code="440305"),
        workers=[WorkerRef(worker_ref=f"{number:064x}", is_migrant_worker=True)],
        summary="拖欠工资",
    )
    triaged = CaseTriaged(
        case_id=case_id,
        case_number=case_number,
        category="wage_arrears",
        urgency="normal",
        route="mediation",
        route_detail="mediation.union",
        reasons=[REASON],
        triaged_at=at,
    )
    upgrade: dict[str, Any] = {
        "case_id": case_id,
        "case_number": case_number,
        "category": "wage_arrears",
        "urgency": "critical",
        "route": "mediation",
        "route_detail": "mediation.court_union_room",
        "reasons": [REASON],
        "previous": DecisionSnapshot(category="wage_arrears", urgency="normal", route="mediation"),
        "retriaged_by": "system",
        "note": "并入群体性劳动争议",
        "group_id": uuid.uuid4(),
        "retriaged_at": at,
    }
    retriaged = CaseRetriaged(**upgrade, decision_seq=2) if numbered else CaseRetriagedV1(**upgrade)
    low_id, high_id = uuid.UUID(int=number), uuid.UUID(int=(1 << 128) - 1 - number)
    decisions = [event(triaged, case_id, high_id), event(retriaged, case_id, low_id)]
    if retriage_first:
        decisions.reverse()
    return case_number, [event(reported, case_id, uuid.uuid4()), *decisions]


def flag(name: str, district: str, credit_code: str | None, cases: int) -> tuple[str, Envelope]:
    """A flag as triage raises it: its employer id is per name and district without a code."""
    employer = EmployerRef(name=name, credit_code=credit_code, district_code=district)
    payload = EmployerFlagged(
        employer_id=uuid.uuid4(),
        employer=employer,
        case_count=cases,
        window_days=90,
        case_ids=[uuid.uuid4() for _ in range(cases)],
        reason=REASON,
        flagged_at=datetime.now(UTC) - timedelta(hours=1),
    )
    return event(payload, payload.employer_id, uuid.uuid4())


FLAGS = [
    # One company without a credit code, in three districts, spelt two ways.
    flag("深圳市鹏程建筑劳务有限公司", "440303", None, 3),
    flag("深圳市鹏程建筑劳务有限责任公司", "440305", None, 4),
    flag("深圳市 鹏程建筑劳务有限公司", "440306", None, 3),
    # One company with a credit code, in two districts, under two names.
    flag("深圳市速达同城配送有限公司", "440309", "91440300MA5F00000X", 3),
    flag("速达同城配送（深圳）有限公司", "440307", "91440300ma5f00000x ", 5),
    # And one flagged once.
    flag("深圳市锦绣服装厂", "440309", None, 3),
]


def answers(url: str, numbers: list[str]) -> dict[str, Any]:
    def get(path: str, **p: Any) -> httpx.Response:
        return httpx.get(f"{url}{path}", params=p, timeout=10, headers=signed_in(Role.SUPERVISOR))

    cases = {n: get(f"/api/v1/cases/{n}") for n in numbers}
    return {
        "decisions": {
            n: (r.json()["case"]["urgency"], r.json()["case"]["route_detail"])
            if r.status_code == 200
            else None
            for n, r in cases.items()
        },
        "repeat_employers": get("/api/v1/dashboard").json()["figures"]["repeat_employers"],
        "employers": sorted(
            (e["employer_name"], e["district_name"], e["case_count"], e["flags"])
            for e in get("/api/v1/repeat-employers").json()
        ),
        "summary": get("/api/v1/report/summary").json()["summary"],
    }


def test_tied_decisions_and_one_employer_in_many_districts_survive_a_rebuild(
    deployment: Deployment,
) -> None:
    deployment.start("projection")
    url = deployment["projection"].url
    cases = [
        tied_decisions(1, retriage_first=False, numbered=True),
        tied_decisions(2, retriage_first=True, numbered=True),
        # Before decisions were numbered (v1): a re-decision still follows the first one.
        tied_decisions(3, retriage_first=False, numbered=False),
        tied_decisions(4, retriage_first=True, numbered=False),
    ]
    numbers = [number for number, _ in cases]
    events = [e for _, case_events in cases for e in case_events] + FLAGS
    asyncio.run(publish(deployment.infra.kafka_bootstrap, deployment.namespace, events))

    critical = ("critical", "mediation.court_union_room")
    want = {
        "decisions": dict.fromkeys(numbers, critical),
        "repeat_employers": 3,
        "employers": sorted(
            [
                ("深圳市锦绣服装厂", "龙华区", 3, 1),
                ("深圳市 鹏程建筑劳务有限公司", "罗湖区、南山区、宝安区", 10, 3),
                ("速达同城配送（深圳）有限公司", "龙岗区、龙华区", 8, 2),
            ]
        ),
    }
    deadline = time.monotonic() + 60
    while True:
        got = answers(url, numbers)
        if {k: v for k, v in got.items() if k != "summary"} == want:
            break
        assert time.monotonic() < deadline, f"{got} != {want}"
        time.sleep(0.5)
    summary = got["summary"]
    assert "3家用人单位短期内被多次投诉，列为重复投诉单位。" in summary
    assert "提请" not in summary and "监督" not in summary  # no event says anyone did that

    deployment["projection"].stop()
    rebuilt = run_rebuild(deployment)
    assert rebuilt.returncode == 0, rebuilt.stderr
    deployment["projection"].start()
    deployment["projection"].wait_ready()
    assert answers(url, numbers) == got
