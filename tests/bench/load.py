"""Load for the benchmarks: live hotline calls, offered open-loop or closed-loop over HTTP.

Calls are made now, against about 2,000 invented employers with a long tail of complaints
(a city's hotline, where a few large employers draw group disputes and repeat-employer
flags). Bodies are encoded before the clock starts. The client is aiohttp: at hundreds of
requests per second over hundreds of connections, httpx's pool cost the client more CPU
than intake spent serving, and the figures measured the client. Only 127.0.0.1 is loaded.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import employer_population, hotline_call, zipf_weights

EMPLOYERS = employer_population(2000)
EMPLOYER_WEIGHTS = zipf_weights(len(EMPLOYERS))
# An operator of the tests' issuer, which every service under test trusts (a long run).
HEADERS = {"content-type": "application/json", **signed_in(Role.OPERATOR, expires_in=6 * 3600)}


def live_call(rng: random.Random) -> dict[str, Any]:
    employer = rng.choices(range(len(EMPLOYERS)), cum_weights=EMPLOYER_WEIGHTS)[0]
    return hotline_call(
        rng,
        call_id=f"BENCH-{rng.getrandbits(64):016x}",
        called_at=datetime.now(UTC),
        employers=EMPLOYERS,
        employer=employer,
    )


def bodies(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [json.dumps(live_call(rng), ensure_ascii=False).encode() for _ in range(count)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def offer_load(url: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    """POST calls at ``rate``/s for ``seconds`` whatever the answers (open loop).

    Each latency counts from the call's scheduled time, so a slow server cannot hide its
    queue (no coordinated omission). Returns the latencies, each accepted case's scheduled
    send time, the failures and the achieved rate of accepted cases.
    """
    calls = bodies(int(rate * seconds), seed)
    latencies: list[float] = []
    sent_at: dict[str, datetime] = {}
    failures = 0
    connector = aiohttp.TCPConnector(limit=512)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        begin = time.perf_counter()
        begin_wall = datetime.now(UTC)

        async def one(i: int, body: bytes) -> None:
            nonlocal failures
            scheduled = i / rate
            try:
                async with client.post("/api/v1/hotline-calls", data=body, headers=HEADERS) as r:
                    answer = await r.json() if r.status == 201 else None
            except (aiohttp.ClientError, TimeoutError):
                failures += 1
                return
            latencies.append(time.perf_counter() - begin - scheduled)
            if answer is not None:
                sent_at[answer["case_id"]] = begin_wall + timedelta(seconds=scheduled)
            else:
                failures += 1

        tasks = []
        for i, body in enumerate(calls):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, body)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return {
        "latencies": latencies,
        "sent_at": sent_at,
        "failures": failures,
        "achieved": len(sent_at) / elapsed,
    }


async def closed_loop(url: str, clients: int, seconds: float, seed: int) -> tuple[float, int]:
    """``clients`` callers, each posting its next call when the last is answered: the
    accepted calls per second, and the failures."""
    calls = iter(bodies(int(clients * seconds * 500), seed))
    accepted = failed = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, connector=connector) as client:

        async def caller() -> None:
            nonlocal accepted, failed
            while time.monotonic() < deadline:
                try:
                    async with client.post(
                        "/api/v1/hotline-calls", data=next(calls), headers=HEADERS
                    ) as r:
                        await r.read()
                        ok = r.status == 201
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                accepted += ok
                failed += not ok

        started = time.monotonic()
        await asyncio.gather(*(caller() for _ in range(clients)))
        elapsed = time.monotonic() - started
    return accepted / elapsed, failed
