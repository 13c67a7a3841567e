"""
Workload 2: re-evaluation at N = 1,000 and N = 10,000 agreements. Time must grow linearly
(ratio between 8 and 12) and peak memory stay flat (the nightly evaluates in chunks of 500
agreements and keeps none of a chunk once it is done).

Both sizes are evaluated in the same 10,000-agreement database (N = 1,000 is its first
1,000 agreements), each run in a fresh process that reports its peak resident memory
(VmHWM, from /proc) beside its time, so that memory is the evaluation's and nothing else's.
The runs are those of workload 1, interleaved with its floor; run alone, this workload
takes its own.
"""

from __future__ import annotations

import statistics

from benchmarks.child import ChildRun, path_available, run_child
from benchmarks.harness import Context, Figure, Ratio, Sample, Section, Target, Value, Workload
from benchmarks.workloads.evaluation import AGREEMENTS

SIZES = (AGREEMENTS // 10, AGREEMENTS)
LINEAR = Target(low=8, high=12)
# Flat: ten times the agreements, at most a quarter more peak memory.
FLAT = Target(high=1.25)


def _memory(label: str, runs: list[ChildRun], field: str) -> Figure:
    figure = Figure(label, unit="MiB")
    figure.samples = [Sample(getattr(r, field) / 1024) for r in runs]
    return figure


def run(ctx: Context) -> Section:
    from benchmarks.workloads.evaluation import PATH_LABELS, reevaluation_runs

    small, large = SIZES
    section = Section(
        2,
        f"Scaling: re-evaluation at N = {small:,} and N = {large:,}",
        summary=(
            f"The re-evaluation where nothing changed, of the first {small:,} agreements and of all "
            f"{large:,}, in the same database, each run in a fresh process reporting its peak resident "
            "memory (VmHWM) beside its time. Linear: the time ratio between 8 and 12. Flat: the peak "
            "at the larger size at most 1.25 times the smaller's. The runs are workload 1's, interleaved "
            "with its floor, when it ran first."
        ),
    )
    ids = ctx.portfolio(large)
    paths = [p for p in ctx.paths if path_available(p)]
    runs = ctx.shared.get("reevaluation_runs")
    if not runs:
        _ensure_results(ctx, ids, paths)
        ctx.log("re-evaluation at both sizes")
        _, runs = reevaluation_runs(ctx, ids, paths)
    for path in paths:
        by_size = {n: runs[(path, n)] for n in SIZES}
        times = {}
        for n in SIZES:
            figure = Figure(f"re-evaluation of {n:,} agreements: {PATH_LABELS[path]}")
            figure.samples = [Sample(r.wall, r.cpu) for r in by_size[n]]
            times[n] = figure
            section.figures.append(figure)
        section.ratios.append(
            Ratio(f"time at {large:,} / time at {small:,}, {path}", times[large], times[small], LINEAR)
        )
        peaks = {
            n: _memory(f"peak resident memory, {n:,} agreements, {path}", by_size[n], "peak_rss_kib") for n in SIZES
        }
        section.ratios.append(
            Ratio(f"peak memory at {large:,} / at {small:,}, {path}", peaks[large], peaks[small], FLAT, note="MiB")
        )
        for n in SIZES:
            peak = statistics.median(r.peak_rss_kib for r in by_size[n]) / 1024
            base = statistics.median(r.baseline_rss_kib for r in by_size[n]) / 1024
            section.values.append(
                Value(
                    f"peak resident memory, {n:,} agreements, {path} (median)",
                    f"{peak:,.0f} MiB, of which {peak - base:,.0f} MiB above the process after Django started",
                )
            )
    section.notes.append(
        "Memory is flat because the nightly evaluates 500 agreements at a time, each chunk in a "
        "transaction of its own, and keeps nothing of a chunk once it is written: the peak is one "
        "chunk's inputs and results, and the current results' fingerprints it compares them with."
    )
    return section


def _ensure_results(ctx: Context, ids: list[int], paths: list[str]) -> None:
    """A re-evaluation needs results to compare with: make them once if there are none."""
    from compliance.models import CovenantTestResult

    if not CovenantTestResult.objects.filter(agreement_id__in=ids[:1], is_current=True).exists():
        ctx.log("no results yet: a first evaluation (not measured)")
        run_child(paths[-1], len(ids))


WORKLOAD = Workload(number=2, title="Scaling: re-evaluation at N = 1,000 and 10,000", run=run, run_order=20)
