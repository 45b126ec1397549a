"""A service started before its dependencies says which one it waits for, and retries."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.stack import ARTIFACTS, Deployment, ServiceProcess, free_port

pytestmark = pytest.mark.integration


def test_service_names_unreachable_kafka_and_keeps_retrying(deployment: Deployment) -> None:
    dead_port = free_port()
    port = free_port()
    service = ServiceProcess(
        "triage",
        deployment.service_env(
            "triage", WEIQUAN_KAFKA_BOOTSTRAP=f"127.0.0.1:{dead_port}", WEIQUAN_HTTP_PORT=str(port)
        ),
        ARTIFACTS / "logs" / f"{deployment.namespace}-triage-without-kafka.log",
        port,
    )
    deployment.services["triage-nokafka"] = service
    service.start()
    deadline = time.monotonic() + 30
    lines: list[dict] = []
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in service.log_text().splitlines() if x.startswith("{")]
        if sum(1 for x in lines if x.get("component") == "Kafka") >= 2:
            break
        time.sleep(0.5)
    waiting = [x for x in lines if x.get("event") == "dependency unreachable, retrying"]
    assert len(waiting) >= 2, service.log_text()[-2000:]
    assert waiting[0]["component"] == "Kafka"
    assert waiting[0]["target"] == f"127.0.0.1:{dead_port}"
    assert service.process is not None and service.process.poll() is None  # still trying
