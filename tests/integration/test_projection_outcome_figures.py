"""Projection alone, fed straight on Kafka: mediation's and legal aid's part of the figures
and of the case page, and a rebuild from the topics that restores them.

A dispute that was never one the union mediated or aided counts nowhere: a mediation merged
into its group's, voided (its cases registered in error) or handed on (retriaged to a route
that counts it itself), and a legal-aid application closed because its case was voided.
A case's page follows its mediation and legal aid: their steps on its timeline, its status
(调解中, 已结案, 法律援助中), and its place in the queues of open cases.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from projection.periods import today
from tests.integration.test_projection_rebuild import run_rebuild
from tests.support.kafka import publish_events
from tests.support.mediation_service import publish, reported, triaged
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, Envelope, EventPayload, new_event
from weiquan_shared.events import EmployerRef
from weiquan_shared.events.legal_aid import (
    LegalAidApplied,
    LegalAidClosed,
    LegalAidGranted,
    RuleRef,
)
from weiquan_shared.events.mediation import (
    MediationClosed,
    MediationFailed,
    MediationOpened,
    MediationSessionScheduled,
    Party,
    SessionPlace,
)

pytestmark = pytest.mark.integration

DISTRICT = "440306"
DAY = today()
AT = datetime.now(UTC)
RULE = RuleRef(
    rule_id="matter.art31_labour_remuneration", effective_from=DAY.replace(year=2022), verified=True
)


def event(payload: EventPayload, subject: uuid.UUID, producer: str) -> Envelope:
    return new_event(payload, subject=str(subject), producer=producer, actor=Actor.system(producer))


def mediation_closed(n: int, result: str, workers: int, **extra: Any) -> Envelope:
    mediation_id = uuid.uuid4()
    closed = MediationClosed(
        mediation_id=mediation_id,
        mediation_number=f"TJ-{DISTRICT}-{DAY.year}-{900000 + n}",
        district_code=DISTRICT,
        case_ids=[uuid.uuid4()],
        case_numbers=[f"{DISTRICT}-{DAY.year}-{900000 + n}"],
        result=result,
        worker_count=workers,
        opened_on=DAY,
        closed_at=AT,
        **extra,
    )
    return event(closed, mediation_id, "mediation")


def application(n: int, reason: str, recovered: str, case: Any = None) -> list[Envelope]:
    """Applied, granted and closed: aided, concluded or not, money recovered; about ``case``
    (a CaseReported) or a case projection has not heard of."""
    aid = uuid.uuid4()
    named: dict[str, Any] = {
        "application_id": aid,
        "case_id": case.case_id if case else uuid.uuid4(),
        "application_number": f"FY-{DISTRICT}-{DAY.year}-{900000 + n}",
        "district_code": DISTRICT,
        "case_number": case.case_number if case else f"{DISTRICT}-{DAY.year}-{800000 + n}",
    }
    return [
        event(
            LegalAidApplied(
                **named,
                source="triage",
                matter="labour_remuneration",
                worker_refs=["w1"],
                awaiting_confirmation=False,
                provisional=False,
                received_on=DAY,
                decision_due_on=DAY + timedelta(days=7),
                applied_at=AT,
            ),
            aid,
            "legal_aid",
        ),
        event(
            LegalAidGranted(
                **named,
                rules=[RULE],
                matter="labour_remuneration",
                worker_refs=["w1"],
                after_provisional=False,
                decided_on=DAY,
                within_deadline=True,
                assign_due_on=DAY + timedelta(days=3),
                granted_at=AT,
            ),
            aid,
            "legal_aid",
        ),
        event(
            LegalAidClosed(
                **named,
                reason=reason,
                granted=True,
                concluded=reason.startswith("concluded"),
                amount_awarded=Decimal(recovered),
                amount_recovered=Decimal(recovered),
                worker_refs=["w1"],
                closed_on=DAY,
                closed_at=AT,
            ),
            aid,
            "legal_aid",
        ),
    ]


def rebuild_while_stopped(deployment: Deployment) -> None:
    deployment["projection"].stop()
    rebuilt = run_rebuild(deployment)
    assert rebuilt.returncode == 0, rebuilt.stderr
    deployment["projection"].start()
    deployment["projection"].wait_ready()


def figures(url: str) -> dict[str, Any]:
    params = {
        "district": DISTRICT,
        "from": (DAY - timedelta(days=1)).isoformat(),
        "to": (DAY + timedelta(days=1)).isoformat(),
    }
    answer = httpx.get(
        f"{url}/api/v1/dashboard",
        params=params,
        headers=signed_in(Role.SUPERVISOR, districts=(DISTRICT,)),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {"mediation": body["mediation"], "legal_aid": body["legal_aid"]}


def test_voided_and_handed_on_count_nowhere_and_a_rebuild_restores_legal_aid(
    deployment: Deployment,
) -> None:
    deployment.start("projection")
    url = deployment["projection"].url
    failed = mediation_closed(1, "failed", workers=2)
    events = [
        failed,
        mediation_closed(2, "voided", workers=3),
        mediation_closed(3, "handed_on", workers=4, handed_on_route="legal_aid"),
        mediation_closed(4, "merged", workers=5, merged_into=uuid.UUID(failed.subject)),
        *application(1, "concluded_award", "8000.00"),
        *application(2, "voided", "5000.00"),
    ]
    asyncio.run(publish_events(deployment.infra.kafka_bootstrap, deployment.namespace, events))

    async def all_rows_in() -> bool:
        conn = await deployment.connect("projection")
        try:
            rows = await conn.fetchval("SELECT count(*) FROM mediation_summary")
            apps = await conn.fetchval(
                "SELECT count(*) FROM legal_aid_summary WHERE closed_on IS NOT NULL"
            )
            return bool(rows == 4 and apps == 2)
        finally:
            await conn.close()

    wait_until(lambda: asyncio.run(all_rows_in()), what="every row in projection")
    before = figures(url)
    mediation, legal_aid = before["mediation"], before["legal_aid"]
    assert (mediation["disputes_mediated"], mediation["workers_covered"]) == (1, 2)
    assert (mediation["concluded"], mediation["succeeded"]) == (1, 0)
    assert (legal_aid["applications"], legal_aid["granted"], legal_aid["aided"]) == (1, 1, 1)
    assert (legal_aid["concluded"], legal_aid["completion_rate"]) == (1, 1.0)
    assert Decimal(str(legal_aid["money_recovered"])) == Decimal("8000")
    assert legal_aid["granted_by_rule"] == [{"rule_id": RULE.rule_id, "applications": 1}]

    # The drill-downs list the same ones.
    supervisor = signed_in(Role.SUPERVISOR, districts=(DISTRICT,))
    listed = httpx.get(f"{url}/api/v1/mediations", headers=supervisor).json()
    assert [m["mediation_number"] for m in listed] == [f"TJ-{DISTRICT}-{DAY.year}-900001"]

    # Legal aid's rows lost (as by a projection defect): a rebuild from the topics makes them
    # again, the same as the live consumer did.
    async def lose_legal_aid() -> None:
        conn = await deployment.connect("projection")
        try:
            await conn.execute("DELETE FROM legal_aid_summary")
        finally:
            await conn.close()

    asyncio.run(lose_legal_aid())
    assert figures(url)["legal_aid"]["applications"] == 0
    rebuild_while_stopped(deployment)
    assert figures(url) == before


def mediation_named(mediation_id: uuid.UUID, n: int, cases: list[Any]) -> dict[str, Any]:
    return {
        "mediation_id": mediation_id,
        "mediation_number": f"TJ-{DISTRICT}-{DAY.year}-{n:06d}",
        "district_code": DISTRICT,
        "case_ids": [c.case_id for c in cases],
        "case_numbers": [c.case_number for c in cases],
    }


def opened(named: dict[str, Any], cases: list[Any]) -> MediationOpened:
    return MediationOpened(
        **named,
        category="wage_arrears",
        route_detail="mediation.court_union_room",
        employer=EmployerRef(name="深圳市宝安区恒达电子厂", district_code=DISTRICT),
        workers=[w for c in cases for w in c.workers],
        received_on=DAY,
        clocks=[],
        opened_at=datetime.now(UTC),
    )


def closed(named: dict[str, Any], result: str, **extra: Any) -> MediationClosed:
    return MediationClosed(
        **named,
        result=result,
        worker_count=len(named["case_ids"]),
        opened_on=DAY,
        closed_at=datetime.now(UTC),
        **extra,
    )


def test_a_case_page_follows_its_mediation_and_legal_aid(deployment: Deployment) -> None:
    deployment.start("projection")
    url = deployment["projection"].url
    bootstrap, namespace = deployment.infra.kafka_bootstrap, deployment.namespace
    officer = signed_in(Role.TRIAGE_OFFICER, districts=(DISTRICT,))
    case = reported(f"{DISTRICT}-{DAY.year}-700001", district=DISTRICT, workers=2)
    joined = reported(f"{DISTRICT}-{DAY.year}-700002", district=DISTRICT)
    publish(deployment, "intake", case, joined)
    publish(deployment, "triage", triaged(case), triaged(joined))

    def page(number: str) -> dict[str, Any]:
        answer = httpx.get(f"{url}/api/v1/cases/{number}", headers=officer)
        return dict(answer.json()) if answer.status_code == 200 else {}

    def state(number: str) -> str | None:
        return page(number).get("case", {}).get("state")

    def lines(number: str, prefix: str) -> list[str]:
        events = page(number).get("events", [])
        return [e["text"] for e in events if e["event_type"].startswith(prefix)]

    def unassigned() -> set[str]:
        answer = httpx.get(f"{url}/api/v1/queues/unassigned", headers=officer)
        assert answer.status_code == 200, answer.text
        return {item["case_number"] for item in answer.json()["items"]}

    wait_until(lambda: state(case.case_number) == "mediation", what="the routed case")
    assert {case.case_number, joined.case_number} <= unassigned()

    # Its own mediation, merged into the group's (the first then counts as neither), and a
    # session booked.
    single_id, group_id = uuid.uuid4(), uuid.uuid4()
    single = mediation_named(single_id, 776, [case])
    group = mediation_named(group_id, 777, [case, joined])
    place = SessionPlace(
        room_id=uuid.uuid4(),
        room_name="宝安区职工服务中心诉调对接工作室",
        room_kind="court_union_room",
        starts_at=datetime(DAY.year, DAY.month, DAY.day, 1, 30, tzinfo=UTC),
        ends_at=datetime(DAY.year, DAY.month, DAY.day, 3, 0, tzinfo=UTC),
    )
    session = MediationSessionScheduled(
        **group,
        session_id=uuid.uuid4(),
        place=place,
        parties=Party(
            workers=[w.worker_ref for w in case.workers],
            representatives_elected=False,
            employer_representative=True,
            mediator_ids=["mediator-chen"],
            organisations=["union", "peoples_court"],
        ),
        scheduled_at=datetime.now(UTC),
    )
    steps = [
        event(opened(single, [case]), single_id, "mediation"),
        event(opened(group, [case, joined]), group_id, "mediation"),
        event(closed(single, "merged", merged_into=group_id), single_id, "mediation"),
        event(session, group_id, "mediation"),
    ]
    asyncio.run(publish_events(bootstrap, namespace, steps))
    wait_until(
        lambda: len(lines(case.case_number, "mediation.")) == 3,
        what="the mediations' lines on the case page",
    )
    said = lines(case.case_number, "mediation.")
    assert set(said[:2]) == {
        f"调解立案 TJ-{DISTRICT}-{DAY.year}-000776（法院—工会诉调对接工作室，涉及职工2人）",
        f"调解立案 TJ-{DISTRICT}-{DAY.year}-000777（法院—工会诉调对接工作室，涉及职工3人）",
    }
    assert (
        said[2] == f"预约调解会议：{DAY.month}月{DAY.day}日 09:30，宝安区职工服务中心诉调对接工作室"
    )
    assert state(case.case_number) == "mediation"

    # The mediation fails: both cases are concluded and leave the open cases' queue.
    failure = MediationFailed(
        **group, reason="employer_refused", next_steps=["legal_aid"], failed_at=datetime.now(UTC)
    )
    ended = [
        event(failure, group_id, "mediation"),
        event(closed(group, "failed"), group_id, "mediation"),
    ]
    asyncio.run(publish_events(bootstrap, namespace, ended))
    wait_until(lambda: state(case.case_number) == "closed", what="the case concluded")
    assert state(joined.case_number) == "closed"
    assert lines(case.case_number, "mediation.")[-2:] == [
        "调解不成：用人单位拒绝调解或不接受方案",
        f"调解 TJ-{DISTRICT}-{DAY.year}-000777 结案：调解不成",
    ]
    assert not {case.case_number, joined.case_number} & unassigned()

    # Legal aid takes the first one up (法律援助中, open again) and concludes it.
    applied, granted, aid_closed = application(7, "concluded_award", "12000.00", case)
    asyncio.run(publish_events(bootstrap, namespace, [applied, granted]))
    wait_until(lambda: state(case.case_number) == "legal_aid", what="the case in legal aid")
    assert case.case_number in unassigned() and joined.case_number not in unassigned()
    asyncio.run(publish_events(bootstrap, namespace, [aid_closed]))
    wait_until(lambda: state(case.case_number) == "closed", what="legal aid concluded")
    assert lines(case.case_number, "legal_aid.") == [
        f"法律援助申请 FY-{DISTRICT}-{DAY.year}-900007（分流转入，追索劳动报酬）",
        "决定给予法律援助",
        f"法律援助 FY-{DISTRICT}-{DAY.year}-900007 结案：仲裁裁决结案，追回12,000.00元",
    ]
    before = page(case.case_number)

    # A rebuild from the topics gives the same page.
    rebuild_while_stopped(deployment)
    assert page(case.case_number) == before
