"""kill -9 at each point of a send (issue 15: once toward people). Run alone:

    .venv/bin/pytest -q tests/integration/test_notification_crash.py

- killed after the claim, before the provider got anything (waiting on intake for the
  contact): the claim dies with the connection; after a restart the message goes once;
- killed after the record: nothing is sent again after a restart, and a replayed batch
  (the same events again, with the inbox emptied so the handler runs) inserts nothing;
- killed after the provider accepted and before the record: the one window left, where
  the message goes twice (named in the README). This test shows it is exactly that.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.kafka import produce_raw, read_topic
from tests.support.notification_providers import running
from tests.support.notification_stack import (
    events,
    messages,
    notification_env,
    sms_server,
    start_backends,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration


class IntakeGate:
    """Stands between notification and intake: passes requests on, or holds them."""

    def __init__(self, intake_url: str) -> None:
        self.intake_url = intake_url
        self.open = threading.Event()
        self.waiting = threading.Event()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                gate.waiting.set()
                gate.open.wait()
                answer = httpx.get(
                    gate.intake_url + self.path,
                    headers={"Authorization": self.headers.get("Authorization", "")},
                    timeout=10,
                )
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:
                    pass

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def gate_in_front_of(intake_url: str) -> Iterator[IntakeGate]:
    gate = IntakeGate(intake_url)
    thread = threading.Thread(target=gate.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gate
    finally:
        gate.open.set()
        gate.server.shutdown()
        gate.server.server_close()


def register(deployment: Deployment, seed: int) -> str:
    call = hotline_call(random.Random(seed), story=5, district="440305")
    response = httpx.post(
        f"{deployment['intake'].url}/api/v1/hotline-calls",
        json=call,
        headers=signed_in(Role.OPERATOR),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_number"])


def consumed(deployment: Deployment, outcome: str) -> float:
    text = httpx.get(
        f"{deployment['notification'].url}/metrics/", timeout=5, follow_redirects=True
    ).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("weiquan_events_consumed_total{") and f'outcome="{outcome}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def sql(deployment: Deployment, statement: str) -> None:
    async def run() -> None:
        conn = await deployment.connect("notification")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def test_killed_before_the_send_and_after_the_record_nothing_twice_nothing_lost(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake")
    with running(sms_server()) as sms, gate_in_front_of(deployment["intake"].url) as gate:
        env = notification_env(deployment, sms, None, secret, intake_url=gate.url)
        deployment.start("notification", **env)
        number = register(deployment, 1)

        # 1. Claimed, asking intake for the mobile: killed before the provider saw anything.
        assert gate.waiting.wait(60), "the sender never asked for the contact"
        deployment["notification"].kill()
        [row] = messages(deployment)
        assert (row["status"], row["attempts"]) == ("pending", 0)
        assert sms.sent == []

        # Restarted: the message is claimed again and sent once.
        gate.open.set()
        deployment["notification"].start()
        deployment["notification"].wait_ready()
        wait_until(lambda: messages(deployment)[0]["status"] == "sent", what="sent")
        assert len(sms.sent) == 1 and sms.sent[0].params == [number]
        wait_until(lambda: len(events(deployment, "notification.sent")) == 1)

        # 2. Killed after the record: a restart sends nothing again.
        deployment["notification"].kill()
        # A replayed batch: the same case.reported again, with the inbox emptied so the
        # handler itself runs on it (as after a lost inbox or a consumer-group reset).
        sql(deployment, "DELETE FROM inbox")
        topic = deployment.settings().topic("case.reported")
        records = asyncio.run(read_topic(deployment.infra.kafka_bootstrap, topic))
        asyncio.run(
            produce_raw(
                deployment.infra.kafka_bootstrap,
                topic,
                [r.value for r in records],
                key=records[0].key,
            )
        )
        deployment["notification"].start()
        deployment["notification"].wait_ready()
        wait_until(lambda: consumed(deployment, "applied") >= 1, what="the replay applied")
        time.sleep(3)  # every chance for a (wrong) second send
        assert len(messages(deployment)) == 1
        assert len(sms.sent) == 1
        assert len(events(deployment, "notification.sent")) == 1
        assert '"messages": 0' in deployment["notification"].log_text()


def test_killed_after_the_provider_accepted_before_the_record_is_the_named_window(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake")
    with running(sms_server()) as sms:
        release = sms.hold_answers()
        env = notification_env(
            deployment, sms, None, secret, WEIQUAN_NOTIFICATION_SMS_TIMEOUT_S="60"
        )
        deployment.start("notification", **env)
        register(deployment, 2)
        assert sms.behaviour.received.wait(60)
        assert len(sms.sent) == 1  # the provider has it; its answer is held
        deployment["notification"].kill()
        release.set()
        sms.behaviour.hold = None
        assert messages(deployment)[0]["status"] == "pending"  # never recorded
        deployment["notification"].start()
        deployment["notification"].wait_ready()
        wait_until(lambda: messages(deployment)[0]["status"] == "sent", what="sent")
        # Sent twice: the crash fell between the provider's acceptance and our record.
        assert len(sms.sent) == 2
        assert sms.sent[0].session_context == sms.sent[1].session_context
        assert messages(deployment)[0]["attempts"] == 1
        wait_until(lambda: len(events(deployment, "notification.sent")) == 1)
