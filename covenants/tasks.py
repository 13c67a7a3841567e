"""
Celery tasks: thin wrappers over services. Every task is idempotent (an evaluation
recomputes from the database), so it may be redelivered after a worker dies.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import services
from .alerts import (
    DELIVER_ALERT_TASK,
    alerts_raise_late_financials,
    alerts_raise_overdue_amendments,
    deliveries_overdue,
    queue_deliveries,
)
from .models import Agreement
from .notifications import delivery_attempt
from .services import EVALUATE_AGREEMENT_TASK

logger = logging.getLogger(__name__)

# A database restarting under a task is retried with backoff, not lost.
_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
}
CHUNK_SIZE = 500


@shared_task(name=EVALUATE_AGREEMENT_TASK, **_RETRY)
def evaluate_agreement(agreement_id: int) -> dict:
    """Re-evaluate every covenant of one agreement, unless that was done since it was queued."""
    summary = services.agreement_evaluate_if_requested(agreement_id=agreement_id)
    if summary is None:
        return {"agreement": agreement_id, "skipped": "already evaluated"}
    return {
        "agreement": agreement_id,
        "results": summary.results,
        "changed": summary.changed,
        "events": len(summary.events),
    }


@shared_task(name="covenants.tasks.evaluate_agreements", **_RETRY)
def evaluate_agreements(agreement_ids: list[int], as_of: str | None = None) -> dict:
    """Re-evaluate a chunk of agreements in one batch."""
    day = dt.date.fromisoformat(as_of) if as_of else None
    summary = services.agreements_evaluate(agreement_ids=agreement_ids, as_of=day)
    return {"agreements": summary.agreements, "results": summary.results, "changed": summary.changed}


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
    services.queue_evaluations(ids)
    return len(ids)


# --- Alerts -------------------------------------------------------------------------
# Every alert and delivery is stored before a task is queued, so these tasks may run twice,
# late, or not at all: a second run finds the work done, and the sweep queues what was missed.


@shared_task(name=DELIVER_ALERT_TASK, **_RETRY)
def deliver_alert(delivery_id: int) -> str:
    """Send one alert delivery (an e-mail or a webhook POST) unless it was sent already."""
    return delivery_attempt(delivery_id=delivery_id)


@shared_task(name="covenants.tasks.raise_late_financials", **_RETRY)
def raise_late_financials(as_of: str | None = None) -> int:
    """Daily: alert on each Borrower's statement missing after its quarter's reporting deadline."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return len(alerts_raise_late_financials(as_of=day))


@shared_task(name="covenants.tasks.raise_overdue_amendments", **_RETRY)
def raise_overdue_amendments(as_of: str | None = None) -> int:
    """Daily: alert on amendments still pending after a known conditions-precedent deadline."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return len(alerts_raise_overdue_amendments(as_of=day))


@shared_task(name="covenants.tasks.sweep_undelivered_alerts")
def sweep_undelivered_alerts() -> int:
    """Every minute: re-queue deliveries still pending a minute after they fell due."""
    ids = deliveries_overdue()
    queue_deliveries(ids)
    return len(ids)
