"""
Who is told of an alert: the users of the parties holding a recipient role in its agreement
(with the channels they chose), and the webhook subscriptions of those parties whose creator
may still read the agreement. The fan-out (``alerts.fanout``) and the sending of a webhook
(``alerts.delivery``, asking again just before a POST) read the same rules here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from alerts.models import Alert, NotificationPreference, WebhookSubscription
from covenants.access import LENDER_SIDE_ROLES
from covenants.choices import Role
from covenants.models import AgreementRole
from parties.choices import MembershipRole
from parties.models import Membership

# The roles whose users are told: the Agents, the Lenders, and the Borrowers (for their own
# agreements). A Guarantor's users see the agreement but are not alerted.
RECIPIENT_ROLES: tuple[str, ...] = (*LENDER_SIDE_ROLES, Role.BORROWER)
USER_CHANNELS: tuple[str, ...] = NotificationPreference.USER_CHANNELS
DEFAULT_CHANNELS: tuple[str, ...] = NotificationPreference.DEFAULT_CHANNELS


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str


def recipients_by_agreement(agreement_ids: Iterable[int], *, on: dt.date) -> dict[int, dict[int, Recipient]]:
    """The active users of the parties holding a recipient role in each agreement on ``on`` (one query)."""
    rows = (
        AgreementRole.objects.filter(agreement_id__in=list(agreement_ids), role__in=RECIPIENT_ROLES)
        .filter(Q(holds_from__isnull=True) | Q(holds_from__lte=on), Q(holds_to__isnull=True) | Q(holds_to__gte=on))
        .filter(party__memberships__user__is_active=True)
        .values_list("agreement_id", "party__memberships__user_id", "party__memberships__user__email")
        .order_by()
        .distinct()
    )
    recipients: dict[int, dict[int, Recipient]] = defaultdict(dict)
    for agreement_id, user_id, email in rows:
        recipients[agreement_id][user_id] = Recipient(user_id, email or "")
    return recipients


def recipients_for(alert: Alert) -> QuerySet:
    """The users told of this alert: those of the agreement's Agent, Collateral Agent and
    Lenders, and of its Borrowers (users of another agreement's parties are not)."""
    user_ids = recipients_by_agreement([alert.agreement_id], on=timezone.localdate()).get(alert.agreement_id, {})
    return get_user_model().objects.filter(pk__in=list(user_ids)).order_by("username")


def user_preferences(user_ids: Iterable[int]) -> dict[tuple[int, str], list[str]]:
    """The channels each user chose, by (user, kind of alert); none stored, none here (one query)."""
    user_ids = set(user_ids)
    preferences: dict[tuple[int, str], list[str]] = {}
    if user_ids:
        for user_id, kind, channels in NotificationPreference.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "kind", "channels"
        ):
            preferences[(user_id, kind)] = list(channels or [])
    return preferences


# --- Which subscriptions an alert goes to ---------------------------------------------


def subscriptions_by_agreement(agreement_ids: Iterable[int]) -> dict[int, dict[int, tuple[str, list[str]]]]:
    """The active subscriptions each agreement's alerts go to, with their URL and kinds (one query).
    Paused subscriptions are included: their deliveries wait, pending, until it is resumed."""
    subscriptions: dict[int, dict[int, tuple[str, list[str]]]] = defaultdict(dict)
    for agreement_id, subscription_id, url, kinds in (
        # One filter() call, so the creator's conditions speak of the same subscription row.
        AgreementRole.objects.filter(
            _creator_reads_agreement(),
            agreement_id__in=agreement_ids,
            role__in=RECIPIENT_ROLES,
            party__webhook_subscriptions__active=True,
        )
        .values_list(
            "agreement_id",
            "party__webhook_subscriptions__id",
            "party__webhook_subscriptions__url",
            "party__webhook_subscriptions__kinds",
        )
        .order_by()
    ):
        subscriptions[agreement_id][subscription_id] = (url, list(kinds or []))
    return subscriptions


def _creator_reads_agreement() -> Q:
    """On AgreementRole rows joined to their party's subscriptions: the subscription's creator
    may still read that role's agreement and still manages the party's webhooks. What a
    subscription receives is scoped by the user who made it, so no subscription carries a
    deal its managing user could not read (``covenants.access``: membership, or administrator)."""
    creator = "party__webhook_subscriptions__created_by"
    reads = Exists(
        AgreementRole.objects.filter(
            agreement_id=OuterRef("agreement_id"), party__memberships__user_id=OuterRef(f"{creator}_id")
        )
    )
    administrator = Q(**{f"{creator}__is_superuser": True}) | Exists(
        Membership.objects.filter(user_id=OuterRef(f"{creator}_id"), role=MembershipRole.ADMINISTRATOR)
    )
    manages = Exists(Membership.objects.filter(user_id=OuterRef(f"{creator}_id"), party_id=OuterRef("party_id")))
    return Q(**{f"{creator}__is_active": True}) & (administrator | (reads & manages))


def subscription_receives(subscription: WebhookSubscription, agreement_id: int) -> bool:
    """Whether the subscription may carry this agreement's alerts now: the same rule as the
    fan-out, asked again just before a POST (the creator may have left the party since)."""
    return (
        # One filter() call, so every condition speaks of the same subscription row.
        AgreementRole.objects.filter(
            _creator_reads_agreement(),
            agreement_id=agreement_id,
            role__in=RECIPIENT_ROLES,
            party__webhook_subscriptions__pk=subscription.pk,
        ).exists()
    )
