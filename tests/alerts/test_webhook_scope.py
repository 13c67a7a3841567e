"""A party sits in many deals: its webhook subscriptions are its own, receive only the deals
their creator may read, and failed deliveries can be sent again, once each, by alert key."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.choices import AlertChannel, AlertKind, DeliveryStatus
from alerts.delivery import delivery_attempt
from alerts.models import Alert, AlertDelivery, WebhookSubscription
from alerts.raising import AlertRefused
from alerts.webhooks import (
    webhook_deliveries_replay,
    webhook_subscription_create,
    webhook_subscription_pause,
    webhook_subscription_resume,
)
from covenants.choices import Role
from covenants.models import AgreementRole
from parties.choices import MembershipRole
from tests.factories import administrator, member, second_facility

from .helpers import Q3_2019, Q4_2019, revenues

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(settings):
    """Deal A; deal C with its own Agent and Borrower and A's Lender as a Lender too."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    alpha = second_facility("Alpha")
    gamma = second_facility("Gamma")
    AgreementRole.objects.create(agreement=gamma.agreement, party=alpha.lender, role=Role.LENDER)
    return alpha, gamma


def hook(party, user, url="https://hooks.example.com/portal", kinds=("breach", "cure")):
    return webhook_subscription_create(user=user, party=party, url=url, kinds=list(kinds))


def webhook_deliveries(alert: Alert) -> set[int]:
    return set(alert.deliveries.filter(channel=AlertChannel.WEBHOOK).values_list("subscription_id", flat=True))


def test_another_deals_agent_cannot_subscribe_a_shared_lender(deals):
    alpha, gamma = deals
    with pytest.raises(AlertRefused, match="You may not manage the webhooks of Alpha"):
        hook(alpha.lender, gamma.users["agent"])
    assert not WebhookSubscription.objects.exists()
    # Nor through the API: the party is not one it may name.
    client = APIClient()
    client.force_authenticate(gamma.users["agent"])
    response = client.post(
        reverse("api:webhook-list"),
        {"party": alpha.lender.pk, "url": "http://127.0.0.1:8209/x", "kinds": ["breach", "cure"]},
        format="json",
    )
    assert response.status_code == 400 and "party" in response.json()
    assert not WebhookSubscription.objects.exists()


def test_another_deals_agent_cannot_see_or_touch_a_shared_lenders_subscription(deals):
    alpha, gamma = deals
    theirs = hook(alpha.lender, alpha.users["lender"])
    client = APIClient()
    client.force_authenticate(gamma.users["agent"])
    assert client.get(reverse("api:webhook-list")).json()["results"] == []
    for action in ("pause", "resume", "replay", "rotate-secret"):
        url = reverse(f"api:webhook-{action}", args=[theirs.pk])
        assert client.post(url).status_code == 404, action
    assert client.delete(reverse("api:webhook-detail", args=[theirs.pk])).status_code == 404
    for change in (webhook_subscription_pause, webhook_subscription_resume, webhook_deliveries_replay):
        with pytest.raises(AlertRefused):
            change(user=gamma.users["agent"], subscription=theirs)
    theirs.refresh_from_db()
    assert theirs.paused_at is None and WebhookSubscription.objects.count() == 1


def test_a_shared_lenders_own_subscription_receives_both_its_deals(deals):
    alpha, gamma = deals
    mine = hook(alpha.lender, alpha.users["lender"])
    gammas_agent_hook = hook(gamma.agent, gamma.users["agent"], url="https://gamma.example.com/hook")
    revenues(alpha, Q3_2019, 900_000)
    revenues(gamma, Q3_2019, 900_000)
    alpha_breach = Alert.objects.get(agreement=alpha.agreement, kind=AlertKind.BREACH)
    gamma_breach = Alert.objects.get(agreement=gamma.agreement, kind=AlertKind.BREACH)
    assert webhook_deliveries(alpha_breach) == {mine.pk}
    assert webhook_deliveries(gamma_breach) == {mine.pk, gammas_agent_hook.pk}


def test_a_subscription_receives_only_the_deals_its_creator_may_read(deals):
    alpha, gamma = deals
    # Made by an administrator's account that later stops being one: from then on it is scoped
    # by what that user may read, which is nothing.
    admin = administrator("hooks.admin")
    made_by_admin = hook(alpha.lender, admin, url="https://admin-made.example.com/hook")
    # A user of the Lender made one, then left the Lender for the Gamma Agent.
    leaver = member("lender.leaver", MembershipRole.LENDER, alpha.lender)
    made_by_leaver = hook(alpha.lender, leaver, url="https://leaver.example.com/hook")
    revenues(alpha, Q3_2019, 900_000)
    first = Alert.objects.get(agreement=alpha.agreement, kind=AlertKind.BREACH)
    assert webhook_deliveries(first) == {made_by_admin.pk, made_by_leaver.pk}

    leaver.memberships.all().delete()
    leaver.memberships.create(party=gamma.agent, role=MembershipRole.AGENT)
    admin.is_superuser = False
    admin.save(update_fields=["is_superuser"])
    revenues(alpha, Q3_2019, 2_000_000)  # a cure
    cure = Alert.objects.get(agreement=alpha.agreement, kind=AlertKind.CURE)
    assert webhook_deliveries(cure) == set()

    # What was queued before the change is checked again just before the POST.
    pending = AlertDelivery.objects.filter(subscription=made_by_leaver, alert=first).get()
    assert delivery_attempt(delivery_id=pending.pk) == "stopped: not this subscription's agreement"
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.CANCELLED


def test_failed_deliveries_are_replayed_once_each_with_the_alerts_key(
    deals, webhook_server, settings, django_capture_on_commit_callbacks
):
    """An outage of the receiver: five breaches fail every retry, the subscription is paused;
    once it is resumed, replaying sends each once, with its alert's key."""
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 1
    settings.ALERT_WEBHOOK_PAUSE_AFTER_FAILURES = 5
    alpha, gamma = deals
    subscription = hook(alpha.lender, alpha.users["lender"], url=webhook_server.url, kinds=["breach"])
    webhook_server.statuses = [503] * 5
    with django_capture_on_commit_callbacks(execute=True):
        for facility in (alpha, gamma):
            revenues(facility, Q3_2019, 900_000)
            revenues(facility, Q4_2019, 900_000)
        third = second_facility("Delta")
        AgreementRole.objects.create(agreement=third.agreement, party=alpha.lender, role=Role.LENDER)
        revenues(third, Q3_2019, 900_000)
    failed = AlertDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.FAILED)
    assert failed.count() == 5 and len(webhook_server.posts()) == 5
    subscription.refresh_from_db()
    assert subscription.paused_at is not None

    user = alpha.users["lender"]
    webhook_server.statuses = [200]  # the receiver is back
    with django_capture_on_commit_callbacks(execute=True):
        webhook_subscription_resume(user=user, subscription=subscription)
    assert len(webhook_server.posts()) == 5  # resuming sends what waited, not what had failed

    client = APIClient()
    client.force_authenticate(user)
    listed = client.get(reverse("api:webhook-detail", args=[subscription.pk])).json()
    assert listed["failed_deliveries"] == 5
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api:webhook-replay", args=[subscription.pk]))
    assert response.status_code == 200 and response.json() == {"replayed": 5}
    replayed = webhook_server.posts()[5:]
    keys = {Alert.objects.get(pk=p.json()["alert"]["id"]).key for p in replayed}
    assert len(replayed) == 5 and len(keys) == 5
    assert all(p.headers["X-Portal-Alert-Key"] == p.json()["alert"]["key"] for p in replayed)
    assert not AlertDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.FAILED).exists()

    # Again: nothing left to send, nothing sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("api:webhook-replay", args=[subscription.pk])).json() == {"replayed": 0}
    assert len(webhook_server.posts()) == 10


def test_a_replayed_delivery_gets_a_full_set_of_retries(deals, webhook_server, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    alpha, _ = deals
    user = alpha.users["lender"]
    subscription = hook(alpha.lender, user, url=webhook_server.url, kinds=["breach"])
    webhook_server.statuses = [500, 500, 500, 200]
    revenues(alpha, Q3_2019, 900_000)
    delivery = AlertDelivery.objects.get(subscription=subscription)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery_attempt(delivery_id=delivery.pk, now=delivery.due_at) == "failed"
    assert webhook_deliveries_replay(user=user, subscription=subscription) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 2
    assert delivery_attempt(delivery_id=delivery.pk).startswith("retry in")
    delivery.refresh_from_db()
    assert delivery_attempt(delivery_id=delivery.pk, now=delivery.due_at) == "sent"
    delivery.refresh_from_db()
    assert delivery.attempts == 4 and delivery.status == DeliveryStatus.SENT


def test_the_api_shows_the_secret_only_when_made_or_rotated(deals):
    alpha, _ = deals
    client = APIClient()
    client.force_authenticate(alpha.users["lender"])
    created = client.post(
        reverse("api:webhook-list"),
        {"party": alpha.lender.pk, "url": "https://hooks.example.com/a", "kinds": ["breach"]},
        format="json",
    ).json()
    assert len(created["secret"]) == 64
    detail = client.get(reverse("api:webhook-detail", args=[created["id"]])).json()
    assert "secret" not in detail
    rotated = client.post(reverse("api:webhook-rotate-secret", args=[created["id"]])).json()
    assert len(rotated["secret"]) == 64 and rotated["secret"] != created["secret"]
    assert WebhookSubscription.objects.get().secret == rotated["secret"]
