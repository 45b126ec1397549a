"""Mediation's outcomes on real Kafka and PostgreSQL, with identity, intake, mediation and
projection as processes.

A case of three workers registered at intake is held by an open mediation (written into
mediation's database as the mediation's own consumers would: opening and assignment are the
other half of the service), announced with ``mediation.opened`` through mediation's outbox.
Then, through mediation's API as a mediator: an agreement with two instalments, the first
already due (raised overdue exactly once), judicial confirmation applied for and granted, the
调解协议书 generated with the parties' real names fetched from intake with mediation's own
service token (audited at intake) and downloaded (audited), both instalments paid, and the
mediation closed as fulfilled. Projection counts one dispute mediated, its three workers and
the recovered amount once, though every mediation event is replayed twice and a payment is
re-announced under a new event id; a mediation merged into another counts nowhere.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import secrets
import subprocess
import sys
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

from tests.support.kafka import produce_raw, read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import walk_in_group
from weiquan_shared.envelope import Actor, decode, encode, new_event
from weiquan_shared.events._common import EmployerRef, WorkerRef
from weiquan_shared.events.mediation import (
    MediationClosed,
    MediationInstalmentPaid,
    MediationOpened,
)
from weiquan_shared.uow import UnitOfWork

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


async def _open_mediation(
    deployment: Deployment, case: dict[str, Any], workers: list[WorkerRef], today: date
) -> tuple[uuid.UUID, str]:
    """What mediation's consumers do on a case routed to a court–union room: the mediation,
    its case, ``mediation.opened`` through the outbox."""
    mediation_id = uuid.uuid4()
    number = f"TJ-{DISTRICT}-{today.year}-{secrets.randbelow(10**6):06d}"
    received_on = today - timedelta(days=30)
    employer = EmployerRef(name=case["employer"]["name"], district_code=DISTRICT)
    conn = await deployment.connect("mediation")
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO mediations (mediation_id, mediation_number, district_code,
                       category, route_detail, employer, status, received_on, clocks,
                       lead_mediator_id, lead_mediator_name, opened_at)
                   VALUES ($1, $2, $3, 'wage_arrears', 'mediation.court_union_room', $4,
                           'accepted', $5, '[]', 'test-mediator', '李调解', $6)""",
                mediation_id,
                number,
                DISTRICT,
                employer.model_dump_json(),
                received_on,
                datetime.combine(received_on, datetime.min.time(), tzinfo=UTC),
            )
            await conn.execute(
                """INSERT INTO cases (case_id, case_number, district_code, workers, route,
                       route_detail, mediation_id)
                   VALUES ($1, $2, $3, $4, 'mediation', 'mediation.court_union_room', $5)""",
                uuid.UUID(case["case_id"]),
                case["case_number"],
                DISTRICT,
                json.dumps([w.model_dump() for w in workers]),
                mediation_id,
            )
            uow = UnitOfWork(conn, deployment.settings("mediation"), Actor.system("mediation"))
            uow.emit(
                MediationOpened(
                    mediation_id=mediation_id,
                    mediation_number=number,
                    district_code=DISTRICT,
                    case_ids=[uuid.UUID(case["case_id"])],
                    case_numbers=[case["case_number"]],
                    category="wage_arrears",
                    route_detail="mediation.court_union_room",
                    employer=employer,
                    workers=workers,
                    received_on=received_on,
                    clocks=[],
                    opened_at=datetime.combine(received_on, datetime.min.time(), tzinfo=UTC),
                ),
                subject=str(mediation_id),
            )
            await uow.flush()
    finally:
        await conn.close()
    return mediation_id, number


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
    deployment.start("intake", "projection")
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

    body = walk_in_group(random.Random(13), workers=3, story=1, employer=1, district=DISTRICT)
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
    workers = list(reported.workers)
    refs = [w.worker_ref for w in workers]
    mediation_id, number = asyncio.run(_open_mediation(deployment, case, workers, today))

    mediator = signed_in(Role.MEDIATOR, districts=(DISTRICT,), name="李调解")
    api = f"{mediation}/api/v1/mediations/{number}"
    # Another district's mediator does not see it.
    elsewhere = httpx.get(f"{api}/outcome", headers=signed_in(Role.MEDIATOR, districts=("440306",)))
    assert elsewhere.status_code == 404 and "区县" in elsewhere.json()["message"]
    # An operator may use the calculator, not the outcomes.
    assert httpx.get(f"{api}/outcome", headers=signed_in(Role.OPERATOR)).status_code == 403

    effective_on = today - timedelta(days=20)
    items = [
        {"worker_ref": refs[0], "item": "wages", "amount": "12000.00"},
        {"worker_ref": refs[1], "item": "wages", "amount": "9000.00"},
        {"worker_ref": refs[2], "item": "wages", "amount": "6000.50"},
        {"worker_ref": refs[2], "item": "compensation", "amount": "3000.00"},
    ]
    total = Decimal("30000.50")
    first_due, second_due = today - timedelta(days=5), today + timedelta(days=25)
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

    # The first instalment is already due: raised once, however often the check runs.
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
            "applied_on": (today - timedelta(days=15)).isoformat(),
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
            "applied_on": (today - timedelta(days=15)).isoformat(),
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
            "decided_on": (today - timedelta(days=2)).isoformat(),
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
    assert closed[0].worker_count == 3

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
                    "SELECT merged FROM mediation_summary WHERE mediation_id = $1", merged_id
                )
            )
        finally:
            await conn.close()

    _until(lambda: asyncio.run(marker_seen()), "the merged marker in projection")
    counted = figures()
    assert counted["disputes_mediated"] == 1
    assert counted["workers_covered"] == 3
    assert counted["success_rate"] == 1.0
    assert Decimal(str(counted["money_agreed"])) == total
    assert Decimal(str(counted["money_recovered"])) == total
    assert counted["days_to_resolution"] == 10.0  # received (opened) 30 days ago, effect 20
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
    rebuilt = subprocess.run(
        [sys.executable, "-m", "projection", "rebuild"],
        env=deployment.service_env("projection"),
        capture_output=True,
        text=True,
        timeout=300,
    )
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
    assert overview["参与调解劳动争议（按调解案件计，合并的不计）"] == 1
    assert overview["  为职工挽回经济损失（已实际支付）"] == float(total)
    listed = list(book["调解案件"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3], r[6], r[8]) for r in listed] == [
        (number, 3, float(total), case["case_number"])
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
    assert refused.status_code == 401
