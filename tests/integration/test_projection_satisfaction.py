"""Projection on the real stack: survey.answered counted once by district and period, on
the dashboard, its drill-down and the report, the same after the events are replayed twice
and after a rebuild from the topics; a message sent is one line on its case's timeline."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.integration.test_projection_rebuild import publish, run_rebuild
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, Envelope, new_event
from weiquan_shared.events import (
    CaseReported,
    EmployerRef,
    NotificationSent,
    SurveyAnswered,
    WorkerRef,
)

pytestmark = pytest.mark.integration


def answered(
    number: str, district: str, score: int, about: str | None = None
) -> tuple[str, Envelope]:
    payload = SurveyAnswered(
        survey_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        case_number=number,
        district_code=district,
        score=score,
        has_comment=False,
        answered_at=datetime.now(UTC),
        about=about,
        about_id=uuid.uuid4() if about else None,
    )
    envelope = new_event(
        payload,
        subject=str(payload.case_id),
        producer="notification",
        actor=Actor.public("survey"),
    )
    return payload.event_type, envelope


def seen(url: str) -> dict[str, Any]:
    headers = signed_in(Role.ADMIN)
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        dashboard = client.get("/api/v1/dashboard").json()["satisfaction"]
        nanshan = client.get("/api/v1/satisfaction/answers", params={"district": "440305"})
        unhappy = client.get("/api/v1/satisfaction/answers", params={"satisfied": "false"})
        summary = client.get("/api/v1/report/summary").json()["summary"]
    return {
        "rate": dashboard["rate"],
        "answers": dashboard["answers"],
        "by_district": [
            (d["code"], d["satisfied"], d["answers"]) for d in dashboard["by_district"]
        ],
        "nanshan": sorted(a["case_number"] for a in nanshan.json()),
        "unhappy": sorted((a["case_number"], a["score_name"]) for a in unhappy.json()),
        "summary": "收回评价3份" in summary and "满意率66.7%" in summary,
    }


def test_satisfaction_is_counted_once_by_district_through_replays_and_a_rebuild(
    deployment: Deployment,
) -> None:
    deployment.start("projection")
    url = deployment["projection"].url
    events = [
        answered("440305-2026-000101", "440305", 5),
        answered("440305-2026-000102", "440305", 4, about="mediation"),
        answered("440306-2026-000201", "440306", 2),
        # About legal aid: legal aid's figure (recorded by legal aid), not this one.
        answered("440305-2026-000109", "440305", 1, about="legal_aid"),
    ]
    # The first answer republished under a new event id (same survey): still one answer.
    kind, first = events[0]
    again = first.model_copy(update={"event_id": uuid.uuid4()})
    bootstrap, namespace = deployment.infra.kafka_bootstrap, deployment.namespace
    asyncio.run(publish(bootstrap, namespace, [*events, (kind, again)]))
    want = {
        "rate": 0.6667,
        "answers": 3,
        "by_district": [("440305", 2, 2), ("440306", 0, 1)],
        "nanshan": ["440305-2026-000101", "440305-2026-000102"],
        "unhappy": [("440306-2026-000201", "不满意")],
        "summary": True,
    }

    def settle() -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while (got := seen(url)) != want:
            assert time.monotonic() < deadline, f"{got} != {want}"
            time.sleep(0.5)
        return got

    settle()
    # Replayed twice (redelivery): the inbox and the fact's key count nothing twice. A
    # last new answer after the replays, on the same partitions' topics, shows they were read.
    asyncio.run(publish(bootstrap, namespace, events + events))
    late = answered("440305-2026-000103", "440305", 1)
    asyncio.run(publish(bootstrap, namespace, [late]))
    want |= {
        "rate": 0.5,
        "answers": 4,
        "by_district": [("440305", 2, 3), ("440306", 0, 1)],
        "nanshan": ["440305-2026-000101", "440305-2026-000102", "440305-2026-000103"],
        "unhappy": [("440305-2026-000103", "很不满意"), ("440306-2026-000201", "不满意")],
        "summary": False,
    }
    got = settle()

    deployment["projection"].stop()
    rebuilt = run_rebuild(deployment)
    assert rebuilt.returncode == 0, rebuilt.stderr
    deployment["projection"].start()
    deployment["projection"].wait_ready()
    assert seen(url) == got


def test_a_message_sent_is_one_line_on_the_case_timeline_through_a_replay(
    deployment: Deployment,
) -> None:
    deployment.start("projection")
    case_id, number, now = uuid.uuid4(), "440305-2026-000301", datetime.now(UTC)
    reported = CaseReported(
        case_id=case_id,
        case_number=number,
        channel="hotline",
        channel_ref="call-301",
        reported_at=now,
        district_code="440305",
        employer=EmployerRef(name="深圳市某某物流有限公司", district_code="440305"),
        workers=[WorkerRef(worker_ref="d" * 64)],
        summary="拖欠工资",
    )
    sent = NotificationSent(
        message_id=uuid.uuid4(),
        case_id=case_id,
        case_number=number,
        district_code="440305",
        caused_by_event_id=uuid.uuid4(),
        caused_by_event_type="case.reported",
        template_id="sms/case_accepted",
        channel="sms",
        recipient_kind="worker",
        recipient_ref="d" * 64,
        attempts=1,
        sent_at=now,
    )
    events = [
        (
            p.event_type,
            new_event(p, subject=str(case_id), producer=p.producer, actor=Actor.system(p.producer)),
        )
        for p in (reported, sent)
    ]
    bootstrap, namespace = deployment.infra.kafka_bootstrap, deployment.namespace
    asyncio.run(publish(bootstrap, namespace, events + events[1:] + events[1:]))
    url = f"{deployment['projection'].url}/api/v1/cases/{number}/timeline"

    def lines() -> list[str]:
        response = httpx.get(url, headers=signed_in(Role.MEDIATOR), timeout=10)
        return [e["text"] for e in response.json()] if response.status_code == 200 else []

    deadline = time.monotonic() + 60
    while "已向职工发送短信：受理通知" not in lines():
        assert time.monotonic() < deadline, lines()
        time.sleep(0.5)
    time.sleep(2)
    assert lines().count("已向职工发送短信：受理通知") == 1
