"""End to end, every service running: intake latency, intake → dashboard latency, the
highest sustained rate, and the stack's footprint.

Load is open-loop (calls start on a fixed schedule whatever the answers), bounded in count
and time, to 127.0.0.1 only. The client runs on the same 2 cores as the stack, so it takes
a share of the machine: figures are what the whole box does, client included.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.__main__ import Bench
from tests.bench.load import offer_load, percentile
from tests.support.stack import Deployment
from weiquan_shared.settings import SERVICE_PORTS

# Every service (all have a consumer or are in the page path); identity issues no token here
# (the load signs in with the tests' issuer) but counts in the footprint.
SERVICES = tuple(SERVICE_PORTS)


async def dashboard_arrivals(
    deployment: Deployment, case_ids: set[str], timeout_s: float
) -> dict[str, datetime]:
    """When projection recorded each case's case.reported (waits until all have arrived)."""
    conn = await deployment.connect("projection")
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            rows = await conn.fetch(
                "SELECT case_id::text AS id, recorded_at FROM case_timeline "
                "WHERE event_type = 'case.reported' AND case_id::text = ANY($1::text[])",
                list(case_ids),
            )
            if len(rows) >= len(case_ids) or time.monotonic() > deadline:
                return {r["id"]: r["recorded_at"] for r in rows}
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def component_pids(deployment: Deployment) -> dict[str, list[int]]:
    """The processes of each part of the stack: every service, Kafka, PostgreSQL."""
    pids: dict[str, list[int]] = {
        name: [s.process.pid] for name, s in deployment.services.items() if s.process
    }
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"kafka.Kafka" in cmdline:
                pids.setdefault("kafka", []).append(int(pid))
            elif cmdline.startswith(b"postgres") or b"/postgres\x00-D" in cmdline:
                pids.setdefault("postgresql", []).append(int(pid))
    return pids


def stack_pids(deployment: Deployment) -> list[int]:
    return [pid for pids in component_pids(deployment).values() for pid in pids]


def pss_mb(pids: list[int]) -> float:
    """Proportional set size: PostgreSQL's shared buffers counted once, not per backend."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def run(bench: Bench) -> None:
    deployment = bench.deploy(*SERVICES)
    intake = deployment["intake"].url
    pids = stack_pids(deployment)
    # Idle is the steady state: for a minute or two after a start Kafka's JVM is still
    # compiling and its CPU falls from about 5% to 2-3% of a core (measured in 30 s
    # windows over three minutes), so measure after 90 s, over 30 s.
    time.sleep(90)
    before = cpu_seconds(pids)
    time.sleep(30)
    bench.figure("footprint.cpu_idle", 100 * (cpu_seconds(pids) - before) / 30, "% of one core")
    bench.figure(
        "footprint.memory_idle",
        pss_mb(stack_pids(deployment)),
        "MB PSS (services + Kafka + PostgreSQL)",
    )

    # Warm-up, as a running system is: Kafka's JIT, PostgreSQL's caches, the pools.
    asyncio.run(offer_load(intake, 100, 10, seed=0))
    time.sleep(5)

    # Intake latency and intake → dashboard latency at 300 cases/s.
    components = {**component_pids(deployment), "load generator": [os.getpid()]}
    cpu_before = {name: cpu_seconds(pids) for name, pids in components.items()}
    result = asyncio.run(offer_load(intake, 300, 10, seed=1))
    bench.figure("footprint.memory_under_load", pss_mb(stack_pids(deployment)), "MB (PSS)")
    lat = result["latencies"]
    bench.figure("intake.http_p50_at_300rps", 1000 * percentile(lat, 0.5), "ms")
    bench.figure("intake.http_p99_at_300rps", 1000 * percentile(lat, 0.99), "ms")
    bench.figure("intake.achieved_rate_at_300rps", result["achieved"], "cases/s")
    arrivals = asyncio.run(dashboard_arrivals(deployment, set(result["sent_at"]), 120))
    # Counted until the last case reached the dashboard, so the consumers' backlog is in.
    # PostgreSQL's pooled backends live as long as the pools: the same pids still count.
    for name, pids in components.items():
        per_case = 1000 * (cpu_seconds(pids) - cpu_before[name]) / max(1, len(result["sent_at"]))
        bench.figure(f"cpu_per_case.{name.replace(' ', '_')}", per_case, "ms of CPU (at 300/s)")
    e2e = [
        (arrivals[case] - sent).total_seconds()
        for case, sent in result["sent_at"].items()
        if case in arrivals
    ]
    bench.figure("e2e.intake_to_dashboard_p50_at_300", 1000 * percentile(e2e, 0.5), "ms")
    bench.figure("e2e.intake_to_dashboard_p99_at_300", 1000 * percentile(e2e, 0.99), "ms")
    bench.figure("e2e.cases_missing_at_300", len(result["sent_at"]) - len(e2e), "cases")

    # Highest sustained rate: each step must be served at ≥95% of the offered rate and
    # reach the dashboard within 5 s of the last call.
    sustained = 0.0
    for step, rate in enumerate((100, 150, 200, 250, 300, 350, 400, 500, 600, 800, 1000)):
        result = asyncio.run(offer_load(intake, rate, 8, seed=100 + step))
        finished = datetime.now(UTC)
        arrivals = asyncio.run(dashboard_arrivals(deployment, set(result["sent_at"]), 30))
        lag = max((t - finished).total_seconds() for t in arrivals.values()) if arrivals else 99
        ok = (
            result["achieved"] >= 0.95 * rate
            and len(arrivals) == len(result["sent_at"])
            and result["failures"] == 0
            and lag <= 5
        )
        print(
            f"   step {rate}/s: achieved {result['achieved']:.0f}/s, "
            f"failures {result['failures']}, "
            f"p99 {1000 * percentile(result['latencies'], 0.99):.0f} ms, "
            f"dashboard lag {lag:.1f} s -> {'sustained' if ok else 'not sustained'}",
            flush=True,
        )
        if not ok:
            break
        sustained = result["achieved"]
    bench.figure("e2e.max_sustained_rate", sustained, "cases/s (target 1000)")
