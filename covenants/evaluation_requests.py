"""
Requests for evaluation: whatever changes figures or terms marks the agreement and queues its
evaluation once the transaction commits. The mark lives on the agreement (here); the task
that clears it lives in ``compliance.tasks`` and is queued by name, so this module, used by
statements and terms alike, imports nothing of the evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import partial

from celery import current_app
from django.db import transaction
from django.utils import timezone

from covenants.models import Agreement

logger = logging.getLogger(__name__)

EVALUATE_AGREEMENT_TASK = "covenants.tasks.evaluate_agreement"


def agreement_evaluation_request(*, agreement_ids: Iterable[int]) -> None:
    """Mark agreements as needing evaluation and queue it once the transaction commits.

    The mark is stored first, so if the broker is down a periodic sweep queues it later.
    The mark also makes repeated requests cheap: a task whose agreement has been evaluated
    since it was queued finds the mark cleared and does nothing."""
    ids = sorted(set(agreement_ids))
    if not ids:
        return
    Agreement.objects.filter(pk__in=ids, evaluation_requested_at__isnull=True).update(
        evaluation_requested_at=timezone.now()
    )
    transaction.on_commit(partial(queue_evaluations, ids), robust=True)


def queue_evaluations(agreement_ids: Sequence[int]) -> None:
    """Send evaluation tasks; a broker that is down is logged, not raised (the sweep retries).
    The task is found by its name: the tasks module calls this one, never the reverse."""
    evaluate_agreement = current_app.tasks[EVALUATE_AGREEMENT_TASK]
    for agreement_id in agreement_ids:
        try:
            evaluate_agreement.delay(agreement_id)
        except Exception:
            logger.warning("could not queue the evaluation of agreement %s; the sweep will retry", agreement_id)
