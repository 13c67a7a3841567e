"""
The harness: workloads run several times, side by side with their floors, reported as
medians with min and max, ratios and whether each target is met.

Machines here are shared: a figure measured alone means little, a ratio measured in the
same run, with the runs of its two sides interleaved, keeps its meaning. Each sample
records the wall-clock time and, where it can be read, the CPU time spent by this process
and by its PostgreSQL backend (``/proc``, when the database runs on this machine): CPU time
barely moves when other work competes for the processors, so its ratio is the cross-check
of the wall-clock one. Targets are judged on wall-clock medians.

A workload is a module in ``benchmarks/workloads/`` defining ``WORKLOAD = Workload(...)``;
its ``run`` function gets a :class:`Context` and returns a :class:`Section` of the report.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- Measuring ------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process on this machine, or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def database_backend_pid() -> int | None:
    """The process id of this connection's PostgreSQL backend."""
    from django.db import connection

    connection.ensure_connection()
    info = getattr(connection.connection, "info", None)
    return getattr(info, "backend_pid", None)


def table_row_changes() -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated and deleted so far in each table of this database
    (pg_stat_user_tables), with this connection's own changes flushed to the statistics first."""
    from django.db import connection

    with connection.cursor() as cursor:
        # The flush happens when this statement ends (autocommit): the next one sees it, once
        # the cached snapshot of the statistics is cleared.
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables")
        return {name: (inserted, updated, deleted) for name, inserted, updated, deleted in cursor.fetchall()}


def rows_changed_between(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> dict:
    """The tables whose rows changed: {table: (inserted, updated, deleted)}."""
    changed = {}
    for table, counts in after.items():
        delta = tuple(now - then for now, then in zip(counts, before.get(table, (0, 0, 0)), strict=True))
        if any(delta):
            changed[table] = delta
    return changed


@dataclass
class Sample:
    """One run: its value (wall-clock seconds, or the figure's unit) and CPU seconds (this
    process + its database backend) where they could be read."""

    value: float
    cpu: float | None = None


@contextmanager
def stopwatch() -> Iterator[list[Sample]]:
    """Measure the block: ``with stopwatch() as taken: ...`` then ``taken[0]``."""
    backend = database_backend_pid()
    taken: list[Sample] = []
    server_before = process_cpu_seconds(backend) if backend else None
    client_before = time.process_time()
    began = time.perf_counter()
    try:
        yield taken
    finally:
        wall = time.perf_counter() - began
        client = time.process_time() - client_before
        server_after = process_cpu_seconds(backend) if backend else None
        cpu = None
        if server_before is not None and server_after is not None:
            cpu = client + server_after - server_before
        taken.append(Sample(wall, cpu))


@dataclass
class Figure:
    """A quantity measured over several runs (seconds unless ``unit`` says otherwise)."""

    label: str
    samples: list[Sample] = field(default_factory=list)
    unit: str = "s"
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.value for s in self.samples)

    @property
    def minimum(self) -> float:
        return min(s.value for s in self.samples)

    @property
    def maximum(self) -> float:
        return max(s.value for s in self.samples)

    @property
    def cpu_median(self) -> float | None:
        cpus = [s.cpu for s in self.samples if s.cpu is not None]
        return statistics.median(cpus) if len(cpus) == len(self.samples) and cpus else None


@dataclass
class Target:
    """What a ratio must be: at most ``high``, at least ``low``, or both."""

    low: float | None = None
    high: float | None = None

    def met(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        if self.high is not None:
            return f"at most {self.high:g}"
        return f"at least {self.low:g}"


@dataclass
class Ratio:
    """Median of one figure over the median of another, with its target."""

    label: str
    numerator: Figure
    denominator: Figure
    target: Target | None = None
    note: str = ""

    @property
    def value(self) -> float:
        return self.numerator.median / self.denominator.median

    @property
    def cpu_value(self) -> float | None:
        top, bottom = self.numerator.cpu_median, self.denominator.cpu_median
        return top / bottom if top is not None and bottom else None

    @property
    def met(self) -> bool | None:
        return self.target.met(self.value) if self.target else None


@dataclass
class Value:
    """A single measured value that is not a duration (memory, a share, a count)."""

    label: str
    value: float | str
    unit: str = ""
    note: str = ""


@dataclass
class Check:
    """A yes/no finding, such as "results identical"."""

    label: str
    passed: bool
    detail: str = ""


@dataclass
class Section:
    """A workload's part of the report."""

    number: int
    title: str
    summary: str = ""
    figures: list[Figure] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def figure(self, label: str) -> Figure:
        return next(f for f in self.figures if f.label == label)


@dataclass
class Workload:
    """One workload of the issue: ``run(context)`` measures it and returns its section."""

    number: int
    title: str
    run: Callable[[Context], Section]
    run_order: int = 100  # workloads run in this order (the report lists them by number)


# --- The context a workload runs in ---------------------------------------------------


class Context:
    """What a workload may use: the run count, a log, the portfolio, side-by-side timing."""

    def __init__(
        self, runs: int, *, first_runs: int = 1, worker_runs: int = 1, log: Callable[[str], None] = print
    ) -> None:
        self.runs = runs  # runs of each side-by-side measure
        self.first_runs = first_runs  # runs of measures that rebuild everything (a first evaluation)
        self.worker_runs = worker_runs  # runs over real Celery workers
        self.log = log
        self.paths: list[str] = ["portal"]  # evaluation paths measured (benchmarks/child.py)
        self.load_at_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
        # Measures one workload makes and another reports too (the 10,000-agreement re-evaluation).
        self.shared: dict[str, object] = {}
        # (step, seconds) of the run's setup: the database, the portfolio (run.py adds the workloads).
        self.phases: list[tuple[str, float]] = []

    def portfolio(self, agreements: int) -> list[int]:
        """Make the benchmark's portfolio hold ``agreements`` agreements; their ids, in order.

        The portfolio only grows: run the workloads that need fewer agreements first. Into an
        empty database it is copied from the template a previous run kept (the same generator,
        the same schema), else generated and then kept as that template."""
        from benchmarks import database
        from benchmarks.generate import portfolio_grow, portfolio_size
        from covenants.models import Agreement

        held = portfolio_size()
        if held > agreements:
            raise RuntimeError(
                f"The portfolio already holds {held:,} agreements, more than the {agreements:,} asked for: "
                "run the workloads with smaller portfolios first (run_order) or regenerate it."
            )
        # Only a database holding no agreement at all is replaced (nothing else is lost).
        empty = held == 0 and not Agreement.objects.exists()
        if empty:
            began = time.perf_counter()
            if database.restore_portfolio(agreements):
                self.record(f"portfolio of {agreements:,} agreements copied from its template", began)
                return portfolio_ids()
        if held < agreements:
            with self.phase(f"portfolio grown from {held:,} to {agreements:,} agreements (COPY, VACUUM ANALYZE)"):
                self.log(f"growing the portfolio from {held:,} to {agreements:,} agreements")
                report = portfolio_grow(agreements, log=self.log)
                self.log(f"  {report.summary()}")
            if empty:
                with self.phase("portfolio kept as a template for the next run"):
                    self.log(f"  kept as {database.save_portfolio(agreements)}")
        return portfolio_ids()

    @contextmanager
    def phase(self, label: str) -> Iterator[None]:
        """Time a step of the run that is not a workload's measure (setup), for the report."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.record(label, began)

    def record(self, label: str, began: float) -> None:
        """A step of the run that began at ``began`` (time.perf_counter()) and ends now."""
        seconds = time.perf_counter() - began
        self.phases.append((label, seconds))
        self.log(f"{label}: {seconds:.1f} s")

    def side_by_side(
        self,
        measures: dict[str, Callable[[], object]],
        *,
        runs: int | None = None,
        before: dict[str, Callable[[], object]] | None = None,
    ) -> dict[str, Figure]:
        """Run each measure ``runs`` times, interleaved (a, b, c, a, b, c...), so that every
        side meets the same conditions. ``before[label]`` runs untimed before each run."""
        figures = {label: Figure(label) for label in measures}
        for number in range(runs or self.runs):
            for label, measure in measures.items():
                if before and label in before:
                    before[label]()
                with stopwatch() as taken:
                    measure()
                figures[label].samples.append(taken[0])
                self.log(f"  run {number + 1}: {label}: {_seconds(taken[0].value)}")
        return figures


def portfolio_ids() -> list[int]:
    """The synthetic agreements' ids, in order."""
    from benchmarks.generate import NAME_PREFIX
    from covenants.models import Agreement

    return list(Agreement.objects.filter(name__startswith=NAME_PREFIX).order_by("pk").values_list("pk", flat=True))


def _seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


# --- The report -------------------------------------------------------------------------


def _number(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return _seconds(value)
    if isinstance(value, float):
        return f"{value:,.2f}{(' ' + unit) if unit else ''}"
    return f"{value}{(' ' + unit) if unit else ''}"


def render_section(section: Section) -> str:
    """A section as Markdown: figures, values, ratios with their targets, checks, notes."""
    lines = [f"## {section.number}. {section.title}", ""]
    if section.summary:
        lines += [section.summary.strip(), ""]
    if section.figures:
        lines += [
            "| measured | runs | median | min | max | CPU median (process + database) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for f in section.figures:
            label = f"{f.label}" + (f" ({f.note})" if f.note else "")
            lines.append(
                f"| {label} | {len(f.samples)} | {_number(f.median, f.unit)} | {_number(f.minimum, f.unit)} "
                f"| {_number(f.maximum, f.unit)} | {_number(f.cpu_median, f.unit)} |"
            )
        lines.append("")
    if section.values:
        lines += ["| measured | value |", "| --- | ---: |"]
        for v in section.values:
            label = f"{v.label}" + (f" ({v.note})" if v.note else "")
            shown = v.value if isinstance(v.value, str) else _number(v.value, v.unit)
            lines.append(f"| {label} | {shown} |")
        lines.append("")
    if section.ratios:
        lines += [
            "| ratio | wall-clock (medians) | CPU (medians) | target | met |",
            "| --- | ---: | ---: | --- | --- |",
        ]
        for r in section.ratios:
            met = "n/a" if r.met is None else ("**yes**" if r.met else "**no**")
            cpu = f"{r.cpu_value:.2f}" if r.cpu_value is not None else "n/a"
            label = f"{r.label}" + (f" ({r.note})" if r.note else "")
            lines.append(f"| {label} | {r.value:.2f} | {cpu} | {r.target or 'reported'} | {met} |")
        lines.append("")
    if section.checks:
        lines += ["| check | result |", "| --- | --- |"]
        for c in section.checks:
            detail = f": {c.detail}" if c.detail else ""
            lines.append(f"| {c.label} | {'**yes**' if c.passed else '**no**'}{detail} |")
        lines.append("")
    for note in section.notes:
        lines += [note.strip(), ""]
    lines += [f"_This workload took {section.seconds:.0f} s in all._", ""]
    return "\n".join(lines)
