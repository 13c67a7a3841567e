"""
PROPOSED CHANGE to ``covenants.services.agreements_evaluate``, kept here as a local copy so
the benchmark can measure it beside the function in the tree. Not used by the portal.

What it changes, and why (profiles in docs/benchmarks.md):

1. The current results are read as the values compared (``values_list``), not as model
   instances, with their ``inputs`` as text: building an instance per stored result, and
   decoding its inputs (about 1.8 KB of JSON each) through the JSONField, was the largest
   single cost of a re-evaluation where nothing changed. Still one query. The inputs are
   decoded (``json.loads``) and compared only for a result whose other fields are all
   unchanged. (Comparing their text instead, with inputs built in jsonb's key order, was
   tried: encoding the fresh inputs costs as much as decoding the stored ones.)
2. A model instance is built only for a result that changed, not for every result computed.
3. New results are inserted on PostgreSQL with one statement per batch that reads them from
   one JSON document (``jsonb_to_recordset``). ``bulk_create`` sends them as arrays, and
   psycopg escapes every quote of every array element in Python (a regular-expression
   template per match, slow on Python 3.11): 4x slower on this data.
4. The replaced results are read back as instances only when there are some (one more query
   when anything changed, none when nothing did), since their events and alerts cite them:
   reading every current result's timestamps to build them without a query cost more.
5. Python's cyclic garbage collector is paused while a batch is evaluated. A batch of 500
   agreements keeps some 100,000 containers alive (results, their inputs) and makes no
   reference cycles; the full collections that their allocation triggered, each walking every
   object of the process, took 30% of the CPU time of the evaluation. It is enabled again
   when the batch is done, even on error; a nested call leaves it as it found it.

Everything else is the function as it stands in covenants/services.py: the same lock, the
same results, events and alerts, the same summary. Other databases (SQLite in development)
keep the plain path: Python comparison and ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from covenants import engine, selectors
from covenants.models import Agreement, ComplianceEvent, CovenantTestResult
from covenants.services import EvaluationSummary

# The tree's helpers, as the function in the tree uses them (present when alerts are).
try:
    from covenants.alerts import alerts_raise_for_events
except ImportError:  # pragma: no cover

    def alerts_raise_for_events(events):  # type: ignore[no-redef]
        return []


try:
    from covenants.services import _near_breach
except ImportError:  # pragma: no cover

    def _near_breach(result, bands) -> bool:  # type: ignore[no-redef]
        return False


_INSERT_BATCH = 2000


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block (reference counting still frees everything)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def agreements_evaluate(*, agreement_ids: Sequence[int], as_of: dt.date | None = None) -> EvaluationSummary:
    """Evaluate a batch of agreements in a fixed number of queries and write results in bulk.

    A result that differs from the current one becomes the new current result; the old one
    is kept, and a status change is recorded as a ComplianceEvent with both results."""
    with _garbage_collection_paused(), transaction.atomic():
        return _agreements_evaluate(agreement_ids=agreement_ids, as_of=as_of)


def _agreements_evaluate(*, agreement_ids: Sequence[int], as_of: dt.date | None) -> EvaluationSummary:
    as_of = as_of or timezone.localdate()
    # Lock the agreements: an evaluation never interleaves with a submission for them, so
    # it always reads the latest committed figures and its writes are never lost.
    ids = list(
        Agreement.objects.select_for_update().filter(pk__in=agreement_ids).order_by("pk").values_list("pk", flat=True)
    )
    inputs = selectors.evaluation_inputs(ids, as_of=as_of)
    computed: list[tuple[int, engine.Result]] = [
        (agreement_id, result) for agreement_id in ids for result in engine.evaluate_agreement(inputs[agreement_id])
    ]

    bands = {spec.covenant_id: spec.warning_band_percent for data in inputs.values() for spec in data.covenants}
    # The current results as rows, keyed by test: no model instances, and the inputs read as
    # text, decoded only for a result whose other fields are all unchanged.
    current: dict[tuple, tuple] = {
        (row[1], row[2], row[3]): row
        for row in CovenantTestResult.objects.filter(agreement_id__in=ids, is_current=True)
        .order_by()
        .annotate(inputs_text=Cast("inputs", TextField()))
        .values_list(*_CURRENT_FIELDS)
    }
    changed: list[tuple[int, engine.Result, tuple | None]] = []  # agreement, result, current row
    seen: set[tuple] = set()
    for agreement_id, result in computed:
        key = (result.covenant_id, result.test_date, result.party_id)
        seen.add(key)
        previous = current.get(key)
        if (
            previous is not None
            and previous[_COMPARED]
            == (
                result.terms_id,
                result.status,
                result.value,
                result.threshold,
                result.headroom,
                result.headroom_percent,
                result.provisional,
                result.explanation,
            )
            and json.loads(previous[_INPUTS]) == result.inputs
        ):
            continue
        changed.append((agreement_id, result, previous))

    now = timezone.now()
    # The results replaced, as the instances their events cite (one query, only if there are some).
    replaced = [row[0] for _, _, row in changed if row is not None]
    previous_rows = CovenantTestResult.objects.in_bulk(replaced) if replaced else {}
    # Results for tests that no longer exist (a test date dropped by new terms) stop being current.
    replaced += [row[0] for key, row in current.items() if key not in seen]
    if replaced:
        CovenantTestResult.objects.filter(pk__in=replaced).update(is_current=False, superseded_at=now)
    created = _insert_results([(agreement_id, result) for agreement_id, result, _ in changed], now)
    events = []
    for row, (_, _, previous_row) in zip(created, changed, strict=True):
        previous = previous_rows[previous_row[0]] if previous_row is not None else None
        if (
            previous is None
            or previous.status != row.status
            or _near_breach(previous, bands) != _near_breach(row, bands)
        ):
            events.append(
                ComplianceEvent(
                    agreement_id=row.agreement_id,
                    covenant_id=row.covenant_id,
                    test_date=row.test_date,
                    borrower_id=row.borrower_id,
                    previous_result=previous,
                    result=row,
                    from_status=previous.status if previous else "",
                    to_status=row.status,
                )
            )
    events = ComplianceEvent.objects.bulk_create(events, batch_size=2000)
    # Alerts are stored with the events that raise them, in this transaction.
    alerts_raise_for_events(events)
    Agreement.objects.filter(pk__in=ids).update(evaluation_requested_at=None)
    return EvaluationSummary(agreements=len(ids), results=len(computed), changed=len(created), events=events)


# The current results' columns read: identity, the fields compared (in the order compared),
# and the inputs as text.
_CURRENT_FIELDS = (
    "pk",
    "covenant_id",
    "test_date",
    "borrower_id",
    "terms_id",
    "status",
    "value",
    "threshold",
    "headroom",
    "headroom_percent",
    "provisional",
    "explanation",
    "inputs_text",
)
_COMPARED = slice(4, 12)
_INPUTS = 12


_INSERT_SQL = """
INSERT INTO {table} (agreement_id, covenant_id, terms_id, test_date, borrower_id, status, value, threshold,
                     headroom, headroom_percent, provisional, explanation, inputs, is_current, evaluated_at)
SELECT agreement_id, covenant_id, terms_id, test_date, borrower_id, status, value, threshold,
       headroom, headroom_percent, provisional, explanation, inputs, TRUE, %s
FROM jsonb_to_recordset(%s::jsonb) AS r(agreement_id bigint, covenant_id bigint, terms_id bigint, test_date date,
     borrower_id bigint, status text, value numeric, threshold numeric, headroom numeric, headroom_percent numeric,
     provisional boolean, explanation text, inputs jsonb)
RETURNING id, covenant_id, test_date, borrower_id
"""


def _decimal(value):
    return None if value is None else str(value)


def _insert_results(rows: list[tuple[int, engine.Result]], now: dt.datetime) -> list[CovenantTestResult]:
    """Insert these results as current, in order, and return them as saved instances."""
    instances = [
        CovenantTestResult(
            agreement_id=agreement_id,
            covenant_id=result.covenant_id,
            terms_id=result.terms_id,
            test_date=result.test_date,
            borrower_id=result.party_id,
            status=result.status,
            value=result.value,
            threshold=result.threshold,
            headroom=result.headroom,
            headroom_percent=result.headroom_percent,
            provisional=result.provisional,
            explanation=result.explanation,
            inputs=result.inputs,
            evaluated_at=now,
        )
        for agreement_id, result in rows
    ]
    if connection.vendor != "postgresql":
        return CovenantTestResult.objects.bulk_create(instances, batch_size=_INSERT_BATCH)
    sql = _INSERT_SQL.format(table=CovenantTestResult._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(instances), _INSERT_BATCH):
            batch = instances[start : start + _INSERT_BATCH]
            document = json.dumps(
                [
                    {
                        "agreement_id": r.agreement_id,
                        "covenant_id": r.covenant_id,
                        "terms_id": r.terms_id,
                        "test_date": r.test_date.isoformat(),
                        "borrower_id": r.borrower_id,
                        "status": r.status,
                        # Decimals as text: numeric reads them exactly, as it reads the driver's.
                        "value": _decimal(r.value),
                        "threshold": _decimal(r.threshold),
                        "headroom": _decimal(r.headroom),
                        "headroom_percent": _decimal(r.headroom_percent),
                        "provisional": r.provisional,
                        "explanation": r.explanation,
                        "inputs": r.inputs,
                    }
                    for r in batch
                ]
            )
            cursor.execute(sql, [now, document])
            ids = {(c, d, b): pk for pk, c, d, b in cursor.fetchall()}
            for row in batch:
                row.pk = ids[(row.covenant_id, row.test_date, row.borrower_id)]
                row._state.adding = False
                row._state.db = connection.alias
    return instances
