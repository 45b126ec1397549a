"""`make bench`: run every ``tests/bench/bench_*.py`` against the real stack and print figures.

Each module defines ``run(bench: Bench) -> None`` and reports figures with
``bench.figure(name, value, unit, ratio=...)``; a line ``name: value unit`` is printed for
each, and the whole run is appended to ``tests/bench/results/history.jsonl`` so a change
that slows the system shows. ``python -m tests.bench NAME`` runs only ``bench_NAME.py``.
"""

from __future__ import annotations

import importlib
import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.stack import Deployment, Infra, infrastructure

HERE = Path(__file__).parent
HISTORY = HERE / "results" / "history.jsonl"


@dataclass
class Bench:
    infra: Infra
    figures: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)

    def deploy(self, *services: str) -> Deployment:
        """Services in a fresh namespace, torn down when the benchmark ends."""
        deployment = Deployment(self.infra)
        self.deployments.append(deployment)
        deployment.start(*services)
        return deployment

    def figure(self, name: str, value: float, unit: str, ratio: float | None = None) -> None:
        shown = f"{value:.3g}" if isinstance(value, float) and abs(value) < 100 else f"{value:,.0f}"
        line = f"{name}: {shown} {unit}"
        if ratio is not None:
            line += f"  ratio: {ratio:.3f}"
        print(line, flush=True)
        self.figures.append({"name": name, "value": value, "unit": unit, "ratio": ratio})


# Throughput figures, and the machine limit measured in the same run that each is read
# against: a case accepted is one PostgreSQL transaction at intake.
RATIOS = {
    "intake hotline calls accepted": "reference.pgbench_single_row_insert",
    "e2e.max_sustained_rate": "reference.pgbench_single_row_insert",
}


def _ratios_to_references(bench: Bench) -> None:
    """Once every module has run: each throughput figure as a ratio of its reference."""
    values = {f["name"]: f["value"] for f in bench.figures}
    for name, reference in RATIOS.items():
        if values.get(name) is not None and values.get(reference):
            bench.figure(
                f"ratio.{name.replace(' ', '_')}",
                values[name],
                f"(over {reference})",
                ratio=values[name] / values[reference],
            )


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def main() -> None:
    only = sys.argv[1:]
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        modules = [m for m in modules if m.removeprefix("bench_") in only]
    if not modules:
        sys.exit(f"no benchmark matches {only}")
    started = time.monotonic()
    with infrastructure() as infra:
        bench = Bench(infra)
        for module in modules:
            print(f"== {module}", flush=True)
            try:
                importlib.import_module(f"tests.bench.{module}").run(bench)
            finally:
                # A benchmark's services must not idle (or drain a backlog) in the next's.
                while bench.deployments:
                    bench.deployments.pop().teardown()
        _ratios_to_references(bench)
    HISTORY.parent.mkdir(parents=True, exist_ok=True)
    with HISTORY.open("a", encoding="utf-8") as history:
        record = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _commit(),
            "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
            "figures": bench.figures,
        }
        history.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(
        f"bench: {len(bench.figures)} figures in {time.monotonic() - started:.0f} s; "
        f"history in {HISTORY.relative_to(HERE.parents[1])}"
    )


if __name__ == "__main__":
    main()
