"""
The inbox and notification preferences: what users do with the alerts raised in
``alerts.raising``. Reads take the user; writes check it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts.choices import AlertChannel, AlertKind
from alerts.models import AlertDelivery, NotificationPreference
from alerts.raising import AlertRefused
from alerts.recipients import DEFAULT_CHANNELS, USER_CHANNELS
from covenants.access import parties_of, visible
from parties.models import Membership


def channels_for(user: AbstractBaseUser) -> dict[str, list[str]]:
    """The channels the user wants for each kind of alert, the defaults where none is stored."""
    chosen = {kind: list(DEFAULT_CHANNELS) for kind in AlertKind.values}
    for kind, channels in NotificationPreference.objects.filter(user=user).values_list("kind", "channels"):
        chosen[kind] = [c for c in USER_CHANNELS if c in channels]
    return chosen


# --- The inbox --------------------------------------------------------------------------


def inbox_for(user: AbstractBaseUser | AnonymousUser, *, unread_only: bool = False) -> QuerySet[AlertDelivery]:
    """The user's inbox entries, newest first, with what the list shows: the access rule's
    inbox (``visible(user, AlertDelivery)``), so a user who has lost access to an agreement no
    longer reads its alerts."""
    entries = visible(user, AlertDelivery).select_related(
        "alert__agreement", "alert__covenant", "alert__borrower", "alert__amendment", "acknowledged_by"
    )
    if unread_only:
        entries = entries.filter(read_at__isnull=True)
    return entries.order_by("-alert__created_at", "-pk")


def unread_count(user: AbstractBaseUser | AnonymousUser) -> int:
    """How many inbox entries the user has not read: the same entries as :func:`inbox_for`
    (one query)."""
    if not user.is_authenticated:
        return 0
    return visible(user, AlertDelivery).filter(read_at__isnull=True).count()


@transaction.atomic
def alert_mark_read(*, user: AbstractBaseUser, delivery_ids: Iterable[int] | None = None) -> int:
    """Mark the user's inbox entries read (all unread ones when no ids are given)."""
    entries = AlertDelivery.objects.filter(user=user, channel=AlertChannel.IN_APP, read_at__isnull=True)
    if delivery_ids is not None:
        entries = entries.filter(pk__in=list(delivery_ids))
    return entries.update(read_at=timezone.now(), updated_at=timezone.now())


@transaction.atomic
def alert_acknowledge(*, user: AbstractBaseUser, delivery: AlertDelivery) -> AlertDelivery:
    """Acknowledge an alert from the user's inbox. The acknowledgement is shared with the
    other users of the user's parties (a team sees that someone has it in hand, and who)."""
    if delivery.user_id != user.pk or delivery.channel != AlertChannel.IN_APP:
        raise AlertRefused("You may acknowledge only the alerts in your own inbox.")
    entry = AlertDelivery.objects.select_for_update().get(pk=delivery.pk)
    if entry.acknowledged_at is not None:
        return entry
    now = timezone.now()
    teammates = Membership.objects.filter(party__in=parties_of(user)).values("user_id")
    AlertDelivery.objects.filter(
        alert_id=entry.alert_id, channel=AlertChannel.IN_APP, acknowledged_at__isnull=True
    ).filter(Q(pk=entry.pk) | Q(user_id__in=teammates)).update(
        acknowledged_at=now, acknowledged_by=user, updated_at=now
    )
    AlertDelivery.objects.filter(pk=entry.pk, read_at__isnull=True).update(read_at=now)
    entry.refresh_from_db()
    return entry


# --- Preferences --------------------------------------------------------------------------


@transaction.atomic
def notification_preferences_set(*, user: AbstractBaseUser, channels_by_kind: Mapping[str, Iterable[str]]) -> None:
    """Store the channels the user chose for each kind of alert named."""
    for kind, channels in channels_by_kind.items():
        if kind not in AlertKind.values:
            raise AlertRefused(f"{kind!r} is not a kind of alert.")
        chosen = [c for c in USER_CHANNELS if c in set(channels)]
        unknown = set(channels) - set(USER_CHANNELS)
        if unknown:
            raise AlertRefused(f"{', '.join(sorted(unknown))} is not a channel you can choose.")
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"channels": chosen})
