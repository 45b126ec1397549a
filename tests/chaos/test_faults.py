"""Faults while cases flow: crashes, broker and database restarts, poison and replayed events.

Runs on a private PostgreSQL + Kafka (its own ports and data), since it stops and starts
them. A load generator posts realistic hotline calls at a steady rate the whole time and,
like an operator whose screen shows an error, retries a call (same call id) until intake
answers. At the end every accepted case must be in every store exactly once, every bad
event in the dead-letter topics with its reason, and every service healthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.kafka import produce_raw, read_topic
from tests.support.stack import Deployment, PrivateStack, free_port, private_stack
from tests.support.staff import signed_in, start_identity
from tests.support.tokens import signed_in as staff_token
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

RATE_PER_S = 15


@pytest.fixture(scope="module")
def stack() -> Iterator[PrivateStack]:
    with private_stack(free_port(), free_port(), free_port()) as running:
        yield running


@dataclass
class LoadGenerator:
    """Posts calls at a fixed rate from a thread; records what intake accepted."""

    intake_url: str
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    accepted: dict[str, str] = field(default_factory=dict)  # call id → case id
    retries: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=120)

    def _run(self) -> None:
        operator = staff_token(Role.OPERATOR)
        with httpx.Client(base_url=self.intake_url, timeout=5, headers=operator) as client:
            while not self._stop.is_set():
                call = hotline_call(self.rng, workers=self.rng.choice((1, 1, 2, 12)))
                self._submit(client, call)
                time.sleep(1 / RATE_PER_S)

    def _submit(self, client: httpx.Client, call: dict[str, object]) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                response = client.post("/api/v1/hotline-calls", json=call)
                if response.status_code in (200, 201):
                    self.accepted[str(call["call_id"])] = response.json()["case_id"]
                    return
                assert response.status_code >= 500, response.text  # never a 4xx for a good call
            self.retries += 1
            time.sleep(0.5)
        raise AssertionError(f"call {call['call_id']} never accepted")


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def poison_for(topic_event: bytes) -> list[bytes]:
    """Malformed, truncated, wrong-version and unknown-type variants of a real event."""
    event = orjson.loads(topic_event)
    return [
        b"\xff\xfe not json at all",
        topic_event[: len(topic_event) // 2],
        orjson.dumps({**event, "schema_version": 99}),
        orjson.dumps({**event, "event_type": "case.vanished"}),
    ]


def test_nothing_is_lost_or_doubled_under_faults(
    stack: PrivateStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deployment = Deployment(stack.infra)
    try:
        with capsys.disabled():  # the table below belongs in CI's output
            _run_faults(stack, deployment, tmp_path)
    finally:
        deployment.teardown()


def _run_faults(stack: PrivateStack, deployment: Deployment, key_dir: Path) -> None:
    services = ("intake", "triage", "projection")
    identity = start_identity(deployment, key_dir)  # supervisors read projection's figures
    # Services trust this identity (the supervisors') and the tests' issuer (the operator's).
    deployment.start(*services)
    settings = deployment.settings()
    bootstrap = stack.infra.kafka_bootstrap
    load = LoadGenerator(deployment["intake"].url)
    load.start()
    faults: list[str] = []

    def accepted_soon(extra: int) -> None:
        target = len(load.accepted) + extra
        wait_until(lambda: len(load.accepted) >= target, 120, f"{target} accepted cases")

    accepted_soon(20)
    for name in services:
        deployment[name].kill()
        time.sleep(1)
        deployment[name].start()
        deployment[name].wait_ready(120)
        faults.append(f"kill -9 {name}")
        accepted_soon(10)

    for program, pause in (("kafka", 5), ("postgres", 3)):
        stack.control("stop", program)
        time.sleep(pause)
        stack.control("start", program)
        faults.append(f"restart {program}")
        accepted_soon(15)

    injected = 0
    for logical in ("case.reported", "case.triaged"):
        topic = settings.topic(logical)
        records = asyncio.run(read_topic(bootstrap, topic))
        sample = random.Random(3).sample(records, 5)
        asyncio.run(produce_raw(bootstrap, topic, poison_for(sample[0].value)))
        injected += 4
        # The same events again, long after their originals: duplicates, out of order.
        for record in sample:
            asyncio.run(produce_raw(bootstrap, topic, [record.value], key=record.key))
    faults.append("poison + replayed events on every topic")
    accepted_soon(15)
    load.stop()

    expected = set(load.accepted.values())
    # Signed in now: the token outlives the wait below, not the whole run.
    projection = signed_in(identity, base_url=deployment["projection"].url)

    def all_counted() -> bool:
        totals = projection.get("/api/v1/dashboard", timeout=5).json()["totals"]
        return totals["cases"] == len(expected) and totals["awaiting_triage"] == 0

    wait_until(all_counted, 180, "projection to count every accepted case")
    projection.close()

    async def stores() -> dict[str, tuple[int, int]]:
        counts = {}
        # Triage keeps a decision history (group upgrades, overrides): count first decisions.
        for service, query in (
            ("intake", "SELECT id::text AS id FROM cases"),
            ("triage", "SELECT case_id::text AS id FROM decisions WHERE kind = 'initial'"),
            ("projection", "SELECT case_id::text AS id FROM case_summary"),
        ):
            conn = await deployment.connect(service)
            try:
                rows = await conn.fetch(query)
            finally:
                await conn.close()
            ids = [r["id"] for r in rows]
            assert set(ids) == expected, f"{service} differs from what intake accepted"
            counts[service] = (len(ids), len(ids) - len(set(ids)))
        return counts

    counts = asyncio.run(stores())
    dead = {
        consumer: asyncio.run(read_topic(bootstrap, settings.topic(f"dlq.{consumer}")))
        for consumer in ("triage", "projection")
    }
    for records in dead.values():
        for record in records:
            assert dict(record.headers)["dlq.reason"], "every dead letter carries its reason"
    # triage reads case.reported only; projection reads both topics.
    assert len(dead["triage"]) == 4
    assert len(dead["projection"]) == injected
    for name in services:
        assert httpx.get(f"{deployment[name].url}/readyz", timeout=5).status_code == 200

    print(f"\nfaults: {'; '.join(faults)}; operator retries during outages: {load.retries}")
    print(f"{'store':<12}{'accepted':>10}{'seen':>8}{'duplicates':>12}{'dead-lettered':>15}")
    for service, (seen, duplicates) in counts.items():
        dlq = len(dead.get(service, []))
        print(f"{service:<12}{len(expected):>10}{seen:>8}{duplicates:>12}{dlq:>15}")
    assert all(duplicates == 0 for _, duplicates in counts.values())
