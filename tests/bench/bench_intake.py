"""Intake under load: accepted hotline calls per second, and latency at a fixed offered load.

Throughput is closed-loop (a fixed number of clients, each posting its next call when the
previous one is answered). Latency is open-loop: calls are sent on a fixed schedule
whatever the answers do, and each latency counts from the call's scheduled time, so a
slow server cannot hide its queue (no coordinated omission). Every call is a new call id,
bounded in count and time, sent to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.bench.__main__ import Bench
from weiquan_shared.demo import hotline_call

CLIENTS = 16
THROUGHPUT_SECONDS = 8.0
OFFERED = ((100, 10.0), (300, 5.0))  # requests per second, seconds
TIMEOUT_S = 10.0


def _bodies(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(minutes=1)
    return [
        json.dumps(
            hotline_call(rng, call_id=f"BENCH-{seed}-{i:07d}", called_at=now), ensure_ascii=False
        ).encode()
        for i in range(count)
    ]


async def _post(client: httpx.AsyncClient, body: bytes) -> int:
    try:
        response = await client.post(
            "/api/v1/hotline-calls", content=body, headers={"content-type": "application/json"}
        )
        return response.status_code
    except httpx.HTTPError:
        return 0


async def _throughput(url: str) -> tuple[float, int]:
    bodies = iter(_bodies(int(CLIENTS * THROUGHPUT_SECONDS * 400), seed=1))
    accepted = failed = 0
    deadline = time.monotonic() + THROUGHPUT_SECONDS

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal accepted, failed
        while time.monotonic() < deadline:
            status = await _post(client, next(bodies))
            if status == 201:
                accepted += 1
            else:
                failed += 1

    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=TIMEOUT_S) as client:
        started = time.monotonic()
        await asyncio.gather(*(client_loop(client) for _ in range(CLIENTS)))
        elapsed = time.monotonic() - started
    return accepted / elapsed, failed


async def _open_loop(url: str, rate: int, seconds: float) -> tuple[list[float], int]:
    count = int(rate * seconds)
    bodies = _bodies(count, seed=rate)
    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=512)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=TIMEOUT_S) as client:
        start = time.monotonic() + 0.2

        async def one(i: int) -> None:
            nonlocal failed
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            status = await _post(client, bodies[i])
            if status == 201:
                latencies.append(time.monotonic() - scheduled)
            else:
                failed += 1

        await asyncio.gather(*(one(i) for i in range(count)))
    return latencies, failed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(bench: Bench) -> None:
    deployment = bench.deploy("intake")
    url = deployment["intake"].url
    asyncio.run(_open_loop(url, 50, 1.0))  # warm-up: connections, prepared statements
    per_second, failed = asyncio.run(_throughput(url))
    bench.figure("intake hotline calls accepted", per_second, "calls/s")
    if failed:
        bench.figure("intake hotline calls failed (throughput run)", failed, "calls")
    for rate, seconds in OFFERED:
        latencies, failed = asyncio.run(_open_loop(url, rate, seconds))
        if latencies:
            bench.figure(f"intake p50 at {rate}/s", _percentile(latencies, 0.5) * 1000, "ms")
            bench.figure(f"intake p99 at {rate}/s", _percentile(latencies, 0.99) * 1000, "ms")
            bench.figure(f"intake mean at {rate}/s", statistics.fmean(latencies) * 1000, "ms")
        bench.figure(f"intake failed at {rate}/s", failed, "calls")
