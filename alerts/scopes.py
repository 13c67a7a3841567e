"""Who sees alerts, inboxes, preferences and webhooks (registered with the one access rule,
``covenants.access``, when the app is ready)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from alerts.choices import AlertChannel
from alerts.models import Alert, AlertDelivery, NotificationPreference, WebhookAttempt, WebhookSubscription
from covenants.access import (
    administrator_q,
    is_administrator,
    may_manage_webhooks_of,
    register,
    register_agreement_rows,
    register_scope,
    visible,
)
from covenants.access.rule import member_agreement_ids
from parties.models import Party

register_agreement_rows({Alert: "agreement"})

# --- Alerts: the user's own inbox, preferences and their parties' webhooks ---------------------


@register_scope(AlertDelivery)
def inbox_of(user: Any) -> QuerySet[AlertDelivery]:
    """The user's inbox entries on agreements they still see: a user who has lost access to an
    agreement no longer reads its alerts. Written without the user's memberships, so a count
    of it is one query."""
    reads = Q(alert__agreement_id__in=member_agreement_ids(user)) | administrator_q(user)
    return AlertDelivery.objects.filter(user_id=user.pk, channel=AlertChannel.IN_APP).filter(reads)


register(
    WebhookSubscription,
    scope=lambda user: WebhookSubscription.objects.filter(party__in=visible(user, Party, "manage_webhooks")),
    check=lambda user, obj: may_manage_webhooks_of(user, obj.party_id),
)
register(
    WebhookSubscription,
    "change",
    scope=lambda user: visible(user, WebhookSubscription),
    check=lambda user, obj: obj.party_id is not None and may_manage_webhooks_of(user, obj.party_id),
    anywhere=lambda user: visible(user, Party, "manage_webhooks").exists(),
)
register(
    WebhookAttempt,
    scope=lambda user: WebhookAttempt.objects.filter(delivery__subscription__in=visible(user, WebhookSubscription)),
)
register(
    NotificationPreference,
    scope=lambda user: NotificationPreference.objects.filter(user_id=user.pk),
    check=lambda user, obj: is_administrator(user) or obj.user_id == user.pk,
)
register(
    NotificationPreference,
    "change",
    scope=lambda user: visible(user, NotificationPreference),
    check=lambda user, obj: is_administrator(user) or obj.user_id == user.pk,
    anywhere=lambda user: True,  # their own
)
