"""The mediation service in a test deployment: case events put on the real topics as
intake's and triage's outboxes put them, and reads of mediation's database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from tests.support.kafka import produce_raw, read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.envelope import Actor, EventPayload, encode, new_event
from weiquan_shared.events import (
    CaseConsentRecorded,
    CaseReported,
    CaseTriaged,
    CaseVoided,
    EmployerRef,
    TriageReason,
    WorkerRef,
)

COURT_ROOM = "mediation.court_union_room"


def worker_ref(seed: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, seed).hex * 2


def publish(
    deployment: Deployment, producer: str, *payloads: EventPayload, key: uuid.UUID | None = None
) -> None:
    """Each payload on its topic, keyed by its case (or ``key``: a group's events), as the
    producer's outbox sends it."""

    async def run() -> None:
        for payload in payloads:
            case_id = str(key or getattr(payload, "case_id"))  # noqa: B009
            envelope = new_event(
                payload, subject=case_id, producer=producer, actor=Actor.system(producer)
            )
            await produce_raw(
                deployment.infra.kafka_bootstrap,
                deployment.settings().topic(payload.event_type),
                [encode(envelope)],
                key=case_id.encode(),
            )

    asyncio.run(run())


def reported(
    number: str,
    *,
    workers: int = 1,
    district: str = "440305",
    employer: str = "深圳市南山区鹏华建筑劳务有限公司",
    claim: str | None = "18000",
) -> CaseReported:
    case_id = uuid.uuid4()
    return CaseReported(
        case_id=case_id,
        case_number=number,
        channel="hotline",
        channel_ref=f"12351-{number}",
        reported_at=datetime.now(UTC),
        district_code=district,
        employer=EmployerRef(name=employer, district_code=district),
        workers=[WorkerRef(worker_ref=worker_ref(f"{number}/{i}")) for i in range(workers)],
        summary="公司拖欠两个月工资。",
        claim_amount=Decimal(claim) if claim else None,
    )


def triaged(
    case: CaseReported,
    *,
    route_detail: str = COURT_ROOM,
    at: datetime | None = None,
    group_id: uuid.UUID | None = None,
) -> CaseTriaged:
    return CaseTriaged(
        case_id=case.case_id,
        case_number=case.case_number,
        category="wage_arrears",
        urgency="urgent",
        route=route_detail.split(".")[0],
        route_detail=route_detail,
        reasons=[TriageReason(rule="route.mediation", text="转调解")],
        triaged_at=at or datetime.now(UTC),
        group_id=group_id,
    )


def consent(case: CaseReported, *scopes: str) -> CaseConsentRecorded:
    return CaseConsentRecorded(
        case_id=case.case_id,
        case_number=case.case_number,
        district_code=case.district_code,
        scopes=list(scopes),
        wording_version="2026-01",
        obtained_by="case_page",
        recorded_at=datetime.now(UTC),
    )


def voided(case: CaseReported) -> CaseVoided:
    return CaseVoided(
        case_id=case.case_id,
        case_number=case.case_number,
        district_code=case.district_code,
        reason="registered_in_error",
        voided_at=datetime.now(UTC),
    )


def events(deployment: Deployment, event_type: str) -> list[dict[str, Any]]:
    topic = deployment.settings().topic(event_type)
    records = asyncio.run(read_topic(deployment.infra.kafka_bootstrap, topic))
    return [orjson.loads(r.value) for r in records]


def query(deployment: Deployment, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await deployment.connect("mediation")
        await conn.set_type_codec(
            "jsonb", schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
        )  # fmt: skip
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def open_numbers(deployment: Deployment) -> list[str]:
    return [
        r["mediation_number"]
        for r in query(
            deployment,
            "SELECT mediation_number FROM mediations WHERE closed_at IS NULL "
            "ORDER BY mediation_number",
        )
    ]


def mediator(
    subject: str, organisation: Organisation = Organisation.UNION, name: str | None = None
) -> dict[str, str]:
    """Headers of a mediator of ``organisation`` (city-wide)."""
    return signed_in(
        Role.MEDIATOR, subject=subject, organisation=organisation, name=name or subject
    )


def coordinator() -> dict[str, str]:
    return signed_in(Role.SUPERVISOR, subject="coordinator-zhou", name="周协调")
