"""
Sending an alert delivery: e-mail through Django's e-mail backend, or a signed JSON POST to
a party's webhook.

``delivery_attempt`` is what the ``deliver_alert`` task runs. It claims the delivery row
with ``SELECT ... FOR UPDATE SKIP LOCKED`` and sends while holding it, so two workers never
send the same delivery: the second finds the row locked (and skips) or already sent (and
does nothing). A failure is recorded on the row, with each webhook attempt logged, and
retried with exponential backoff and jitter; after the last attempt the delivery is failed,
and a webhook subscription whose deliveries fail that way several times in a row is paused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertChannel, DeliveryStatus
from alerts.fanout import queue_deliveries
from alerts.models import Alert, AlertDelivery, WebhookAttempt, WebhookSubscription
from alerts.raising import delivery_figures
from alerts.recipients import subscription_receives
from alerts.webhooks import webhook_destination_refusal
from compliance.formatting import long_date

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"
DELIVERY_HEADER = "X-Portal-Delivery"
EVENT_HEADER = "X-Portal-Event"
ATTEMPT_HEADER = "X-Portal-Attempt"
ALERT_KEY_HEADER = "X-Portal-Alert-Key"
USER_AGENT = "lender-portal-webhooks/1"
# A task that arrives a little before its countdown ends still counts as due.
DUE_SLACK = dt.timedelta(seconds=5)


# --- Retries ----------------------------------------------------------------------------


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential from
    ``ALERT_RETRY_BASE_SECONDS``, capped at ``ALERT_RETRY_MAX_SECONDS`` (kept well below the
    broker's visibility timeout, or Redis would hand the waiting task out twice), with
    jitter: between half and all of it, so retries after an outage do not arrive together."""
    ceiling = min(settings.ALERT_RETRY_MAX_SECONDS, settings.ALERT_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


# --- Content ------------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _context(alert: Alert, delivery: AlertDelivery) -> dict:
    return {
        "alert": alert,
        "delivery": delivery,
        "agreement": alert.agreement,
        "test_date_text": long_date(alert.test_date) if alert.test_date else "",
        "figures": delivery_figures(alert),
        "url": absolute_url(alert.link_path),
        "inbox_url": absolute_url(reverse("alerts:inbox")),
        "preferences_url": absolute_url(reverse("alerts:preferences")),
    }


def email_message(delivery: AlertDelivery) -> EmailMultiAlternatives:
    """The alert as an e-mail with a plain-text and an HTML part."""
    alert = delivery.alert
    context = _context(alert, delivery)
    message = EmailMultiAlternatives(
        subject=f"[{alert.agreement.name}] {alert.title}"[:250],
        body=render_to_string("alerts/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={DELIVERY_HEADER: str(delivery.pk), EVENT_HEADER: alert.kind},
    )
    message.attach_alternative(render_to_string("alerts/email.html", context), "text/html")
    return message


def _decimal(value: object) -> str | None:
    return None if value is None else str(value)


def webhook_payload(delivery: AlertDelivery) -> dict:
    """The JSON document POSTed for a delivery (documented in docs/alerts.md)."""
    alert = delivery.alert
    return {
        "delivery_id": delivery.pk,
        "alert": {
            "id": alert.pk,
            # The same for every attempt and every replay of this alert: a receiver drops repeats by it.
            "key": alert.key,
            "kind": alert.kind,
            "kind_label": alert.get_kind_display(),
            "title": alert.title,
            "message": alert.message,
            "transition": alert.transition,
            "agreement": {"id": alert.agreement_id, "name": alert.agreement.name},
            "covenant": (
                {"id": alert.covenant_id, "section": alert.covenant.section, "name": alert.covenant.name}
                if alert.covenant_id
                else None
            ),
            "amendment": {"id": alert.amendment_id, "title": alert.amendment.title} if alert.amendment_id else None,
            "test_date": alert.test_date.isoformat() if alert.test_date else None,
            "borrower": {"id": alert.borrower_id, "name": alert.borrower.legal_name} if alert.borrower_id else None,
            "value": _decimal(alert.value),
            "threshold": _decimal(alert.threshold),
            "headroom": _decimal(alert.headroom),
            "headroom_percent": _decimal(alert.headroom_percent),
            "warning_band_percent": _decimal(alert.warning_band_percent),
            "provisional": alert.provisional,
            "url": absolute_url(alert.link_path),
            "created_at": alert.created_at.isoformat(),
        },
    }


def webhook_body(delivery: AlertDelivery) -> bytes:
    return json.dumps(webhook_payload(delivery), separators=(",", ":"), sort_keys=True).encode()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed with the subscription's secret, of
    ``<timestamp>.<body>``: a receiver recomputes it to know the body came from the portal
    unaltered, and checks the timestamp is recent to refuse a replay."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: the signed body is never re-sent elsewhere."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class PostOutcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> PostOutcome:
    """POST the body; any answer other than 2xx, a timeout or a refused connection is a failure."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http/https only)
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        snippet = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
        error = f"HTTP {exc.code} {exc.reason}" + (f": {snippet}" if snippet else "")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(reason).__name__}: {reason}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return PostOutcome(status, error, duration_ms)


# --- Sending ------------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one delivery if it is still pending and due; returns what happened, in a word or two.

    Idempotent: a delivery already sent, failed or stopped is left alone, and one that
    another worker holds is skipped. ``now`` is for tests of the backoff."""
    now = now or timezone.now()
    with transaction.atomic():
        locking = AlertDelivery.objects.select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked
        )
        delivery = locking.filter(pk=delivery_id).first()
        if delivery is None:
            return "busy or gone"
        if delivery.status != DeliveryStatus.PENDING:
            return f"already {delivery.status}"
        if delivery.due_at > now + DUE_SLACK:
            return "not due yet"
        alert = Alert.objects.select_related("agreement", "covenant", "borrower", "amendment").get(pk=delivery.alert_id)
        delivery.alert = alert
        if alert.stopped_at is not None:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.last_error = alert.stopped_reason or "The alert was stopped."
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return "stopped"
        if delivery.channel == AlertChannel.IN_APP:
            delivery.status, delivery.sent_at = DeliveryStatus.SENT, now
            delivery.save(update_fields=["status", "sent_at", "updated_at"])
            return "sent"
        if delivery.channel == AlertChannel.WEBHOOK:
            subscription = WebhookSubscription.objects.get(pk=delivery.subscription_id)
            if not subscription.receives_alerts:
                return "held: subscription paused"
            if not subscription_receives(subscription, alert.agreement_id, kind=alert.kind):
                delivery.status = DeliveryStatus.CANCELLED
                delivery.last_error = "The subscription no longer receives this agreement's alerts."
                delivery.save(update_fields=["status", "last_error", "updated_at"])
                return "stopped: not this subscription's agreement"
            delivery.subscription = subscription

        delivery.attempts += 1
        error = _send(delivery, now)
        if not error:
            delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, ""
            delivery.save(update_fields=["status", "sent_at", "last_error", "attempts", "updated_at"])
            if delivery.channel == AlertChannel.WEBHOOK:
                WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(consecutive_failures=0)
            return "sent"

        return _failed_or_retried(delivery, error, now)


def _failed_or_retried(delivery: AlertDelivery, error: str, now: dt.datetime) -> str:
    """A send that did not go through: failed for good after the last attempt, else retried
    after a backoff (queued once the caller's transaction commits)."""
    delivery.last_error = error[:2000]
    if delivery.attempts - delivery.attempts_before_replay >= settings.ALERT_DELIVERY_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status", "last_error", "attempts", "updated_at"])
        if delivery.channel == AlertChannel.WEBHOOK:
            _count_failed_delivery(delivery.subscription_id, now)
        logger.warning("alert delivery %s failed after %s attempts: %s", delivery.pk, delivery.attempts, error)
        return "failed"
    retry_in = retry_delay(delivery.attempts - delivery.attempts_before_replay)
    delivery.due_at = now + dt.timedelta(seconds=retry_in)
    delivery.save(update_fields=["last_error", "attempts", "due_at", "updated_at"])
    # The retry is queued once this is committed; if it never arrives, the sweep re-queues it.
    transaction.on_commit(partial(queue_deliveries, [delivery.pk], countdown=retry_in), robust=True)
    return f"retry in {retry_in:.0f}s"


def _send(delivery: AlertDelivery, now: dt.datetime) -> str:
    """Send through the delivery's channel; returns the error, or "" when it was accepted."""
    if delivery.channel == AlertChannel.EMAIL:
        try:
            email_message(delivery).send(fail_silently=False)
        except Exception as exc:  # SMTP refusals, connection errors, timeouts: all retried
            return f"{type(exc).__name__}: {exc}"
        return ""
    subscription = delivery.subscription
    body = webhook_body(delivery)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(subscription.secret, timestamp, body),
        DELIVERY_HEADER: str(delivery.pk),
        EVENT_HEADER: delivery.alert.kind,
        ATTEMPT_HEADER: str(delivery.attempts),
        ALERT_KEY_HEADER: delivery.alert.key,
    }
    refusal = webhook_destination_refusal(subscription.url)
    if refusal:
        outcome = PostOutcome(None, refusal, 0)
    else:
        outcome = webhook_post(subscription.url, body, headers, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        status_code=outcome.status_code,
        error=outcome.error[:2000],
        duration_ms=outcome.duration_ms,
        succeeded=outcome.ok,
        at=now,
    )
    if outcome.ok:
        return ""
    return outcome.error or f"HTTP {outcome.status_code}"


def _count_failed_delivery(subscription_id: int, now: dt.datetime) -> None:
    """One more delivery failed every retry; after ``ALERT_WEBHOOK_PAUSE_AFTER_FAILURES`` in a
    row, the subscription is paused (its later deliveries wait until it is resumed)."""
    WebhookSubscription.objects.filter(pk=subscription_id).update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.ALERT_WEBHOOK_PAUSE_AFTER_FAILURES
    paused = WebhookSubscription.objects.filter(
        pk=subscription_id, paused_at__isnull=True, consecutive_failures__gte=limit
    ).update(
        paused_at=now,
        pause_reason=f"Paused automatically after {limit} deliveries in a row failed every retry.",
        updated_at=now,
    )
    if paused:
        logger.warning("webhook subscription %s paused after %s failed deliveries", subscription_id, limit)
