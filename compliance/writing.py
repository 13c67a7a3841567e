"""
Writing an evaluation's outcome: the results that changed become current (the ones they
replace are kept, superseded), and each status change is recorded as a ComplianceEvent.

Called by ``compliance.services`` inside the evaluation's transaction. On PostgreSQL the
rows go in with ``COPY`` (psycopg's ``cursor.copy``), their ids taken from the table's
sequence first, so the saved instances the events and alerts cite need no read back; on
other databases with ``bulk_create``. ``COPY`` is the cheapest path measured for a first
evaluation's 240,000 results and their inputs (docs/benchmarks.md): the ``INSERT`` it
replaced built one JSON document per 2,000 results and had the server take it apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import Model

from compliance.models import ComplianceEvent, CovenantTestResult

from .engine import Result

_BATCH = 2000

# The columns written, in the order the rows give them (the id first, taken beforehand).
_RESULT_COLUMNS = (
    "id",
    "agreement_id",
    "covenant_id",
    "terms_id",
    "test_date",
    "borrower_id",
    "status",
    "value",
    "threshold",
    "headroom",
    "headroom_percent",
    "provisional",
    "near_breach",
    "explanation",
    "inputs",
    "is_current",
    "evaluated_at",
    "superseded_at",
    "fingerprint",
)
_EVENT_COLUMNS = (
    "id",
    "agreement_id",
    "covenant_id",
    "test_date",
    "borrower_id",
    "previous_result_id",
    "result_id",
    "from_status",
    "to_status",
    "created_at",
)


@dataclass(frozen=True)
class Outcome:
    """A computed result to store as current, and the current result it replaces (if any)."""

    agreement_id: int
    result: Result
    fingerprint: str
    previous: CovenantTestResult | None


def results_supersede(result_ids: Sequence[int], *, now: dt.datetime) -> None:
    """The replaced results stop being current; they are kept, so every result once shown can be explained."""
    if result_ids:
        CovenantTestResult.objects.filter(pk__in=result_ids).update(is_current=False, superseded_at=now)


def outcomes_write(outcomes: Sequence[Outcome], *, now: dt.datetime) -> tuple[list[CovenantTestResult], list]:
    """Store the outcomes' results as current and an event for each that changed the test's
    status or its near breach (moving into the warning band, or out of it, is an event though
    the status stays compliant). Returns the saved results and events, in the outcomes' order;
    each event holds its results (before and after) in memory for whoever raises alerts."""
    if not outcomes:
        return [], []
    results = [_result_instance(o, now) for o in outcomes]
    events = [
        ComplianceEvent(
            agreement_id=row.agreement_id,
            covenant_id=row.covenant_id,
            test_date=row.test_date,
            borrower_id=row.borrower_id,
            previous_result=o.previous,
            result=row,
            from_status=o.previous.status if o.previous else "",
            to_status=row.status,
            created_at=now,
        )
        for row, o in zip(results, outcomes, strict=True)
        if o.previous is None or o.previous.status != row.status or o.previous.near_breach != row.near_breach
    ]
    if connection.vendor != "postgresql":
        CovenantTestResult.objects.bulk_create(results, batch_size=_BATCH)
        ComplianceEvent.objects.bulk_create(events, batch_size=_BATCH)
        return results, events
    _ids_reserve([results, events], [CovenantTestResult, ComplianceEvent])
    for event in events:
        # Assigned again now that the result has its id: sets result_id and keeps the instance
        # (setting result_id alone would drop it, and the alerts would read every result back).
        event.result = event.result
    _copy(CovenantTestResult, _RESULT_COLUMNS, results, _result_row)
    _copy(ComplianceEvent, _EVENT_COLUMNS, events, _event_row)
    return results, events


def _result_instance(outcome: Outcome, now: dt.datetime) -> CovenantTestResult:
    r = outcome.result
    return CovenantTestResult(
        agreement_id=outcome.agreement_id,
        covenant_id=r.covenant_id,
        terms_id=r.terms_id,
        test_date=r.test_date,
        borrower_id=r.party_id,
        status=r.status,
        value=r.value,
        threshold=r.threshold,
        headroom=r.headroom,
        headroom_percent=r.headroom_percent,
        provisional=r.provisional,
        near_breach=r.near_breach,
        explanation=r.explanation,
        inputs=r.inputs,
        is_current=True,
        evaluated_at=now,
        fingerprint=outcome.fingerprint,
    )


def _result_row(r: CovenantTestResult) -> tuple:
    return (
        r.pk,
        r.agreement_id,
        r.covenant_id,
        r.terms_id,
        r.test_date,
        r.borrower_id,
        r.status,
        r.value,
        r.threshold,
        r.headroom,
        r.headroom_percent,
        r.provisional,
        r.near_breach,
        r.explanation,
        # jsonb reads the text; orjson writes it as the JSONField would store it, faster.
        orjson.dumps(r.inputs, default=str).decode(),
        r.is_current,
        r.evaluated_at,
        r.superseded_at,
        r.fingerprint,
    )


def _event_row(e: ComplianceEvent) -> tuple:
    return (
        e.pk,
        e.agreement_id,
        e.covenant_id,
        e.test_date,
        e.borrower_id,
        e.previous_result_id,
        e.result_id,
        e.from_status,
        e.to_status,
        e.created_at,
    )


def _ids_reserve(groups: Sequence[list], models: Sequence[type[Model]]) -> None:
    """Give each group's instances ids from their table's own sequence, as an INSERT would
    take them, in one query for all the groups: no row is read back after ``COPY``."""
    parts, params = [], []
    for number, (instances, model) in enumerate(zip(groups, models, strict=True)):
        parts.append("SELECT %s, nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)")
        params += [number, model._meta.db_table, len(instances)]
    ids: list[list[int]] = [[] for _ in groups]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for number, pk in cursor.fetchall():
            ids[number].append(pk)
    for instances, taken in zip(groups, ids, strict=True):
        for instance, pk in zip(instances, taken, strict=True):
            instance.pk = pk


def _copy(model: type[Model], columns: Sequence[str], instances: list, row: Callable[[Any], tuple]) -> None:
    """``COPY`` the instances (ids given) into the model's table and mark them saved."""
    if not instances:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for instance in instances:
            copy.write_row(row(instance))
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
