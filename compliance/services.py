"""
Evaluation: the covenants of agreements tested and what changed recorded. Each service is
keyword-only and runs in one transaction; evaluation tasks are queued only once the
transaction requesting them has committed.

Evaluation records events; it raises no alerts. It sends ``compliance.signals.events_recorded``
with the events it stored, inside its transaction, and whoever raises alerts listens.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from compliance.models import ComplianceEvent, CovenantTestResult
from covenants.models import Agreement

from . import engine, input_digests, selectors, standings, writing
from .signals import events_recorded

logger = logging.getLogger(__name__)


@dataclass
class EvaluationSummary:
    """Counts of what an evaluation wrote."""

    agreements: int = 0
    skipped: int = 0  # agreements whose inputs had not changed since their last evaluation
    results: int = 0
    changed: int = 0
    events: list[writing.RecordedEvent] = field(default_factory=list)


def agreement_evaluate(
    *, agreement_id: int, as_of: dt.date | None = None, skip_unchanged: bool = True
) -> EvaluationSummary:
    """Evaluate every covenant of one agreement and record what changed."""
    return agreements_evaluate(agreement_ids=[agreement_id], as_of=as_of, skip_unchanged=skip_unchanged)


def agreement_evaluate_if_requested(*, agreement_id: int) -> EvaluationSummary | None:
    """Evaluate the agreement if an evaluation is still outstanding (the task's entry point)."""
    if not Agreement.objects.filter(pk=agreement_id, evaluation_requested_at__isnull=False).exists():
        return None
    return agreement_evaluate(agreement_id=agreement_id)


# What a stored result without a fingerprint is compared on: its fields, and the engine
# result's attributes of the same names.
_RESULT_FIELDS = (
    "terms_id",
    "status",
    "value",
    "threshold",
    "headroom",
    "headroom_percent",
    "provisional",
    "near_breach",
    "explanation",
    "inputs",
)
# The current results' columns an evaluation reads: identity, what events and alerts need of a
# result replaced, and the fingerprint standing for all the rest.
_CURRENT_COLUMNS = ("id", "covenant_id", "test_date", "borrower_id", "status", "near_breach", "fingerprint")
_PK, _COVENANT, _TEST_DATE, _BORROWER, _STATUS, _NEAR_BREACH, _FINGERPRINT = range(len(_CURRENT_COLUMNS))
_INSERT_BATCH = 2000


def agreements_evaluate(
    *, agreement_ids: Sequence[int], as_of: dt.date | None = None, skip_unchanged: bool = True
) -> EvaluationSummary:
    """Evaluate a batch of agreements in a fixed number of queries and write results in bulk.

    A result that differs from the current one becomes the new current result; the old one
    is kept, and a status change is recorded as a ComplianceEvent with both results.

    An agreement whose inputs have not changed since its last evaluation (the digest of
    everything the engine reads for it, the evaluation date's latest period end and the
    engine's code: compliance.input_digests) is skipped, neither locked nor written: the same
    inputs give the results already stored. ``skip_unchanged=False`` evaluates every one."""
    day = as_of or timezone.localdate()
    with _garbage_collection_paused(), transaction.atomic():
        chosen = input_digests.agreements_to_evaluate(agreement_ids, as_of=day, skip_unchanged=skip_unchanged)
        summary = _agreements_evaluate(agreement_ids=chosen.ids, as_of=day) if chosen.ids else EvaluationSummary()
        input_digests.inputs_digests_store(chosen.digests, as_of=day, now=timezone.now())
        # The dashboard's stored counts, with the results (and whatever their events changed). A
        # skipped agreement's standing stays: the same inputs, so the same counts as of its day.
        standings.standings_write(agreement_ids=chosen.ids, as_of=day)
        # Requests answered are cleared, and only where set: a run that changed nothing writes nothing.
        if chosen.requested:
            Agreement.objects.filter(pk__in=chosen.requested).update(evaluation_requested_at=None)
        summary.agreements, summary.skipped = chosen.agreements, chosen.skipped
        return summary


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block; reference counting still frees everything.

    A batch of 500 agreements keeps some 100,000 containers alive (results and their inputs)
    and makes no reference cycles: the full collections their allocation triggers, each walking
    every object of the process, took 30% of an evaluation's time (docs/benchmarks.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _agreements_evaluate(*, agreement_ids: Sequence[int], as_of: dt.date) -> EvaluationSummary:
    # The agreements come locked (input_digests.agreements_to_evaluate): an evaluation never
    # interleaves with a submission for them, so it always reads the latest committed figures
    # and its writes are never lost.
    ids = list(agreement_ids)
    inputs = selectors.evaluation_inputs(ids, as_of=as_of)
    computed = [
        (agreement_id, result) for agreement_id in ids for result in engine.evaluate_agreement(inputs[agreement_id])
    ]
    # The current results as rows, not model instances: a result whose fingerprint is unchanged
    # is the same result, and is neither read further nor written.
    current = {
        (row[_COVENANT], row[_TEST_DATE], row[_BORROWER]): row
        for row in CovenantTestResult.objects.filter(agreement_id__in=ids, is_current=True)
        .order_by()
        .values_list(*_CURRENT_COLUMNS)
    }
    changed: list[_Changed] = []
    seen: set[tuple] = set()
    for agreement_id, result in computed:
        key = (result.covenant_id, result.test_date, result.party_id)
        seen.add(key)
        fingerprint, inputs_json = result.encoded()
        previous = current.get(key)
        if previous is None or previous[_FINGERPRINT] != fingerprint:
            changed.append(_Changed(agreement_id, result, fingerprint, inputs_json, previous))
    changed = _without_unfingerprinted_equals(changed)

    now = timezone.now()
    replaced = [c.previous[_PK] for c in changed if c.previous is not None]
    # Results for tests that no longer exist (a test date dropped by new terms) stop being current.
    replaced += [row[_PK] for key, row in current.items() if key not in seen]
    writing.results_supersede(replaced, now=now)
    created, events = writing.outcomes_write(
        [
            writing.Outcome(
                c.agreement_id,
                c.result,
                c.fingerprint,
                c.inputs_json,
                writing.PreviousResult(c.previous[_PK], c.previous[_STATUS], c.previous[_NEAR_BREACH])
                if c.previous is not None
                else None,
            )
            for c in changed
        ],
        now=now,
    )
    # Alerts are stored with the events that raise them: the receivers run in this transaction.
    events_recorded.send(sender=ComplianceEvent, events=events, as_of=as_of)
    return EvaluationSummary(agreements=len(ids), results=len(computed), changed=created, events=events)


@dataclass(frozen=True)
class _Changed:
    """A computed result that differs from the current one (or has none)."""

    agreement_id: int
    result: engine.Result
    fingerprint: str
    inputs_json: str
    previous: tuple | None  # the current result's row (_CURRENT_COLUMNS)


def _without_unfingerprinted_equals(changed: list[_Changed]) -> list[_Changed]:
    """Compare field by field the current results stored without a fingerprint (before there
    were fingerprints): one that says the same is kept, with its fingerprint filled in, not
    replaced. One query to read them and one to fill them in, only when there are some."""
    unfingerprinted = [c.previous[_PK] for c in changed if c.previous is not None and not c.previous[_FINGERPRINT]]
    if not unfingerprinted:
        return changed
    stored = CovenantTestResult.objects.in_bulk(unfingerprinted)
    kept: list[_Changed] = []
    filled: list[CovenantTestResult] = []
    for entry in changed:
        old = stored.get(entry.previous[_PK]) if entry.previous is not None else None
        if old is not None and all(getattr(old, f) == getattr(entry.result, f) for f in _RESULT_FIELDS):
            old.fingerprint = entry.fingerprint
            filled.append(old)
        else:
            kept.append(entry)
    if filled:
        CovenantTestResult.objects.bulk_update(filled, ["fingerprint"], batch_size=_INSERT_BATCH)
    return kept


def agreements_needing_evaluation(*, older_than: dt.timedelta) -> list[int]:
    """Agreements whose evaluation was requested and has not run (the sweep's work list)."""
    cutoff = timezone.now() - older_than
    return list(
        Agreement.objects.filter(evaluation_requested_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)
    )
