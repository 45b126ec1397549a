"""Legal aid in tests: events as intake, triage and mediation put them on their topics, the
panel of test lawyers, and waiting for what the services do."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.support.kafka import produce_raw, read_topic
from tests.support.stack import Deployment
from tests.support.waiting import wait_until
from weiquan_shared.envelope import Actor, EventPayload, decode, encode, new_event
from weiquan_shared.events import CaseReported, CaseTriaged, StatutoryClock, TriageReason
from weiquan_shared.events._common import EmployerRef, WorkerRef

DISTRICT = "440305"
EMPLOYER_CODE = "91440300MA5FXXXX1K"


def events(deployment: Deployment, event_type: str) -> list[tuple[Any, Any]]:
    settings = deployment.settings()
    records = asyncio.run(read_topic(settings.kafka_bootstrap, settings.topic(event_type), 5))
    return [decode(r.value) for r in records]


def publish(
    deployment: Deployment, payload: EventPayload, producer: str, subject: str, times: int = 1
) -> None:
    settings = deployment.settings()
    envelope = new_event(payload, subject=subject, producer=producer, actor=Actor.system(producer))
    asyncio.run(
        produce_raw(
            settings.kafka_bootstrap,
            settings.topic(payload.event_type),
            [encode(envelope)] * times,
            key=subject.encode(),
        )
    )


def report(
    deployment: Deployment, case_number: str, worker: str, case_id: uuid.UUID | None = None
) -> uuid.UUID:
    case_id = case_id or uuid.uuid4()
    publish(
        deployment,
        CaseReported(
            case_id=case_id,
            case_number=case_number,
            channel="walk_in",
            channel_ref="desk-1",
            reported_at=datetime.now(UTC),
            district_code=DISTRICT,
            employer=EmployerRef(
                name="深圳市鹏程建筑劳务有限公司", credit_code=EMPLOYER_CODE, district_code=DISTRICT
            ),
            workers=[WorkerRef(worker_ref=worker)],
            summary="公司拖欠三个月工资共两万八千元",
            claim_amount=Decimal("28000"),
        ),
        "intake",
        str(case_id),
    )
    return case_id


def triage(
    deployment: Deployment,
    case_id: uuid.UUID,
    case_number: str,
    route: str,
    times: int = 1,
    limitation_days: int = 65,
) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    publish(
        deployment,
        CaseTriaged(
            case_id=case_id,
            case_number=case_number,
            category="wage_arrears",
            urgency="normal",
            route=route,
            route_detail="legal_aid.union" if route == "legal_aid" else "mediation.union",
            reasons=[TriageReason(rule="route.test", text="测试分流")],
            clocks=[
                StatutoryClock(
                    kind="arbitration_limitation",
                    rule_id="clock.arbitration_limitation",
                    starts_on=today - timedelta(days=300),
                    due_on=today + timedelta(days=limitation_days),
                    at_risk_from=today + timedelta(days=limitation_days - 30),
                    note="仲裁时效",
                )
            ],
            triaged_at=datetime.now(UTC),
        ),
        "triage",
        str(case_id),
        times,
    )


LAWYERS = {
    # The district's only wage specialist; the firm acted for the employer.
    "LS-440305-001": {
        "name": "张明律师",
        "kind": "contracted_firm",
        "firm_code": "F-GDHZ",
        "firm_name": "广东华章律师事务所",
        "districts": [DISTRICT],
        "specialties": ["labour_remuneration"],
        "capacity": 6,
        "firm_acted_for": [EMPLOYER_CODE],
    },
    # The district's union adviser, social insurance (no conflict): assigned first.
    "LS-440305-002": {
        "name": "刘芳",
        "kind": "union_adviser",
        "districts": [DISTRICT],
        "specialties": ["social_insurance"],
        "capacity": 4,
    },
    # A wage specialist of another district: assigned after the decline.
    "LS-440306-001": {
        "name": "陈卫国律师",
        "kind": "union_adviser",
        "districts": ["440306"],
        "specialties": ["labour_remuneration", "work_injury"],
        "capacity": 8,
    },
}


# Every document of a labour-remuneration application (legal_aid/documents.json).
WAGE_DOCUMENTS = [
    "identity",
    "application_form",
    "employment_proof",
    "hardship_pledge",
    "wage_evidence",
]


def queued_application(base: str, officer: dict[str, str], number: str, what: str) -> dict:
    """The case's one application in the officer's queue, once legal aid has opened it."""

    def queued() -> list[dict[str, Any]]:
        items = httpx.get(f"{base}/applications", headers=officer).json()["applications"]
        return [a for a in items if a["case_number"] == number]

    [application] = wait_until(queued, what=what)
    return dict(application)


def decide(api: str, officer: dict[str, str], household_size: int, income: str) -> httpx.Response:
    """The officer records a wage application's household and every document, then decides."""
    facts = {
        "household_size": household_size,
        "monthly_household_income": income,
        "documents_received": WAGE_DOCUMENTS,
    }
    assert httpx.put(f"{api}/facts", json=facts, headers=officer).status_code == 200
    decided = httpx.post(f"{api}/decision", headers=officer)
    assert decided.status_code == 200, decided.text
    return decided
