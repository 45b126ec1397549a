"""References measured in the same run: what this machine's Kafka and PostgreSQL can do.

Our own figures are quoted as ratios of these, so machine noise cancels out:
Kafka's ProducerPerformance / ConsumerPerformance (from the broker's own jars) at the size
of a real ``case.reported`` event, and pgbench's single-row INSERT rate.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import subprocess
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.bench.__main__ import Bench
from tests.support.stack import Infra
from weiquan_shared.demo import EMPLOYERS, STORIES
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef

KAFKA_LIBS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
    "weiquan/kafka-4.3.1/libs"
)
RECORDS = 200_000
# Measured by the references; other benchmarks read them to print ratios.
REFERENCE: dict[str, float] = {}


def event_size() -> int:
    """Bytes of a typical case.reported on the wire (one worker, a demo description)."""
    payload = CaseReported(
        case_id=uuid.uuid4(),
        case_number="440305-2026-000001",
        channel="hotline",
        channel_ref="12351-20261124-00000001",
        reported_at=datetime.now(UTC),
        district_code="440305",
        employer=EmployerRef(
            name=EMPLOYERS[0][0], district_code="440305", industry=EMPLOYERS[0][1]
        ),
        workers=[WorkerRef(worker_ref="a" * 64, is_migrant_worker=True)],
        summary=STORIES[0][1].format(m=3, amount=24000),
        claim_amount=Decimal("24000"),
    )
    return len(
        encode(
            new_event(
                payload,
                subject=str(payload.case_id),
                producer="intake",
                actor=Actor.system("intake"),
            )
        )
    )


async def _topic(infra: Infra, name: str, create: bool) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        if create:
            await admin.create_topics([NewTopic(name, 6, 1)])
        else:
            await admin.delete_topics([name])
    finally:
        await admin.close()


def _java(main_class: str, *args: str) -> str:
    result = subprocess.run(
        ["java", "-Xmx512m", "-cp", f"{KAFKA_LIBS}/*", main_class, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout


def kafka_reference(bench: Bench, size: int) -> None:
    topic = f"bench.kafka-perf-{uuid.uuid4().hex[:8]}"
    asyncio.run(_topic(bench.infra, topic, create=True))
    try:
        produced = _java(
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            topic,
            "--num-records",
            str(RECORDS),
            "--record-size",
            str(size),
            "--throughput",
            "-1",
            "--producer-props",
            f"bootstrap.servers={bench.infra.kafka_bootstrap}",
            "acks=all",
            "enable.idempotence=true",
            "linger.ms=5",
        )
        summary = produced.strip().splitlines()[-1]
        rate = float(re.search(r"([\d.]+) records/sec", summary).group(1))  # type: ignore[union-attr]
        REFERENCE["kafka_produce_per_s"] = rate
        bench.figure("reference.kafka_producer_perf", rate, f"records/s ({size} B, acks=all)")
        consumed = _java(
            "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server",
            bench.infra.kafka_bootstrap,
            "--topic",
            topic,
            "--messages",
            str(RECORDS),
            "--timeout",
            "60000",
        )
        header, values = consumed.strip().splitlines()[-2:]
        row = dict(
            zip(
                (h.strip() for h in header.split(",")),
                (v.strip() for v in values.split(",")),
                strict=False,
            )
        )
        rate = float(row["nMsg.sec"])
        REFERENCE["kafka_consume_per_s"] = rate
        bench.figure("reference.kafka_consumer_perf", rate, f"records/s ({size} B)")
    finally:
        asyncio.run(_topic(bench.infra, topic, create=False))


def postgres_reference(bench: Bench) -> None:
    database = f"bench_{uuid.uuid4().hex[:8]}"
    infra = bench.infra

    async def admin(sql: str, db: str = "postgres") -> None:
        conn = await asyncpg.connect(
            host=infra.pg_host,
            port=infra.pg_port,
            user=infra.pg_user,
            password=infra.pg_password,
            database=db,
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    try:
        asyncio.run(
            admin(
                "CREATE TABLE rows (id bigserial PRIMARY KEY, body text)"
                " WITH (autovacuum_enabled = false)",  # no worker to block the DROP
                database,
            )
        )
        script = Path(f"/tmp/{database}.sql")
        script.write_text("INSERT INTO rows (body) VALUES (repeat('案', 300));\n")
        pgbench = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))[-1]
        result = subprocess.run(
            [
                pgbench,
                "-n",
                "-c",
                "4",
                "-j",
                "2",
                "-T",
                "10",
                "-f",
                str(script),
                "-h",
                infra.pg_host,
                "-p",
                str(infra.pg_port),
                "-U",
                infra.pg_user,
                database,
            ],
            env={**os.environ, "PGPASSWORD": infra.pg_password},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        script.unlink()
        tps = float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
        REFERENCE["pg_insert_per_s"] = tps
        bench.figure("reference.pgbench_single_row_insert", tps, "tx/s (4 clients, 1 row/tx)")
    finally:
        asyncio.run(admin(f'DROP DATABASE "{database}" WITH (FORCE)'))


def run(bench: Bench) -> None:
    size = event_size()
    bench.figure("reference.event_size", size, "bytes")
    kafka_reference(bench, size)
    postgres_reference(bench)
