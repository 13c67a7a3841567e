"""
Alert tasks: thin wrappers over services, each idempotent, so it may be redelivered after a
worker dies. The evaluation tasks are in compliance.tasks.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from alerts.deadlines import alerts_raise_overdue_amendments
from alerts.delivery import delivery_attempt
from alerts.fanout import DELIVER_ALERT_TASK, deliveries_overdue, queue_deliveries
from compliance.tasks import DATABASE_RETRY

logger = logging.getLogger(__name__)

# --- Alerts -------------------------------------------------------------------------
# Every alert and delivery is stored before a task is queued, so these tasks may run twice,
# late, or not at all: a second run finds the work done, and the sweep queues what was missed.


@shared_task(name=DELIVER_ALERT_TASK, **DATABASE_RETRY)
def deliver_alert(delivery_id: int) -> str:
    """Send one alert delivery (an e-mail or a webhook POST) unless it was sent already."""
    return delivery_attempt(delivery_id=delivery_id)


# The daily late-financials task is execution.tasks.raise_late_financials: it raises the late
# compliance certificates in the same run, and certificates are an app above this one.


@shared_task(name="covenants.tasks.raise_overdue_amendments", **DATABASE_RETRY)
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
