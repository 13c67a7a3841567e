"""
Evaluation tasks: thin wrappers over compliance.services. Every task is idempotent (an
evaluation recomputes from the database), so it may be redelivered after a worker dies.
Their registered names are those the portal has always queued and scheduled them by
(``covenants.tasks.…``): queued messages and the beat schedule keep working.

An evaluation that finds its agreement already evaluated is routine (two transactions asked
for it, and the first task did it): it is logged at DEBUG, and Celery's line for it too.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from compliance import services
from covenants.evaluation_requests import EVALUATE_AGREEMENT_TASK, queue_evaluations
from covenants.models import Agreement

# A database restarting under a task is retried with backoff, not lost.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
}
CHUNK_SIZE = 500
ALREADY_EVALUATED = "already evaluated"

logger = logging.getLogger(__name__)


class AlreadyEvaluatedAtDebug(logging.Filter):
    """Lowers Celery's "Task ... succeeded" line to DEBUG for an evaluation that had nothing to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if (
            record.levelno == logging.INFO
            and isinstance(data, dict)
            and data.get("name") == EVALUATE_AGREEMENT_TASK
            and ALREADY_EVALUATED in str(data.get("return_value", ""))
        ):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_trace_logger = logging.getLogger("celery.app.trace")
if not any(isinstance(existing, AlreadyEvaluatedAtDebug) for existing in _trace_logger.filters):
    _trace_logger.addFilter(AlreadyEvaluatedAtDebug())


@shared_task(name=EVALUATE_AGREEMENT_TASK, **DATABASE_RETRY)
def evaluate_agreement(agreement_id: int) -> dict:
    """Re-evaluate every covenant of one agreement, unless that was done since it was queued."""
    summary = services.agreement_evaluate_if_requested(agreement_id=agreement_id)
    if summary is None:
        logger.debug("agreement %s was evaluated since it was queued; nothing to do", agreement_id)
        return {"agreement": agreement_id, "skipped": ALREADY_EVALUATED}
    return {
        "agreement": agreement_id,
        "results": summary.results,
        "changed": summary.changed,
        "events": len(summary.events),
    }


@shared_task(name="covenants.tasks.evaluate_agreements", **DATABASE_RETRY)
def evaluate_agreements(agreement_ids: list[int], as_of: str | None = None) -> dict:
    """Re-evaluate a chunk of agreements in one batch (those whose inputs have not changed are skipped)."""
    day = dt.date.fromisoformat(as_of) if as_of else None
    summary = services.agreements_evaluate(agreement_ids=agreement_ids, as_of=day)
    return {
        "agreements": summary.agreements,
        "skipped": summary.skipped,
        "results": summary.results,
        "changed": summary.changed,
    }


@shared_task(name="covenants.tasks.reevaluate_all_agreements")
def reevaluate_all_agreements() -> int:
    """Nightly: re-evaluate every agreement (thresholds fall due, figures go missing), in chunks."""
    ids = list(Agreement.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK_SIZE):
        evaluate_agreements.delay(ids[start : start + CHUNK_SIZE])
    return len(ids)


@shared_task(name="covenants.tasks.sweep_evaluation_requests")
def sweep_evaluation_requests() -> int:
    """Queue evaluations that were requested but have not run (e.g. the broker was down)."""
    waited = dt.timedelta(seconds=settings.EVALUATION_SWEEP_AFTER_SECONDS)
    ids = services.agreements_needing_evaluation(older_than=waited)
    queue_evaluations(ids)
    return len(ids)
