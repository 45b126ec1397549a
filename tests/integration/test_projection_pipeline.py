"""A realistic mixed data set through the real pipeline (intake → triage → projection): the
dashboard's figures against counts made here from the same inputs, and the Excel report.

What intake was given (channels, workers, districts, industries, platform workers,
consultations) is counted from the request bodies; what triage decided (categories, group
disputes, clocks, repeat employers) is counted from triage's own events on Kafka. Neither
count reads projection's database.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from projection.domain import CHINA
from projection.periods import today
from tests.support.kafka import read_topic
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import consultation, hotline_call, walk_in_group
from weiquan_shared.envelope import decode

pytestmark = pytest.mark.integration

BREAKDOWNS = ("by_channel", "by_district", "by_industry", "by_category")


def register_data_set(intake: str) -> tuple[dict[str, dict[str, Any]], Counter[str]]:
    """Hotline calls, walk-in groups (one of twelve workers) and consultations."""
    rng = random.Random(2026)
    cases: dict[str, dict[str, Any]] = {}
    bodies: list[tuple[str, dict[str, Any], str]] = []
    for _ in range(24):
        bodies.append(("/api/v1/hotline-calls", hotline_call(rng), "hotline"))
    # One employer, one district, three callers: a repeat employer for triage to flag.
    for _ in range(3):
        bodies.append(
            ("/api/v1/hotline-calls", hotline_call(rng, employer=4, district="440306"), "hotline")
        )
    bodies.append(
        (
            "/api/v1/walk-in-registrations",
            walk_in_group(rng, workers=12, story=1, employer=1, district="440305"),
            "walk_in",
        )
    )
    for workers in (2, 3, 1):
        bodies.append(
            ("/api/v1/walk-in-registrations", walk_in_group(rng, workers=workers), "walk_in")
        )
    for path, body, channel in bodies:
        response = httpx.post(
            f"{intake}{path}", json=body, timeout=15, headers=signed_in(Role.OPERATOR)
        )
        assert response.status_code == 201, response.text
        cases[response.json()["case_id"]] = {**body, "channel": channel}
    consultations: Counter[str] = Counter()
    for channel in ("hotline", "hotline", "walk_in", "hotline", "walk_in"):
        body = consultation(rng, channel=channel)
        response = httpx.post(
            f"{intake}/api/v1/consultations",
            json=body,
            timeout=15,
            headers=signed_in(Role.OPERATOR),
        )
        assert response.status_code == 201, response.text
        consultations[channel] += 1
    return cases, consultations


def triage_outcome(deployment: Deployment) -> dict[str, Any]:
    """Triage's decisions as its events on Kafka say: the current (highest-numbered) decision
    and the newest clocks per case."""
    bootstrap = deployment.infra.kafka_bootstrap

    def events(event_type: str) -> list[tuple[Any, Any]]:
        topic = deployment.settings().topic(event_type)
        return [decode(r.value) for r in asyncio.run(read_topic(bootstrap, topic))]

    decision: dict[str, tuple[int, str]] = {}
    clocks: dict[str, tuple[datetime, list[Any]]] = {}
    groups: dict[str, str] = {}
    for envelope, p in events("case.triaged") + events("case.retriaged"):
        at = getattr(p, "triaged_at", None) or p.retriaged_at
        seq = getattr(p, "decision_seq", 1)  # case.triaged is a case's decision 1
        case_id = str(p.case_id)
        if case_id not in decision or decision[case_id][0] < seq:
            decision[case_id] = (seq, p.category)
        if p.group_id is not None:
            groups[case_id] = str(p.group_id)
        if envelope.event_type == "case.triaged" and (
            case_id not in clocks or clocks[case_id][0] < at
        ):
            clocks[case_id] = (at, p.clocks)
    for envelope, p in events("case.deadlines_updated"):
        case_id = str(p.case_id)
        if case_id not in clocks or clocks[case_id][0] < envelope.occurred_at:
            clocks[case_id] = (envelope.occurred_at, p.clocks)
    for _, p in events("case.grouped"):
        for case_id in p.case_ids:
            groups[str(case_id)] = str(p.group_id)
    flags = events("employer.flagged")
    now = today()
    at_risk = {
        case_id
        for case_id, (_, case_clocks) in clocks.items()
        if any(
            c.at_risk_from is not None
            and c.due_on is not None
            and c.at_risk_from <= now <= c.due_on
            for c in case_clocks
        )
    }
    return {
        "category": {case_id: category for case_id, (_, category) in decision.items()},
        "groups": groups,
        "at_risk": at_risk,
        "repeat_employers": {str(p.employer_id) for _, p in flags},
    }


def expected(
    cases: dict[str, dict[str, Any]], consultations: Counter[str], triage: dict[str, Any]
) -> dict[str, Any]:
    category = triage["category"]
    platform = {
        case_id
        for case_id, body in cases.items()
        if any(w["is_platform_worker"] for w in body["workers"])
        or category.get(case_id) == "platform_work"
    }
    return {
        "totals": {
            "cases": len(cases),
            "workers": sum(len(b["workers"]) for b in cases.values()),
            "awaiting_triage": 0,
            "group_disputes": len({triage["groups"][c] for c in cases if c in triage["groups"]}),
        },
        "by_channel": dict(Counter(b["channel"] for b in cases.values())),
        "by_district": dict(Counter(b["employer"]["district_code"] for b in cases.values())),
        "by_industry": dict(Counter(b["employer"]["industry"] for b in cases.values())),
        "by_category": dict(Counter(category[c] for c in cases)),
        "consultations": dict(consultations),
        "platform_cases": len(platform),
        "deadlines_at_risk": len(triage["at_risk"] & set(cases)),
        "repeat_employers": len(triage["repeat_employers"]),
    }


def observed(dashboard: dict[str, Any]) -> dict[str, Any]:
    def as_dict(rows: list[dict[str, Any]]) -> dict[str, int]:
        return {r["code"]: r["cases"] for r in rows}

    return {
        "totals": dashboard["totals"],
        **{name: as_dict(dashboard[name]) for name in BREAKDOWNS},
        "consultations": as_dict(dashboard["consultations_by_channel"]),
        "platform_cases": dashboard["figures"]["platform_cases"],
        "deadlines_at_risk": dashboard["figures"]["deadlines_at_risk"],
        "repeat_employers": dashboard["figures"]["repeat_employers"],
    }


def test_mixed_data_set_figures_match_the_inputs(deployment: Deployment) -> None:
    deployment.start("intake", "triage", "projection")
    projection = deployment["projection"].url
    cases, consultations = register_data_set(deployment["intake"].url)

    deadline = time.monotonic() + 90
    while True:
        totals = httpx.get(
            f"{projection}/api/v1/dashboard", timeout=10, headers=signed_in(Role.SUPERVISOR)
        ).json()["totals"]
        if totals["cases"] == len(cases) and totals["awaiting_triage"] == 0:
            break
        assert time.monotonic() < deadline, f"projection did not catch up: {totals}"
        time.sleep(0.5)
    time.sleep(2)  # group upgrades and flags follow the last decision
    want = expected(cases, consultations, triage_outcome(deployment))
    deadline = time.monotonic() + 30
    while (
        got := observed(
            httpx.get(f"{projection}/api/v1/dashboard", headers=signed_in(Role.SUPERVISOR)).json()
        )
    ) != want:
        assert time.monotonic() < deadline, f"figures differ: {got} != {want}"
        time.sleep(0.5)
    assert want["totals"]["group_disputes"] >= 1  # the walk-in group of twelve
    print(f"\nmixed data set: {want}")

    # District filter: the same counts restricted to one district's cases.
    district = "440305"
    mine = {c: b for c, b in cases.items() if b["employer"]["district_code"] == district}
    scoped = httpx.get(
        f"{projection}/api/v1/dashboard",
        params={"district": district},
        headers=signed_in(Role.SUPERVISOR),
    ).json()
    assert scoped["totals"]["cases"] == len(mine)
    assert scoped["totals"]["workers"] == sum(len(b["workers"]) for b in mine.values())

    # The report: every figure on its first sheet, the cases behind it on the others.
    response = httpx.get(
        f"{projection}/api/v1/report.xlsx",
        params={"period": str(today().year)},
        timeout=30,
        headers=signed_in(Role.SUPERVISOR),
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    overview = {
        row[0]: row[1] for row in book["汇总"].iter_rows(min_row=5, values_only=True) if row[0]
    }
    in_year = {
        c
        for c, b in cases.items()
        if datetime.fromisoformat(b.get("called_at") or b["visited_at"]).astimezone(CHINA).year
        == today().year
    }
    assert overview["受理劳动争议案件"] == len(in_year)
    listed = list(book["受理案件"].iter_rows(min_row=2, values_only=True))
    assert len(listed) == len(in_year)
    assert overview["涉及职工"] == sum(row[6] for row in listed)
    by_channel = Counter(
        row[0] for row in book["按受理渠道"].iter_rows(min_row=2, values_only=True)
    )
    assert overview["  其中：12351热线"] == by_channel["12351热线"] > 0
    assert overview["  其中：12351热线咨询"] == consultations["hotline"]
    assert overview["来访来电咨询（当场解答）"] == sum(
        1 for _ in book["咨询"].iter_rows(min_row=2, values_only=True)
    )
    summary = book["工作总结"]["A1"].value
    assert summary.startswith(f"{today().year}年全年，全市共受理劳动争议案件{len(in_year)}件")
    assert "本期尚未收回法律援助的职工满意度评价" in summary
