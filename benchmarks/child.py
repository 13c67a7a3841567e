"""
One evaluation of the portfolio in a fresh process, measured from inside it.

A fresh process per measurement gives each run the same start (no caches warmed by the
previous one) and a peak resident memory of its own (VmHWM), which is how the benchmark
shows that memory stays flat as the portfolio grows. The time measured excludes
starting Python and Django: it covers the evaluation only, run as the nightly task runs it,
in chunks of ``compliance.tasks.CHUNK_SIZE`` agreements, each chunk its own transaction.

    python -m benchmarks.child --path portal --agreements 1000

prints one line of JSON: wall and CPU seconds (this process and its database backend),
peak and baseline resident memory in KiB, results computed, written and events raised, and
the rows inserted, updated and deleted in every table (pg_stat_user_tables).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PATHS = {
    # The portal's own evaluation path, as the nightly task runs it. A change to it can be
    # measured beside it by naming its function here (module:function).
    "portal": "compliance.services:agreements_evaluate",
}


def evaluation_function(path: str) -> Callable[..., object]:
    module_name, name = PATHS[path].split(":")
    module = __import__(module_name, fromlist=[name])
    return getattr(module, name)


def path_available(path: str) -> bool:
    try:
        evaluation_function(path)
    except ImportError:
        return False
    return True


def nightly(
    evaluate: Callable[..., object], agreement_ids: Sequence[int], as_of, *, every: bool = False
) -> tuple[int, int, int, int]:
    """What covenants.tasks.reevaluate_all_agreements queues, run here in-process, chunk by chunk.
    ``every``: no agreement skipped as unchanged (each is read, computed and compared).

    Returns results computed, results written, events raised and agreements skipped as unchanged."""
    from compliance.tasks import CHUNK_SIZE

    options = {"skip_unchanged": False} if every else {}
    results = changed = events = skipped = 0
    for start in range(0, len(agreement_ids), CHUNK_SIZE):
        summary = evaluate(agreement_ids=list(agreement_ids[start : start + CHUNK_SIZE]), as_of=as_of, **options)
        results += summary.results
        changed += summary.changed
        events += len(summary.events)
        skipped += getattr(summary, "skipped", 0)
    return results, changed, events, skipped


def _memory_kib(field: str) -> int:
    """VmHWM (peak resident memory) or VmRSS of this process, in KiB. Not getrusage's
    ru_maxrss: on Linux that keeps the parent's peak across fork and exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Evaluate the first N agreements of the portfolio, measured.")
    parser.add_argument("--path", choices=sorted(PATHS), default="portal")
    parser.add_argument("--agreements", type=int, required=True)
    parser.add_argument("--every", action="store_true", help="skip no agreement as unchanged")
    args = parser.parse_args()

    from benchmarks import database

    database.configure_process()
    from benchmarks.generate import AS_OF
    from benchmarks.harness import portfolio_ids, rows_changed_between, stopwatch, table_row_changes

    evaluate = evaluation_function(args.path)
    ids = portfolio_ids()[: args.agreements]
    baseline = _memory_kib("VmHWM")
    rows_before = table_row_changes()
    with stopwatch() as taken:
        results, changed, events, skipped = nightly(evaluate, ids, AS_OF, every=args.every)
    peak = _memory_kib("VmHWM")
    # Every table's rows inserted, updated or deleted by the evaluation (not only results and
    # events): a re-evaluation where nothing changed must write none.
    rows_changed = rows_changed_between(rows_before, table_row_changes())
    print(
        json.dumps(
            {
                "wall": taken[0].value,
                "cpu": taken[0].cpu,
                "peak_rss_kib": peak,
                "baseline_rss_kib": baseline,
                "rss_after_kib": _memory_kib("VmRSS"),
                "agreements": len(ids),
                "results": results,
                "changed": changed,
                "events": events,
                "skipped": skipped,
                "rows_changed": rows_changed,
            }
        )
    )


@dataclass
class ChildRun:
    """What a child reported."""

    wall: float
    cpu: float | None
    peak_rss_kib: int
    baseline_rss_kib: int
    agreements: int
    results: int
    changed: int
    events: int
    started_in: float  # seconds to start the process, not part of the measure
    skipped: int  # agreements whose inputs had not changed, not evaluated
    rows_changed: dict  # {table: [inserted, updated, deleted]} of every table the evaluation wrote to


def run_child(path: str, agreements: int, *, timeout: float = 900, every: bool = False) -> ChildRun:
    """Run one measured evaluation in a fresh process and return what it reported (``every``:
    skipping no agreement as unchanged)."""
    from benchmarks.database import ROOT, child_environment

    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.child",
            "--path",
            path,
            "--agreements",
            str(agreements),
            *(["--every"] if every else []),
        ],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"The evaluation ({path}, {agreements:,} agreements) failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    total = time.perf_counter() - began
    return ChildRun(
        wall=report["wall"],
        cpu=report["cpu"],
        peak_rss_kib=report["peak_rss_kib"],
        baseline_rss_kib=report["baseline_rss_kib"],
        agreements=report["agreements"],
        results=report["results"],
        changed=report["changed"],
        events=report["events"],
        started_in=max(0.0, total - report["wall"]),
        skipped=report.get("skipped", 0),
        rows_changed=report.get("rows_changed", {}),
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    main()
