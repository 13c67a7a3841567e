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
from typing import NamedTuple

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
_EVENT_FIELDS = len(_EVENT_COLUMNS)
for _model, _columns in ((CovenantTestResult, _RESULT_COLUMNS), (ComplianceEvent, _EVENT_COLUMNS)):
    if tuple(f.attname for f in _model._meta.concrete_fields) != _columns:
        raise ImproperlyConfigured(
            f"compliance/writing.py writes {_model.__name__}'s fields in another order: update it."
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A computed result to store as current, and the current result it replaces (if any)."""

    agreement_id: int
    result: Result
    fingerprint: str
    inputs_json: str  # the result's inputs as JSON text (Result.encoded)
    previous: PreviousResult | None


class PreviousResult(NamedTuple):
    """What an event cites of the result it replaces: its id, status and near breach."""

    pk: int
    status: str
    near_breach: bool


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A result as the evaluation stored it, for whoever acts on its events: its id and what the
    engine computed, under the names of CovenantTestResult's fields (plain data: no model
    instance is made for the thousands of results an evaluation writes)."""

    pk: int
    agreement_id: int
    computed: Result
    fingerprint: str
    evaluated_at: dt.datetime

    covenant_id = property(lambda self: self.computed.covenant_id)
    terms_id = property(lambda self: self.computed.terms_id)
    test_date = property(lambda self: self.computed.test_date)
    borrower_id = property(lambda self: self.computed.party_id)
    status = property(lambda self: self.computed.status)
    value = property(lambda self: self.computed.value)
    threshold = property(lambda self: self.computed.threshold)
    headroom = property(lambda self: self.computed.headroom)
    headroom_percent = property(lambda self: self.computed.headroom_percent)
    provisional = property(lambda self: self.computed.provisional)
    near_breach = property(lambda self: self.computed.near_breach)
    explanation = property(lambda self: self.computed.explanation)
    inputs = property(lambda self: self.computed.inputs)
    is_current = True


class RecordedEvent(NamedTuple):
    """A status change as stored (a ComplianceEvent row, its fields by name), holding the
    results before and after: what ``compliance.signals.events_recorded`` hands its receivers."""

    pk: int
    agreement_id: int
    covenant_id: int
    test_date: dt.date
    borrower_id: int | None
    previous_result_id: int | None
    result_id: int
    from_status: str
    to_status: str
    created_at: dt.datetime
    result: StoredResult
    previous_result: PreviousResult | None


if RecordedEvent._fields[:_EVENT_FIELDS] != ("pk", *_EVENT_COLUMNS[1:]):
    raise ImproperlyConfigured("compliance/writing.py: RecordedEvent's fields must begin with the event's columns.")


def results_supersede(result_ids: Sequence[int], *, now: dt.datetime) -> None:
    """The replaced results stop being current; they are kept, so every result once shown can be explained."""
    if result_ids:
        CovenantTestResult.objects.filter(pk__in=result_ids).update(is_current=False, superseded_at=now)


def outcomes_write(outcomes: Sequence[Outcome], *, now: dt.datetime) -> tuple[int, list[RecordedEvent]]:
    """Store the outcomes' results as current and an event for each that changed the test's
    status or its near breach (moving into the warning band, or out of it, is an event though
    the status stays compliant). Returns how many results were stored and the events, in the
    outcomes' order, each holding its results (before and after) for whoever raises alerts.

    The rows are plain tuples built once from the engine's results, in the models' field
    order: ``COPY`` sends them as they are (PostgreSQL); elsewhere they become instances for
    ``bulk_create``. No model instance is made, and no per-row signal sent, on PostgreSQL."""
    if not outcomes:
        return 0, []
    changes = [
        o.previous is None or o.previous.status != o.result.status or o.previous.near_breach != o.result.near_breach
        for o in outcomes
    ]
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        result_ids, event_ids = _ids_reserve({CovenantTestResult: len(outcomes), ComplianceEvent: sum(changes)})
        rows = (_result_row(pk, o, now, o.inputs_json) for pk, o in zip(result_ids, outcomes, strict=True))
        _copy(CovenantTestResult, rows)
    else:
        instances = [CovenantTestResult(*_result_row(None, o, now, o.result.inputs)) for o in outcomes]
        CovenantTestResult.objects.bulk_create(instances, batch_size=_BATCH)
        result_ids = [r.pk for r in instances]
    events = [
        _event(pk, StoredResult(result_pk, o.agreement_id, o.result, o.fingerprint, now), o.previous, now)
        for pk, (result_pk, o) in zip(
            event_ids if postgresql else [None] * sum(changes),
            ((pk, o) for pk, o, change in zip(result_ids, outcomes, changes, strict=True) if change),
            strict=True,
        )
    ]
    if postgresql:
        if events:
            _copy(ComplianceEvent, (e[:_EVENT_FIELDS] for e in events))
    elif events:
        stored = [ComplianceEvent(*e[:_EVENT_FIELDS]) for e in events]
        ComplianceEvent.objects.bulk_create(stored, batch_size=_BATCH)
        events = [e._replace(pk=s.pk) for e, s in zip(events, stored, strict=True)]
    return len(outcomes), events


def _result_row(pk: int | None, outcome: Outcome, now: dt.datetime, inputs: object) -> tuple:
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
        inputs,
        True,
        now,
        None,
        outcome.fingerprint,
    )


def _event(pk: int | None, result: StoredResult, previous: PreviousResult | None, now: dt.datetime) -> RecordedEvent:
    """The event of a changed result, its columns first (``_EVENT_COLUMNS``), then its results."""
    return RecordedEvent(
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
        result,
        previous,
    )


def _ids_reserve(counts: dict[type[Model], int]) -> list[list[int]]:
    """Ids for that many rows of each model, from its table's own sequence as an INSERT would
    take them, in one query for all: no row is read back after ``COPY``."""
    parts, params = [], []
    for number, (model, count) in enumerate(counts.items()):
        # The sequence is looked up once (OFFSET 0 keeps the subquery from being folded into
        # the outer query, where pg_get_serial_sequence ran once per row: most of the
        # statement's cost, about 5 us a row against 0.5 us for nextval itself).
        parts.append(
            "SELECT %s, nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq OFFSET 0) s, "
            "generate_series(1, %s)"
        )
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
