"""Projection: rebuild throughput from Kafka, and the dashboard's query latency at scale.

1. Rebuild: ``REBUILD_EVENTS`` valid events (reports, triage decisions, retriages, clock
   updates, consultations; about 2.2 events per case) are produced straight onto a fresh
   namespace's topics with batched sends, then ``projection.rebuild`` replays them all
   (projection stopped, as the rebuild requires). Figures: events/s, and the ratio to a
   bare consumer reading the same topics without doing anything with the records.
2. Dashboard: ``DASHBOARD_CASES`` case rows (a year, nine districts) are COPYed into a
   second namespace's read model and the figures derived with the same SQL as a rebuild;
   then the dashboard API (figures for a period and district) and the drill-down list are
   queried over HTTP with mixed filters, one request at a time.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from projection.rebuild import consumed_topics, rebuild
from tests.bench.__main__ import Bench
from tests.bench.load import percentile
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import DISTRICTS, EMPLOYERS
from weiquan_shared.envelope import EventPayload
from weiquan_shared.events import CaseReported, CaseRetriagedV1, CaseTriaged

REBUILD_EVENTS = 1_000_000
DASHBOARD_CASES = 1_000_000
QUERIES = 300
CATEGORIES = ["wage_arrears", "termination", "overtime", "social_insurance", "platform_work"]
ROUTES = ["mediation", "legal_aid", "referral", "consultation"]
CHECKED: dict[str, type[EventPayload]] = {
    "case.reported": CaseReported,
    "case.triaged": CaseTriaged,
    "case.retriaged": CaseRetriagedV1,  # written as schema version 1 below
}
PRODUCERS = {
    "case.reported": "intake",
    "consultation.recorded": "intake",
    "case.triaged": "triage",
    "case.retriaged": "triage",
}


def _envelope(event_type: str, subject: str, at: datetime, payload: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "schema_version": 1,
            "subject": subject,
            "occurred_at": at.isoformat(),
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "producer": PRODUCERS[event_type],
            "payload": payload,
        }
    )


def synthetic_events(count: int, seed: int) -> list[tuple[str, bytes, bytes]]:
    """(event type, key, value) for ``count`` valid events, a case's events in order."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=365)
    events: list[tuple[str, bytes, bytes]] = []
    case = 0
    while len(events) < count:
        case += 1
        case_id = str(uuid.UUID(int=rng.getrandbits(128)))
        district = rng.choice(DISTRICTS)
        name, industry = rng.choice(EMPLOYERS)
        at = start + timedelta(seconds=rng.randrange(365 * 86400))
        number = f"{district}-2026-{case:06d}"
        key = case_id.encode()
        reported = {
            "case_id": case_id,
            "case_number": number,
            "channel": rng.choice(("hotline", "hotline", "wechat", "walk_in")),
            "channel_ref": f"bench-{case}",
            "reported_at": at.isoformat(),
            "district_code": district,
            "employer": {"name": name, "district_code": district, "industry": industry},
            "workers": [
                {
                    "worker_ref": f"{rng.getrandbits(256):064x}",
                    "is_migrant_worker": True,
                    "is_platform_worker": rng.random() < 0.05,
                }
                for _ in range(1 if rng.random() < 0.9 else rng.randint(2, 12))
            ],
            "summary": "公司拖欠工资三个月，多次讨要未果。",
            "claim_amount": str(rng.randint(30, 600) * 100),
        }
        events.append(("case.reported", key, _envelope("case.reported", case_id, at, reported)))
        category, route = rng.choice(CATEGORIES), rng.choice(ROUTES)
        decided = at + timedelta(seconds=rng.randint(1, 300))
        due = (decided + timedelta(days=rng.randint(5, 365))).date()
        triaged = {
            "case_id": case_id,
            "case_number": number,
            "category": category,
            "urgency": "normal",
            "route": route,
            "reasons": [{"rule": "bench.rule", "text": "基准测试规则"}],
            "triaged_at": decided.isoformat(),
            "clocks": [
                {
                    "kind": "arbitration_limitation",
                    "rule_id": "clock.arbitration_limitation",
                    "starts_on": (due - timedelta(days=365)).isoformat(),
                    "due_on": due.isoformat(),
                    "at_risk_from": (due - timedelta(days=30)).isoformat(),
                    "note": "仲裁时效",
                }
            ],
        }
        events.append(("case.triaged", key, _envelope("case.triaged", case_id, decided, triaged)))
        if case % 10 == 0:
            later = decided + timedelta(hours=2)
            retriaged = {
                "case_id": case_id,
                "case_number": number,
                "category": "overtime",
                "urgency": "urgent",
                "route": "referral",
                "reasons": [{"rule": "bench.rule", "text": "基准测试规则"}],
                "previous": {"category": category, "urgency": "normal", "route": route},
                "retriaged_by": "officer",
                "officer_id": "officer-1",
                "note": "复核改判",
                "retriaged_at": later.isoformat(),
            }
            events.append(
                ("case.retriaged", key, _envelope("case.retriaged", case_id, later, retriaged))
            )
        if case % 20 == 0:
            consultation_id = str(uuid.UUID(int=rng.getrandbits(128)))
            consultation = {
                "consultation_id": consultation_id,
                "channel": "hotline",
                "channel_ref": f"bench-c-{case}",
                "occurred_at": at.isoformat(),
                "district_code": district,
                "topic": "overtime",
                "summary": "加班费怎么算？",
            }
            events.append(
                (
                    "consultation.recorded",
                    consultation_id.encode(),
                    _envelope("consultation.recorded", consultation_id, at, consultation),
                )
            )
    # Checked against the contracts once, so the figures measure valid events only.
    for event_type, _, value in events[:40]:
        payload_type = CHECKED.get(event_type)
        if payload_type is not None:
            payload_type.model_validate(orjson.loads(value)["payload"])
    return events[:count]


async def produce(bootstrap: str, namespace: str, events: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=50,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    try:
        for chunk in range(0, len(events), 50_000):
            sent = [
                await producer.send(
                    f"{namespace}.{event_type}",
                    value=value,
                    key=key,
                    headers=[("event_type", event_type.encode()), ("schema_version", b"1")],
                )
                for event_type, key, value in events[chunk : chunk + 50_000]
            ]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def raw_consume(deployment: Deployment, expected: int) -> float:
    """A consumer that only counts records: the ceiling for any replay in Python."""
    settings = deployment.settings("projection")
    consumer = AIOKafkaConsumer(
        *consumed_topics(settings),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        started = time.perf_counter()
        seen = 0
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            seen += sum(len(records) for records in batch.values())
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def bench_rebuild(bench: Bench) -> None:
    deployment = bench.deploy("projection")
    deployment["projection"].stop()
    started = time.perf_counter()
    events = synthetic_events(REBUILD_EVENTS, seed=7)
    asyncio.run(produce(deployment.infra.kafka_bootstrap, deployment.namespace, events))
    print(
        f"   {len(events):,} events produced in {time.perf_counter() - started:.0f} s", flush=True
    )
    del events
    raw = asyncio.run(raw_consume(deployment, REBUILD_EVENTS))
    report = asyncio.run(rebuild(deployment.settings("projection")))
    assert report.applied == REBUILD_EVENTS, report
    print(f"   rebuild: {report}", flush=True)
    bench.figure(
        "projection.rebuild_events_per_s",
        report.events_per_second,
        f"events/s ({REBUILD_EVENTS:,} events, target 20,000)",
        ratio=report.events_per_second / raw,
    )
    bench.figure("projection.raw_consumer_events_per_s", raw, "events/s (reference)")


async def load_cases(deployment: Deployment, count: int, seed: int) -> None:
    """COPY ``count`` case rows over the past year, then derive figures as a rebuild does."""
    rng = random.Random(seed)
    today = date.today()
    start = datetime.now(UTC) - timedelta(days=365)
    conn = await deployment.connect("projection")
    try:
        rows: list[tuple[Any, ...]] = []
        deadlines: list[tuple[Any, ...]] = []
        for i in range(count):
            case_id = uuid.UUID(int=rng.getrandbits(128))
            district = rng.choice(DISTRICTS)
            name, industry = rng.choice(EMPLOYERS)
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            category = rng.choice(CATEGORIES)
            route = rng.choice(ROUTES)
            workers = 1 if rng.random() < 0.9 else rng.randint(2, 12)
            group = uuid.UUID(int=i // 5) if rng.random() < 0.02 else None
            rows.append(
                (
                    case_id,
                    f"{district}-2026-{i:07d}",
                    rng.choice(("hotline", "wechat", "walk_in")),
                    district,
                    name,
                    None,
                    industry,
                    workers,
                    0,
                    workers,
                    None,
                    at,
                    (at + timedelta(hours=8)).date(),
                    category,
                    [],
                    "normal",
                    route,
                    None,
                    at,
                    1,
                    False,
                    group,
                    None,
                    rng.random() < 0.01,
                    None,
                    None,
                    category == "platform_work",
                    route,
                )
            )
            if rng.random() < 0.02:
                due = today + timedelta(days=rng.randint(-30, 60))
                deadlines.append(
                    (case_id, "arbitration_limitation", due, due - timedelta(days=30), "仲裁时效")
                )
        await conn.copy_records_to_table("case_summary", records=rows)
        await conn.copy_records_to_table("case_deadline", records=deadlines)
        await conn.execute(
            """INSERT INTO case_rollup (day, district_code, dim, key, n, workers)
               SELECT day, district_code, dim, key, count(*), coalesce(sum(workers), 0)
               FROM case_contribution GROUP BY 1, 2, 3, 4"""
        )
        await conn.execute("ANALYZE case_summary, case_deadline, case_rollup")
    finally:
        await conn.close()


def bench_dashboard(bench: Bench) -> None:
    deployment = bench.deploy("projection")
    started = time.perf_counter()
    asyncio.run(load_cases(deployment, DASHBOARD_CASES, seed=8))
    print(
        f"   {DASHBOARD_CASES:,} cases loaded in {time.perf_counter() - started:.0f} s", flush=True
    )
    url = deployment["projection"].url
    rng = random.Random(9)
    year = date.today().year
    periods: list[dict[str, str]] = [
        {},
        {"period": str(year)},
        {"period": f"{year}H2"},
        {"period": f"{year}-{date.today().month:02d}"},
    ]
    dashboard: list[float] = []
    drill: list[float] = []
    supervisor = signed_in(Role.SUPERVISOR, expires_in=6 * 3600)
    with httpx.Client(base_url=url, timeout=60, headers=supervisor) as client:
        client.get("/api/v1/dashboard").raise_for_status()  # warm the pool
        for _ in range(QUERIES):
            params = {**rng.choice(periods)}
            if rng.random() < 0.5:
                params["district"] = rng.choice(DISTRICTS)
            began = time.perf_counter()
            client.get("/api/v1/dashboard", params=params).raise_for_status()
            dashboard.append(time.perf_counter() - began)
            params["category"] = rng.choice(CATEGORIES)
            began = time.perf_counter()
            client.get("/api/v1/cases", params={**params, "limit": 20}).raise_for_status()
            drill.append(time.perf_counter() - began)
    bench.figure(
        "projection.dashboard_p95_1m_cases",
        1000 * percentile(dashboard, 0.95),
        f"ms ({DASHBOARD_CASES:,} cases, all figures, mixed period/district)",
    )
    bench.figure("projection.dashboard_p50_1m_cases", 1000 * percentile(dashboard, 0.5), "ms")
    bench.figure(
        "projection.drilldown_p95_1m_cases",
        1000 * percentile(drill, 0.95),
        "ms (case list page with its count)",
    )


def run(bench: Bench) -> None:
    bench_rebuild(bench)
    bench_dashboard(bench)
