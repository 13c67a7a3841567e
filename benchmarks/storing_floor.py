"""
The storing floor: the least work to store what a first evaluation stores, with nothing computed.

The first evaluation's ratio compares a path that computes and stores 240,000 results (each with
its explanation and inputs) and their events with a floor that computes the statuses and values
and stores nothing. This measures the other half on its own: the same rows, already made,
sent to the same tables' shape (columns, compression, indexes, unique and foreign-key
constraints) with binary ``COPY`` and committed, which is when PostgreSQL checks the deferred
foreign keys. Nothing is read, computed, encoded or compared, and no alert is raised: whatever
stores these rows does at least this.

The rows are the ones the portal's first evaluation has just written, copied out once (not
timed) to a file of this process. Each run stores them into scratch tables made like the real
ones (``LIKE ... INCLUDING ALL``, and the real tables' foreign keys recreated, the events'
pointing at the scratch results), so the portal's own rows are never touched; the scratch
tables are dropped after each run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import Sample, stopwatch

_BLOCK = 1 << 20
# Scratch tables: named for the benchmark, dropped after each run (and before, after a crash).
_SCRATCH = {"results": "bench_storing_floor_results", "events": "bench_storing_floor_events"}


def _tables() -> dict[str, str]:
    from compliance.models import ComplianceEvent, CovenantTestResult

    return {"results": CovenantTestResult._meta.db_table, "events": ComplianceEvent._meta.db_table}


@contextmanager
def rows_copied_out() -> Iterator[dict[str, Path]]:
    """The results' and events' rows as they stand, in binary ``COPY`` files (removed after)."""
    from django.db import connection

    with tempfile.TemporaryDirectory(prefix="bench-storing-floor-") as folder:
        files: dict[str, Path] = {}
        with connection.cursor() as cursor:
            for kind, table in _tables().items():
                files[kind] = Path(folder) / f"{kind}.copy"
                sql = f'COPY (SELECT * FROM "{table}" ORDER BY id) TO STDOUT (FORMAT binary)'
                with open(files[kind], "wb") as out, cursor.copy(sql) as copy:
                    for block in copy:
                        out.write(block)
        yield files


def store_once(files: dict[str, Path]) -> Sample:
    """Store the rows into fresh scratch tables shaped like the real ones, committed; timed from
    the first row sent to the commit (foreign keys checked), CPU of this process and its backend."""
    _scratch_drop()
    _scratch_create()
    try:
        return _store(files)
    finally:
        _scratch_drop()


def _store(files: dict[str, Path]) -> Sample:
    """The timed part: the rows copied into the scratch tables and committed."""
    from django.db import connection, transaction

    # The stopwatch stops after the commit (the contexts close in reverse order).
    with stopwatch() as taken, transaction.atomic(), connection.cursor() as cursor:
        for kind in ("results", "events"):
            sql = f'COPY "{_SCRATCH[kind]}" FROM STDIN (FORMAT binary)'
            with open(files[kind], "rb") as source, cursor.copy(sql) as copy:
                while block := source.read(_BLOCK):
                    copy.write(block)
    return taken[0]


def _scratch_create() -> None:
    """Scratch tables like the real ones: the same columns in the same order, defaults, compression,
    indexes and checks (``INCLUDING ALL``), and the same foreign keys, which ``LIKE`` does not copy
    (deferred as Django makes them; the events' reference to a result points at the scratch results)."""
    from django.db import connection

    tables = _tables()
    with connection.cursor() as cursor:
        for kind, table in tables.items():
            cursor.execute(f'CREATE TABLE "{_SCRATCH[kind]}" (LIKE "{table}" INCLUDING ALL)')
        for kind, table in tables.items():
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            results, scratch_results = f"REFERENCES {tables['results']}(", f"REFERENCES {_SCRATCH['results']}("
            for (definition,) in cursor.fetchall():
                definition = definition.replace(results, scratch_results)
                cursor.execute(f'ALTER TABLE "{_SCRATCH[kind]}" ADD {definition}')


def _scratch_drop() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{_SCRATCH["events"]}", "{_SCRATCH["results"]}"')
