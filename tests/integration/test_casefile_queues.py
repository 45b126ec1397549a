"""The case file's read side on the real pipeline (intake → triage → projection, real Kafka
and PostgreSQL): each person's queues, a review flag triage raises reaching the district's
triage officer and leaving on its resolution, and a voided case leaving every figure and the
Excel report.

Cases are registered through intake's API and triaged by triage; the review is resolved at
triage's API and the cases voided at intake's. The responsible people are set by
case.assigned events published here as intake publishes them (intake's API has no way to
send a case back to its district's unassigned cases, which the queue needs to show).
"""

from __future__ import annotations

import asyncio
import io
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from projection.periods import today
from projection.queues import QUEUES, QueueCase, queues_of
from tests.support.kafka import publish_events, read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, EventEnvelope, decode, new_event
from weiquan_shared.events import CaseAssigned

pytestmark = pytest.mark.integration

NANSHAN, BAOAN = "440305", "440306"
OFFICER = "triage-officer-nanshan"  # a triage officer of 南山区
OPERATOR = "operator-city"  # an operator of both districts
TERMINATION = 2  # demo.STORIES: a dispute whose limitation runs from the date of knowledge


class Pipeline:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.intake = deployment["intake"].url
        self.projection = deployment["projection"].url
        self.cases: dict[str, dict[str, Any]] = {}  # case number -> request body, id

    def register(self, body: dict[str, Any]) -> str:
        response = httpx.post(
            f"{self.intake}/api/v1/hotline-calls",
            json=body,
            timeout=15,
            headers=signed_in(Role.OPERATOR, subject=OPERATOR),
        )
        assert response.status_code == 201, response.text
        number = str(response.json()["case_number"])
        self.cases[number] = {**body, "case_id": uuid.UUID(response.json()["case_id"])}
        return number

    def publish(self, producer: str, *payloads: CaseAssigned) -> None:
        envelopes: list[EventEnvelope[Any]] = [
            new_event(
                p,
                subject=str(p.case_id),
                producer=producer,
                actor=Actor.user("supervisor-1", Role.SUPERVISOR),
            )
            for p in payloads
        ]
        bootstrap = self.deployment.infra.kafka_bootstrap
        asyncio.run(publish_events(bootstrap, self.deployment.namespace, envelopes))

    def events(self, event_type: str) -> list[tuple[Any, Any]]:
        topic = self.deployment.settings().topic(event_type)
        records = asyncio.run(read_topic(self.deployment.infra.kafka_bootstrap, topic))
        return [decode(r.value) for r in records]

    def get(
        self,
        path: str,
        role: Role = Role.SUPERVISOR,
        params: dict[str, Any] | None = None,
        **token: Any,
    ) -> Any:
        response = httpx.get(
            f"{self.projection}{path}", params=params, timeout=30, headers=signed_in(role, **token)
        )
        assert response.status_code == 200, response.text
        return response.json()

    def queue(self, queue: str, role: Role, **token: Any) -> set[str]:
        items = self.get(f"/api/v1/queues/{queue}", role, **token)["items"]
        return {item["case_number"] for item in items}

    def counts(self, role: Role, **token: Any) -> dict[str, int]:
        return {q["queue"]: q["count"] for q in self.get("/api/v1/queues", role, **token)["queues"]}

    def expected_queues(
        self, subject: str, districts: tuple[str, ...], voided: set[str]
    ) -> dict[str, set[str]]:
        """The queues by the rules (projection.queues), from the events on Kafka: triage's
        decisions and clocks, the responsible people of case.assigned."""
        route: dict[uuid.UUID, tuple[int, str]] = {}
        clocks: dict[uuid.UUID, tuple[datetime, list[Any]]] = {}
        for envelope, p in self.events("case.triaged") + self.events("case.retriaged"):
            seq = getattr(p, "decision_seq", 1)
            if p.case_id not in route or route[p.case_id][0] < seq:
                route[p.case_id] = (seq, p.route)
            if envelope.event_type == "case.triaged":
                at = p.triaged_at
                if p.case_id not in clocks or clocks[p.case_id][0] < at:
                    clocks[p.case_id] = (at, p.clocks)
        for event_type in ("case.deadlines_updated", "case.review_resolved"):
            for envelope, p in self.events(event_type):
                at = getattr(p, "resolved_at", None) or envelope.occurred_at
                if p.case_id not in clocks or clocks[p.case_id][0] < at:
                    clocks[p.case_id] = (at, p.clocks)
        assignee: dict[uuid.UUID, tuple[datetime, str | None]] = {}
        for _, p in self.events("case.assigned"):
            if p.case_id not in assignee or assignee[p.case_id][0] < p.assigned_at:
                assignee[p.case_id] = (p.assigned_at, p.assignee_id)
        want: dict[str, set[str]] = {queue: set() for queue in QUEUES}
        for number, body in self.cases.items():
            case_id = body["case_id"]
            case = QueueCase(
                district_code=body["employer"]["district_code"],
                reported=True,
                voided=number in voided,
                route=route[case_id][1],
                assignee_id=assignee.get(case_id, (None, None))[1],
                clocks=[c.model_dump(mode="json") for c in clocks.get(case_id, (None, []))[1]],
            )
            for queue in queues_of(case, subject, districts, today()):
                want[queue].add(number)
        return want


def report_overview(pipeline: Pipeline) -> tuple[dict[str, Any], set[str], set[str]]:
    """The Excel report's figures, its case list and its deadline list."""
    response = httpx.get(
        f"{pipeline.projection}/api/v1/report.xlsx",
        params={"period": str(today().year)},
        timeout=30,
        headers=signed_in(Role.SUPERVISOR),
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    overview = {
        row[0]: row[1] for row in book["汇总"].iter_rows(min_row=5, values_only=True) if row[0]
    }
    listed = {row[0] for row in book["受理案件"].iter_rows(min_row=2, values_only=True)}
    deadlines = {row[0] for row in book["时限预警"].iter_rows(min_row=2, values_only=True)}
    return overview, listed, deadlines


def figures(pipeline: Pipeline) -> dict[str, Any]:
    dashboard = pipeline.get("/api/v1/dashboard")
    return {
        "totals": dashboard["totals"],
        "figures": dashboard["figures"],
        **{
            name: {row["code"]: (row["cases"], row["workers"]) for row in dashboard[name]}
            for name in ("by_channel", "by_district", "by_category", "by_status", "by_urgency")
        },
    }


def test_queues_review_flag_and_a_voided_case_through_the_pipeline(
    deployment: Deployment,
) -> None:
    deployment.start("intake", "triage", "projection")
    pipeline = Pipeline(deployment)
    rng = random.Random(16)
    now = datetime.now(UTC) - timedelta(hours=1)
    day = today()

    def call(district: str, knew_days_ago: int | None, **options: Any) -> dict[str, Any]:
        body = hotline_call(rng, called_at=now, district=district, **options)
        body["knew_of_infringement_on"] = (
            None if knew_days_ago is None else (day - timedelta(days=knew_days_ago)).isoformat()
        )
        return body

    # No date of knowledge: triage cannot count the limitation period and flags it.
    unknown = pipeline.register(call(NANSHAN, None, story=TERMINATION))
    # Knew of it almost a year ago: the limitation period runs out within days.
    risky = pipeline.register(call(NANSHAN, 355, story=TERMINATION))
    # One employer, three calls: a repeat employer (triage flags it).
    repeat = [pipeline.register(call(BAOAN, 40, story=TERMINATION, employer=3)) for _ in range(3)]
    others = [pipeline.register(call(rng.choice([NANSHAN, BAOAN]), 60)) for _ in range(5)]

    def triaged() -> bool:
        totals = pipeline.get("/api/v1/dashboard")["totals"]
        return totals["cases"] == len(pipeline.cases) and totals["awaiting_triage"] == 0

    wait_until(triaged, what="every case triaged in projection")
    wait_until(
        lambda: pipeline.get("/api/v1/dashboard")["figures"]["repeat_employers"], what="flag"
    )

    # Responsible people, as intake records them (later than any set at registration).
    at = datetime.now(UTC)
    assign = [(risky, OFFICER), (others[0], OFFICER), (others[1], OPERATOR), (repeat[0], OFFICER)]
    pipeline.publish(
        "intake",
        *(
            CaseAssigned(
                case_id=pipeline.cases[number]["case_id"],
                case_number=number,
                district_code=pipeline.cases[number]["employer"]["district_code"],
                assignee_id=subject,
                assignee_name="测试承办人",
                assigned_at=at,
            )
            for number, subject in assign
        ),
        *(
            CaseAssigned(  # back to the district's unassigned cases
                case_id=pipeline.cases[number]["case_id"],
                case_number=number,
                district_code=pipeline.cases[number]["employer"]["district_code"],
                assignee_id=None,
                reason="原承办人调岗",
                assigned_at=at,
            )
            for number in (unknown, *repeat[1:], *others[2:])
        ),
    )

    officer: dict[str, Any] = {"subject": OFFICER, "districts": (NANSHAN,)}
    operator: dict[str, Any] = {"subject": OPERATOR, "districts": (NANSHAN, BAOAN)}

    def queues_match(voided: set[str]) -> bool:
        for role, person in ((Role.TRIAGE_OFFICER, officer), (Role.OPERATOR, operator)):
            want = pipeline.expected_queues(person["subject"], person["districts"], voided)
            got = {queue: pipeline.queue(queue, role, **person) for queue in QUEUES}
            if got != want:
                print(f"\n{person['subject']}: {got} != {want}")
                return False
            counts = pipeline.counts(role, **person)
            assert counts == {queue: len(want[queue]) for queue in QUEUES}
        return True

    wait_until(lambda: queues_match(set()), what="the queues to follow the rules")
    mine = pipeline.queue("mine", Role.TRIAGE_OFFICER, **officer)
    assert mine == {risky, others[0], repeat[0]}
    assert risky in pipeline.queue("at_risk", Role.TRIAGE_OFFICER, **officer)
    at_risk = pipeline.get("/api/v1/queues/at_risk", Role.TRIAGE_OFFICER, **officer)["items"]
    assert next(i for i in at_risk if i["case_number"] == risky)["responsible"]["id"] == OFFICER
    assert unknown in pipeline.queue("unassigned", Role.TRIAGE_OFFICER, **officer)
    # 宝安区's cases are not the 南山区 officer's work, and are the operator's.
    assert not {repeat[1], repeat[2]} & pipeline.queue("unassigned", Role.TRIAGE_OFFICER, **officer)
    assert {repeat[1], repeat[2]} <= pipeline.queue("unassigned", Role.OPERATOR, **operator)

    # The review flag triage raised reaches the district's triage officer ...
    review = pipeline.get("/api/v1/queues/review", Role.TRIAGE_OFFICER, **officer)["items"]
    flagged = next(i for i in review if i["case_number"] == unknown)
    assert flagged["reviews"][0]["code"] == "start_unknown"
    assert "未记录知道或应当知道权利受侵害的日期" in flagged["reviews"][0]["text"]
    before = pipeline.counts(Role.TRIAGE_OFFICER, **officer)["review"]
    # ... and leaves it when the officer resolves it (triage recomputes the clocks and
    # publishes case.review_resolved).
    knew_on = day - timedelta(days=20)
    resolved = httpx.post(
        f"{deployment['triage'].url}/api/v1/cases/{unknown}/review",
        json={
            "resolution": "start_date_recorded",
            "knew_of_infringement_on": knew_on.isoformat(),
            "note": "职工来电确认知道权利受侵害的日期",
        },
        timeout=15,
        headers=signed_in(Role.TRIAGE_OFFICER, **officer),
    )
    assert resolved.status_code == 200, resolved.text
    assert "start_unknown" not in resolved.json()["still_to_review"]

    # The recomputed date may need a person too (a year whose holidays are not entered yet):
    # the case stays in the queue with that flag until the officer checks it as well.
    def flags_of(number: str) -> list[str]:
        items = pipeline.get("/api/v1/queues/review", Role.TRIAGE_OFFICER, **officer)["items"]
        return [r["code"] for i in items if i["case_number"] == number for r in i["reviews"]]

    while still := resolved.json()["still_to_review"]:
        flags = list(still)
        wait_until(lambda: flags_of(unknown) == flags, what="the flags still to review")  # noqa: B023
        resolved = httpx.post(
            f"{deployment['triage'].url}/api/v1/cases/{unknown}/review",
            json={"resolution": "dates_checked", "note": "已核对节假日安排"},
            timeout=15,
            headers=signed_in(Role.TRIAGE_OFFICER, **officer),
        )
        assert resolved.status_code == 200, resolved.text
    wait_until(
        lambda: unknown not in pipeline.queue("review", Role.TRIAGE_OFFICER, **officer),
        what="the resolved case to leave the review queue",
    )
    assert pipeline.counts(Role.TRIAGE_OFFICER, **officer)["review"] == before - 1
    page = pipeline.get(f"/api/v1/cases/{unknown}", Role.TRIAGE_OFFICER, **officer)
    assert page["review_open"] is False
    assert any(
        e["text"].startswith("人工核实：已核实并记录知道权利受侵害的日期") for e in page["events"]
    )

    # Voiding: the figures and the report, before and after.
    before_figures = figures(pipeline)
    before_report, before_listed, before_deadlines = report_overview(pipeline)
    assert risky in before_listed and risky in before_deadlines and repeat[0] in before_listed
    gone = {risky: pipeline.cases[risky], repeat[0]: pipeline.cases[repeat[0]]}
    for number in gone:  # a supervisor voids them at intake (case.voided)
        response = httpx.post(
            f"{pipeline.intake}/api/v1/cases/{number}/void",
            json={"reason": "test_call"},
            timeout=15,
            headers=signed_in(Role.SUPERVISOR),
        )
        assert response.status_code == 200, response.text
    wait_until(
        lambda: figures(pipeline)["totals"]["cases"] == before_figures["totals"]["cases"] - 2,
        what="the voided cases to leave the figures",
    )
    after_figures = figures(pipeline)
    workers = sum(len(body["workers"]) for body in gone.values())
    assert after_figures["totals"]["workers"] == before_figures["totals"]["workers"] - workers
    assert after_figures["figures"]["deadlines_at_risk"] == (
        before_figures["figures"]["deadlines_at_risk"] - 1
    )
    assert after_figures["figures"]["repeat_employer_cases"] == (
        before_figures["figures"]["repeat_employer_cases"] - 1
    )
    for name in ("by_district", "by_channel"):
        lost: dict[str, tuple[int, int]] = {}
        for body in gone.values():
            key = body["employer"]["district_code"] if name == "by_district" else "hotline"
            n, w = lost.get(key, (0, 0))
            lost[key] = (n + 1, w + len(body["workers"]))
        for key, (n, w) in before_figures[name].items():
            ln, lw = lost.get(key, (0, 0))
            assert after_figures[name].get(key, (0, 0)) == (n - ln, w - lw), (name, key)
    after_report, after_listed, after_deadlines = report_overview(pipeline)
    assert after_listed == before_listed - set(gone)
    assert risky not in after_deadlines
    assert after_report["受理劳动争议案件"] == before_report["受理劳动争议案件"] - 2
    assert after_report["涉及职工"] == before_report["涉及职工"] - workers
    changed = {k for k in before_report if before_report[k] != after_report.get(k)}
    assert changed, "the report did not change"
    # Drill-downs and lists: not there either; the case page says it was voided.
    drill = pipeline.get("/api/v1/cases", params={"limit": 500})["cases"]
    assert not {c["case_number"] for c in drill} & set(gone)
    assert risky not in {d["case_number"] for d in pipeline.get("/api/v1/deadlines-at-risk")}
    employers = pipeline.get("/api/v1/repeat-employers")
    assert repeat[0] not in {n for e in employers for n in e["case_numbers"]}
    voided_page = pipeline.get(f"/api/v1/cases/{risky}")
    assert voided_page["case"]["state_name"] == "已作废"
    assert voided_page["events"][-1]["text"].startswith("案件已作废：测试来电")
    # ... and every queue.
    wait_until(lambda: queues_match(set(gone)), what="the voided cases to leave every queue")
    assert risky not in pipeline.queue("mine", Role.TRIAGE_OFFICER, **officer)
