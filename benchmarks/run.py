"""
Run the benchmarks and write docs/benchmarks.md: the machine, the date and every figure.

    python -m benchmarks.run [--only 1,2] [--runs 3] [--paths portal] [--output FILE]

(``make bench`` runs it.) The benchmark's database is dropped and recreated first, as a copy of
the migrated template of the current migrations (benchmarks/database.py says where it is); the
portfolio is copied from the template a previous run kept, or generated (and kept) as the
workloads need it. Each step's duration is logged and reported. Hand-written parts of the
report live in benchmarks/notes/ (benchmarks/document.py). PostgreSQL and Redis must be running.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from benchmarks import database, document
from benchmarks.harness import Context, Section, render_section

_began = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _began:6.0f} s] {message}", file=sys.stderr, flush=True)


def _since(began: float) -> float:
    return time.perf_counter() - began


def _int_env(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else None


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    import celery
    import django
    import psycopg
    import redis
    from django.db import connection

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = "unknown"
    try:
        with open("/proc/meminfo") as info:
            kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal:"))
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    redis_version = redis.Redis.from_url(database.redis_url()).info().get("redis_version", "unknown")
    return [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("memory", memory),
        ("operating system", platform.platform()),
        ("PostgreSQL", f"{postgres} (shared_buffers {shared_buffers}, on this machine)"),
        ("Redis", redis_version),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Django / psycopg / Celery", f"{django.get_version()} / {psycopg.__version__} / {celery.__version__}"),
    ]


METHOD = """
## How these figures are made

- **Portfolio**: synthetic agreements written with COPY by `benchmarks/generate.py` into a
  database of the benchmark's own, dropped and recreated each run. Each agreement
  has five Borrowers, an Agent, a Lender, three covenants of the seed's kinds (minimum revenues
  with a schedule; two-quarter EBITDA at least a negative amount, "losses may not exceed
  ($X)"; total debt to four-quarter EBITDA at most 5.75 to 1.00 thereafter) and eight fiscal
  quarters of statements with revenues, EBITDA and total debt: 24 tests per agreement, a mix
  of compliant, breach, incomplete (a statement not received, a line missing) and not tested,
  with restated quarters and amounts in cents. Evaluated as of 2025-02-14.
- **Setup**: the database is a copy (`CREATE DATABASE ... TEMPLATE`) of one migrated once per
  set of migration files (a digest of them names it), and the portfolio a copy of the database
  as it stood once the same generator had written and `VACUUM ANALYZE`d it at the same size:
  the same files, visibility maps and planner statistics as a portfolio generated in this run,
  without minutes of migrating and generating. A changed migration or generator makes a new
  template (the first run after the change pays for it, once).
- **Database**: after the portfolio and after the first evaluation are written, the benchmark
  runs `VACUUM ANALYZE`, as autovacuum would have by then on a server in service (it is off on
  this machine's), so that neither side pays for visibility maps never set.
- **Runs**: each measure is run several times, the sides of a comparison interleaved
  (floor, portal, floor, portal...), and reported as the median with min and max. Targets are
  judged on the wall-clock medians. A measure that rebuilds everything (a first evaluation
  from no results) is run fewer times.
- **CPU**: beside wall-clock time, the CPU seconds of the measuring process and of its
  PostgreSQL backend. The machine is shared: other work competing for its two cores stretches
  wall-clock times, much less CPU times, so the CPU ratio is the cross-check of the wall-clock
  ratio.
- **Processes**: the portal's evaluation runs as the nightly task runs it (chunks of 500
  agreements, each its own transaction), in a fresh process per run (`benchmarks/child.py`),
  timed from inside it (starting Python and Django is not counted). `DEBUG` is off.
"""


def render(
    sections: list[Section], facts: list[tuple[str, str]], started: dt.datetime, seconds: float, ctx: Context
) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    load_before = ", ".join(f"{x:.2f}" for x in ctx.load_at_start)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks.run`); do not edit by hand: the hand-written parts "
        "are kept in `benchmarks/notes/` and put in on every run.",
        "",
        f"- **Date**: {started:%Y-%m-%d %H:%M} UTC; the run took {seconds / 60:.1f} minutes.",
        f"- **Commit**: {database.commit()} (with the working tree as it was).",
        f"- **Runs**: {ctx.runs} per side-by-side measure, {ctx.first_runs} per first evaluation, "
        f"{ctx.worker_runs} over Celery workers.",
        f"- **Load average** (1, 5, 15 min) at the start: {load_before}; at the end: {load} "
        "(other work on the machine: ratios are measured side by side for that reason).",
        "",
        "| machine | |",
        "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in facts],
        "",
        "Where the run's time went (setup steps, then each workload, in the order they ran):",
        "",
        "| step | wall-clock |",
        "| --- | ---: |",
        *[f"| {label} | {seconds:,.1f} s |" for label, seconds in ctx.phases],
        f"| **in all** | **{seconds:,.1f} s** |",
        "",
        "## Targets",
        "",
        "| workload | ratio | measured | target | met |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for section in sorted(sections, key=lambda s: s.number):
        for ratio in section.ratios:
            if ratio.target is None:
                continue
            lines.append(
                f"| {section.number} | {ratio.label} | {ratio.value:.2f} | {ratio.target} "
                f"| {'**yes**' if ratio.met else '**no**'} |"
            )
        for check in section.checks:
            lines.append(f"| {section.number} | {check.label} | | | {'**yes**' if check.passed else '**no**'} |")
    lines += ["", METHOD.strip(), ""]
    if floors := document.note("floors"):
        lines += [floors, ""]
    for section in sorted(sections, key=lambda s: s.number):
        if kept := document.note(f"workload-{section.number}"):
            section.notes.append(kept)
        lines.append(render_section(section))
    lines += ["", document.beyond_one_machine()]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write docs/benchmarks.md.")
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""), help="workload numbers, e.g. 1,2")
    # Defaults that keep `make bench` under 10 minutes on the 2-core machine (fewer runs when
    # more than one evaluation path is measured side by side).
    parser.add_argument("--runs", type=int, default=_int_env("BENCH_RUNS"), help="side-by-side runs (5, or 3)")
    parser.add_argument("--first-runs", type=int, default=_int_env("BENCH_FIRST_RUNS"), help="(2, or 1)")
    parser.add_argument("--worker-runs", type=int, default=_int_env("BENCH_WORKER_RUNS"), help="(2, or 1)")
    parser.add_argument(
        "--paths",
        default=os.environ.get("BENCH_PATHS", "portal"),
        help="evaluation paths to measure (benchmarks/child.py PATHS): portal, the tree's",
    )
    parser.add_argument("--output", default=str(database.ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--keep-database", action="store_true", help="reuse the benchmark's database as it is")
    args = parser.parse_args()

    started = dt.datetime.now(dt.UTC)
    setup: list[tuple[str, float]] = []
    try:
        database.check_services()
        log(f"benchmark database: {database.bench_database_url().split('@')[-1]}; Redis: {database.redis_url()}")
        if not args.keep_database:
            log("dropping and recreating the benchmark database")
            began = time.perf_counter()
            database.recreate_database(log=log)
            setup.append(("database dropped and recreated, migrated (from its template if kept)", _since(began)))
    except database.BenchSetupError as exc:
        sys.exit(f"make bench: {exc}")
    began = time.perf_counter()
    database.configure_process()

    from benchmarks.child import path_available
    from benchmarks.workloads import discover

    only = {int(n) for n in args.only.split(",") if n.strip()} or None
    paths = [p.strip() for p in args.paths.split(",") if p.strip() and path_available(p.strip())]
    one = len(paths) == 1
    ctx = Context(
        args.runs or (5 if one else 3),
        first_runs=args.first_runs or (2 if one else 1),
        worker_runs=args.worker_runs or (2 if one else 1),
        log=log,
    )
    ctx.paths = paths
    ctx.load_at_start = os.getloadavg()
    ctx.phases += [*setup, ("Python and Django started", _since(began))]
    log(f"evaluation paths measured: {', '.join(paths)}; {ctx.runs} runs side by side")
    facts = machine()
    sections: list[Section] = []
    for workload in discover(only):
        log(f"workload {workload.number}: {workload.title}")
        began = time.perf_counter()
        phases_before = len(ctx.phases)
        try:
            section = workload.run(ctx)
        except Exception as exc:  # a failed workload is reported, the others still run
            log(traceback.format_exc())
            section = Section(workload.number, workload.title, summary=f"**This workload failed**: {exc}")
        section.seconds = time.perf_counter() - began
        sections.append(section)
        # The setup steps the workload triggered (the portfolio) are already among the phases.
        setup_inside = sum(seconds for _, seconds in ctx.phases[phases_before:])
        ctx.phases.append((f"workload {workload.number}: {workload.title}", section.seconds - setup_inside))
        log(f"workload {workload.number} done in {section.seconds:.0f} s")
    seconds = time.perf_counter() - _began
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(sections, facts, started, seconds, ctx))
    log(f"wrote {output} ({seconds / 60:.1f} minutes in all)")


if __name__ == "__main__":
    main()
