"""
Workload 1: portfolio re-evaluation at N = 10,000 agreements, against its floor.

The portal's path is what the nightly task runs: ``services.agreements_evaluate`` over
chunks of 500 agreements, each its own transaction. It is measured in a fresh process per
run (benchmarks/child.py), twice over: a first evaluation from no results (every result
and event written, alerts raised), and a re-evaluation where nothing changed (the nightly's
usual case: every agreement's inputs digested and found unchanged; no row written in any
table, as pg_stat_user_tables counts them).

The floor (benchmarks/floor.py) sums the figures in PostgreSQL and decides in Python; the
previous floor (benchmarks/floor_previous.py, one SQL statement) is measured beside it. The
portal's and each floor's results must be identical: status and value for every (covenant,
test date). The re-evaluation runs are interleaved with the floors'. Then the same
re-evaluation is spread over two real Celery workers.
"""

from __future__ import annotations

import os
import statistics
import time

from benchmarks.child import ChildRun, path_available, run_child
from benchmarks.harness import Check, Context, Figure, Ratio, Sample, Section, Target, Value, Workload

# The portfolio; BENCH_AGREEMENTS makes a smaller one for trying the harness out.
AGREEMENTS = int(os.environ.get("BENCH_AGREEMENTS", "10000"))
TARGET = Target(high=1.5)
# The first evaluation writes every result, event and alert: at most 4 times the floor (issue 16).
FIRST_TARGET = Target(high=4)
SUMMARY = """
The portal's path is what the nightly task `covenants.tasks.reevaluate_all_agreements` queues:
`services.agreements_evaluate` over chunks of 500 agreements, each its own transaction, run
here in-process, in a fresh process per run, timed from inside it. Two cases: a **first
evaluation** from no results (every result, event and alert written), and a **re-evaluation
where nothing changed** (the nightly's usual case: each agreement's inputs digested, found
unchanged since its last evaluation and skipped; nothing written, in any table). The **floor**
(`benchmarks/floor.py`) is the least work giving the same statuses and values: PostgreSQL sums
the current figures per agreement, line item and quarter in one hash aggregate, four small
queries read terms, schedules, Borrowers and waivers, and the decisions are made in plain
Python over integers. The **previous floor** (`benchmarks/floor_previous.py`, one set-based SQL
statement) is measured beside it, so that the change in the ratio shows. The re-evaluation runs
are interleaved with both floors'; the results must be identical to each floor's, status and
value for every (covenant, test date). The target (at most 1.5 times the floor) is the
re-evaluation's: the nightly's work. The first evaluation's ratio is reported beside it: it
writes every result, event and alert, which the floor does not (see below).
"""

FLOORS = """
### The floors, and what each leaves out

Both floors give the status and value of every one of the 240,000 tests, checked equal to the
portal's on every test in every run. Neither writes anything, nor makes the explanation and the
inputs (which statement, which version, which amount) the portal stores with every result, and
neither reads what the portfolio does not hold: defined terms (formulas), fiscal calendars other
than calendar months, monthly terms, each-Borrower and consolidated tests.

- **The floor** (`benchmarks/floor.py`): every current statement line must be read once, since
  every sum depends on all of them; PostgreSQL reads them in one hash aggregate (1.2 million lines
  joined to their statements and the Borrowers' roles) and returns one sum per agreement, line
  item, quarter and span of holding (240,000 rows, a fifth of the lines). Four small queries read
  the covenants with their versions of terms, the schedule rows, the Borrowers and the waivers.
  Every row comes through psycopg's binary protocol as integers (amounts in cents, thresholds in
  millionths); test dates, terms in force, windows, missing figures, rounding and the decision are
  plain Python over integers, a Decimal made only for the value returned. What is left is one
  pass over the lines in the database and one pass of Python per test.
- **The previous floor** (`benchmarks/floor_previous.py`): one set-based SQL statement computing
  everything in PostgreSQL: terms in force and schedule rows found per test by "latest row"
  lookups (LATERAL ... LIMIT 1), each window's quarters generated per test and joined to the sums,
  waivers by a correlated lookup. The same answers, with more work per test than the floor.
- **The re-evaluation where nothing changed** does less than either floor: one query per chunk
  of 500 (`compliance/input_digests.py`) hashes, in PostgreSQL, every row the evaluation would
  read for each agreement (its current statements, which stand for their lines since lines are
  never changed in place, and the terms, schedules, amendments, defined terms, waivers, roles and
  calendars), XORs them per agreement, and compares the digest,
  with the evaluation date's latest period end and the engine's code, to the one stored at the
  last evaluation. Nothing is computed, locked or written for an agreement found unchanged. It is
  not a shortcut of the floor's computation: an agreement whose digest changed is evaluated in
  full, and the tests (`tests/compliance/test_skip_unchanged.py`) prove each kind of input change
  is seen.
"""

FINDINGS = """
### What the profiles found, and what was done

Measured while profiling (pyinstrument, cProfile), per chunk of 500 agreements (12,000 tests),
CPU seconds of the process and of its PostgreSQL backend. Before these changes the
re-evaluation measured 5.7 times the floor (39 s at N = 10,000) and the first evaluation 19.7.

- **Selectors** (`covenants/selectors.py`): `evaluation_inputs` built a model instance for every
  covenant, version of terms and schedule row through three levels of prefetch, and read the
  figures with the models' default ordering, which made PostgreSQL join agreements and parties
  to sort 60,000 lines by agreement name and legal name, through a server-side cursor planned
  for the first rows. Now the covenants, terms and schedules are read as rows straight into the
  engine's dataclasses (still three queries), and the figures unordered in one fetch: 0.55 s to
  0.21 s.
- **Engine** (`covenants/engine.py`): each figure's citation in a result's inputs was formatted
  anew for every test citing it (dates to ISO, amounts to text); it is now made once per
  agreement and copied per result, and the calendar helpers are cached: 0.39 s to 0.30 s.
  Results unchanged (compared field by field, and as JSON text).
- **Comparing with the current results** (`covenants/services.py`): the service loaded every
  current result as a model instance, decoding its inputs (1.7 KB of JSON each) through the
  JSONField (0.64 s), and built a model instance for every computed result to compare them
  (0.12 s). Reading the compared values as rows and decoding only the inputs still cost 0.21 s
  to read and 0.17 s to compare. Now every result is stored with a **fingerprint**, a 128-bit
  BLAKE2b digest of what it says (terms, status, amounts, explanation and inputs, encoded with
  orjson), and a re-evaluation reads only each current result's key, status and fingerprint
  (0.03 s) and fingerprints what it computed (0.065 s). A result stored without one (before
  fingerprints) is compared field by field, and kept with its fingerprint filled in when it says
  the same. Model instances are built only for results that changed.
- **Garbage collector** (services): a chunk keeps some 100,000 containers alive (results and
  their inputs); the full collections their allocation triggered, each walking every object of
  the process, took 30% of the CPU of an evaluation. The service pauses the cyclic collector
  while it evaluates a chunk (reference counting still frees everything; the chunk makes no
  cycles).
- **Writing results** (`compliance/writing.py`; the first evaluation): `bulk_create` sent each
  column as an array that psycopg quoted element by element in Python (3.3 s of CPU for 12,000
  results); then one `jsonb_to_recordset` statement per 2,000 (1.4 s). Now the results and their
  events go in with `COPY`, their ids taken from the tables' sequences first.
- **What remains** of a re-evaluation where nothing changed, per chunk: reading the figures and
  terms 0.21 s, the engine 0.30 s, fingerprints 0.065 s, reading the current results 0.03 s,
  against about 0.3 s for the floor. The engine's share is the portal's purpose, which the floor
  does not do: an explanation in words and the inputs behind every result (which statement,
  which version, which amount). Peak memory fell with the instances no longer built (320 MiB
  to under 170 MiB).
- **The first evaluation** writes 240,000 results with their explanation and inputs (about
  400 MB of JSON), 240,000 events and the alerts that are news (each covenant's latest test:
  history is recorded, not alerted). Profiled per 1,000 agreements (CPU of the process and of its
  backend, with the machine shared by other work), three things were cut:
  - **no model instance per result or event**: the rows are plain tuples built once from the
    engine's results and sent by `COPY` as they are; the events handed to whoever raises alerts
    are plain records (`compliance.writing.RecordedEvent`, the row's fields by name with the
    results before and after), so neither Django's `__init__` nor its `pre_init`/`post_init`
    signals run 48,000 times a chunk of 1,000; alerts cite their event and result by id, and the
    agreement page they link to is reversed once per agreement, not per alert (the process: 8.5 s
    to 6.6 s per 1,000 agreements);
  - **each result's inputs encoded once**: the fingerprint and the stored JSON share one
    `orjson` encoding (`Result.encoded`; the fingerprint's bytes are unchanged);
  - **LZ4 for the stored inputs** (migration `compliance.0004`): PostgreSQL compressed each
    result's inputs with pglz while copying them in; with LZ4 the `COPY` of results costs the
    server 2.2 s instead of 2.8 s per 1,000 agreements.
  What remains, per 1,000 agreements: the engine and its inputs (about 3.5 s, the re-evaluation's
  work), the server parsing and indexing 24,000 results' JSON (2.2 s) and checking their foreign
  keys at commit (1.5 s), 24,000 events (0.4 s). The server's share is the price of storing
  what the portal shows; the floor stores nothing.
"""

PATH_LABELS = {"portal": "portal (services.agreements_evaluate)"}


def reset_results() -> None:
    """No results at all: results, their events and everything raised from them (alerts), and
    the digests of the inputs evaluated (or every agreement would be skipped as unchanged)."""
    from django.db import connection

    from compliance.models import CovenantTestResult, EvaluatedInputs

    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{CovenantTestResult._meta.db_table}", "{EvaluatedInputs._meta.db_table}" CASCADE')
        cursor.execute("ANALYZE")


def portal_results(ids: list[int]) -> dict[tuple, tuple]:
    """(covenant, test date) -> (status, value) of the current combined results."""
    from compliance.models import CovenantTestResult

    rows = CovenantTestResult.objects.filter(agreement_id__in=ids, is_current=True, borrower__isnull=True).values_list(
        "covenant_id", "test_date", "status", "value"
    )
    return {(c, d): (s, v) for c, d, s, v in rows.iterator(chunk_size=20_000)}


def compare(portal: dict[tuple, tuple], floor: dict[tuple, tuple]) -> Check:
    """Identical: the same tests, and for each the same status and value."""
    differing = [key for key in portal.keys() | floor.keys() if portal.get(key) != floor.get(key)]
    if not differing:
        return Check("", True, f"{len(portal):,} tests, status and value equal for every one")
    shown = "; ".join(
        f"covenant {c} on {d}: portal {portal.get((c, d))}, floor {floor.get((c, d))}" for c, d in sorted(differing)[:5]
    )
    return Check("", False, f"{len(differing):,} of {len(portal | floor):,} tests differ, e.g. {shown}")


def _child_sample(run: ChildRun) -> Sample:
    return Sample(run.wall, run.cpu)


def run(ctx: Context) -> Section:
    from collections import Counter

    from benchmarks.floor import floor_results
    from benchmarks.floor_previous import floor_results as previous_floor_results
    from benchmarks.generate import AS_OF, vacuum_analyze

    section = Section(1, f"Portfolio re-evaluation, N = {AGREEMENTS:,}", summary=SUMMARY)
    ids = ctx.portfolio(AGREEMENTS)
    paths = [p for p in ctx.paths if path_available(p)]
    floor_rows: list = []

    previous_rows: list = []

    def floor() -> None:
        floor_rows[:] = floor_results(ids, as_of=AS_OF)

    def previous_floor() -> None:
        previous_rows[:] = previous_floor_results(ids, as_of=AS_OF)

    # --- First evaluation, from no results: once per path (each writes everything). -------
    first: dict[str, Figure] = {}
    first_peaks: dict[str, list[ChildRun]] = {}
    snapshots: dict[str, dict] = {}
    for path in paths:
        first[path] = Figure(f"first evaluation: {PATH_LABELS[path]}")
        for _ in range(ctx.first_runs):
            reset_results()
            ctx.log(f"first evaluation, {path}")
            done = run_child(path, AGREEMENTS)
            first[path].samples.append(_child_sample(done))
            first_peaks.setdefault(path, []).append(done)
            ctx.log(f"  {done.wall:.1f} s, {done.changed:,} results written, {done.events:,} events")
        vacuum_analyze()
        snapshots[path] = portal_results(ids)

    # --- The first evaluation's two halves, each alone: computing, and storing. -----------
    halves = first_evaluation_halves(ctx, paths) if paths else {}

    # --- Re-evaluation where nothing changed, interleaved with the floor. -----------------
    ctx.log("re-evaluation where nothing changed, side by side with the floor")
    floor_figure, re_runs = reevaluation_runs(ctx, ids, paths, floor=floor, previous_floor=previous_floor)
    floor_figure.label = "floor: the figures summed by PostgreSQL, four small queries, decisions in Python"
    previous_figure = ctx.shared["previous_floor"]
    previous_figure.label = "previous floor: one SQL statement computing every status and value"
    section.figures += [floor_figure, previous_figure]
    for path in paths:
        # The child's own measure (evaluation only), not the process start the stopwatch saw.
        runs = re_runs[(path, AGREEMENTS)]
        figure = Figure(f"re-evaluation, nothing changed: {PATH_LABELS[path]}")
        figure.samples = [_child_sample(r) for r in runs]
        section.figures += [figure, first[path]]
        section.ratios.append(Ratio(f"re-evaluation / floor, {path}", figure, floor_figure, TARGET))
        section.ratios.append(
            Ratio(f"re-evaluation / previous floor, {path}", figure, previous_figure, note="the ratio published before")
        )
        section.ratios.append(
            Ratio(
                f"first evaluation / floor, {path}",
                first[path],
                floor_figure,
                FIRST_TARGET,
                note="writes every result, its event and alerts; the floor writes nothing",
            )
        )
        for half, note in zip(halves.get(path, []), HALF_NOTES, strict=False):
            if half not in section.figures:
                section.figures.append(half)
            section.ratios.append(Ratio(f"{half.label.split(':')[0]} / floor, {path}", half, floor_figure, note=note))
        peaks = first_peaks.get(path, [])
        if peaks:
            # VmHWM of the fresh process (benchmarks/child.py says why not ru_maxrss).
            peak = statistics.median(r.peak_rss_kib for r in peaks) / 1024
            above = statistics.median(r.peak_rss_kib - r.baseline_rss_kib for r in peaks) / 1024
            section.values.append(
                Value(
                    f"peak resident memory of the first evaluation, {path} (median)",
                    f"{peak:,.0f} MiB, of which {above:,.0f} MiB above the process after Django started",
                )
            )
        section.values.append(
            Value(
                f"results written by the re-evaluations, {path}",
                f"{sum(r.changed for r in runs):,} (of {sum(r.results for r in runs):,} computed)",
            )
        )
        written = {table: counts for r in runs for table, counts in r.rows_changed.items()}
        section.checks.append(
            Check(
                f"a re-evaluation where nothing changed writes nothing ({path})",
                all(r.changed == 0 and r.events == 0 for r in runs) and not written,
                f"{len(runs)} runs, no row inserted, updated or deleted in any table (pg_stat_user_tables)"
                if not written
                else f"rows written (inserted, updated, deleted): {written}",
            )
        )
        skipped = [r.skipped for r in runs]
        section.values.append(
            Value(
                f"agreements skipped as unchanged by the re-evaluations, {path}", f"{min(skipped):,} of {AGREEMENTS:,}"
            )
        )

    floor_map = {(c, d): (s, v) for c, d, s, v in floor_rows}
    statuses = Counter(s for s, _ in floor_map.values())
    section.values.append(
        Value(
            "tests in the portfolio",
            f"{len(floor_map):,}: " + ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items())),
        )
    )
    for path, snapshot in snapshots.items():
        check = compare(snapshot, floor_map)
        check.label = f"results identical to the floor's ({path})"
        section.checks.append(check)
        check = compare(snapshot, {(c, d): (s, v) for c, d, s, v in previous_rows})
        check.label = f"results identical to the previous floor's ({path})"
        section.checks.append(check)

    # --- The same re-evaluation over two Celery workers. ----------------------------------
    # The workers run the tree's code: compared with the tree's path in-process, when measured.
    in_process = (
        section.figure(f"re-evaluation, nothing changed: {PATH_LABELS['portal']}") if "portal" in paths else None
    )
    over_workers(ctx, ids, section, in_process=in_process)
    section.notes += [FLOORS, FINDINGS]
    return section


HALF_NOTES = (
    "reads, computes every result with its explanation and inputs, compares; stores nothing",
    "stores the first evaluation's rows, computes nothing: the least any first evaluation costs the database",
)


def first_evaluation_halves(ctx: Context, paths: list[str]) -> dict[str, list[Figure]]:
    """What a first evaluation costs in its two halves, each measured alone, on the results it
    has just written: **computing** (every agreement read, evaluated and compared with the
    current results, skipping none; the same results, so none is stored and no alert raised)
    and **storing** (benchmarks/storing_floor.py: the same rows, already made, copied into
    tables of the same shape and committed). Neither is a target: they say how much of the first
    evaluation's ratio is storing rows the floor never stores, and how much is computing them."""
    from benchmarks.storing_floor import rows_copied_out, store_once

    halves: dict[str, list[Figure]] = {}
    for path in paths:
        computing = Figure(f"computing alone: {PATH_LABELS[path]}, every agreement evaluated, nothing stored")
        for _ in range(ctx.first_runs):
            ctx.log(f"computing alone (no agreement skipped, the same results), {path}")
            done = run_child(path, AGREEMENTS, every=True)
            computing.samples.append(_child_sample(done))
            ctx.log(f"  {done.wall:.1f} s, {done.results:,} results computed, {done.changed:,} written")
        halves[path] = [computing]
    storing = Figure(
        "storing floor: the first evaluation's results and events, already made, copied in (binary COPY) and committed"
    )
    with rows_copied_out() as files:
        for _ in range(ctx.first_runs):
            ctx.log("storing floor")
            storing.samples.append(store_once(files))
            ctx.log(f"  {storing.samples[-1].value:.1f} s")
    for path in paths:
        halves[path].append(storing)
    return halves


def reevaluation_runs(
    ctx: Context, ids: list[int], paths: list[str], *, floor=None, previous_floor=None
) -> tuple[Figure | None, dict[tuple[str, int], list[ChildRun]]]:
    """The re-evaluation runs of workloads 1 and 2, taken once, interleaved: per run, the
    floor, then for each path the whole portfolio and its first 1,000 agreements, each in a
    fresh process. Workload 2 reports the scaling from the same runs."""
    from benchmarks.workloads.scaling import SIZES

    sizes = sorted({*SIZES, len(ids)}, reverse=True)
    runs: dict[tuple[str, int], list[ChildRun]] = {(p, n): [] for p in paths for n in sizes}
    measures = {} if floor is None else {"floor": floor}
    if previous_floor is not None:
        measures["previous floor"] = previous_floor
    for path in paths:
        for n in sizes:
            measures[f"{path}, {n:,} agreements"] = lambda path=path, n=n: runs[(path, n)].append(run_child(path, n))
    timed = ctx.side_by_side(measures)
    ctx.shared["reevaluation_runs"] = runs
    ctx.shared["previous_floor"] = timed.get("previous floor")
    return timed.get("floor"), runs


def over_workers(ctx: Context, ids: list[int], section: Section, in_process: Figure | None) -> None:
    """Mark every agreement for evaluation, queue the nightly's chunks to two workers, and wait
    (polling the database) until every mark is cleared. The task events say when each task
    started and how long it ran."""
    from django.utils import timezone

    from benchmarks.database import QUEUE
    from benchmarks.generate import AS_OF, NAME_PREFIX
    from benchmarks.workers import Workers
    from compliance.tasks import CHUNK_SIZE, evaluate_agreements
    from covenants.models import Agreement

    chunks = [ids[start : start + CHUNK_SIZE] for start in range(0, len(ids), CHUNK_SIZE)]
    pending = Agreement.objects.filter(name__startswith=NAME_PREFIX, evaluation_requested_at__isnull=False)
    figure = Figure(
        f"re-evaluation, nothing changed, over 2 Celery workers ({len(chunks)} evaluate_agreements tasks "
        f"of {CHUNK_SIZE}, running the tree's services.agreements_evaluate)"
    )
    latency, share, summed, slowest = [], [], [], []
    ctx.log("re-evaluation over two Celery workers")
    with Workers(count=2, concurrency=1) as workers:
        for number in range(ctx.worker_runs):
            workers.tasks.clear()
            Agreement.objects.filter(pk__in=ids).update(evaluation_requested_at=timezone.now())
            enqueued_at = time.time()
            began = time.perf_counter()
            for chunk in chunks:
                evaluate_agreements.apply_async(args=[chunk, AS_OF.isoformat()], queue=QUEUE)
            deadline = began + 900
            while pending.exists():
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"The workers did not finish within 900 s:\n{workers.log_tail()}")
                time.sleep(0.1)
            wall = time.perf_counter() - began
            # The last task's events arrive just after its commit.
            settle = time.perf_counter() + 10
            while sum(1 for t in workers.tasks.values() if t.runtime is not None) < len(chunks):
                if time.perf_counter() > settle:
                    break
                time.sleep(0.1)
            timings = [t for t in workers.tasks.values() if t.runtime is not None]
            figure.samples.append(Sample(wall, None))
            if timings:
                first_start = min(t.started or t.succeeded for t in timings)
                latency.append(max(0.0, first_start - enqueued_at))
                summed.append(sum(t.runtime for t in timings))
                slowest.append(max(t.runtime for t in timings))
                share.append(max(0.0, 1 - summed[-1] / (len(workers.names) * wall)))
            ctx.log(f"  run {number + 1}: {wall:.1f} s, {len(timings)} task events")
    section.figures.append(figure)
    if in_process is not None:
        section.ratios.append(
            Ratio("2 Celery workers / in-process, portal", figure, in_process, note="below 1 is a speed-up")
        )
    if latency:
        section.values += [
            Value("from enqueuing to the first task starting (median)", statistics.median(latency), "s"),
            Value("task run times summed (median over runs)", statistics.median(summed), "s"),
            Value("longest task (median over runs)", statistics.median(slowest), "s"),
            Value(
                "queue's share of the time: 1 - summed task time / (2 workers x wall time)",
                f"{statistics.median(share):.1%}",
            ),
        ]
        mean_task = statistics.median(summed) / len(chunks)
        note = (
            f"Over the workers, the queue itself costs little: {statistics.median(latency):.2f} s from enqueuing "
            f"to the first task starting, and the two workers busy {1 - statistics.median(share):.0%} of the "
            f"wall time. A task took {mean_task:.1f} s on average"
        )
        if in_process is not None:
            note += (
                f", against {in_process.median / len(chunks):.1f} s for a chunk in-process, and the whole "
                f"re-evaluation {figure.median / in_process.median:.0%} of its in-process time: two workers and "
                "their two database backends share this machine's two cores (with whatever else runs on it)"
            )
        section.notes.append(note + ".")
    else:
        section.notes.append("The workers sent no task events: the queue's share could not be measured.")


WORKLOAD = Workload(number=1, title="Portfolio re-evaluation, N = 10,000", run=run, run_order=10)
