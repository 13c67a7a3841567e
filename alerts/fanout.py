"""
Storing raised alerts with their deliveries, and queueing those.

An alert is stored with its deliveries in the transaction that raises it, under a key that
makes a second raise of the same event a no-op. Deliveries other than the inbox are queued
as one task each once that transaction commits; if the broker is down, they stay pending
and the periodic sweep queues them later. Nothing depends on a task reaching the broker the
first time. Who receives an alert is decided in ``alerts.recipients``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.utils import timezone

from alerts.choices import AlertChannel, DeliveryStatus
from alerts.models import Alert, AlertDelivery
from alerts.recipients import (
    DEFAULT_CHANNELS,
    Recipient,
    recipients_by_agreement,
    subscriptions_by_agreement,
    user_preferences,
)

logger = logging.getLogger(__name__)

DELIVER_ALERT_TASK = "covenants.tasks.deliver_alert"


def alerts_store(candidates: Sequence[Alert]) -> list[Alert]:
    """Store the alerts whose key is new, with their deliveries, and queue those on commit.

    One set-based insert per batch that skips a key already stored (``ON CONFLICT DO
    NOTHING``) and returns the rows it wrote: a second raise of the same event, or a
    concurrent one (whose insert waits for the first transaction, then finds the key), writes
    no alert and no delivery, and never fails the transaction."""
    unique: dict[str, Alert] = {}
    for alert in candidates:
        unique.setdefault(alert.key, alert)
    if not unique:
        return []
    stored = dict(_insert_new(Alert, list(unique.values()), ("key", "id")))
    created = []
    for key, alert in unique.items():
        if key in stored:
            alert.pk = stored[key]
            alert._state.adding = False
            alert._state.db = "default"
            created.append(alert)
    _deliveries_create(created)
    logger.info("alerts raised", extra={"alerts": len(created)})
    return created


def _insert_new(model: type[Model], instances: list[Model], returning: Sequence[str]) -> list[tuple]:
    """Insert the instances in batches, skipping any that conflict with a row already stored
    (``INSERT ... ON CONFLICT DO NOTHING RETURNING``), and return the named columns of the rows
    written. Django's ``bulk_create(ignore_conflicts=True)`` returns nothing of what it wrote;
    its insert query (``QuerySet._insert``, what ``bulk_create`` runs) does, given the columns."""
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and f is not opts.pk]
    returning_fields = [opts.get_field(name) for name in returning]
    batch = max(1, connection.ops.bulk_batch_size(fields, instances))
    rows: list[tuple] = []
    for start in range(0, len(instances), batch):
        written = model._base_manager._insert(
            instances[start : start + batch],
            fields=fields,
            returning_fields=returning_fields,
            on_conflict=OnConflict.IGNORE,
        )
        rows += [row for row in written if row]  # a lone row that conflicted comes back empty
    return rows


def _deliveries_create(alerts: Sequence[Alert]) -> None:
    """One delivery per recipient and channel they chose, and per webhook subscription; the
    inbox entry is delivered at once, the others are queued once the transaction commits.
    Each goes to its kind's audience alone (``alerts.recipients``), never made and then withdrawn.
    The alerts are new in this transaction, so their deliveries are too: inserted in bulk,
    each (alert, user, channel) and (alert, subscription) once, their pending ids returned."""
    if not alerts:
        return
    now = timezone.now()
    agreement_ids = {a.agreement_id for a in alerts}
    recipients = recipients_by_agreement(agreement_ids, on=timezone.localdate())
    preferences = user_preferences(user_id for users in recipients.values() for user_id in users)
    subscriptions = subscriptions_by_agreement(agreement_ids)

    rows: list[AlertDelivery] = []
    for alert in alerts:
        for recipient in recipients.get(alert.agreement_id, {}).values():
            if recipient.told_of(alert.kind):
                channels = preferences.get((recipient.user_id, alert.kind), DEFAULT_CHANNELS)
                rows += _user_deliveries(alert, recipient, channels, now)
        for subscription_id, subscribed in subscriptions.get(alert.agreement_id, {}).items():
            if subscribed.told_of(alert.kind):
                rows.append(
                    AlertDelivery(
                        alert=alert,
                        channel=AlertChannel.WEBHOOK,
                        subscription_id=subscription_id,
                        address=subscribed.url,
                        due_at=now,
                    )
                )
    if not rows:
        return
    pending = sorted(
        pk for pk, status in _insert_new(AlertDelivery, rows, ("id", "status")) if status == DeliveryStatus.PENDING
    )
    if pending:
        transaction.on_commit(partial(queue_deliveries, pending), robust=True)


def _user_deliveries(
    alert: Alert, recipient: Recipient, channels: Sequence[str], now: dt.datetime
) -> list[AlertDelivery]:
    """A user's deliveries of the alert: the inbox entry, sent at once, and an e-mail to queue."""
    rows = []
    if AlertChannel.IN_APP in channels:
        rows.append(
            AlertDelivery(
                alert=alert,
                channel=AlertChannel.IN_APP,
                user_id=recipient.user_id,
                status=DeliveryStatus.SENT,
                due_at=now,
                sent_at=now,
            )
        )
    if AlertChannel.EMAIL in channels and recipient.email:
        rows.append(
            AlertDelivery(
                alert=alert,
                channel=AlertChannel.EMAIL,
                user_id=recipient.user_id,
                address=recipient.email,
                due_at=now,
            )
        )
    return rows


def queue_deliveries(delivery_ids: Sequence[int], *, countdown: float | None = None) -> int:
    """Send one task per delivery. A broker that is down is logged, not raised: the deliveries
    stay pending and the sweep queues them. Returns how many were queued. The task is found by
    its name: the tasks module calls this one, never the reverse."""
    deliver_alert = current_app.tasks[DELIVER_ALERT_TASK]
    queued = 0
    for delivery_id in delivery_ids:
        try:
            # No publish retries: a broker that is down fails fast, and the sweep retries.
            deliver_alert.apply_async((delivery_id,), countdown=countdown, retry=False)
        except Exception:
            logger.warning("could not queue %s alert deliveries; the sweep will queue them", len(delivery_ids) - queued)
            break
        queued += 1
    return queued


def deliveries_overdue(*, older_than: dt.timedelta | None = None, limit: int = 1000) -> list[int]:
    """Deliveries still pending a while after they fell due (a task lost, or the broker down),
    except those held for a paused subscription or stopped by a waiver: the sweep's work list."""
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.ALERT_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    return list(
        AlertDelivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lte=cutoff, alert__stopped_at__isnull=True)
        .exclude(channel=AlertChannel.IN_APP)
        .exclude(subscription__paused_at__isnull=False)
        .exclude(subscription__active=False)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
