"""Mediation's outcomes on real Kafka and PostgreSQL, with identity, intake, triage,
mediation and projection as processes.

A walk-in group of ten workers registered at intake is a group dispute at once: triage
routes it to the court–union room, mediation's consumer opens the mediation and its rules
assign the union mediator on the roster as lead. Then, through mediation's API as a
mediator: an agreement with two instalments, the first falling due (the one day the test
cannot wait for is moved in mediation's database; raised overdue exactly once), judicial
confirmation applied for and granted, the 调解协议书 generated with the parties' real names
fetched from intake with mediation's own service token (audited at intake) and downloaded
(audited), both instalments paid, and the mediation closed as fulfilled. Projection counts
one dispute mediated, its ten workers and the recovered amount once, though every mediation
event is replayed twice and a payment is re-announced under a new event id; a mediation
merged into another counts nowhere; a rebuild gives the same figures.
"""

from __future__ import annotations

import asyncio
import io
import random
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from tests.integration.test_projection_rebuild import run_rebuild
from tests.support.kafka import produce_raw, read_topic
from tests.support.mediation_service import coordinator, query
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import walk_in_group
from weiquan_shared.envelope import Actor, decode, encode, new_event
from weiquan_shared.events.mediation import (
    MediationClosed,
    MediationInstalmentPaid,
)

pytestmark = pytest.mark.integration

DISTRICT = "440305"
COURT = "深圳市南山区人民法院"


def _until(check: Callable[[], Any], what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise TimeoutError(what)


def _events(deployment: Deployment, event_type: str) -> list[tuple[Any, Any]]:
    settings = deployment.settings()
    records = asyncio.run(read_topic(settings.kafka_bootstrap, settings.topic(event_type)))
    return [decode(r.value) for r in records]


async def _first_instalment_fell_due(deployment: Deployment, mediation_id: uuid.UUID) -> None:
    """The one thing the test cannot wait for: a day passing. The agreement takes effect
    today (mediation received the case today, and an agreement cannot take effect earlier),
    so its first instalment falls due at the earliest today; moving that due date to
    yesterday is what tomorrow would bring."""
    conn = await deployment.connect("mediation")
    try:
        moved = await conn.execute(
            """UPDATE instalments i SET due_on = i.due_on - 1
               FROM agreements a
               WHERE a.agreement_id = i.agreement_id AND a.mediation_id = $1 AND i.number = 1""",
            mediation_id,
        )
        assert moved == "UPDATE 1", moved
    finally:
        await conn.close()


def test_agreement_confirmed_paid_closed_and_counted_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    client_secret = secrets.token_hex(32)
    deployment.start(
        "identity",
        WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "signing-keys.json"),
        WEIQUAN_SERVICE_SECRET_MEDIATION=client_secret,
    )
    identity = deployment["identity"].url
    deployment.start("intake", "triage", "projection")
    deployment.start(
        "mediation",
        WEIQUAN_SERVICE_SECRET_MEDIATION=client_secret,
        WEIQUAN_MEDIATION_INTAKE_URL=deployment["intake"].url,
        WEIQUAN_MEDIATION_TOKEN_URL=f"{identity}/api/v1/token",
        WEIQUAN_MEDIATION_OVERDUE_CHECK_S="1",
    )
    intake, mediation, projection = (
        deployment[s].url for s in ("intake", "mediation", "projection")
    )
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    # The union mediator the assignment rules will choose as lead.
    registered = httpx.put(
        f"{mediation}/api/v1/mediators/test-mediator",
        json={"name": "李调解", "organisation": "union", "districts": [DISTRICT]},
        headers=coordinator(),
    )
    assert registered.status_code == 200, registered.text

    # A walk-in group of ten (a group dispute at once): triage routes it to the court–union
    # room, mediation's consumer opens the mediation and the rules assign the lead.
    body = walk_in_group(random.Random(13), workers=10, story=1, employer=1, district=DISTRICT)
    answer = httpx.post(
        f"{intake}/api/v1/walk-in-registrations",
        json=body,
        headers=signed_in(Role.WALK_IN_CLERK),
        timeout=15,
    )
    assert answer.status_code == 201, answer.text
    case = {**answer.json(), **body}
    reported = _until(
        lambda: [
            p for _, p in _events(deployment, "case.reported") if str(p.case_id) == case["case_id"]
        ],
        "case.reported on Kafka",
    )[0]
    refs = [w.worker_ref for w in reported.workers]

    def opened() -> list[dict[str, Any]]:
        return query(
            deployment,
            "SELECT m.mediation_id, m.mediation_number, m.route_detail, m.lead_mediator_id "
            "FROM mediations m JOIN cases c USING (mediation_id) "
            "WHERE c.case_id = $1 AND m.closed_at IS NULL AND m.lead_mediator_id IS NOT NULL",
            uuid.UUID(case["case_id"]),
        )

    wait_until(lambda: bool(opened()), what="the mediation opened and assigned")
    [held] = opened()
    assert held["route_detail"] == "mediation.court_union_room"
    assert held["lead_mediator_id"] == "test-mediator"
    mediation_id, number = held["mediation_id"], held["mediation_number"]

    mediator = signed_in(Role.MEDIATOR, districts=(DISTRICT,), name="李调解")
    api = f"{mediation}/api/v1/mediations/{number}"
    # Another district's mediator does not see it.
    elsewhere = httpx.get(f"{api}/outcome", headers=signed_in(Role.MEDIATOR, districts=("440306",)))
    assert elsewhere.status_code == 404 and "区县" in elsewhere.json()["message"]
    # An operator may use the calculator, not the outcomes.
    assert httpx.get(f"{api}/outcome", headers=signed_in(Role.OPERATOR)).status_code == 403

    effective_on = today
    items = [
        *({"worker_ref": ref, "item": "wages", "amount": "3000.00"} for ref in refs[:9]),
        {"worker_ref": refs[9], "item": "wages", "amount": "2000.50"},
        {"worker_ref": refs[9], "item": "compensation", "amount": "1000.00"},
    ]
    total = Decimal("30000.50")
    first_due, second_due = today, today + timedelta(days=25)
    bad = httpx.post(
        f"{api}/agreement",
        headers=mediator,
        json={
            "items": items,
            "effective_on": effective_on.isoformat(),
            "instalments": [{"due_on": first_due.isoformat(), "amount": "15000.00"}],
        },
    )
    assert bad.status_code == 422 and "不一致" in bad.json()["message"], bad.text
    agreed = httpx.post(
        f"{api}/agreement",
        headers=mediator,
        json={
            "items": items,
            "effective_on": effective_on.isoformat(),
            "instalments": [
                {"due_on": first_due.isoformat(), "amount": "15000.00"},
                {"due_on": second_due.isoformat(), "amount": "15000.50"},
            ],
        },
    )
    assert agreed.status_code == 201, agreed.text
    again = httpx.post(
        f"{api}/agreement",
        headers=mediator,
        json={
            "items": items,
            "effective_on": effective_on.isoformat(),
            "schedule": {"first_due_on": second_due.isoformat(), "count": 1},
        },
    )
    assert again.status_code == 409

    # The first instalment falls due (see above): raised once, however often the check runs.
    asyncio.run(_first_instalment_fell_due(deployment, mediation_id))
    first_due -= timedelta(days=1)
    overdue = _until(
        lambda: [p for _, p in _events(deployment, "mediation.instalment_overdue")],
        "mediation.instalment_overdue",
    )
    time.sleep(3)  # three more rounds of the check
    overdue = [p for _, p in _events(deployment, "mediation.instalment_overdue")]
    assert [(p.number, p.amount_due, p.due_on) for p in overdue] == [
        (1, Decimal("15000.00"), first_due)
    ]

    view = httpx.get(f"{api}/outcome", headers=mediator).json()
    window_due = date.fromisoformat(view["agreement"]["confirmation_window"]["due_on"])
    assert window_due >= effective_on + timedelta(days=30)
    assert view["invited_court"] == COURT
    check = view["agreement"]["payment_order_check"]
    assert check["eligible"] and Decimal(check["amount"]) == Decimal("30000.50")

    wrong_court = httpx.post(
        f"{api}/confirmation",
        headers=mediator,
        json={
            "court_name": "深圳市福田区人民法院",
            "court_basis": "party_domicile",
            "applied_on": today.isoformat(),
            "both_parties": True,
        },
    )
    assert wrong_court.status_code == 422 and COURT in wrong_court.json()["message"]
    applied = httpx.post(
        f"{api}/confirmation",
        headers=mediator,
        json={
            "court_name": COURT,
            "court_basis": "invited",
            "applied_on": today.isoformat(),
            "both_parties": True,
        },
    )
    assert applied.status_code == 200, applied.text
    ruled = httpx.post(
        f"{api}/confirmation/ruling",
        headers=mediator,
        json={
            "ruling": "confirmed",
            "ruling_number": f"（{today.year}）粤0305民特123号",
            "decided_on": today.isoformat(),
        },
    )
    assert ruled.status_code == 200, ruled.text

    # The document: names and ID numbers from intake with mediation's own token.
    made = httpx.post(f"{api}/agreement/document", headers=mediator, timeout=60)
    assert made.status_code == 201, made.text
    no_reason = httpx.get(f"{api}/agreement/document", headers=mediator)
    assert no_reason.status_code == 422
    pdf = httpx.get(
        f"{api}/agreement/document", params={"reason": "case_handling"}, headers=mediator
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["cache-control"].startswith("no-store")
    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf.content)
    text = "".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for worker in body["workers"]:
        assert worker["name"] in text
    assert "30,000.50" in text and number in text

    async def stored_document() -> bytes:
        conn = await deployment.connect("mediation")
        try:
            return bytes(await conn.fetchval("SELECT document_enc FROM agreements"))
        finally:
            await conn.close()

    stored = asyncio.run(stored_document())
    assert b"%PDF" not in stored and body["workers"][0]["name"].encode() not in stored

    audit = _until(
        lambda: (
            [
                p
                for _, p in _events(deployment, "audit.recorded")
                if p.action in ("pii.looked_up", "agreement.downloaded")
            ]
            if len(
                {p.action for _, p in _events(deployment, "audit.recorded")}
                & {"pii.looked_up", "agreement.downloaded"}
            )
            == 2
            else None
        ),
        "audit records of the lookup and the download",
    )
    looked_up = [p for p in audit if p.action == "pii.looked_up"]
    assert looked_up[0].service == "intake" and looked_up[0].reason == "mediation_agreement"
    downloaded = [p for p in audit if p.action == "agreement.downloaded"]
    assert downloaded[0].service == "mediation" and downloaded[0].reason == "case_handling"

    # Payments: the second closes the mediation as fulfilled.
    for n, amount in ((1, "15000.00"), (2, "15000.50")):
        paid = httpx.post(
            f"{api}/instalments/{n}/payment",
            headers=mediator,
            json={"amount": amount, "paid_on": today.isoformat(), "evidence": "bank_transfer"},
        )
        assert paid.status_code == 200, paid.text
    assert paid.json()["closed"] is True
    twice = httpx.post(
        f"{api}/instalments/1/payment",
        headers=mediator,
        json={"amount": "15000.00", "paid_on": today.isoformat(), "evidence": "bank_transfer"},
    )
    assert twice.status_code == 409

    closed = _until(
        lambda: [
            p for _, p in _events(deployment, "mediation.closed") if p.mediation_id == mediation_id
        ],
        "mediation.closed",
    )
    assert closed[0].result == "fulfilled" and closed[0].amount_recovered == total
    assert closed[0].worker_count == 10

    supervisor = signed_in(Role.SUPERVISOR, districts=(DISTRICT,))
    params = {
        "district": DISTRICT,
        "from": (today - timedelta(days=60)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }

    def figures() -> dict[str, Any]:
        answer = httpx.get(f"{projection}/api/v1/dashboard", params=params, headers=supervisor)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["mediation"])

    _until(lambda: Decimal(str(figures()["money_recovered"])) == total, "projection's recovered")

    # Replay every mediation event twice, and announce a payment again under a new event id;
    # then a merged mediation (counts nowhere) as the marker that the replay was consumed.
    settings = deployment.settings()
    bootstrap = settings.kafka_bootstrap
    types = [
        "mediation.opened",
        "mediation.agreement_reached",
        "mediation.instalment_paid",
        "mediation.closed",
        "mediation.confirmation_requested",
        "mediation.confirmation_decided",
        "mediation.instalment_overdue",
    ]
    for event_type in types:
        topic = settings.topic(event_type)
        records = asyncio.run(read_topic(bootstrap, topic))
        for _ in range(2):
            for r in records:
                asyncio.run(produce_raw(bootstrap, topic, [r.value], key=r.key))
    first_paid = next(
        p for e, p in _events(deployment, "mediation.instalment_paid") if p.number == 1
    )
    again_paid = new_event(
        first_paid, subject=str(mediation_id), producer="mediation", actor=Actor.system("mediation")
    )
    assert isinstance(first_paid, MediationInstalmentPaid)
    asyncio.run(
        produce_raw(
            bootstrap,
            settings.topic("mediation.instalment_paid"),
            [encode(again_paid)],
            key=str(mediation_id).encode(),
        )
    )
    merged_id = uuid.uuid4()
    merged = dict(
        mediation_id=merged_id,
        mediation_number=f"TJ-{DISTRICT}-{today.year}-M",
        district_code=DISTRICT,
        case_ids=[uuid.uuid4()],
        case_numbers=["x"],
    )
    marker = new_event(
        MediationClosed(
            **merged,
            result="merged",
            merged_into=mediation_id,
            worker_count=4,
            opened_on=today,
            closed_at=datetime.now(UTC),
        ),
        subject=str(mediation_id),
        producer="mediation",
        actor=Actor.system("mediation"),
    )
    asyncio.run(
        produce_raw(
            bootstrap,
            settings.topic("mediation.closed"),
            [encode(marker)],
            key=str(mediation_id).encode(),
        )
    )

    async def marker_seen() -> bool:
        conn = await deployment.connect("projection")
        try:
            return bool(
                await conn.fetchval(
                    "SELECT uncounted FROM mediation_summary WHERE mediation_id = $1", merged_id
                )
            )
        finally:
            await conn.close()

    _until(lambda: asyncio.run(marker_seen()), "the merged marker in projection")
    counted = figures()
    assert counted["disputes_mediated"] == 1
    assert counted["workers_covered"] == 10
    assert counted["success_rate"] == 1.0
    assert Decimal(str(counted["money_agreed"])) == total
    assert Decimal(str(counted["money_recovered"])) == total
    assert counted["days_to_resolution"] == 0.0  # opened and agreed today
    drill = httpx.get(
        f"{projection}/api/v1/mediations",
        params={**params, "figure": "money_recovered"},
        headers=supervisor,
    ).json()
    assert [(m["mediation_number"], m["case_numbers"]) for m in drill] == [
        (number, [case["case_number"]])
    ]
    assert Decimal(str(drill[0]["recovered"])) == total

    # A rebuild from the topics gives the same figures (replays and repeats included).
    deployment["projection"].stop()
    rebuilt = run_rebuild(deployment)
    assert rebuilt.returncode == 0, rebuilt.stderr
    deployment["projection"].start()
    deployment["projection"].wait_ready()
    assert figures() == counted

    # The year-end workbook: the figures and the mediation behind them.
    workbook = httpx.get(
        f"{projection}/api/v1/report.xlsx", params=params, headers=supervisor, timeout=30
    )
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.content))
    overview = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert overview["参与调解劳动争议（按调解案件计，合并、作废和转其他途径的不计）"] == 1
    assert overview["  为职工挽回经济损失（已实际支付）"] == float(total)
    listed = list(book["调解案件"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3], r[6], r[8]) for r in listed] == [
        (number, 10, float(total), case["case_number"])
    ]

    # The calculator's API: for the staff who advise workers, not for lawyers.
    e1 = {
        "calculation": "compensation",
        "start": "2021-03-01",
        "end": "2024-09-30",
        "average_monthly_wage": "8000",
    }
    calc = httpx.post(f"{mediation}/api/v1/entitlements", json=e1, headers=signed_in(Role.OPERATOR))
    assert calc.status_code == 200 and calc.json()["amount"] == "32000.00", calc.text
    lawyer = httpx.post(f"{mediation}/api/v1/entitlements", json=e1, headers=signed_in(Role.LAWYER))
    assert lawyer.status_code == 403
    # A person's token never opens intake's lookup for services.
    refused = httpx.get(
        f"{intake}/api/v1/internal/cases/{case['case_number']}/parties",
        params={"purpose": "mediation_agreement", "on_behalf_of": "x"},
        headers=mediator,
    )
    assert refused.status_code == 403
