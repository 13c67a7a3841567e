"""Webhooks to a real HTTP server on loopback: a signed JSON body, retries with backoff on
errors with every attempt logged, and the subscription paused after repeated failures."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from alerts.choices import AlertChannel, AlertKind, DeliveryStatus
from alerts.delivery import delivery_attempt
from alerts.fanout import deliveries_overdue
from alerts.models import Alert, AlertDelivery, WebhookAttempt, WebhookSubscription
from alerts.raising import AlertRefused
from alerts.webhooks import webhook_subscription_create, webhook_subscription_resume
from tests.factories import second_facility

from .helpers import Q3_2019, Q4_2019, revenues

pytestmark = pytest.mark.django_db

SECRET = "b7c1e4d2a9f03e6b5c8d7a1f2e3b4c5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d"


@pytest.fixture
def harbor():
    return second_facility("Harbor")


@pytest.fixture
def subscription(harbor, webhook_server):
    return WebhookSubscription.objects.create(
        party=harbor.lender,
        url=webhook_server.url,
        secret=SECRET,
        kinds=[AlertKind.BREACH, AlertKind.CURE],
        created_by=harbor.users["lender"],
    )


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (docs/alerts.md): recompute the signature over timestamp and body."""
    timestamp = headers["X-Portal-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Portal-Signature"])


def webhook_delivery() -> AlertDelivery:
    return AlertDelivery.objects.get(channel=AlertChannel.WEBHOOK)


def test_a_breach_is_posted_as_signed_json(harbor, subscription, webhook_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revenues(harbor, Q3_2019, 900_000)
    alert = Alert.objects.get()
    [post] = webhook_server.posts()
    assert post.path == "/hooks/portal"
    assert post.headers["Content-Type"] == "application/json"
    assert verify(SECRET, post.headers, post.body)
    assert not verify("another secret", post.headers, post.body)
    assert not verify(SECRET, post.headers, post.body.replace(b"900000", b"990000"))
    assert abs(int(post.headers["X-Portal-Timestamp"]) - timezone.now().timestamp()) < 60
    delivery = webhook_delivery()
    assert post.headers["X-Portal-Delivery"] == str(delivery.pk)
    assert post.headers["X-Portal-Event"] == "breach"

    body = post.json()
    assert body["delivery_id"] == delivery.pk
    sent = body["alert"]
    assert sent["id"] == alert.pk and sent["kind"] == "breach"
    assert sent["agreement"] == {"id": harbor.agreement.pk, "name": "Harbor Credit Agreement"}
    assert sent["covenant"]["section"] == "6.1"
    assert sent["test_date"] == "2019-09-30"
    assert sent["borrower"] is None
    assert sent["value"] == "900000.000000" and sent["threshold"] == "1000000.000000"
    assert sent["headroom"] == "-100000.000000"
    assert sent["title"] == alert.title and sent["message"] == alert.message
    assert sent["url"].endswith(f"/agreements/{harbor.agreement.pk}/")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    [attempt] = WebhookAttempt.objects.all()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)
    # Run again, as a redelivered task would: nothing is posted.
    assert delivery_attempt(delivery_id=delivery.pk) == "already sent"
    assert len(webhook_server.posts()) == 1


def test_kinds_not_chosen_are_not_posted(harbor, subscription, webhook_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revenues(harbor, Q3_2019, 1_050_000)  # a near breach: not among the subscription's kinds
    assert Alert.objects.get().kind == AlertKind.NEAR_BREACH
    assert webhook_server.posts() == []


def test_server_errors_are_retried_with_backoff_and_every_attempt_is_logged(harbor, subscription, webhook_server):
    webhook_server.statuses = [500, 503, 200]
    revenues(harbor, Q3_2019, 900_000)
    delivery = webhook_delivery()
    now = timezone.now()

    assert delivery_attempt(delivery_id=delivery.pk, now=now).startswith("retry in")
    delivery.refresh_from_db()
    first_wait = delivery.due_at - now
    assert dt.timedelta(seconds=15) <= first_wait <= dt.timedelta(seconds=30)
    assert delivery.status == DeliveryStatus.PENDING and "HTTP 500" in delivery.last_error
    # Not before it is due: a duplicate task finds nothing to do.
    assert delivery_attempt(delivery_id=delivery.pk, now=now) == "not due yet"
    assert len(webhook_server.posts()) == 1

    now = delivery.due_at
    assert delivery_attempt(delivery_id=delivery.pk, now=now).startswith("retry in")
    delivery.refresh_from_db()
    second_wait = delivery.due_at - now
    assert dt.timedelta(seconds=30) <= second_wait <= dt.timedelta(seconds=60)  # doubled, with jitter

    assert delivery_attempt(delivery_id=delivery.pk, now=delivery.due_at) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3 and delivery.last_error == ""
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert all(a.duration_ms >= 0 and a.at is not None for a in attempts)
    assert "HTTP 500" in attempts[0].error
    posts = webhook_server.posts()
    assert [p.headers["X-Portal-Attempt"] for p in posts] == ["1", "2", "3"]
    assert all(verify(SECRET, p.headers, p.body) for p in posts)  # each attempt signed afresh
    assert len({p.headers["X-Portal-Delivery"] for p in posts}) == 1  # one delivery id: receivers de-duplicate


def test_a_timeout_or_a_redirect_is_a_failed_attempt(harbor, subscription, webhook_server, settings):
    settings.ALERT_WEBHOOK_TIMEOUT_SECONDS = 1
    webhook_server.delay = 2
    revenues(harbor, Q3_2019, 900_000)
    delivery = webhook_delivery()
    assert delivery_attempt(delivery_id=delivery.pk).startswith("retry in")
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "timed out" in attempt.error
    webhook_server.delay = 0
    webhook_server.statuses = [302]
    delivery.refresh_from_db()
    assert delivery_attempt(delivery_id=delivery.pk, now=delivery.due_at).startswith("retry in")
    assert WebhookAttempt.objects.get(number=2).status_code == 302


def test_the_subscription_is_paused_after_repeated_failed_deliveries(
    harbor, subscription, webhook_server, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    settings.ALERT_WEBHOOK_PAUSE_AFTER_FAILURES = 2
    webhook_server.statuses = [500]
    revenues(harbor, Q3_2019, 900_000)
    revenues(harbor, Q4_2019, 900_000)
    revenues(harbor, Q3_2019, 2_000_000)  # a cure: its delivery is held once the subscription pauses
    failing = list(AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK).order_by("pk"))
    assert [d.alert.kind for d in failing] == ["breach", "breach", "cure"]

    for delivery in failing[:2]:
        now = timezone.now()
        assert delivery_attempt(delivery_id=delivery.pk, now=now).startswith("retry in")
        delivery.refresh_from_db()
        assert delivery_attempt(delivery_id=delivery.pk, now=delivery.due_at) == "failed"
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 2
    assert subscription.paused_at is not None
    assert "after 2 deliveries in a row failed" in subscription.pause_reason
    assert WebhookAttempt.objects.count() == 4
    assert {d.status for d in AlertDelivery.objects.filter(pk__in=[d.pk for d in failing[:2]])} == {"failed"}

    # Paused: the cure waits, is not attempted, and the sweep leaves it alone.
    held = failing[2]
    assert delivery_attempt(delivery_id=held.pk) == "held: subscription paused"
    held.refresh_from_db()
    assert held.status == DeliveryStatus.PENDING and held.attempts == 0
    assert held.pk not in deliveries_overdue(older_than=dt.timedelta(0))

    # Resumed (the receiver is fixed): what waited is sent.
    webhook_server.statuses = [200]
    with django_capture_on_commit_callbacks(execute=True):
        webhook_subscription_resume(user=harbor.users["lender"], subscription=subscription)
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT
    subscription.refresh_from_db()
    assert subscription.paused_at is None and subscription.consecutive_failures == 0
    assert json.loads(webhook_server.posts()[-1].body)["alert"]["kind"] == "cure"


def test_a_success_resets_the_count_of_failed_deliveries(harbor, subscription, webhook_server, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 1
    webhook_server.statuses = [500, 200]
    revenues(harbor, Q3_2019, 900_000)
    revenues(harbor, Q4_2019, 900_000)
    first, second = AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK).order_by("pk")
    assert delivery_attempt(delivery_id=first.pk) == "failed"
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 1
    assert delivery_attempt(delivery_id=second.pk) == "sent"
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.paused_at is None


def test_in_production_a_webhook_may_not_reach_a_private_address(harbor, subscription, webhook_server, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(AlertRefused, match="resolves to 127.0.0.1, a private or local address"):
        webhook_subscription_create(
            user=harbor.users["lender"], party=harbor.lender, url="http://127.0.0.1:8080/hook", kinds=["breach"]
        )
    with pytest.raises(AlertRefused, match="resolves to 10.0.0.5"):
        webhook_subscription_create(
            user=harbor.users["lender"], party=harbor.lender, url="https://10.0.0.5/hook", kinds=["breach"]
        )
    # A subscription made before is checked again before each POST: nothing reaches the address.
    revenues(harbor, Q3_2019, 900_000)
    assert delivery_attempt(delivery_id=webhook_delivery().pk).startswith("retry in")
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "private or local address" in attempt.error
    assert webhook_server.posts() == []
