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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model

from compliance.models import ComplianceEvent, CovenantTestResult

from .engine import Result

_BATCH = 2000

# The rows are built in the models' field order, the id first (taken beforehand): the
# instances are made from them positionally, and COPY sends them as they are.
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
_INPUTS = _RESULT_COLUMNS.index("inputs")
for _model, _columns in ((CovenantTestResult, _RESULT_COLUMNS), (ComplianceEvent, _EVENT_COLUMNS)):
    if tuple(f.attname for f in _model._meta.concrete_fields) != _columns:
        raise ImproperlyConfigured(
            f"compliance/writing.py writes {_model.__name__}'s fields in another order: update it."
        )
_EVENT_RESULT = ComplianceEvent._meta.get_field("result")
_EVENT_PREVIOUS = ComplianceEvent._meta.get_field("previous_result")


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
    changes = [
        o.previous is None or o.previous.status != o.result.status or o.previous.near_breach != o.result.near_breach
        for o in outcomes
    ]
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        result_ids, event_ids = _ids_reserve({CovenantTestResult: len(outcomes), ComplianceEvent: sum(changes)})
    else:
        result_ids, event_ids = [None] * len(outcomes), [None] * sum(changes)
    # Each row is built once, in the model's field order: the instance is made from it
    # positionally (cheaper than by keywords, for 12,000 results a chunk) and COPY sends it.
    rows = [_result_row(pk, o, now) for pk, o in zip(result_ids, outcomes, strict=True)]
    results = [CovenantTestResult(*row) for row in rows]
    if postgresql:
        _copy(CovenantTestResult, ((*row[:_INPUTS], _json(row[_INPUTS]), *row[_INPUTS + 1 :]) for row in rows))
    else:
        CovenantTestResult.objects.bulk_create(results, batch_size=_BATCH)
    changed = [(r, o) for r, o, change in zip(results, outcomes, changes, strict=True) if change]
    events = [_event(pk, result, o.previous, now) for pk, (result, o) in zip(event_ids, changed, strict=True)]
    if postgresql:
        if events:
            _copy(ComplianceEvent, (_event_row(e) for e in events))
        for instance in (*results, *events):
            instance._state.adding = False
            instance._state.db = connection.alias
    else:
        ComplianceEvent.objects.bulk_create(events, batch_size=_BATCH)
    return results, events


def _result_row(pk: int | None, outcome: Outcome, now: dt.datetime) -> tuple:
    """The result's columns, in the model's field order (``_RESULT_COLUMNS``)."""
    r = outcome.result
    return (
        pk,
        outcome.agreement_id,
        r.covenant_id,
        r.terms_id,
        r.test_date,
        r.party_id,
        r.status,
        r.value,
        r.threshold,
        r.headroom,
        r.headroom_percent,
        r.provisional,
        r.near_breach,
        r.explanation,
        r.inputs,
        True,
        now,
        None,
        outcome.fingerprint,
    )


def _json(value: object) -> str:
    # jsonb reads the text; orjson writes what the JSONField would store, faster.
    return orjson.dumps(value, default=str).decode()


def _event(
    pk: int | None, result: CovenantTestResult, previous: CovenantTestResult | None, now: dt.datetime
) -> ComplianceEvent:
    """The event of a changed result, holding the results before and after (no query to read them)."""
    event = ComplianceEvent(
        pk,
        result.agreement_id,
        result.covenant_id,
        result.test_date,
        result.borrower_id,
        previous.pk if previous else None,
        result.pk,
        previous.status if previous else "",
        result.status,
        now,
    )
    _EVENT_RESULT.set_cached_value(event, result)
    _EVENT_PREVIOUS.set_cached_value(event, previous)
    return event


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


def _ids_reserve(counts: dict[type[Model], int]) -> list[list[int]]:
    """Ids for that many rows of each model, from its table's own sequence as an INSERT would
    take them, in one query for all: no row is read back after ``COPY``."""
    parts, params = [], []
    for number, (model, count) in enumerate(counts.items()):
        parts.append("SELECT %s, nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)")
        params += [number, model._meta.db_table, count]
    ids: list[list[int]] = [[] for _ in counts]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for number, pk in cursor.fetchall():
            ids[number].append(pk)
    return ids


def _copy(model: type[Model], rows: Iterable[tuple]) -> None:
    """``COPY`` the rows (every column, in the model's field order, ids given) into the model's table."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
