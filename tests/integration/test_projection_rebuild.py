"""Projection alone, fed straight on Kafka: out-of-order and duplicate events, every event
type, and a rebuild from the topics that must reproduce every figure exactly.

The events are built here (not by intake and triage) so that the test controls their order:
decisions published before the report they decide, a retriage before the triage it
replaces, the same event twice, a message that is not an event at all.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from projection.periods import today
from projection.queues import QUEUES, QueueCase, queues_of
from tests.support.kafka import produce_raw
from tests.support.stack import ROOT, Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.envelope import (
    Actor,
    Envelope,
    EventPayload,
    encode,
    kafka_headers,
    new_event,
)
from weiquan_shared.events import (
    CaseAssigned,
    CaseConsentRecorded,
    CaseContactRecorded,
    CaseDeadlinesUpdated,
    CaseGrouped,
    CaseNoteAdded,
    CaseReported,
    CaseRetriagedV1,
    CaseTriaged,
    CaseVoided,
    ConsultationRecorded,
    DecisionSnapshot,
    EmployerFlagged,
    EmployerRef,
    StatutoryClock,
    TriageReason,
    WorkerRef,
)
from weiquan_shared.events.triage import CaseReviewResolved

pytestmark = pytest.mark.integration

CHINA_TODAY = today()  # the dashboard's "today"
DISTRICTS = ["440303", "440305", "440306", "440309"]
EMPLOYERS = [
    ("深圳市鹏程建筑劳务有限公司", "建筑业"),
    ("深圳市速达同城配送有限公司", "交通运输业"),
    ("深圳市锦绣服装厂", "制造业"),
    ("深圳市安居物业服务有限公司", None),
]
CATEGORIES = ["wage_arrears", "termination", "overtime", "platform_work", "work_injury"]
REASON = TriageReason(rule="test.rule", text="测试规则")


@dataclass
class Scenario:
    """The events, and what the dashboard must say about them (counted here, not by SQL)."""

    events: list[tuple[str, Envelope]] = field(default_factory=list)
    reported: dict[uuid.UUID, CaseReported] = field(default_factory=dict)
    decision: dict[uuid.UUID, tuple[datetime, str, str]] = field(default_factory=dict)
    grouped: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    flagged_cases: set[uuid.UUID] = field(default_factory=set)
    flagged_employers: set[uuid.UUID] = field(default_factory=set)
    at_risk: set[uuid.UUID] = field(default_factory=set)
    consultations: Counter[str] = field(default_factory=Counter)
    voided: set[uuid.UUID] = field(default_factory=set)

    def add(self, payload: EventPayload, subject: uuid.UUID, at: datetime) -> Envelope:
        envelope = new_event(
            payload,
            subject=str(subject),
            producer=payload.producer,
            actor=Actor.system(payload.producer),
            occurred_at=at,
        )
        self.events.append((payload.event_type, envelope))
        return envelope

    def decide(self, case_id: uuid.UUID, at: datetime, category: str, route: str) -> None:
        current = self.decision.get(case_id)
        if current is None or current[0] < at:
            self.decision[case_id] = (at, category, route)


def clock(due: date, at_risk_from: date) -> StatutoryClock:
    return StatutoryClock(
        kind="arbitration_limitation",
        rule_id="clock.arbitration_limitation",
        starts_on=due - timedelta(days=365),
        due_on=due,
        at_risk_from=at_risk_from,
        note="仲裁时效一年（测试）",
    )


def build_scenario(seed: int, cases: int = 36) -> Scenario:
    rng = random.Random(seed)
    s = Scenario()
    base = datetime.now(UTC) - timedelta(days=20)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(cases)]
    for i, case_id in enumerate(ids):
        at = base + timedelta(hours=7 * i)
        name, industry = EMPLOYERS[i % len(EMPLOYERS)]
        district = DISTRICTS[i % len(DISTRICTS)]
        workers = [
            WorkerRef(
                worker_ref=f"{rng.getrandbits(256):064x}",
                is_platform_worker=(i % 5 == 3),
                is_migrant_worker=rng.random() < 0.5,
            )
            for _ in range(1 + (i % 4))
        ]
        report = CaseReported(
            case_id=case_id,
            case_number=f"{district}-2026-{i + 1:06d}",
            channel=("hotline", "wechat", "walk_in")[i % 3],
            channel_ref=f"ref-{i}",
            reported_at=at,
            district_code=district,
            employer=EmployerRef(name=name, district_code=district, industry=industry),
            workers=workers,
            summary="测试案情",
            claim_amount=Decimal(1000 * (i + 1)),
        )
        s.reported[case_id] = report
        if i % 9 == 8:
            s.add(report, case_id, at)  # never triaged: awaiting triage
            continue
        category = CATEGORIES[i % len(CATEGORIES)]
        route = "mediation" if i % 2 else "legal_aid"
        due = CHINA_TODAY + timedelta(days=(5 if i % 6 == 0 else 200))
        triaged = CaseTriaged(
            case_id=case_id,
            case_number=report.case_number,
            category=category,
            urgency="normal",
            route=route,
            reasons=[REASON],
            triaged_at=at + timedelta(minutes=5),
            clocks=[clock(due, due - timedelta(days=30))],
        )
        if i % 6 == 0:
            s.at_risk.add(case_id)
        s.decide(case_id, triaged.triaged_at, category, route)
        # Every fourth case: its decision reaches Kafka before its report.
        reported_first = i % 4 != 1
        if reported_first:
            s.add(report, case_id, at)
        s.add(triaged, case_id, triaged.triaged_at)
        if not reported_first:
            s.add(report, case_id, at)
        if i % 7 == 2:
            # An officer's override, then a system retriage dated earlier: the override stays
            # (v1 events, without decision numbers, are ordered by time).
            override = CaseRetriagedV1(
                case_id=case_id,
                case_number=report.case_number,
                category="overtime",
                urgency="urgent",
                route="referral",
                reasons=[REASON],
                previous=DecisionSnapshot(category=category, urgency="normal", route=route),
                retriaged_by="officer",
                officer_id="officer-7",
                note="分流员复核后调整分流",
                retriaged_at=at + timedelta(hours=2),
            )
            stale = override.model_copy(
                update={
                    "category": "termination",
                    "route": "mediation",
                    "retriaged_by": "system",
                    "officer_id": None,
                    "note": "较早的系统重新分流",
                    "retriaged_at": at + timedelta(hours=1),
                }
            )
            s.add(override, case_id, override.retriaged_at)
            s.add(stale, case_id, stale.retriaged_at)
            s.decide(case_id, override.retriaged_at, "overtime", "referral")
            s.decide(case_id, stale.retriaged_at, "termination", "mediation")

    # A group dispute of three cases of one employer; one case's clocks then move.
    members = [ids[0], ids[4], ids[12]]
    group_id = uuid.UUID(int=rng.getrandbits(128))
    first = s.reported[members[0]]
    s.add(
        CaseGrouped(
            group_id=group_id,
            group_number="QT-440303-2026-000001",
            employer=first.employer,
            category="wage_arrears",
            case_ids=members,
            case_numbers=[s.reported[c].case_number for c in members],
            new_case_ids=members,
            worker_count=sum(len(s.reported[c].workers) for c in members),
            formed_at=base + timedelta(days=5),
            reason=REASON,
        ),
        group_id,
        base + timedelta(days=5),
    )
    for case_id in members:
        s.grouped[case_id] = group_id
    moved = ids[6]  # was at risk; the daily sweep moves its due date out of the window
    s.add(
        CaseDeadlinesUpdated(
            case_id=moved,
            case_number=s.reported[moved].case_number,
            clocks=[clock(CHINA_TODAY + timedelta(days=90), CHINA_TODAY + timedelta(days=60))],
            at_risk=[],
            moved=["arbitration_limitation"],
            evaluated_on=CHINA_TODAY,
        ),
        moved,
        datetime.now(UTC),
    )
    s.at_risk.discard(moved)

    employer_id = uuid.UUID(int=rng.getrandbits(128))
    flagged = [ids[1], ids[5], ids[9]]
    s.add(
        EmployerFlagged(
            employer_id=employer_id,
            employer=s.reported[ids[1]].employer,
            case_count=3,
            window_days=90,
            case_ids=flagged,
            reason=REASON,
            flagged_at=datetime.now(UTC) - timedelta(days=1),
        ),
        employer_id,
        datetime.now(UTC) - timedelta(days=1),
    )
    s.flagged_cases |= set(flagged)
    s.flagged_employers.add(employer_id)

    casework(s, ids, base)

    for j in range(7):
        channel = ("hotline", "walk_in", "wechat")[j % 3]
        consultation_id = uuid.UUID(int=rng.getrandbits(128))
        s.add(
            ConsultationRecorded(
                consultation_id=consultation_id,
                channel=channel,
                channel_ref=f"c-{j}",
                occurred_at=base + timedelta(days=j),
                district_code=DISTRICTS[j % len(DISTRICTS)],
                topic="overtime",
                summary="加班费怎么算？",
            ),
            consultation_id,
            base + timedelta(days=j),
        )
        s.consultations[channel] += 1
    return s


STAFF = "staff-rebuild-1"


def casework(s: Scenario, ids: list[uuid.UUID], base: datetime) -> None:
    """The case file's events: responsible people, notes, contacts, consent, a review
    resolved, and one case voided (ids[3]: in no group, flag or deadline figure)."""
    for n, case_id in enumerate(ids[:8]):
        report = s.reported[case_id]
        common = {
            "case_id": case_id,
            "case_number": report.case_number,
            "district_code": report.district_code,
        }
        at = base + timedelta(days=2, hours=n)
        if n % 3 != 2:  # some stay unassigned
            assigned = CaseAssigned(
                **common, assignee_id=STAFF, assignee_name="测试承办人", assigned_at=at
            )
            s.add(assigned, case_id, at)
        if n == 1:  # reassigned later, with a reason
            again = CaseAssigned(
                **common,
                assignee_id="staff-rebuild-2",
                assignee_name="另一承办人",
                previous_assignee_id=STAFF,
                reason="工作调整",
                assigned_at=at + timedelta(hours=1),
            )
            s.add(again, case_id, again.assigned_at)
        note = CaseNoteAdded(
            **common, note_id=uuid.uuid4(), author_name="测试承办人", written_at=at
        )
        s.add(note, case_id, at)
        contact = CaseContactRecorded(
            **common,
            contact_id=uuid.uuid4(),
            method="call_back",
            outcome="no_answer" if n % 2 else "reached",
            next_action_on=CHINA_TODAY + timedelta(days=n),
            author_name="测试承办人",
            contacted_at=at + timedelta(minutes=5),
        )
        s.add(contact, case_id, contact.contacted_at)
        if n % 2 == 0:
            consent = CaseConsentRecorded(
                **common,
                scopes=["court", "labour_bureau"],
                wording_version="share-1",
                obtained_by="case_page",
                recorded_at=at,
            )
            s.add(consent, case_id, at)
    # A review flag raised (no date of knowledge), then resolved: the clocks recomputed.
    flagged = ids[7]
    unknown = StatutoryClock(
        kind="arbitration_limitation",
        rule_id="clock.arbitration_limitation",
        starts_on=None,
        due_on=None,
        at_risk_from=None,
        review=["start_unknown"],
        note="未记录知道权利受侵害的日期（测试）",
    )
    s.add(
        CaseDeadlinesUpdated(
            case_id=flagged,
            case_number=s.reported[flagged].case_number,
            clocks=[unknown],
            at_risk=[],
            moved=["arbitration_limitation"],
            evaluated_on=CHINA_TODAY,
        ),
        flagged,
        base + timedelta(days=3),
    )
    s.add(
        CaseReviewResolved(
            case_id=flagged,
            case_number=s.reported[flagged].case_number,
            resolution="start_date_recorded",
            knew_of_infringement_on=CHINA_TODAY - timedelta(days=30),
            clocks=[clock(CHINA_TODAY + timedelta(days=335), CHINA_TODAY + timedelta(days=305))],
            note="已电话核实",
            resolved_at=base + timedelta(days=4),
        ),
        flagged,
        base + timedelta(days=4),
    )
    # Still flagged: a case whose clocks carry a review code nobody resolved.
    open_flag = ids[10]
    s.add(
        CaseDeadlinesUpdated(
            case_id=open_flag,
            case_number=s.reported[open_flag].case_number,
            clocks=[unknown],
            at_risk=[],
            moved=["arbitration_limitation"],
            evaluated_on=CHINA_TODAY,
        ),
        open_flag,
        datetime.now(UTC),
    )
    s.at_risk.discard(open_flag)
    voided = ids[3]
    s.add(
        CaseVoided(
            case_id=voided,
            case_number=s.reported[voided].case_number,
            district_code=s.reported[voided].district_code,
            reason="test_call",
            voided_at=base + timedelta(days=6),
        ),
        voided,
        base + timedelta(days=6),
    )
    s.voided.add(voided)


async def publish(bootstrap: str, namespace: str, events: list[tuple[str, Envelope]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event_type, envelope in events:
            await producer.send_and_wait(
                f"{namespace}.{event_type}",
                value=encode(envelope),
                key=envelope.subject.encode(),
                headers=kafka_headers(envelope),
            )
    finally:
        await producer.stop()


def expected_figures(s: Scenario) -> dict[str, Any]:
    # A voided case is in no figure.
    cases = [c for c in s.reported.values() if c.case_id not in s.voided]
    platform = {
        c.case_id
        for c in cases
        if any(w.is_platform_worker for w in c.workers)
        or (c.case_id in s.decision and s.decision[c.case_id][1] == "platform_work")
    }

    def decided(case: CaseReported, index: int, otherwise: str) -> str:
        return str(s.decision[case.case_id][index]) if case.case_id in s.decision else otherwise

    return {
        "cases": len(cases),
        "workers": sum(len(c.workers) for c in cases),
        "awaiting_triage": sum(1 for c in cases if c.case_id not in s.decision),
        "group_disputes": len(set(s.grouped.values())),
        "by_channel": dict(Counter(c.channel for c in cases)),
        "by_district": dict(Counter(c.district_code for c in cases)),
        "by_industry": dict(Counter(c.employer.industry or "unknown" for c in cases)),
        "by_category": dict(Counter(decided(c, 1, "untriaged") for c in cases)),
        "by_status": dict(Counter(decided(c, 2, "awaiting_triage") for c in cases)),
        "consultations": sum(s.consultations.values()),
        "consultations_by_channel": dict(s.consultations),
        "platform_cases": len(platform),
        "group_dispute_cases": len(s.grouped),
        "deadlines_at_risk": len(s.at_risk),
        "repeat_employers": len(s.flagged_employers),
        "repeat_employer_cases": len(s.flagged_cases),
    }


BREAKDOWNS = ("by_channel", "by_district", "by_industry", "by_category", "by_status")


def observed_figures(url: str) -> dict[str, Any]:
    d = httpx.get(f"{url}/api/v1/dashboard", timeout=10, headers=signed_in(Role.SUPERVISOR)).json()
    as_dict = lambda rows: {r["code"]: r["cases"] for r in rows}  # noqa: E731
    return {
        **d["totals"],
        **{
            k: as_dict(d[k])
            for k in ("by_channel", "by_district", "by_industry", "by_category", "by_status")
        },
        "consultations": d["figures"]["consultations"],
        "consultations_by_channel": as_dict(d["consultations_by_channel"]),
        "platform_cases": d["figures"]["platform_cases"],
        "group_dispute_cases": d["figures"]["group_dispute_cases"],
        "deadlines_at_risk": d["figures"]["deadlines_at_risk"],
        "repeat_employers": d["figures"]["repeat_employers"],
        "repeat_employer_cases": d["figures"]["repeat_employer_cases"],
    }


def wait_for(url: str, expected: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        observed = observed_figures(url)
        if observed == expected or time.monotonic() > deadline:
            return observed
        time.sleep(0.3)


def snapshot(url: str, s: Scenario) -> dict[str, Any]:
    """Everything projection answers, for the scenario's districts and a few periods."""

    def get(path: str, **params: Any) -> Any:
        headers = signed_in(Role.SUPERVISOR)
        return httpx.get(f"{url}{path}", params=params, timeout=30, headers=headers).json()

    views: dict[str, Any] = {}
    year = str(CHINA_TODAY.year)
    for district in [None, *DISTRICTS]:
        scope = {"district": district} if district else {}
        for period in ({}, {"period": year}, {"from": str(CHINA_TODAY - timedelta(days=10))}):
            key = f"{district}-{period}"
            dashboard = get("/api/v1/dashboard", **scope, **period)
            dashboard.pop("today")
            views[f"dashboard {key}"] = dashboard
            views[f"cases {key}"] = get("/api/v1/cases", **scope, **period, limit=500)
            views[f"employers {key}"] = get("/api/v1/repeat-employers", **scope, **period)
            views[f"consultations {key}"] = get("/api/v1/consultations", **scope, **period)
            views[f"summary {key}"] = get("/api/v1/report/summary", **scope, **period)
        views[f"deadlines {district}"] = get("/api/v1/deadlines-at-risk", **scope)
    for case in s.reported.values():
        views[f"case {case.case_number}"] = get(f"/api/v1/cases/{case.case_number}")
    # The work queues of a responsible person with a city-wide scope.
    staff = signed_in(Role.TRIAGE_OFFICER, subject=STAFF)
    views["queues"] = httpx.get(f"{url}/api/v1/queues", headers=staff, timeout=30).json()
    for queue in ("mine", "review", "at_risk", "unassigned"):
        views[f"queue {queue}"] = httpx.get(
            f"{url}/api/v1/queues/{queue}", headers=staff, timeout=30
        ).json()
    return views


def check_case_file_and_queues(url: str, s: Scenario) -> None:
    """The case events in the timeline and case file; every queue holds exactly the cases
    the rules (projection.queues, in Python) put there, for a person of three districts."""
    admin = signed_in(Role.ADMIN)
    files = {
        c.case_id: httpx.get(f"{url}/api/v1/cases/{c.case_number}", headers=admin).json()
        for c in s.reported.values()
    }
    ids = list(s.reported)
    reassigned = files[ids[1]]
    texts = [e["text"] for e in reassigned["events"]]
    assert "承办人：测试承办人" in texts
    assert "承办人改为 另一承办人（原因：工作调整）" in texts
    assert "测试承办人 添加了备注" in texts
    assert f"测试承办人 回电：无人接听，下次 {CHINA_TODAY + timedelta(days=1)}" in texts
    assert reassigned["responsible"]["name"] == "另一承办人"
    assert reassigned["consent"] == {
        "scopes": [],
        "scope_names": [],
        "text": "未取得共享同意",
        "wording_version": None,
        "obtained_by": None,
        "recorded_at": None,
    }
    assert files[ids[0]]["consent"]["scope_names"] == [
        "人民法院",
        "人力资源和社会保障部门（含劳动人事争议仲裁委员会）",
    ]
    voided = files[ids[3]]
    assert (
        voided["case"]["state_name"] == "已作废" and voided["voided"]["reason_name"] == "测试来电"
    )
    assert files[ids[7]]["review_open"] is False
    assert files[ids[10]]["clocks"][0]["review"][0]["code"] == "start_unknown"

    districts = ("440303", "440305", "440306")
    person = signed_in(Role.TRIAGE_OFFICER, subject=STAFF, districts=districts)
    want: dict[str, set[str]] = {queue: set() for queue in QUEUES}
    for case_id, file in files.items():
        case = QueueCase(
            district_code=file["case"]["district_code"],
            reported=True,
            voided=file["voided"] is not None,
            route=file["case"]["route"],
            assignee_id=(file["responsible"] or {}).get("id"),
            clocks=[{**c, "review": [r["code"] for r in c["review"]]} for c in file["clocks"]],
        )
        for queue in queues_of(case, STAFF, districts, CHINA_TODAY):
            want[queue].add(s.reported[case_id].case_number)
    got = {
        queue: {
            item["case_number"]
            for item in httpx.get(f"{url}/api/v1/queues/{queue}", headers=person).json()["items"]
        }
        for queue in QUEUES
    }
    assert got == want
    counts = httpx.get(f"{url}/api/v1/queues", headers=person).json()["queues"]
    assert {q["queue"]: q["count"] for q in counts} == {q: len(want[q]) for q in QUEUES}
    assert all(want.values()), want  # every queue has cases in this scenario
    number = {case_id: s.reported[case_id].case_number for case_id in ids}
    assert number[ids[3]] not in set().union(*got.values())  # voided: in no queue
    assert number[ids[1]] not in got["mine"]  # reassigned to someone else


def run_rebuild(deployment: Deployment) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "projection", "rebuild"],
        env=deployment.service_env("projection"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_out_of_order_duplicates_and_rebuild_reproduce_every_figure(deployment: Deployment) -> None:
    deployment.start("projection")
    url = deployment["projection"].url
    bootstrap = deployment.infra.kafka_bootstrap
    s = build_scenario(seed=6)
    events = list(s.events)
    # Redelivery: the same events again, and bytes that are no event at all.
    events += [events[3], events[10], events[-1]]
    asyncio.run(publish(bootstrap, deployment.namespace, events))
    asyncio.run(produce_raw(bootstrap, f"{deployment.namespace}.case.triaged", [b"{not json"]))

    expected = expected_figures(s)
    assert wait_for(url, expected) == expected
    check_case_file_and_queues(url, s)

    # A case decided before it was reported is not counted until its report arrives.
    orphan = uuid.UUID(int=1)
    orphan_decision = CaseTriaged(
        case_id=orphan,
        case_number="440305-2026-999999",
        category="wage_arrears",
        urgency="normal",
        route="mediation",
        reasons=[REASON],
        triaged_at=datetime.now(UTC),
    )
    late = Scenario()
    late.add(orphan_decision, orphan, orphan_decision.triaged_at)
    asyncio.run(publish(bootstrap, deployment.namespace, late.events))
    time.sleep(2)
    assert observed_figures(url) == expected
    # Its district is not known yet: an administrator sees its timeline, a supervisor not.
    orphan_timeline = f"{url}/api/v1/cases/440305-2026-999999/timeline"
    timeline = httpx.get(orphan_timeline, headers=signed_in(Role.ADMIN)).json()
    assert [e["event_type"] for e in timeline] == ["case.triaged"]
    assert httpx.get(orphan_timeline, headers=signed_in(Role.SUPERVISOR)).status_code == 404

    # Timelines in Chinese, in event-time order, whatever the arrival order.
    grouped_case = next(iter(s.grouped))
    case = httpx.get(
        f"{url}/api/v1/cases/{s.reported[grouped_case].case_number}",
        headers=signed_in(Role.SUPERVISOR),
    ).json()
    assert case["case"]["group_number"] == "QT-440303-2026-000001"
    texts = [e["text"] for e in case["events"]]
    assert texts[0].startswith("经") and "受理" in texts[0]
    assert any("群体性劳动争议 QT-440303-2026-000001" in t for t in texts)
    overridden = next(
        c for c in s.reported.values() if s.decision.get(c.case_id, (0, "", ""))[2] == "referral"
    )
    detail = httpx.get(
        f"{url}/api/v1/cases/{overridden.case_number}", headers=signed_in(Role.SUPERVISOR)
    ).json()
    assert detail["case"]["status"] == "referral" and detail["case"]["category"] == "overtime"
    decisions = ("case.reported", "case.triaged", "case.retriaged")
    assert [e["event_type"] for e in detail["events"] if e["event_type"] in decisions] == [
        "case.reported",
        "case.triaged",
        "case.retriaged",
        "case.retriaged",
    ]

    # Drill-down lists hold exactly the cases behind each figure.
    behind = lambda **f: {  # noqa: E731
        c["case_number"]
        for c in httpx.get(
            f"{url}/api/v1/cases", params={**f, "limit": 500}, headers=signed_in(Role.SUPERVISOR)
        ).json()["cases"]
    }
    assert behind(grouped="true") == {s.reported[c].case_number for c in s.grouped}
    assert behind(deadline_at_risk="true") == {s.reported[c].case_number for c in s.at_risk}
    assert behind(repeat_employer="true") == {s.reported[c].case_number for c in s.flagged_cases}
    assert behind(channel="wechat") == {
        c.case_number for c in s.reported.values() if c.channel == "wechat"
    }

    # Rebuild: refused while the live consumer runs; identical figures once it is stopped.
    refused = run_rebuild(deployment)
    assert refused.returncode != 0 and "rebuild refused" in refused.stderr
    before = snapshot(url, s)
    deployment["projection"].stop()
    rebuilt = run_rebuild(deployment)
    assert rebuilt.returncode == 0, rebuilt.stderr
    total = len(events) + 1 + len(late.events)
    assert f"rebuilt from {total} events" in rebuilt.stdout
    assert "3 duplicates, 1 invalid" in rebuilt.stdout
    deployment["projection"].start()
    deployment["projection"].wait_ready()
    after = snapshot(url, s)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key

    # The live consumer continues after the rebuild, with nothing applied twice.
    extra = Scenario()
    report = s.reported[grouped_case].model_copy(
        update={"case_id": uuid.UUID(int=2), "case_number": "440303-2026-888888"}
    )
    extra.add(report, report.case_id, report.reported_at)
    asyncio.run(publish(bootstrap, deployment.namespace, extra.events))
    grown = {
        **expected,
        "cases": expected["cases"] + 1,
        "workers": expected["workers"] + len(report.workers),
        "awaiting_triage": expected["awaiting_triage"] + 1,
    }
    for name, key in (
        ("by_channel", report.channel),
        ("by_district", report.district_code),
        ("by_industry", report.employer.industry or "unknown"),
        ("by_category", "untriaged"),
        ("by_status", "awaiting_triage"),
    ):
        grown[name] = {**expected[name], key: expected[name].get(key, 0) + 1}
    assert wait_for(url, grown) == grown
