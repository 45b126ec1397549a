"""Triage: classification quality on the labelled sets, and the pure domain's throughput.

Per category precision and recall, accuracy and macro-F1 on ``tests/data``; then how many
complete decisions (classification, urgency, route, clocks, grouping) the pure ``assess``
function makes per second on one core. No stack is needed for either.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from tests.bench.__main__ import Bench
from tests.data.labelled import HOLDOUT, LABELLED, load, score
from triage.classification import classify
from triage.domain import Policy, assess
from weiquan_shared.events import CaseReported, EmployerRef, WorkerRef


def run(bench: Bench) -> None:
    policy = Policy.load()
    for name, path in (("labelled", LABELLED), ("holdout", HOLDOUT)):
        rows = load(path)
        predicted = [classify(r.text, policy.lexicon).category for r in rows]
        scores = score([r.category for r in rows], predicted)
        for category, (precision, recall, support) in scores.per_category.items():
            bench.figure(f"triage.{name}.{category}.precision", precision, f"(n={support})")
            bench.figure(f"triage.{name}.{category}.recall", recall, f"(n={support})")
        bench.figure(f"triage.{name}.accuracy", scores.accuracy, f"(n={len(rows)})")
        bench.figure(f"triage.{name}.macro_f1", scores.macro_f1, "")

    rng = random.Random(5)
    texts = [r.text for r in load(LABELLED)]
    now = datetime.now(UTC)
    cases = [
        CaseReported(
            case_id=uuid.uuid4(),
            case_number=f"440305-2026-{i:06d}",
            channel="hotline",
            channel_ref=f"c{i}",
            reported_at=now,
            district_code="440305",
            employer=EmployerRef(name="深圳市华南电子科技有限公司", district_code="440305"),
            workers=[WorkerRef(worker_ref=f"{i:064x}", is_migrant_worker=rng.random() < 0.6)],
            summary=rng.choice(texts),
            knew_of_infringement_on=(now - timedelta(days=rng.randint(5, 400))).date(),
        )
        for i in range(5000)
    ]
    started = time.perf_counter()
    for case in cases:
        assess(case, [], current={}, flagged_on=None, policy=policy)
    elapsed = time.perf_counter() - started
    bench.figure("triage.domain.decisions_per_s", len(cases) / elapsed, "decisions/s")
