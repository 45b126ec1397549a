"""Faults while cases flow: crashes, broker and database restarts, poison and replayed events.

Runs on a private PostgreSQL + Kafka (its own ports and data), since it stops and starts
them. A load generator posts realistic hotline calls at a steady rate the whole time and,
like an operator whose screen shows an error, retries a call (same call id) until intake
answers. At the end every accepted case must be in every store exactly once, every bad
event in the dead-letter topics with its reason, and every service healthy.

Notification runs too, with the Tencent SMS test server: every worker of every accepted
case gets its case-accepted SMS, and the provider sees each message once, except in the one
window the notification README names (the provider accepted, the process died or
PostgreSQL went away before the record was committed): a message can go twice there, and
only there. The provider offers no idempotency key to close it (``SessionContext`` is only
echoed back), so the test server does not pretend to; the row counts such repeats, and each
must be a message the provider first accepted in the instant of a notification kill or a
PostgreSQL stop, with our message id as its ``SessionContext`` both times.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from tests.support.kafka import produce_raw, read_topic
from tests.support.notification_providers import SmsSent, TencentSmsServer, running
from tests.support.notification_stack import SMS_TEMPLATE_IDS, notification_env, sms_server
from tests.support.stack import Deployment, PrivateStack, free_port, port_open, private_stack
from tests.support.staff import CITY, add_accounts, signed_in
from tests.support.tokens import signed_in as staff_token
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

RATE_PER_S = 15
# A repeated SMS must have been first accepted this close to a notification kill or a
# PostgreSQL stop (the send's round trip, the UPDATE and the commit are milliseconds).
WINDOW_S = 2.0


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
    # call id → (case number, the workers' mobiles): what notification must tell whom
    numbers: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
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
                    body = response.json()
                    workers = call["workers"]
                    assert isinstance(workers, list)
                    self.numbers[str(call["call_id"])] = (
                        body["case_number"],
                        [str(w["mobile"]) for w in workers],
                    )
                    self.accepted[str(call["call_id"])] = body["case_id"]
                    return
                assert response.status_code >= 500, response.text  # never a 4xx for a good call
            self.retries += 1
            time.sleep(0.5)
        raise AssertionError(f"call {call['call_id']} never accepted")


def poison_for(topic_event: bytes) -> list[bytes]:
    """Malformed, truncated, wrong-version and unknown-type variants of a real event."""
    event = orjson.loads(topic_event)
    return [
        b"\xff\xfe not json at all",
        topic_event[: len(topic_event) // 2],
        orjson.dumps({**event, "schema_version": 99}),
        orjson.dumps({**event, "event_type": "case.vanished"}),
    ]


class TimedSent(list[SmsSent]):
    """The SMS test server's accepted messages, with when each was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def append(self, item: SmsSent) -> None:
        self.at.append(time.monotonic())
        super().append(item)


def test_nothing_is_lost_or_doubled_under_faults(
    stack: PrivateStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deployment = Deployment(stack.infra)
    try:
        with capsys.disabled(), running(sms_server()) as sms:  # the table belongs in CI's output
            sms.sent = TimedSent()
            _run_faults(stack, deployment, tmp_path, sms)
    finally:
        deployment.teardown()


def _run_faults(
    stack: PrivateStack, deployment: Deployment, key_dir: Path, sms: TencentSmsServer
) -> None:
    services = ("intake", "triage", "projection", "notification")
    # Supervisors read projection's figures; notification asks it for its service token.
    client_secret = secrets.token_hex(32)
    deployment.start(
        "identity",
        WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(key_dir / "signing-keys.json"),
        WEIQUAN_SERVICE_SECRET_NOTIFICATION=client_secret,
    )
    asyncio.run(add_accounts(deployment, CITY))
    identity = deployment["identity"].url
    # Services trust this identity (the supervisors') and the tests' issuer (the operator's).
    deployment.start(*services[:-1])
    deployment.start(
        "notification",
        **notification_env(
            deployment, sms, None, client_secret, WEIQUAN_NOTIFICATION_WORKERS_PER_CHANNEL="8"
        ),
    )
    settings = deployment.settings()
    bootstrap = stack.infra.kafka_bootstrap
    load = LoadGenerator(deployment["intake"].url)
    load.start()
    faults: list[str] = []
    # When notification was killed or PostgreSQL stopped: where a repeated SMS may start.
    windows: list[tuple[float, float]] = []

    def accepted_soon(extra: int) -> None:
        target = len(load.accepted) + extra
        wait_until(lambda: len(load.accepted) >= target, 120, f"{target} accepted cases")

    accepted_soon(20)
    for name in services:
        if name == "notification":
            windows.append((time.monotonic(), time.monotonic()))
        deployment[name].kill()
        time.sleep(1)
        deployment[name].start()
        deployment[name].wait_ready(120)
        faults.append(f"kill -9 {name}")
        accepted_soon(10)

    for program, pause in (("kafka", 5), ("postgres", 3)):
        stopping = time.monotonic()
        stack.control("stop", program)
        time.sleep(pause)
        stack.control("start", program)
        if program == "postgres":
            windows.append((stopping, time.monotonic()))
        # supervisord calls it started before it listens: a loaded machine's JVM takes a while.
        port = stack.infra.pg_port if program == "postgres" else int(bootstrap.rsplit(":", 1)[1])
        wait_until(
            functools.partial(port_open, "127.0.0.1", port), 120, f"{program} to listen again"
        )
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
    counted = time.monotonic()
    told, repeats = _notification_once(deployment, load, sms, windows)
    drained = time.monotonic() - counted
    dead = {
        consumer: asyncio.run(read_topic(bootstrap, settings.topic(f"dlq.{consumer}")))
        for consumer in ("triage", "projection", "notification")
    }
    for records in dead.values():
        for record in records:
            assert dict(record.headers)["dlq.reason"], "every dead letter carries its reason"
    # triage reads case.reported only; projection reads both topics.
    assert len(dead["triage"]) == 4
    assert len(dead["projection"]) == injected
    assert len(dead["notification"]) == injected  # it reads both topics too
    for name in services:
        assert httpx.get(f"{deployment[name].url}/readyz", timeout=5).status_code == 200

    print(f"\nfaults: {'; '.join(faults)}; operator retries during outages: {load.retries}")
    print(f"{'store':<12}{'accepted':>10}{'seen':>8}{'duplicates':>12}{'dead-lettered':>15}")
    for service, (seen, duplicates) in counts.items():
        dlq = len(dead.get(service, []))
        print(f"{service:<12}{len(expected):>10}{seen:>8}{duplicates:>12}{dlq:>15}")
    dlq = len(dead["notification"])
    print(f"{'notification':<12}{len(expected):>10}{told:>8}{repeats:>12}{dlq:>15}")
    print(
        "notification: seen = cases whose every worker's case-accepted SMS reached the "
        "provider; duplicates = SMS the provider got twice, each first accepted at a kill "
        "of notification or a PostgreSQL stop (the window its README names); "
        f"{len(sms.sent)} SMS in all, the last {drained:.0f} s after projection had counted"
    )
    assert all(duplicates == 0 for _, duplicates in counts.values())


def _notification_once(
    deployment: Deployment,
    load: LoadGenerator,
    sms: TencentSmsServer,
    windows: list[tuple[float, float]],
) -> tuple[int, int]:
    """Every worker of every accepted case told once that the case is accepted, and every
    message of notification's store sent; returns (cases told, repeats at the provider)."""
    template = SMS_TEMPLATE_IDS["sms/case_accepted"]
    expected = {
        (number, f"+86{mobile}") for number, mobiles in load.numbers.values() for mobile in mobiles
    }

    async def rows() -> list[asyncpg.Record]:
        conn = await deployment.connect("notification")
        try:
            return await conn.fetch(
                "SELECT id, case_id::text AS case_id, case_number, worker_position, template_id,"
                " status FROM messages"
            )
        finally:
            await conn.close()

    def all_sent() -> bool:
        delivered = {(s.params[0], s.phone) for s in list(sms.sent) if s.template_id == template}
        return expected <= delivered and all(r["status"] == "sent" for r in asyncio.run(rows()))

    wait_until(all_sent, 240, "notification to send every message")
    stored = asyncio.run(rows())
    accepted_rows = [r for r in stored if r["template_id"] == "sms/case_accepted"]
    assert {r["case_number"] for r in accepted_rows} == {n for n, _ in expected}
    assert len(accepted_rows) == len(expected), "one row per worker of each accepted case"
    assert len({(r["case_id"], r["worker_position"]) for r in accepted_rows}) == len(expected)

    sent = list(sms.sent)
    at = list(sms.sent.at) if isinstance(sms.sent, TimedSent) else []
    ours = {str(r["id"]) for r in stored}
    copies: dict[str, list[int]] = {}
    for index, message in enumerate(sent):
        assert message.session_context in ours, "every SMS names one of our messages"
        copies.setdefault(message.session_context, []).append(index)
    assert set(copies) == ours, "every message of the store reached the provider"
    # No second message of the store for one worker's case-accepted SMS: repeats are copies
    # of one message (one SessionContext), never two messages.
    contexts: dict[tuple[str, str], set[str]] = {}
    for m in sent:
        if m.template_id == template:
            contexts.setdefault((m.phone, m.params[0]), set()).add(m.session_context)
    assert all(len(ids) == 1 for ids in contexts.values())
    repeats = 0
    for message_id, indexes in copies.items():
        if len(indexes) > 1:
            first = at[indexes[0]]
            assert any(start - WINDOW_S <= first <= end + WINDOW_S for start, end in windows), (
                f"message {message_id} went twice outside the named window"
            )
            repeats += len(indexes) - 1
    return len({n for n, _ in expected}), repeats
