"""District scope on the supervisors' read side, on the real stack.

Real identity service (supervisors signed in with a password), real projection verifying
their tokens, real PostgreSQL and Kafka. Cases in 南山区 (440305) and 宝安区 (440306) are
published as intake and triage publish them. A 南山区 supervisor's case list, figures,
drill-downs, repeat employers, consultations and Excel report hold only 南山区; a 宝安区
case is 404 to them, worded as a case that does not exist; the city supervisor and an
administrator see both districts; each report download leaves an ``audit.recorded``.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook

from projection import labels
from tests.integration.test_projection_rebuild import publish
from tests.support.kafka import wait_for_records
from tests.support.stack import Deployment
from tests.support.staff import Accounts, signed_in, start_identity, trusting
from weiquan_shared.auth import Role
from weiquan_shared.envelope import Actor, Envelope, EventPayload, decode, new_event
from weiquan_shared.events import (
    CaseReported,
    CaseTriaged,
    EmployerFlagged,
    EmployerRef,
    StatutoryClock,
    TriageReason,
    WorkerRef,
)
from weiquan_shared.events.audit import AuditRecorded
from weiquan_shared.events.intake import ConsultationRecorded

pytestmark = pytest.mark.integration

NANSHAN, BAOAN = "440305", "440306"
ACCOUNTS: Accounts = {
    "nanshan.sup": (Role.SUPERVISOR, [NANSHAN]),
    "baoan.sup": (Role.SUPERVISOR, [BAOAN]),
    "city.sup": (Role.SUPERVISOR, list(labels.DISTRICTS)),
    "admin": (Role.ADMIN, []),
}
REASON = TriageReason(rule="test.rule", text="测试规则")
# One company with a credit code and cases in both districts; one only in 宝安区.
SUDA = EmployerRef(
    name="深圳市速达同城配送有限公司", credit_code="91440300MA5F00000X", district_code=NANSHAN
)
JINXIU = EmployerRef(name="深圳市锦绣服装厂", district_code=BAOAN)


def event(payload: EventPayload, subject: uuid.UUID) -> tuple[str, Envelope]:
    envelope = new_event(
        payload, subject=str(subject), producer=payload.producer, actor=Actor.system("test")
    )
    return payload.event_type, envelope


@dataclass
class Case:
    case_id: uuid.UUID
    number: str
    district: str


def reported_and_triaged(
    number: int, district: str, employer: EmployerRef
) -> tuple[Case, list[tuple[str, Envelope]]]:
    """A hotline case, triaged as wage arrears, its mediation window at risk today."""
    case = Case(uuid.uuid4(), f"{district}-2026-{number:06d}", district)
    now = datetime.now(UTC)
    today = now.date()
    reported = CaseReported(
        case_id=case.case_id,
        case_number=case.number,
        channel="hotline",
        channel_ref=f"call-{number}",
        reported_at=now - timedelta(minutes=10),
        district_code=district,
        employer=employer.model_copy(update={"district_code": district}),
        workers=[WorkerRef(worker_ref=f"{number:064x}", is_migrant_worker=True)],
        summary="拖欠工资",
    )
    clock = StatutoryClock(
        kind="mediation_window",
        rule_id="test.mediation_window",
        starts_on=today - timedelta(days=10),
        due_on=today + timedelta(days=3),
        at_risk_from=today - timedelta(days=1),
        note="调解期限",
    )
    triaged = CaseTriaged(
        case_id=case.case_id,
        case_number=case.number,
        category="wage_arrears",
        urgency="normal",
        route="mediation",
        route_detail="mediation.union",
        reasons=[REASON],
        triaged_at=now - timedelta(minutes=9),
        clocks=[clock],
    )
    return case, [event(reported, case.case_id), event(triaged, case.case_id)]


def flagged(employer: EmployerRef, cases: list[Case]) -> tuple[str, Envelope]:
    payload = EmployerFlagged(
        employer_id=uuid.uuid4(),
        employer=employer,
        case_count=len(cases),
        window_days=90,
        case_ids=[c.case_id for c in cases],
        reason=REASON,
        flagged_at=datetime.now(UTC) - timedelta(minutes=5),
    )
    return event(payload, payload.employer_id)


def consultation(district: str) -> tuple[str, Envelope]:
    payload = ConsultationRecorded(
        consultation_id=uuid.uuid4(),
        channel="walk_in",
        channel_ref=f"desk-{uuid.uuid4().hex[:8]}",
        occurred_at=datetime.now(UTC) - timedelta(minutes=3),
        district_code=district,
        topic="wage_arrears",
        summary="询问加班工资计算",
    )
    return event(payload, payload.consultation_id)


@dataclass
class Scene:
    projection: str
    nanshan: list[Case]
    baoan: list[Case]
    callers: dict[str, httpx.Client]

    def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return self.callers[who].get(f"{self.projection}{path}", params=params)


@pytest.fixture
def scene(deployment: Deployment, tmp_path: Path) -> Iterator[Scene]:
    identity = start_identity(deployment, tmp_path, ACCOUNTS)
    deployment.start("projection", **trusting(identity))

    nanshan_1, events_1 = reported_and_triaged(1, NANSHAN, SUDA)
    nanshan_2, events_2 = reported_and_triaged(2, NANSHAN, SUDA)
    baoan_1, events_3 = reported_and_triaged(3, BAOAN, SUDA)
    baoan_2, events_4 = reported_and_triaged(4, BAOAN, JINXIU)
    events = [*events_1, *events_2, *events_3, *events_4]
    events += [
        flagged(SUDA, [nanshan_1, nanshan_2, baoan_1]),
        # With a case projection has not seen: it counts in the flag's district.
        flagged(JINXIU, [baoan_2, Case(uuid.uuid4(), "", BAOAN)]),
        consultation(NANSHAN),
        consultation(BAOAN),
        consultation(BAOAN),
    ]
    asyncio.run(publish(deployment.infra.kafka_bootstrap, deployment.namespace, events))

    callers = {username: signed_in(identity, username) for username in ACCOUNTS}
    scene = Scene(deployment["projection"].url, [nanshan_1, nanshan_2], [baoan_1, baoan_2], callers)
    deadline = time.monotonic() + 60
    while True:  # every event applied: the whole city's figures are complete
        figures = scene.get("admin", "/api/v1/dashboard").json()
        if figures["totals"]["cases"] == 4 and figures["figures"] == {
            **figures["figures"],
            "consultations": 3,
            "repeat_employers": 2,
            "deadlines_at_risk": 4,
        }:
            break
        assert time.monotonic() < deadline, figures
        time.sleep(0.5)
    try:
        yield scene
    finally:
        for client in callers.values():
            client.close()


def workbook_text(body: bytes) -> str:
    """Every cell of every sheet, one per line."""
    book = load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def test_a_district_supervisor_reads_only_their_district(scene: Scene) -> None:
    mine = {c.number for c in scene.nanshan}
    theirs = {c.number for c in scene.baoan}

    cases = scene.get("nanshan.sup", "/api/v1/cases").json()
    assert cases["total"] == 2
    assert {c["case_number"] for c in cases["cases"]} == mine
    assert {c["district_code"] for c in cases["cases"]} == {NANSHAN}
    # Searching by number does not reach another district's case either.
    found = scene.get("nanshan.sup", "/api/v1/cases", case_number=BAOAN).json()
    assert found == {"total": 0, "cases": []}

    dashboard = scene.get("nanshan.sup", "/api/v1/dashboard").json()
    assert dashboard["totals"]["cases"] == 2 and dashboard["totals"]["workers"] == 2
    assert dashboard["figures"]["consultations"] == 1
    assert dashboard["figures"]["deadlines_at_risk"] == 2
    assert dashboard["figures"]["repeat_employers"] == 1
    assert [d["code"] for d in dashboard["by_district"]] == [NANSHAN]
    assert {c["case_number"] for c in dashboard["recent_cases"]} == mine
    assert dashboard["scope"] == {"label": "南山区", "districts": [NANSHAN]}
    assert dashboard["districts"] == [{"code": NANSHAN, "name": "南山区"}]

    # Drill-downs behind the figures.
    by_category = scene.get("nanshan.sup", "/api/v1/cases", category="wage_arrears").json()
    assert {c["case_number"] for c in by_category["cases"]} == mine
    at_risk = scene.get("nanshan.sup", "/api/v1/deadlines-at-risk").json()
    assert {d["case_number"] for d in at_risk} == mine
    consultations = scene.get("nanshan.sup", "/api/v1/consultations").json()
    assert [c["district_code"] for c in consultations] == [NANSHAN]
    employers = scene.get("nanshan.sup", "/api/v1/repeat-employers").json()
    assert [(e["employer_name"], e["district_names"], e["case_count"]) for e in employers] == [
        (SUDA.name, ["南山区"], 2)
    ]
    assert set(employers[0]["case_numbers"]) == mine

    # The same employer in 宝安区's list, with 宝安区's case only.
    theirs_employers = scene.get("baoan.sup", "/api/v1/repeat-employers").json()
    assert {e["employer_name"]: e["case_count"] for e in theirs_employers} == {
        JINXIU.name: 2,
        SUDA.name: 1,
    }

    # Another district's case answers exactly as a case that does not exist.
    for number in theirs:
        for path in (f"/api/v1/cases/{number}", f"/api/v1/cases/{number}/timeline"):
            hidden = scene.get("nanshan.sup", path)
            assert hidden.status_code == 404, hidden.text
            assert hidden.json()["message"] == f"未找到案件编号 {number}"
    missing = scene.get("nanshan.sup", "/api/v1/cases/440305-2026-999999")
    assert missing.status_code == 404
    assert missing.json()["message"] == "未找到案件编号 440305-2026-999999"
    own = scene.get("nanshan.sup", f"/api/v1/cases/{scene.nanshan[0].number}")
    assert own.status_code == 200 and own.json()["events"]

    # Asking for another district: 404 on every route that takes one.
    for path in (
        "/api/v1/dashboard",
        "/api/v1/cases",
        "/api/v1/deadlines-at-risk",
        "/api/v1/repeat-employers",
        "/api/v1/consultations",
        "/api/v1/report.xlsx",
        "/api/v1/report/summary",
    ):
        refused = scene.get("nanshan.sup", path, district=BAOAN)
        assert refused.status_code == 404, (path, refused.text)
        assert refused.json()["message"] == f"您的工作范围内没有区县 {BAOAN}"

    # The report: named for its scope, and nothing of 宝安区 in any cell.
    summary = scene.get("nanshan.sup", "/api/v1/report/summary", period="2026").json()
    assert summary["summary"].startswith("2026年全年，南山区共受理劳动争议案件2件")
    report = scene.get("nanshan.sup", "/api/v1/report.xlsx", period="2026")
    assert report.status_code == 200, report.text
    assert "南山区2026年全年" in unquote(report.headers["content-disposition"])
    text = workbook_text(report.content)
    assert text.startswith("南山区2026年全年劳动争议工作统计")
    assert all(number in text for number in mine)
    assert not any(number in text for number in theirs)
    assert "宝安区" not in text


def test_the_city_supervisor_and_an_administrator_read_every_district(scene: Scene) -> None:
    every = {c.number for c in scene.nanshan + scene.baoan}
    for who in ("city.sup", "admin"):
        cases = scene.get(who, "/api/v1/cases").json()
        assert {c["case_number"] for c in cases["cases"]} == every, who
        dashboard = scene.get(who, "/api/v1/dashboard").json()
        assert dashboard["scope"]["label"] == "全市"
        assert [d["code"] for d in dashboard["districts"]] == list(labels.DISTRICTS)
        assert {d["code"] for d in dashboard["by_district"]} == {NANSHAN, BAOAN}
        baoan_only = scene.get(who, "/api/v1/cases", district=BAOAN).json()
        assert {c["case_number"] for c in baoan_only["cases"]} == {c.number for c in scene.baoan}
        timeline = scene.get(who, f"/api/v1/cases/{scene.baoan[0].number}")
        assert timeline.status_code == 200
        employers = scene.get(who, "/api/v1/repeat-employers").json()
        suda = next(e for e in employers if e["employer_name"] == SUDA.name)
        assert suda["case_count"] == 3 and suda["district_names"] == ["南山区", "宝安区"]
    report = scene.get("city.sup", "/api/v1/report.xlsx", period="2026")
    text = workbook_text(report.content)
    assert text.startswith("全市2026年全年劳动争议工作统计")
    assert all(number in text for number in every)
    district_report = scene.get("city.sup", "/api/v1/report.xlsx", period="2026", district=BAOAN)
    assert workbook_text(district_report.content).startswith("宝安区2026年全年")


def test_a_report_download_is_audited_and_no_token_reads_nothing(
    scene: Scene, deployment: Deployment
) -> None:
    assert httpx.get(f"{scene.projection}/api/v1/cases").status_code == 401
    assert httpx.get(f"{scene.projection}/api/v1/report.xlsx").status_code == 401

    assert scene.get("nanshan.sup", "/api/v1/report.xlsx", period="2026-05").status_code == 200
    assert scene.get("admin", "/api/v1/report.xlsx").status_code == 200
    topic = f"{deployment.namespace}.audit.recorded"
    records = asyncio.run(wait_for_records(deployment.infra.kafka_bootstrap, topic, 2))
    audits = [
        (envelope, payload)
        for envelope, payload in (decode(r.value) for r in records)
        if isinstance(payload, AuditRecorded)
    ]
    seen = sorted(
        (envelope.acted_by().role, payload.action, payload.district_code, payload.detail)
        for envelope, payload in audits
    )
    assert seen == [
        ("admin", "report.downloaded", None, "period=全部时间 scope=all"),
        ("supervisor", "report.downloaded", NANSHAN, f"period=2026年5月 scope={NANSHAN}"),
    ]
    assert all(envelope.acted_by().kind == "user" for envelope, _ in audits)
    assert all(envelope.producer == "projection" for envelope, _ in audits)
    # Not for a summary of figures, which holds no case.
    scene.get("nanshan.sup", "/api/v1/report/summary")
    assert len(asyncio.run(wait_for_records(deployment.infra.kafka_bootstrap, topic, 3, 3))) == 2
