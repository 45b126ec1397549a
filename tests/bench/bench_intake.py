"""Intake alone under load: accepted hotline calls per second, and latency at fixed offered
loads (see :mod:`tests.bench.load` for how load is offered and measured).

Throughput is closed-loop (a fixed number of callers, each posting its next call when the
previous one is answered). Latency is open-loop: calls are sent on a fixed schedule
whatever the answers do, and each latency counts from the call's scheduled time.
"""

from __future__ import annotations

import asyncio
import statistics

from tests.bench.__main__ import Bench
from tests.bench.load import closed_loop, offer_load, percentile

CALLERS = 16
THROUGHPUT_SECONDS = 8.0
OFFERED = ((100, 10.0), (300, 10.0))  # requests per second, seconds


def run(bench: Bench) -> None:
    deployment = bench.deploy("intake")
    url = deployment["intake"].url
    asyncio.run(offer_load(url, 100, 5.0, seed=0))  # warm-up: connections, caches, the JIT
    per_second, failed = asyncio.run(closed_loop(url, CALLERS, THROUGHPUT_SECONDS, seed=1))
    bench.figure("intake hotline calls accepted", per_second, f"calls/s ({CALLERS} callers)")
    if failed:
        bench.figure("intake hotline calls failed (throughput run)", failed, "calls")
    for rate, seconds in OFFERED:
        result = asyncio.run(offer_load(url, rate, seconds, seed=rate))
        latencies = result["latencies"]
        if latencies:
            bench.figure(f"intake p50 at {rate}/s", percentile(latencies, 0.5) * 1000, "ms")
            bench.figure(f"intake p99 at {rate}/s", percentile(latencies, 0.99) * 1000, "ms")
            bench.figure(f"intake mean at {rate}/s", statistics.fmean(latencies) * 1000, "ms")
        bench.figure(f"intake failed at {rate}/s", result["failures"], "calls")
