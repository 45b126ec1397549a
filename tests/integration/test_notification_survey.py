"""The satisfaction survey on the real stack: a supervisor issues a worker's link, the
worker answers 1–5 on a Chinese page once, and survey.answered carries the score only."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.support.kafka import produce_raw
from tests.support.notification_stack import events
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef

pytestmark = pytest.mark.integration


def test_a_worker_answers_the_survey_once_through_the_signed_link(
    deployment: Deployment,
) -> None:
    deployment.start(
        "notification",
        WEIQUAN_NOTIFICATION_SURVEY_KEY=secrets.token_hex(32),
        WEIQUAN_NOTIFICATION_QUIET_START="00:00",
        WEIQUAN_NOTIFICATION_QUIET_END="00:00",
    )
    case = CaseReported(
        case_id=uuid.uuid4(),
        case_number="440305-2026-880001",
        channel="hotline",
        channel_ref="12351-survey",
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(name="深圳市某某电子有限公司", district_code="440305"),
        workers=[WorkerRef(worker_ref="e" * 64)],
        summary="拖欠工资两个月。",
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
    base = deployment["notification"].url
    supervisor = signed_in(Role.SUPERVISOR)
    wait_until(
        lambda: (
            httpx.get(
                f"{base}/api/v1/cases/{case.case_number}/deliveries", headers=supervisor
            ).status_code
            == 200
        ),
        what="the case known to notification",
    )
    issue = f"{base}/api/v1/cases/{case.case_number}/surveys"
    outside = httpx.post(
        issue, json={"worker": 0}, headers=signed_in(Role.SUPERVISOR, districts=("440303",))
    )
    assert outside.status_code == 404 and "工作范围" in outside.json()["detail"]
    assert httpx.post(issue, json={"worker": 1}, headers=supervisor).status_code == 404
    assert (
        httpx.post(issue, json={"worker": 0}, headers=signed_in(Role.OPERATOR)).status_code == 403
    )
    issued = httpx.post(issue, json={"worker": 0}, headers=supervisor)
    assert issued.status_code == 201, issued.text
    link = issued.json()["link"]
    assert link.startswith("/survey/")
    again = httpx.post(issue, json={"worker": 0}, headers=supervisor)
    assert again.status_code == 409 and "不能重复生成" in again.json()["detail"]

    with httpx.Client(base_url=base, timeout=10) as worker:
        page = worker.get(link)
        assert page.status_code == 200
        assert "满意度调查" in page.text and case.case_number in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        tampered = worker.get(link[:-3] + "AAA")
        assert tampered.status_code == 404 and "链接无效" in tampered.text
        no_score = worker.post(link, data={"comment": "好"})
        assert no_score.status_code == 422 and "请选择" in no_score.text
        answered = worker.post(
            link, data={"score": "4", "comment": "调解员很耐心，我的电话13800138000"}
        )
        assert answered.status_code == 200 and "4 分：满意" in answered.text
        second = worker.post(link, data={"score": "1"})
        assert second.status_code == 410 and "已提交" in second.text
        assert worker.get(link).status_code == 410

    wait_until(lambda: len(events(deployment, "survey.answered")) == 1)
    [event] = events(deployment, "survey.answered")
    assert event["payload"]["score"] == 4 and event["payload"]["has_comment"] is True
    assert event["payload"]["case_number"] == case.case_number
    assert event["actor"] == {"kind": "public", "id": "survey", "role": None}
    assert "comment" not in event["payload"]

    async def stored() -> tuple[str, bool]:
        conn = await deployment.connect("notification")
        try:
            row = await conn.fetchrow("SELECT comment, token_hash FROM surveys")
            return row["comment"], link.split("/")[-1].encode() in bytes(row["token_hash"])
        finally:
            await conn.close()

    comment, token_in_clear = asyncio.run(stored())
    assert "13800138000" not in comment and "耐心" in comment
    assert not token_in_clear
