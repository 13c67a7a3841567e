"""
Requests for evaluation: whatever changes figures or terms marks the agreement and queues its
evaluation once the transaction commits. The mark lives on the agreement (here); the task
that clears it lives in ``compliance.tasks`` and is queued by name, so this module, used by
statements and terms alike, imports nothing of the evaluation.

One transaction often asks many times for the same agreement (every term, step and figure
saved signals it): each agreement is queued once per transaction, on commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from covenants.models import Agreement

logger = logging.getLogger(__name__)

EVALUATE_AGREEMENT_TASK = "covenants.tasks.evaluate_agreement"

#: The attribute of the database connection holding the current transaction's batch of requests.
BATCH_ATTRIBUTE = "portal_evaluation_batch"


def agreement_evaluation_request(*, agreement_ids: Iterable[int]) -> None:
    """Mark agreements as needing evaluation and queue it once the transaction commits.

    The mark is stored first, so if the broker is down a periodic sweep queues it later.
    Within one transaction each agreement is queued once, however often it is asked for.
    The mark also makes repeated requests cheap: a task whose agreement has been evaluated
    since it was queued finds the mark cleared and does nothing."""
    ids = sorted(set(agreement_ids))
    if not ids:
        return
    Agreement.objects.filter(pk__in=ids, evaluation_requested_at__isnull=True).update(
        evaluation_requested_at=timezone.now()
    )
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        # Autocommit: the mark is committed already, and the hook runs now.
        transaction.on_commit(partial(queue_evaluations, ids), robust=True)
        return
    transaction.on_commit(QueueOnCommit(EvaluationBatch.of(connection), ids), robust=True)


class EvaluationBatch:
    """The requests of one transaction: each agreement is queued by the first of its hooks
    that names it, and skipped by the others.

    Each request keeps its own hook (so a savepoint rolled back takes its requests with it,
    and a hook captured by a test runs what was asked in the test). A batch is joined while
    none of its hooks has run and one still waits in the connection's list: after a commit
    (whose hooks Django moves out of the list before running them), a rollback (which
    empties it) or a hook run by hand, the next request starts a new batch."""

    def __init__(self) -> None:
        self.queued: set[int] = set()
        self.started = False

    @classmethod
    def of(cls, connection: Any) -> EvaluationBatch:
        batch = getattr(connection, BATCH_ATTRIBUTE, None)
        joinable = batch is not None and not batch.started and batch.waiting(connection)
        if not joinable:
            batch = cls()
            setattr(connection, BATCH_ATTRIBUTE, batch)
        return batch

    def waiting(self, connection: Any) -> bool:
        return any(isinstance(hook, QueueOnCommit) and hook.batch is self for _, hook, _ in connection.run_on_commit)


class QueueOnCommit:
    """One request's on-commit hook: queues its agreements that its batch has not queued yet."""

    def __init__(self, batch: EvaluationBatch, agreement_ids: Sequence[int]) -> None:
        self.batch = batch
        self.agreement_ids = agreement_ids
        # Django names a failing hook by its __qualname__ in the log.
        self.__qualname__ = type(self).__qualname__

    def __call__(self) -> None:
        self.batch.started = True
        ids = [agreement_id for agreement_id in self.agreement_ids if agreement_id not in self.batch.queued]
        self.batch.queued.update(ids)
        if ids:
            queue_evaluations(ids)


def queue_evaluations(agreement_ids: Sequence[int]) -> None:
    """Send evaluation tasks; a broker that is down is logged, not raised (the sweep retries).
    The task is found by its name: the tasks module calls this one, never the reverse."""
    evaluate_agreement = current_app.tasks[EVALUATE_AGREEMENT_TASK]
    for agreement_id in agreement_ids:
        try:
            evaluate_agreement.delay(agreement_id)
        except Exception:
            logger.warning("could not queue the evaluation of agreement %s; the sweep will retry", agreement_id)
