"""Legal aid end to end on real Kafka and PostgreSQL, every step through the services that
take it: intake, triage, mediation, legal_aid and projection as processes.

A hotline caller's wage claim is registered at intake; triage routes it to mediation;
mediation opens it and a mediator records that mediation failed, legal aid named as the
next step. Legal aid's consumer opens an application from the mediation; the officer
confirms the worker wants aid and it is granted. The district's only wage specialist's
firm acted for this employer (same credit code), so the next lawyer is assigned; that
lawyer records the award; the officer closes it with the money recovered and the worker's
satisfaction. Projection's dashboard moves by exactly that case: completion rate,
satisfaction rate, money recovered (read before and after).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.legal_aid import (
    DISTRICT,
    EMPLOYER_CODE,
    LAWYERS,
    decide,
    events,
    queued_application,
)
from tests.support.mediation_service import coordinator, query
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def test_failed_mediation_to_legal_aid_granted_conflict_skipped_awarded_recovered_closed(
    deployment: Deployment,
) -> None:
    deployment.start("intake", "triage", "mediation", "legal_aid", "projection")
    intake, mediation, legal_aid, projection = (
        deployment[s].url for s in ("intake", "mediation", "legal_aid", "projection")
    )
    base = f"{legal_aid}/api/v1"
    officer = signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,), name="王专员")
    for code, body in LAWYERS.items():
        assert httpx.put(f"{base}/lawyers/{code}", json=body, headers=officer).status_code == 200
        linked = httpx.put(
            f"{base}/lawyers/{code}/account", json={"subject": f"sub-{code}"}, headers=officer
        )
        assert linked.status_code == 200, linked.text
    registered = httpx.put(
        f"{mediation}/api/v1/mediators/mediator-chen",
        json={"name": "陈调解", "organisation": "union", "districts": [DISTRICT]},
        headers=coordinator(),
    )
    assert registered.status_code == 200, registered.text

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    supervisor = signed_in(Role.SUPERVISOR, districts=(DISTRICT,))
    window = {
        "district": DISTRICT,
        "from": (today - timedelta(days=30)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }

    def figures() -> dict[str, Any]:
        answer = httpx.get(f"{projection}/api/v1/dashboard", params=window, headers=supervisor)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["legal_aid"])

    before = figures()

    # A hotline caller's wage claim; the employer's credit code is the one the specialist's
    # firm acted for. A local worker (a migrant worker's wage claim goes to legal aid at
    # once), so triage sends it to mediation first.
    call = hotline_call(random.Random(15), story=0, district=DISTRICT)
    call["workers"][0]["is_migrant_worker"] = False
    call["employer"]["credit_code"] = EMPLOYER_CODE
    answer = httpx.post(
        f"{intake}/api/v1/hotline-calls", json=call, headers=signed_in(Role.OPERATOR), timeout=15
    )
    assert answer.status_code == 201, answer.text
    number, case_id = answer.json()["case_number"], uuid.UUID(answer.json()["case_id"])

    # Triage routes it to mediation; mediation opens it with its lead.
    routed = wait_until(
        lambda: [p for _, p in events(deployment, "case.triaged") if p.case_id == case_id],
        what="triage's decision",
    )
    assert routed[0].route == "mediation", routed[0]

    def opened() -> list[dict[str, Any]]:
        return query(
            deployment,
            "SELECT m.mediation_number FROM mediations m JOIN cases c USING (mediation_id) "
            "WHERE c.case_id = $1 AND m.closed_at IS NULL AND m.lead_mediator_id IS NOT NULL",
            case_id,
        )

    [held] = wait_until(opened, what="the mediation opened with its lead", timeout_s=120)
    mediator = signed_in(
        Role.MEDIATOR,
        subject="mediator-chen",
        organisation=Organisation.UNION,
        name="陈调解",
        districts=(DISTRICT,),
    )
    failed = httpx.post(
        f"{mediation}/api/v1/mediations/{held['mediation_number']}/failure",
        json={"reason": "employer_refused", "next_steps": ["arbitration", "legal_aid"]},
        headers=mediator,
    )
    assert failed.status_code == 200, failed.text

    # Legal aid's consumer opens an application from the mediation, awaiting confirmation.
    app = queued_application(base, officer, number, "the application from the failed mediation")
    assert app["source"] == "mediation" and app["status"] == "awaiting_confirmation"
    api = f"{base}/applications/{app['application_number']}"
    confirmed = httpx.post(f"{api}/confirm", json={"wants_aid": True}, headers=officer)
    assert confirmed.status_code == 200, confirmed.text
    decided = decide(api, officer, household_size=3, income="6000.00")
    assert decided.json()["outcome"] == "granted", decided.text
    assert decided.json()["rules"] == ["matter.art31", "hardship.440300"]

    # The district's only wage specialist's firm acted for this employer: the next lawyer.
    detail = httpx.get(api, headers=officer).json()
    assert detail["lawyer_code"] == "LS-440305-002"
    assert detail["assignments"][0]["skipped"] == ["LS-440305-001"]
    conflicted = signed_in(Role.LAWYER, subject="sub-LS-440305-001")
    lawyer = signed_in(Role.LAWYER, subject="sub-LS-440305-002")
    mine = f"{base}/my/applications/{app['application_number']}"
    assert httpx.get(mine, headers=conflicted).status_code == 404
    award = {
        "step": "award",
        "occurred_on": str(today),
        "amount_awarded": "24300.00",
        "award_items": [{"kind": "labour_remuneration", "amount": "24300.00"}],
        "minimum_monthly_wage": "2360.00",
        "documents": [{"code": "award", "title": "仲裁裁决书"}],
    }
    recorded = httpx.post(f"{mine}/steps", json=award, headers=lawyer)
    assert recorded.status_code == 201, recorded.text

    closed = httpx.post(
        f"{api}/close",
        json={"reason": "concluded_award", "amount_recovered": "24300.00", "satisfaction": 5},
        headers=officer,
    )
    assert closed.status_code == 200, closed.text

    def mine_only(event_type: str) -> list[Any]:
        return [p for _, p in events(deployment, event_type) if p.case_number == number]

    [applied] = wait_until(lambda: mine_only("legal_aid.applied"), what="legal_aid.applied")
    assert applied.source == "mediation" and applied.mediation_id is not None
    [assigned] = mine_only("legal_aid.lawyer_assigned")
    assert assigned.skipped_for_conflict == ["LS-440305-001"]
    [ended] = wait_until(lambda: mine_only("legal_aid.closed"), what="legal_aid.closed")
    assert ended.amount_recovered == Decimal("24300.00") and ended.satisfaction == 5

    # The dashboard moves by exactly this case.
    after = wait_until(
        lambda: (f := figures())["concluded"] == before["concluded"] + 1 and f,
        what="projection counting the closed application",
    )
    assert after["aided"] == before["aided"] + 1
    assert after["applications"] == before["applications"] + 1
    assert after["completion_rate"] == _rate(before["concluded"] + 1, before["aided"] + 1)
    assert after["answered"] == before["answered"] + 1
    assert after["satisfied"] == before["satisfied"] + 1
    assert after["satisfaction_rate"] == _rate(before["satisfied"] + 1, before["answered"] + 1)
    assert Decimal(str(after["money_recovered"])) - Decimal(
        str(before["money_recovered"])
    ) == Decimal("24300.00")
