"""What each service costs when nothing happens: % of one core and wake-ups per second.

``python -m tests.bench.idle [--settle 60] [--window 60] [SERVICE ...]`` starts the services
(all eight by default) in a fresh namespace on the running PostgreSQL and Kafka, lets them
settle, then reads each process's CPU time (``/proc/<pid>/stat`` utime + stime) and context
switches (``/proc/<pid>/status``, summed over its threads) at the start and end of the
window. Only the services' own processes are measured: PostgreSQL and Kafka are shared
with whatever else runs on the machine, so their idle cost is not attributable here.

Not a ``bench_*`` module: it does not run with ``make bench`` and writes no history; the
pipeline benchmark's footprint figure is the whole stack's.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tests.bench.bench_pipeline import SERVICES
from tests.support.stack import Deployment, infrastructure

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def context_switches(pid: int) -> int:
    """Voluntary and involuntary switches of every thread: each is (about) one wake-up."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def threads(pid: int) -> dict[str, int]:
    """CPU ticks by thread name (the event loop is the process's own name)."""
    by_name: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            by_name[name] = by_name.get(name, 0) + cpu_ticks_of(task)
        except OSError:
            continue
    return by_name


def cpu_ticks_of(task: Path) -> int:
    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def measure(deployment: Deployment, window_s: float) -> None:
    pids = {name: s.process.pid for name, s in deployment.services.items() if s.process}
    before = {
        name: (cpu_ticks(pid), context_switches(pid), threads(pid)) for name, pid in pids.items()
    }
    time.sleep(window_s)
    total = 0.0
    print(f"{'service':<14}{'% of a core':>12}{'wake-ups/s':>12}  busiest threads")
    for name, pid in pids.items():
        ticks0, switches0, threads0 = before[name]
        share = 100 * (cpu_ticks(pid) - ticks0) / TICK / window_s
        wakeups = (context_switches(pid) - switches0) / window_s
        spent = {thread: ticks - threads0.get(thread, 0) for thread, ticks in threads(pid).items()}
        busiest = sorted(spent.items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(
            f"{thread} {100 * ticks / TICK / window_s:.2f}%" for thread, ticks in busiest if ticks
        )
        total += share
        print(f"{name:<14}{share:>12.2f}{wakeups:>12.1f}  {shown}", flush=True)
    print(f"{'services':<14}{total:>12.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--settle", type=float, default=60.0, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to keep running after")
    args = parser.parse_args()
    with infrastructure() as infra:
        deployment = Deployment(infra)
        try:
            deployment.start(*args.services)
            pids = {n: s.process.pid for n, s in deployment.services.items() if s.process}
            print(f"namespace {deployment.namespace}; pids {pids}", flush=True)
            time.sleep(args.settle)
            measure(deployment, args.window)
            time.sleep(args.hold)
        finally:
            deployment.teardown()


if __name__ == "__main__":
    main()
