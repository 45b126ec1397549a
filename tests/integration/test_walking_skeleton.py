"""A hotline call through intake → Kafka → triage → Kafka → projection, all real."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import pytest

from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration


def wait_for_dashboard(deployment: Deployment, done: Any, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        figures = httpx.get(
            f"{deployment['projection'].url}/api/v1/dashboard",
            timeout=5,
            headers=signed_in(Role.SUPERVISOR),
        ).json()
        if done(figures) or time.monotonic() > deadline:
            return figures
        time.sleep(0.3)


def test_hotline_call_is_triaged_and_counted_once(deployment: Deployment) -> None:
    deployment.start("intake", "triage", "projection")
    call = hotline_call(random.Random(42), story=0, workers=1)  # wage arrears
    intake = deployment["intake"].url

    first = httpx.post(
        f"{intake}/api/v1/hotline-calls", json=call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert first.status_code == 201, first.text
    accepted = first.json()
    assert accepted["case_number"].startswith(call["employer"]["district_code"] + "-")

    retry = httpx.post(
        f"{intake}/api/v1/hotline-calls", json=call, timeout=10, headers=signed_in(Role.OPERATOR)
    )
    assert retry.status_code == 200
    assert retry.json() == {**accepted, "duplicate": True}

    figures = wait_for_dashboard(
        deployment, lambda f: f["totals"]["cases"] == 1 and f["totals"]["awaiting_triage"] == 0
    )
    assert figures["totals"] == {
        "cases": 1,
        "workers": 1,
        "awaiting_triage": 0,
        "group_disputes": 0,
    }
    assert [(c["code"], c["cases"]) for c in figures["by_channel"]] == [("hotline", 1)]
    assert [(c["code"], c["cases"]) for c in figures["by_category"]] == [("wage_arrears", 1)]

    timeline = httpx.get(
        f"{deployment['projection'].url}/api/v1/cases/{accepted['case_number']}/timeline",
        headers=signed_in(Role.SUPERVISOR),
    ).json()
    # Registered by an operator, who is its responsible person from then on.
    assert [e["event_type"] for e in timeline] == ["case.reported", "case.assigned", "case.triaged"]
    assert timeline[1]["text"].startswith("承办人：")
    assert "拖欠工资" in timeline[2]["text"]

    masked = httpx.get(
        f"{intake}/api/v1/cases/{accepted['case_number']}", headers=signed_in(Role.OPERATOR)
    ).json()
    worker = call["workers"][0]
    assert masked["workers"][0]["mobile"] == worker["mobile"][:3] + "****" + worker["mobile"][-4:]
    assert masked["workers"][0]["name"] != worker["name"]

    # One event on Kafka for the retried call, and no personal data in plain text.
    bootstrap = deployment.infra.kafka_bootstrap
    reported = asyncio.run(read_topic(bootstrap, deployment.settings().topic("case.reported")))
    assert len(reported) == 1
    assert reported[0].key == accepted["case_id"].encode()
    raw = reported[0].value.decode()
    for secret in (worker["name"], worker["mobile"], worker["id_number"]):
        assert secret not in raw


def test_invalid_call_leaves_nothing_behind(deployment: Deployment) -> None:
    deployment.start("intake")
    call = hotline_call(random.Random(9), workers=3)
    call["workers"][2]["mobile"] = "12345"
    response = httpx.post(
        f"{deployment['intake'].url}/api/v1/hotline-calls",
        json=call,
        headers=signed_in(Role.OPERATOR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"].startswith("手机号：格式不正确")

    async def counts() -> tuple[int, int, int]:
        conn = await deployment.connect("intake")
        try:
            return (
                await conn.fetchval("SELECT count(*) FROM cases"),
                await conn.fetchval("SELECT count(*) FROM case_workers"),
                await conn.fetchval("SELECT count(*) FROM outbox"),
            )
        finally:
            await conn.close()

    assert asyncio.run(counts()) == (0, 0, 0)
