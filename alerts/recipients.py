"""
Who is told of an alert: the users of the parties holding, in its agreement, a role of the
alert kind's audience (with the channels they chose), and the webhook subscriptions of those
parties whose creator may still read the agreement. The fan-out (``alerts.fanout``) and the
sending of a webhook (``alerts.delivery``, asking again just before a POST) read the same rules
here; no caller widens or trims the audience after the fact.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from alerts.choices import AlertKind
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

# The kinds told to the lender side alone (the Agents and the Lenders): a consent request's live
# tally, its vote reached and its deadline near. The Borrowers see the outcome only: they are told
# of the opening and the closing, as of every other kind.
LENDER_SIDE_KINDS: frozenset[str] = frozenset(
    {AlertKind.CONSENT_THRESHOLD_REACHED, AlertKind.CONSENT_DEADLINE_APPROACHING}
)


def audience(kind: str) -> tuple[str, ...]:
    """The roles whose holders are told of an alert of this kind (users and webhooks alike)."""
    return LENDER_SIDE_ROLES if kind in LENDER_SIDE_KINDS else RECIPIENT_ROLES


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    roles: frozenset[str] = frozenset()  # the recipient roles their parties hold in the agreement

    def told_of(self, kind: str) -> bool:
        """Whether this user is in the audience of an alert of this kind."""
        return not self.roles.isdisjoint(audience(kind))


def recipients_by_agreement(agreement_ids: Iterable[int], *, on: dt.date) -> dict[int, dict[int, Recipient]]:
    """The active users of the parties holding a recipient role in each agreement on ``on``, each
    with the roles held (one query): :meth:`Recipient.told_of` says which alerts reach them."""
    rows = (
        AgreementRole.objects.filter(agreement_id__in=list(agreement_ids), role__in=RECIPIENT_ROLES)
        .filter(Q(holds_from__isnull=True) | Q(holds_from__lte=on), Q(holds_to__isnull=True) | Q(holds_to__gte=on))
        .filter(party__memberships__user__is_active=True)
        .values_list("agreement_id", "party__memberships__user_id", "party__memberships__user__email", "role")
        .order_by()
        .distinct()
    )
    found: dict[int, dict[int, tuple[str, set[str]]]] = defaultdict(dict)
    for agreement_id, user_id, email, role in rows:
        found[agreement_id].setdefault(user_id, (email or "", set()))[1].add(role)
    return {
        agreement_id: {pk: Recipient(pk, email, frozenset(roles)) for pk, (email, roles) in users.items()}
        for agreement_id, users in found.items()
    }


def recipients_for(alert: Alert) -> QuerySet:
    """The users told of this alert: those of the agreement's parties holding a role of its kind's
    audience (the Agents, the Lenders and, unless the kind is the lender side's alone, the
    Borrowers); users of another agreement's parties are not."""
    users = recipients_by_agreement([alert.agreement_id], on=timezone.localdate()).get(alert.agreement_id, {})
    told = [user_id for user_id, recipient in users.items() if recipient.told_of(alert.kind)]
    return get_user_model().objects.filter(pk__in=told).order_by("username")


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


@dataclass(frozen=True)
class Subscribed:
    """A subscription an agreement's alerts may go to: its URL, the kinds it asked for, and the
    recipient roles its party holds in the agreement."""

    url: str
    kinds: frozenset[str]
    roles: frozenset[str]

    def told_of(self, kind: str) -> bool:
        """Whether it asked for this kind and its party is in the kind's audience."""
        return kind in self.kinds and not self.roles.isdisjoint(audience(kind))


def subscriptions_by_agreement(agreement_ids: Iterable[int]) -> dict[int, dict[int, Subscribed]]:
    """The active subscriptions each agreement's alerts may go to (one query). Paused subscriptions
    are included: their deliveries wait, pending, until it is resumed."""
    found: dict[int, dict[int, tuple[str, set[str], set[str]]]] = defaultdict(dict)
    for agreement_id, subscription_id, url, kinds, role in (
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
            "role",
        )
        .order_by()
    ):
        entry = found[agreement_id].setdefault(subscription_id, (url, set(kinds or []), set()))
        entry[2].add(role)
    return {
        agreement_id: {
            pk: Subscribed(url, frozenset(kinds), frozenset(roles)) for pk, (url, kinds, roles) in subscriptions.items()
        }
        for agreement_id, subscriptions in found.items()
    }


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


def subscription_receives(subscription: WebhookSubscription, agreement_id: int, *, kind: str = "") -> bool:
    """Whether the subscription may carry this agreement's alerts (of this kind, when given) now:
    the same rule as the fan-out, asked again just before a POST (the creator may have left the
    party since)."""
    return (
        # One filter() call, so every condition speaks of the same subscription row.
        AgreementRole.objects.filter(
            _creator_reads_agreement(),
            agreement_id=agreement_id,
            role__in=audience(kind) if kind else RECIPIENT_ROLES,
            party__webhook_subscriptions__pk=subscription.pk,
        ).exists()
    )
