"""
Webhook subscriptions: which parties a user may subscribe, the subscriptions they manage,
where the portal will POST, and pausing, resuming, rotating secrets and replaying failed
deliveries. Which subscriptions an alert goes to is decided in ``alerts.recipients``.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
from collections.abc import Iterable
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from alerts.choices import AlertKind, DeliveryStatus
from alerts.fanout import queue_deliveries
from alerts.models import AlertDelivery, WebhookSubscription
from alerts.raising import AlertRefused
from alerts.recipients import RECIPIENT_ROLES
from covenants.access import is_administrator, parties_of
from parties.models import Party

logger = logging.getLogger(__name__)


def parties_for_webhooks(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Party]:
    """The parties whose webhook subscriptions the user may manage: their own parties, all for
    administrators (``covenants.access.may_manage_webhooks_of``). Never an Agent's for the parties
    of its deals: a bank is a party to other deals too. Only parties that hold a role that is
    alerted can subscribe."""
    if not user.is_authenticated:
        return Party.objects.none()
    alerted = Party.objects.filter(agreement_roles__role__in=RECIPIENT_ROLES)
    if not is_administrator(user):
        alerted = alerted.filter(pk__in=parties_of(user).values("pk"))
    return alerted.distinct().order_by("legal_name")


def subscriptions_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[WebhookSubscription]:
    """The subscriptions the user may see and manage."""
    return (
        WebhookSubscription.objects.filter(party__in=parties_for_webhooks(user))
        .select_related("party", "created_by")
        .annotate(
            failed_deliveries=Count(
                "deliveries",
                filter=Q(deliveries__status=DeliveryStatus.FAILED, deliveries__alert__stopped_at__isnull=True),
            )
        )
        .order_by("party__legal_name", "url")
    )


def webhook_destination_refusal(url: str) -> str:
    """Why the portal will not POST to this URL, or "" when it may.

    Unless ``ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` (on in development, off in production),
    a webhook must resolve to public addresses only: a subscription must not make the portal
    call its own network (databases, caches, cloud metadata). Checked when subscribing and
    again before every POST, as DNS answers change."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The webhook URL must be an http:// or https:// address with a host name."
    if settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return ""
    host = parts.hostname
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or None, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError) as exc:
        return f"{host} does not resolve to an address ({exc})."
    for address in sorted(addresses):
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            return f"{host} resolves to {address}, a private or local address: webhooks go to public addresses only."
    return ""


def _check_url(url: str) -> str:
    url = url.strip()
    refusal = webhook_destination_refusal(url)
    if refusal:
        raise AlertRefused(refusal)
    return url


def _check_kinds(kinds: Iterable[str]) -> list[str]:
    chosen = [k for k in AlertKind.values if k in set(kinds)]
    unknown = set(kinds) - set(AlertKind.values)
    if unknown:
        raise AlertRefused(f"{', '.join(sorted(unknown))} is not a kind of alert.")
    if not chosen:
        raise AlertRefused("Choose at least one kind of alert to send to the webhook.")
    return chosen


@transaction.atomic
def webhook_subscription_create(
    *, user: AbstractBaseUser, party: Party, url: str, kinds: Iterable[str], description: str = ""
) -> WebhookSubscription:
    """Subscribe a party's URL to the chosen kinds of alert, with a new signing secret."""
    if not parties_for_webhooks(user).filter(pk=party.pk).exists():
        raise AlertRefused(f"You may not manage the webhooks of {party.legal_name}.")
    url = _check_url(url)
    chosen = _check_kinds(kinds)
    if WebhookSubscription.objects.filter(party=party, url=url).exists():
        raise AlertRefused(f"{party.legal_name} already subscribes {url}.")
    try:
        with transaction.atomic():
            return WebhookSubscription.objects.create(
                party=party,
                url=url,
                kinds=chosen,
                description=description.strip(),
                secret=secrets.token_hex(32),
                created_by=user,
            )
    except IntegrityError:
        raise AlertRefused(f"{party.legal_name} already subscribes {url}.")


def _managed(user: AbstractBaseUser, subscription: WebhookSubscription) -> WebhookSubscription:
    if not subscriptions_for(user).filter(pk=subscription.pk).exists():
        raise AlertRefused("You may not manage this webhook subscription.")
    return WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)


@transaction.atomic
def webhook_subscription_pause(*, user: AbstractBaseUser, subscription: WebhookSubscription) -> WebhookSubscription:
    """Pause a subscription: deliveries wait, pending, until it is resumed."""
    locked = _managed(user, subscription)
    if locked.paused_at is None:
        locked.paused_at = timezone.now()
        locked.pause_reason = f"Paused by {user.get_username()}."
        locked.save(update_fields=["paused_at", "pause_reason", "updated_at"])
    return locked


@transaction.atomic
def webhook_subscription_resume(*, user: AbstractBaseUser, subscription: WebhookSubscription) -> WebhookSubscription:
    """Resume a paused subscription: its failure count starts again, and the deliveries that
    waited are queued once the transaction commits."""
    locked = _managed(user, subscription)
    now = timezone.now()
    locked.paused_at = None
    locked.pause_reason = ""
    locked.consecutive_failures = 0
    locked.save(update_fields=["paused_at", "pause_reason", "consecutive_failures", "updated_at"])
    waiting = AlertDelivery.objects.filter(
        subscription=locked, status=DeliveryStatus.PENDING, alert__stopped_at__isnull=True
    )
    waiting.update(due_at=now, updated_at=now)
    ids = list(waiting.order_by("pk").values_list("pk", flat=True))
    if ids:
        transaction.on_commit(partial(queue_deliveries, ids), robust=True)
    return locked


@transaction.atomic
def webhook_subscription_rotate_secret(
    *, user: AbstractBaseUser, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Give the subscription a new signing secret (the old one stops signing at once). The
    caller shows it once; the portal never displays a secret again."""
    locked = _managed(user, subscription)
    locked.secret = secrets.token_hex(32)
    locked.save(update_fields=["secret", "updated_at"])
    return locked


@transaction.atomic
def webhook_deliveries_replay(*, user: AbstractBaseUser, subscription: WebhookSubscription) -> int:
    """Send again every delivery to this subscription that failed every retry (an outage of the
    receiver, say), each with a fresh set of retries; returns how many. The same delivery row is
    reused, so replaying twice sends nothing twice, and each POST carries the alert's key for the
    receiver to drop what it already has. Alerts stopped since (a waived breach) are not replayed.
    A paused subscription keeps them pending until it is resumed."""
    locked = _managed(user, subscription)
    now = timezone.now()
    failed = AlertDelivery.objects.filter(
        subscription=locked, status=DeliveryStatus.FAILED, alert__stopped_at__isnull=True
    )
    ids = list(failed.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    AlertDelivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, attempts_before_replay=F("attempts"), due_at=now, updated_at=now
    )
    if locked.receives_alerts:
        transaction.on_commit(partial(queue_deliveries, ids), robust=True)
    logger.info("webhook deliveries replayed", extra={"subscription": locked.pk, "deliveries": len(ids)})
    return len(ids)


@transaction.atomic
def webhook_subscription_delete(*, user: AbstractBaseUser, subscription: WebhookSubscription) -> None:
    """Delete a subscription, with its deliveries and their log."""
    _managed(user, subscription).delete()
