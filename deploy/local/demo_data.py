"""Load the demo data set through intake's API, as hotline operators would.

Deterministic (seeded), so running it again (every `make up`) registers nothing new: intake
recognises each call id and answers with the case number it already issued.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, datetime, timedelta

import httpx

from weiquan_shared.demo import hotline_call
from weiquan_shared.settings import SERVICE_PORTS

DEMO_CASES = 80


def demo_calls() -> list[dict[str, object]]:
    rng = random.Random(12351)
    now = datetime.now(UTC).replace(microsecond=0)
    calls = [
        hotline_call(
            rng,
            call_id=f"12351-DEMO-{i:04d}",
            called_at=now - timedelta(minutes=rng.randint(10, 60 * 24 * 90)),
            workers=rng.choice((1, 1, 1, 1, 2, 3)),
        )
        for i in range(DEMO_CASES)
    ]
    # A group dispute: twelve workers of one construction subcontractor, one call.
    calls.append(
        hotline_call(
            rng,
            call_id="12351-DEMO-GROUP",
            called_at=now - timedelta(days=2),
            workers=12,
            story=0,
            employer=0,
            district="440309",
        )
    )
    return calls


def main() -> None:
    base = os.environ.get("WEIQUAN_INTAKE_URL", f"http://127.0.0.1:{SERVICE_PORTS['intake']}")
    created = existing = 0
    with httpx.Client(base_url=base, timeout=10) as client:
        for call in demo_calls():
            response = client.post("/api/v1/hotline-calls", json=call)
            if response.status_code == 201:
                created += 1
            elif response.status_code == 200:
                existing += 1
            else:
                sys.exit(f"demo data: intake refused {call['call_id']}: {response.text}")
    print(f"demo data: {created} cases registered, {existing} already there")


if __name__ == "__main__":
    main()
