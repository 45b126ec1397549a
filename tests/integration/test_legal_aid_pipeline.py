"""Legal aid on real Kafka and PostgreSQL, legal_aid (and projection) as processes.

A case routed to legal aid (case.reported and case.triaged as intake and triage put them on
their topics, the decision replayed) opens one application; the officer records the
household and the documents, asks once for what is missing (a second request is refused),
and decides: granted by the named rules (Art. 31 and Shenzhen's hardship standard). The
district's only wage specialist's firm acted for this employer (same credit code), so the
district's other lawyer is assigned; that lawyer declines and the city's specialist is
assigned instead, and the lawyer who declined now gets 404 for the case. The specialist
records arbitration filed, accepted, the hearing and a final award (by the entitlements
test); the officer closes it with the money recovered and the worker's satisfaction.
A failed mediation that offered legal aid opens an application awaiting the officer's
confirmation (one of its cases never reported to legal aid before); a malformed event is
dead-lettered. Projection counts the case once, though the events are replayed.

The second test: provisional aid decided before intake's report arrives, moved off a
conflicted lawyer when it does, then denied with its reasons and the review route; an
unanswered request for documents withdrawn by the periodic task; a voided case's
application closed; walk-in applications and refusals. The third: `make up`'s legal-aid demo
data, and the demo lawyer (signed in at identity) seeing the case assigned to them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from identity.demo import read_passwords
from tests.support.kafka import produce_raw, read_topic
from tests.support.legal_aid import DISTRICT, LAWYERS, events, publish, report, triage
from tests.support.stack import ROOT, Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.events import (
    CaseVoided,
    MediationFailed,
)

pytestmark = pytest.mark.integration


def test_routed_case_granted_assigned_without_conflict_awarded_recovered_closed(
    deployment: Deployment,
) -> None:
    deployment.start("legal_aid", "projection")
    base = deployment["legal_aid"].url + "/api/v1"
    officer = signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,), name="王专员")
    for code, body in LAWYERS.items():
        answer = httpx.put(f"{base}/lawyers/{code}", json=body, headers=officer)
        assert answer.status_code == 200, answer.text
        linked = httpx.put(
            f"{base}/lawyers/{code}/account", json={"subject": f"sub-{code}"}, headers=officer
        )
        assert linked.status_code == 200, linked.text

    worker = "ab" * 32
    number = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}"
    case_id = report(deployment, number, worker)
    triage(deployment, case_id, number, "legal_aid", times=2)

    def queued() -> list[dict[str, Any]]:
        items = httpx.get(f"{base}/applications", headers=officer).json()["applications"]
        return [a for a in items if a["case_number"] == number]

    found = wait_until(queued, what="the application in the officer's queue")
    assert len(found) == 1
    app = found[0]
    assert app["source"] == "triage" and app["matter"] == "labour_remuneration"
    assert app["employer_name"] == "深圳市鹏程建筑劳务有限公司"
    assert [c["kind"] for c in app["clocks"]] == ["decision"] and app["clocks"][0]["days_left"] >= 7
    api = f"{base}/applications/{app['application_number']}"

    # Another district's officer does not see it.
    assert (
        httpx.get(api, headers=signed_in(Role.LEGAL_AID_OFFICER, districts=("440306",))).status_code
        == 404
    )

    facts: dict[str, Any] = {
        "household_size": 3,
        "monthly_household_income": "6000.00",
        "documents_received": ["identity", "application_form", "employment_proof"],
    }
    assert httpx.put(f"{api}/facts", json=facts, headers=officer).status_code == 200
    asked = httpx.post(f"{api}/documents-request", headers=officer)
    assert asked.status_code == 200, asked.text
    assert asked.json()["missing"] == [
        "经济困难状况说明表（个人诚信承诺）",
        "欠薪证据（工资条、银行流水、欠条等）",
    ]
    again = httpx.post(f"{api}/documents-request", headers=officer)
    assert again.status_code == 409 and "只能告知一次" in again.json()["message"]
    facts["documents_received"] += ["hardship_pledge", "wage_evidence"]
    assert httpx.put(f"{api}/facts", json=facts, headers=officer).status_code == 200

    decided = httpx.post(f"{api}/decision", headers=officer)
    assert decided.status_code == 200, decided.text
    decision = decided.json()
    assert decision["outcome"] == "granted"
    assert decision["rules"] == ["matter.art31", "hardship.440300"]
    assert any("人均2000.00元" in line for line in decision["explanation"])

    detail = httpx.get(api, headers=officer).json()
    assert detail["lawyer_code"] == "LS-440305-002"
    assert detail["assignments"][0]["skipped"] == ["LS-440305-001"]

    first = signed_in(Role.LAWYER, subject="sub-LS-440305-002")
    mine = httpx.get(f"{base}/my/applications", headers=first).json()["applications"]
    assert [a["application_number"] for a in mine] == [app["application_number"]]
    declined = httpx.post(
        f"{base}/my/applications/{app['application_number']}/decline",
        json={"reason": "expertise"},
        headers=first,
    )
    assert declined.status_code == 200 and "重新指派" in declined.json()["message"]
    assert (
        httpx.get(f"{base}/my/applications/{app['application_number']}", headers=first).status_code
        == 404
    )

    specialist = signed_in(Role.LAWYER, subject="sub-LS-440306-001")
    mine_api = f"{base}/my/applications/{app['application_number']}"
    assert httpx.get(mine_api, headers=specialist).json()["lawyer_code"] == "LS-440306-001"
    # The conflicted lawyer never sees it.
    conflicted = signed_in(Role.LAWYER, subject="sub-LS-440305-001")
    assert httpx.get(mine_api, headers=conflicted).status_code == 404

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    steps: list[dict[str, Any]] = [
        {
            "step": "arbitration_filed",
            "occurred_on": str(today - timedelta(days=3)),
            "documents": [{"code": "arbitration_application", "title": "劳动人事争议仲裁申请书"}],
        },
        {
            "step": "arbitration_accepted",
            "occurred_on": str(today - timedelta(days=2)),
            "documents": [{"code": "acceptance_notice", "title": "受理通知书"}],
        },
        {"step": "hearing", "occurred_on": str(today - timedelta(days=1))},
        {
            "step": "award",
            "occurred_on": str(today),
            "amount_awarded": "28000.00",
            "award_items": [{"kind": "labour_remuneration", "amount": "28000.00"}],
            "minimum_monthly_wage": "2360.00",
            "documents": [{"code": "award", "title": "仲裁裁决书"}],
        },
    ]
    for step in steps:
        answer = httpx.post(f"{mine_api}/steps", json=step, headers=specialist)
        assert answer.status_code == 201, answer.text
    award = answer.json()
    assert award["award_final"] is True
    assert [c["kind"] for c in award["clocks"]] == ["sue_after_award", "set_aside_final"]

    supervisor = signed_in(Role.SUPERVISOR, districts=(DISTRICT,))
    projection = deployment["projection"].url
    window = {
        "district": DISTRICT,
        "from": (today - timedelta(days=30)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }

    def legal_aid_figures() -> dict[str, Any]:
        answer = httpx.get(f"{projection}/api/v1/dashboard", params=window, headers=supervisor)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["legal_aid"])

    before = wait_until(
        lambda: (f := legal_aid_figures())["aided"] == 1 and f,
        what="projection counting the aided application",
    )
    assert before["completion_rate"] == 0.0 and before["satisfaction_rate"] is None
    assert Decimal(str(before["money_recovered"])) == 0

    closed = httpx.post(
        f"{api}/close",
        json={"reason": "concluded_award", "amount_recovered": "28000.00", "satisfaction": 5},
        headers=officer,
    )
    assert closed.status_code == 200, closed.text

    # What went onto Kafka, once each, though the triage decision came twice.
    def mine_only(event_type: str) -> list[Any]:
        return [p for _, p in events(deployment, event_type) if p.case_number == number]

    ended = wait_until(lambda: mine_only("legal_aid.closed"), what="legal_aid.closed on Kafka")
    assert len(mine_only("legal_aid.applied")) == 1
    assert len(mine_only("legal_aid.documents_requested")) == 1
    granted = mine_only("legal_aid.granted")
    assert [r.rule_id for r in granted[0].rules] == ["matter.art31", "hardship.440300"]
    assert [p.lawyer_code for p in mine_only("legal_aid.lawyer_assigned")] == [
        "LS-440305-002",
        "LS-440306-001",
    ]
    # Each names the lawyer's account at identity: notification tells the lawyer by it.
    assert [p.lawyer_subject for p in mine_only("legal_aid.lawyer_assigned")] == [
        "sub-LS-440305-002",
        "sub-LS-440306-001",
    ]
    assert [p.reason for p in mine_only("legal_aid.lawyer_declined")] == ["expertise"]
    assert [p.step for p in mine_only("legal_aid.step_recorded")] == [s["step"] for s in steps]
    assert (
        len(ended) == 1
        and ended[0].amount_recovered == Decimal("28000.00")
        and ended[0].satisfaction == 5
    )
    assert ended[0].concluded and ended[0].granted

    after = wait_until(
        lambda: (f := legal_aid_figures())["concluded"] == 1 and f,
        what="projection counting closure",
    )
    assert after["applications"] == after["aided"] == 1
    assert after["completion_rate"] == 1.0 and after["satisfaction_rate"] == 1.0
    assert Decimal(str(after["money_recovered"])) == Decimal("28000.00")
    assert {r["rule_id"] for r in after["granted_by_rule"]} == {"matter.art31", "hardship.440300"}
    drill = httpx.get(
        f"{projection}/api/v1/legal-aid",
        params={**window, "figure": "concluded", "rule": "hardship.440300"},
        headers=supervisor,
    ).json()
    assert [x["application_number"] for x in drill] == [app["application_number"]]

    # Every legal-aid event replayed: the figures do not move.
    settings = deployment.settings()
    for event_type in ("legal_aid.applied", "legal_aid.granted", "legal_aid.closed"):
        raw = asyncio.run(read_topic(settings.kafka_bootstrap, settings.topic(event_type), 5))
        asyncio.run(
            produce_raw(
                settings.kafka_bootstrap, settings.topic(event_type), [r.value for r in raw]
            )
        )

    # A failed mediation offering legal aid: an application awaiting the officer's confirmation.
    other = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}"
    other_id = report(deployment, other, "cd" * 32)
    triage(deployment, other_id, other, "mediation", times=1)
    # A second case of the mediation whose report legal aid has not seen (another topic).
    unseen, unseen_id = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}", uuid.uuid4()
    mediation_id = uuid.uuid4()
    publish(
        deployment,
        MediationFailed(
            mediation_id=mediation_id,
            mediation_number=f"TJ-{DISTRICT}-2026-000777",
            district_code=DISTRICT,
            case_ids=[other_id, unseen_id],
            case_numbers=[other, unseen],
            reason="employer_refused",
            next_steps=["arbitration", "legal_aid"],
            failed_at=datetime.now(UTC),
        ),
        "mediation",
        str(mediation_id),
        times=2,
    )

    def from_mediation() -> list[dict[str, Any]]:
        items = httpx.get(f"{base}/applications", headers=officer).json()["applications"]
        found = [a for a in items if a["case_number"] in (other, unseen)]
        return found if len(found) == 2 else []

    waiting = wait_until(
        from_mediation, what="an application for each case of the failed mediation"
    )
    assert {a["source"] for a in waiting} == {"mediation"}
    assert {a["status"] for a in waiting} == {"awaiting_confirmation"}
    replayed = wait_until(
        lambda: (f := legal_aid_figures())["applications"] == 3 and f,
        what="projection counting the application from the mediation after the replay",
    )
    assert replayed["aided"] == replayed["concluded"] == 1
    assert Decimal(str(replayed["money_recovered"])) == Decimal("28000.00")

    # A malformed event on a topic legal aid reads goes to its dead-letter topic.
    asyncio.run(
        produce_raw(settings.kafka_bootstrap, settings.topic("case.triaged"), [b"{not json"])
    )
    dead = wait_until(
        lambda: asyncio.run(
            read_topic(settings.kafka_bootstrap, settings.topic("dlq.legal_aid"), 3)
        ),
        what="the malformed event dead-lettered",
    )
    assert any(r.value == b"{not json" for r in dead)


def test_provisional_aid_denial_with_reasons_and_unanswered_request_withdrawn(
    deployment: Deployment,
) -> None:
    deployment.start("legal_aid", WEIQUAN_LEGAL_AID_WITHDRAWAL_CHECK_S="1")
    base = deployment["legal_aid"].url + "/api/v1"
    officer = signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,))
    for code, body in LAWYERS.items():
        assert httpx.put(f"{base}/lawyers/{code}", json=body, headers=officer).status_code == 200

    # Triage's decision arrives before intake's report (other topics): provisional aid is
    # assigned at once, without the employer's credit code; when the report comes, the
    # assigned lawyer's firm turns out to have acted for the employer, and the case moves.
    urgent, urgent_id = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}", uuid.uuid4()
    triage(deployment, urgent_id, urgent, "legal_aid", limitation_days=5)
    first_pick = wait_until(
        lambda: [
            a
            for a in httpx.get(f"{base}/applications", headers=officer).json()["applications"]
            if a["case_number"] == urgent and a["lawyer_code"]
        ],
        what="provisional aid assigned before the report",
    )[0]
    assert first_pick["lawyer_code"] == "LS-440305-001"  # the specialist; no credit code yet
    report(deployment, urgent, "ef" * 32, urgent_id)
    slow = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}"
    triage(deployment, report(deployment, slow, "0f" * 32), slow, "legal_aid")

    def by_case_number(number: str) -> dict[str, Any] | None:
        items = httpx.get(
            f"{base}/applications", params={"include_closed": "true"}, headers=officer
        ).json()["applications"]
        return next((a for a in items if a["case_number"] == number), None)

    def by_case() -> dict[str, dict[str, Any]]:
        items = httpx.get(f"{base}/applications", headers=officer).json()["applications"]
        found = {a["case_number"]: a for a in items}
        return found if {urgent, slow} <= set(found) else {}

    apps = wait_until(
        lambda: (found := by_case()) and found[urgent]["lawyer_code"] == "LS-440305-002" and found,
        what="both applications, the provisional one reassigned for the conflict",
    )
    provisional = apps[urgent]
    moved = wait_until(
        lambda: [
            p for _, p in events(deployment, "legal_aid.lawyer_declined") if p.case_number == urgent
        ],
        what="the conflicted lawyer's assignment withdrawn",
    )
    assert [(p.lawyer_code, p.reason) for p in moved] == [("LS-440305-001", "conflict_of_interest")]
    # Fewer than 7 days before limitation: aid at once, a lawyer assigned before any review.
    assert provisional["provisional"] and provisional["status"] == "provisional"
    assert provisional["clocks"][0]["kind"] == "limitation"
    assert provisional["clocks"][0]["days_left"] == 5

    # The review after: a household well above Shenzhen's standard is denied, with reasons.
    api = f"{base}/applications/{provisional['application_number']}"
    httpx.put(
        f"{api}/facts",
        json={"household_size": 2, "monthly_household_income": "30000.00"},
        headers=officer,
    ).raise_for_status()
    denied = httpx.post(f"{api}/decision", headers=officer).json()
    assert denied["outcome"] == "denied" and denied["reason_codes"] == ["income_above_standard"]
    text = "\n".join(denied["explanation"])
    assert "高于当地法律援助经济困难标准" in text and "异议" in text and "司法行政部门" in text
    events_denied = wait_until(
        lambda: [p for _, p in events(deployment, "legal_aid.denied") if p.case_number == urgent],
        what="legal_aid.denied on Kafka",
    )
    assert len(events_denied) == 1 and events_denied[0].after_provisional
    assert events_denied[0].reason_codes == ["income_above_standard"]
    assert httpx.get(api, headers=officer).json()["closure_reason"] == "denied"

    # The one request for documents goes unanswered past its day: withdrawn (Art. 43).
    slow_api = f"{base}/applications/{apps[slow]['application_number']}"
    httpx.post(f"{slow_api}/documents-request", headers=officer).raise_for_status()

    async def overdue() -> None:
        conn = await deployment.connect("legal_aid")
        try:
            await conn.execute(
                "UPDATE applications SET documents_due_on = current_date - 1 "
                "WHERE case_number = $1",
                slow,
            )
        finally:
            await conn.close()

    asyncio.run(overdue())
    withdrawn = wait_until(
        lambda: (a := httpx.get(slow_api, headers=officer).json())["status"] == "closed" and a,
        what="the unanswered request withdrawing the application",
    )
    assert withdrawn["closure_reason"] == "withdrawn_documents"

    # A case voided (registered in error): its open application closes as voided.
    void, void_id = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}", uuid.uuid4()
    triage(deployment, report(deployment, void, "1f" * 32, void_id), void, "legal_aid")
    wait_until(lambda: by_case_number(void), what="the application of the case to be voided")
    publish(
        deployment,
        CaseVoided(
            case_id=void_id,
            case_number=void,
            district_code=DISTRICT,
            reason="registered_in_error",
            voided_at=datetime.now(UTC),
        ),
        "intake",
        str(void_id),
        times=2,
    )
    voided = wait_until(
        lambda: (a := by_case_number(void)) and a["status"] == "closed" and a,
        what="the voided case's application closed",
    )
    assert voided  # wait_until returns only a truthy answer
    detail = httpx.get(f"{base}/applications/{voided['application_number']}", headers=officer)
    assert detail.json()["closure_reason"] == "voided"

    # The desk: a walk-in application; another district's, another role's and bad input refused.
    walk_in = {
        "district_code": DISTRICT,
        "matter": "work_injury",
        "is_migrant_worker": True,
        "employer_name": "深圳市华南电子科技有限公司",
        "employer_credit_code": "91440300MA5GYYYY2L",
    }
    made = httpx.post(f"{base}/applications", json=walk_in, headers=officer)
    assert made.status_code == 201 and made.json()["application_number"].startswith("FY-440305-")
    elsewhere = {**walk_in, "district_code": "440306"}
    assert httpx.post(f"{base}/applications", json=elsewhere, headers=officer).status_code == 403
    assert httpx.get(f"{base}/applications", headers=signed_in(Role.OPERATOR)).status_code == 403
    bad = httpx.post(f"{base}/applications", json={**walk_in, "matter": "divorce"}, headers=officer)
    assert bad.status_code == 422


def test_demo_panel_and_the_demo_lawyer_linked_by_subject(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.start("identity", WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "keys.json"))
    identity = deployment["identity"].url
    subprocess.run(
        [sys.executable, "-m", "identity", "demo-accounts", str(tmp_path / "demo-accounts.txt")],
        env=deployment.service_env("identity"),
        cwd=ROOT,
        check=True,
    )
    deployment.start("legal_aid", WEIQUAN_OIDC_ISSUERS=json.dumps([identity]))
    for i in range(3):
        number = f"{DISTRICT}-2026-{uuid.uuid4().int % 10**6:06d}"
        triage(deployment, report(deployment, number, f"{i + 3:02d}" * 32), number, "legal_aid")
    env = {
        **deployment.service_env("legal_aid"),
        "WEIQUAN_RUN_DIR": str(tmp_path),
        "WEIQUAN_IDENTITY_URL": identity,
        "WEIQUAN_LEGAL_AID_URL": deployment["legal_aid"].url,
    }
    script = [sys.executable, str(ROOT / "deploy" / "local" / "demo_legal_aid.py")]
    loaded = subprocess.run(script, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "6 panel lawyers" in loaded.stdout and "3 taken forward" in loaded.stdout
    again = subprocess.run(script, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "already taken forward" in again.stdout, again.stdout + again.stderr

    passwords = read_passwords(tmp_path / "demo-accounts.txt")
    token = httpx.post(
        f"{identity}/api/v1/token",
        data={
            "grant_type": "password",
            "username": "demo-lawyer",
            "password": passwords["demo-lawyer"],
        },
    ).json()["access_token"]
    mine = httpx.get(
        f"{deployment['legal_aid'].url}/api/v1/my/applications",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert mine["lawyer_code"] == "LS-440305-002"
    assert [a["status"] for a in mine["applications"]] == ["assigned"]
