"""Kill -9 triage while cases flow: none lost, none counted twice."""

from __future__ import annotations

import asyncio
import random
import threading
import time

import httpx
import pytest

from tests.integration.test_walking_skeleton import wait_for_dashboard
from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration

CASES = 120


def triage_decisions(deployment: Deployment) -> int:
    return httpx.get(
        f"{deployment['triage'].url}/api/v1/stats",
        timeout=5,
        headers=signed_in(Role.TRIAGE_OFFICER),
    ).json()["decisions"]


def test_triage_killed_mid_stream_loses_and_duplicates_nothing(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.start("intake", "triage", "projection")
    rng = random.Random(2026)
    calls = [hotline_call(rng, workers=rng.randint(1, 3)) for _ in range(CASES)]
    accepted: list[str] = []

    def submit() -> None:
        with httpx.Client(
            base_url=deployment["intake"].url, timeout=10, headers=signed_in(Role.OPERATOR)
        ) as client:
            for call in calls:
                response = client.post("/api/v1/hotline-calls", json=call)
                assert response.status_code == 201, response.text
                accepted.append(response.json()["case_id"])
                time.sleep(0.02)

    sender = threading.Thread(target=submit)
    sender.start()
    deadline = time.monotonic() + 30
    while triage_decisions(deployment) < CASES // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    decided_before_crash = triage_decisions(deployment)
    deployment["triage"].kill()
    time.sleep(1)
    deployment["triage"].start()
    deployment["triage"].wait_ready()
    sender.join()

    assert 0 < decided_before_crash < CASES, "the crash must land mid-stream"
    assert len(set(accepted)) == CASES

    figures = wait_for_dashboard(
        deployment,
        lambda f: f["totals"]["cases"] == CASES and f["totals"]["awaiting_triage"] == 0,
        timeout_s=90,
    )
    assert figures["totals"]["cases"] == CASES
    assert figures["totals"]["awaiting_triage"] == 0
    assert sum(c["cases"] for c in figures["by_category"]) == CASES

    async def stored() -> tuple[int, int, int, int]:
        triage_db = await deployment.connect("triage")
        projection_db = await deployment.connect("projection")
        try:
            return (
                await triage_db.fetchval("SELECT count(*) FROM decisions"),
                await triage_db.fetchval("SELECT count(DISTINCT case_id) FROM decisions"),
                await projection_db.fetchval("SELECT count(*) FROM case_summary"),
                await projection_db.fetchval(
                    "SELECT count(*) FROM case_timeline "
                    "WHERE event_type IN ('case.reported', 'case.triaged')"
                ),
            )
        finally:
            await triage_db.close()
            await projection_db.close()

    decisions, decided_cases, summaries, timeline_rows = asyncio.run(stored())
    assert (decisions, decided_cases) == (CASES, CASES)
    assert summaries == CASES
    assert timeline_rows == 2 * CASES  # one reported + one triaged per case

    triaged = asyncio.run(
        read_topic(deployment.infra.kafka_bootstrap, deployment.settings().topic("case.triaged"))
    )
    distinct = {r.key for r in triaged}
    assert distinct == {case_id.encode() for case_id in accepted}
    with capsys.disabled():
        print(
            f"\ncrash test: {CASES} accepted, "
            f"triage killed after {decided_before_crash} decisions; "
            f"{len(triaged)} case.triaged messages on Kafka for {len(distinct)} cases "
            f"({len(triaged) - len(distinct)} redelivered duplicates absorbed); "
            f"projection counts {summaries}"
        )
