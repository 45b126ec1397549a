"""Malformed and unknown events go to each consumer's dead-letter topic; consumers keep going."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime

import httpx
import orjson
import pytest

from tests.integration.test_walking_skeleton import wait_for_dashboard
from tests.support.kafka import produce_raw, wait_for_records
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import (
    CaseContactRecorded,
    CaseNoteAdded,
    CaseReported,
    EmployerRef,
    WorkerRef,
)

pytestmark = pytest.mark.integration


def _valid_envelope() -> dict:
    import uuid
    from datetime import UTC, datetime

    payload = CaseReported(
        case_id=uuid.uuid4(),
        case_number="440305-2026-999999",
        channel="hotline",
        channel_ref="x",
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(name="某公司", district_code="440305"),
        workers=[WorkerRef(worker_ref="0" * 64)],
        summary="拖欠工资",
    )
    return orjson.loads(
        encode(
            new_event(payload, subject=str(payload.case_id), producer="t", actor=Actor.system("t"))
        )
    )


def test_bad_events_are_dead_lettered_with_reasons(deployment: Deployment) -> None:
    deployment.start("intake", "triage", "projection")
    settings = deployment.settings()
    bootstrap = deployment.infra.kafka_bootstrap
    unknown = {**_valid_envelope(), "event_type": "case.teleported"}
    wrong_version = {**_valid_envelope(), "schema_version": 7}
    bad_payload = _valid_envelope()
    bad_payload["payload"]["workers"] = []
    poison = [
        b"\x00\x01 not json",
        b'{"event_id": "truncated',
        orjson.dumps(unknown),
        orjson.dumps(wrong_version),
        orjson.dumps(bad_payload),
    ]
    asyncio.run(produce_raw(bootstrap, settings.topic("case.reported"), poison))

    # A good case after the poison still flows through.
    call = hotline_call(random.Random(5))
    assert httpx.post(
        f"{deployment['intake'].url}/api/v1/hotline-calls",
        json=call,
        headers=signed_in(Role.OPERATOR),
    ).is_success
    figures = wait_for_dashboard(
        deployment, lambda f: f["totals"]["awaiting_triage"] == 0 and f["totals"]["cases"] == 1
    )
    assert figures["totals"]["cases"] == 1

    for consumer in ("triage", "projection"):
        dead = asyncio.run(
            wait_for_records(bootstrap, settings.topic(f"dlq.{consumer}"), len(poison))
        )
        assert sorted(r.value for r in dead) == sorted(poison)
        reasons = [dict(r.headers)["dlq.reason"].decode() for r in dead]
        assert any("not valid JSON" in r for r in reasons)
        assert any("unknown event_type 'case.teleported'" in r for r in reasons)
        assert any("unsupported schema_version 7" in r for r in reasons)
        assert any("workers" in r for r in reasons)
        assert all(
            dict(r.headers)["dlq.source.topic"] == settings.topic("case.reported").encode()
            for r in dead
        )


def test_malformed_case_file_events_are_dead_lettered_by_projection(
    deployment: Deployment,
) -> None:
    """The case file's events (intake's and triage's) are held to their contracts: a bad
    one goes to projection's dead-letter topic and a good one after it is applied."""
    deployment.start("projection")
    settings = deployment.settings()
    bootstrap = deployment.infra.kafka_bootstrap
    case_id = uuid.uuid4()
    common = {"case_id": case_id, "case_number": "440305-2026-777777", "district_code": "440305"}
    contact = CaseContactRecorded(
        **common,
        contact_id=uuid.uuid4(),
        method="call_back",
        outcome="reached",
        next_action_on=date(2026, 12, 9),
        author_name="李敏",
        contacted_at=datetime.now(UTC),
    )
    envelope = orjson.loads(
        encode(new_event(contact, subject=str(case_id), producer="intake", actor=Actor.system("t")))
    )
    bad_outcome = {**envelope, "payload": {**envelope["payload"], "outcome": "teleported"}}
    no_clocks = {
        **envelope,
        "event_type": "case.review_resolved",
        "payload": {"case_id": str(case_id), "case_number": "440305-2026-777777"},
    }
    asyncio.run(
        produce_raw(bootstrap, settings.topic("case.contact_recorded"), [orjson.dumps(bad_outcome)])
    )
    asyncio.run(
        produce_raw(bootstrap, settings.topic("case.review_resolved"), [orjson.dumps(no_clocks)])
    )
    note = CaseNoteAdded(
        **common, note_id=uuid.uuid4(), author_name="李敏", written_at=datetime.now(UTC)
    )
    good = encode(new_event(note, subject=str(case_id), producer="intake", actor=Actor.system("t")))
    asyncio.run(produce_raw(bootstrap, settings.topic("case.note_added"), [good]))

    dead = asyncio.run(wait_for_records(bootstrap, settings.topic("dlq.projection"), 2))
    assert sorted(dict(r.headers)["dlq.source.topic"].decode() for r in dead) == [
        settings.topic("case.contact_recorded"),
        settings.topic("case.review_resolved"),
    ]
    reasons = " ".join(dict(r.headers)["dlq.reason"].decode() for r in dead)
    assert "outcome" in reasons and "clocks" in reasons

    async def timeline() -> list[str]:
        conn = await deployment.connect("projection")
        try:
            rows = await conn.fetch("SELECT text FROM case_timeline WHERE case_id = $1", case_id)
            return [r["text"] for r in rows]
        finally:
            await conn.close()

    deadline = time.monotonic() + 30
    while (texts := asyncio.run(timeline())) != ["李敏 添加了备注"]:
        assert time.monotonic() < deadline, texts
        time.sleep(0.3)
