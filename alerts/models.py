"""
Alerts: what changed (a breach, a cure, a near breach, late financials, an amendment past
its deadline), who is told, through which channel, and what became of each delivery.

An alert is stored before anything is sent, under a key that makes a second raise of the
same event a no-op. Each delivery (alert x recipient x channel) is its own row, claimed by
one task at a time, so a retried or redelivered task never sends twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from alerts.choices import AlertChannel, AlertKind, DeliveryStatus
from compliance.models import ComplianceEvent, CovenantTestResult
from covenants.models.agreements import Agreement, Amendment
from covenants.models.terms import Covenant
from parties.models import Party

__all__ = ["Alert", "AlertDelivery", "NotificationPreference", "WebhookSubscription", "WebhookAttempt"]

COVENANT_KINDS = (AlertKind.BREACH, AlertKind.CURE, AlertKind.NEAR_BREACH)


class Alert(models.Model):
    """
    One thing the parties to an agreement must learn of, stated in the agreement's words.

    ``key`` is built from (agreement, covenant, test date, Borrower, kind, transition): the
    same event raised twice finds the key taken and changes nothing. ``stopped_at`` is set
    when a breach is waived: deliveries not yet sent are stopped, the alert stays on record.
    """

    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    key = models.CharField(max_length=255, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="alerts")
    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    test_date = models.DateField(
        null=True, blank=True, help_text="The test date, the fiscal quarter end, or the conditions-precedent deadline."
    )
    borrower = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    event = models.ForeignKey(ComplianceEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    result = models.ForeignKey(CovenantTestResult, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    transition = models.CharField(max_length=100, help_text='What changed: "compliant → breach", "statement missing".')
    value = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    threshold = models.DecimalField(max_digits=26, decimal_places=6, null=True, blank=True)
    headroom = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    headroom_percent = models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True)
    warning_band_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    metric_kind = models.CharField(max_length=10, blank=True, help_text="sum or ratio: how the figures are shown.")
    provisional = models.BooleanField(default=False)
    title = models.CharField(max_length=255)
    message = models.TextField(help_text="What happened, in the agreement's words, with the figures and threshold.")
    link_path = models.CharField(max_length=255, help_text="The page that explains it, as a path on the portal.")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in COVENANT_KINDS])
                | Q(covenant__isnull=False, test_date__isnull=False),
                name="alert_covenant_kinds_name_the_test",
                violation_error_message="A breach, cure or near-breach alert must name its covenant and test date.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AlertKind.FINANCIALS_LATE) | Q(borrower__isnull=False, test_date__isnull=False),
                name="alert_late_financials_name_the_borrower",
                violation_error_message="A late-financials alert must name the Borrower and the fiscal quarter.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AlertKind.CERTIFICATE_LATE) | Q(test_date__isnull=False),
                name="alert_late_certificate_names_the_period",
                violation_error_message="A late-certificate alert must name the period.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AlertKind.AMENDMENT_OVERDUE) | Q(amendment__isnull=False),
                name="alert_overdue_amendment_names_it",
                violation_error_message="An overdue-amendment alert must name the amendment.",
            ),
        ]
        indexes = [models.Index(fields=["agreement", "created_at"])]

    def __str__(self) -> str:
        return self.title


class WebhookSubscription(models.Model):
    """
    A party's integration: a URL that receives the alerts of the chosen kinds as signed JSON.

    After ``settings.ALERT_WEBHOOK_PAUSE_AFTER_FAILURES`` deliveries in a row fail every
    retry, the subscription is paused; deliveries wait, and are sent when it is resumed.
    """

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500, help_text="Receives a POST with a JSON body for each alert.")
    description = models.CharField(max_length=255, blank=True)
    secret = models.CharField(max_length=128, help_text="Signs each delivery (HMAC-SHA256); shown to the party.")
    kinds = models.JSONField(default=list, help_text="The kinds of alert sent here.")
    active = models.BooleanField(default=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=255, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["party", "url"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "url"],
                name="webhook_subscription_unique_url",
                violation_error_message="The party already subscribes this URL.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.party} → {self.url}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def receives_alerts(self) -> bool:
        return self.active and self.paused_at is None


class AlertDelivery(models.Model):
    """
    One alert to one recipient through one channel: a user's inbox entry or e-mail, or a
    party's webhook subscription. The in-app delivery is the inbox entry itself, with its
    read and acknowledged state.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=20, choices=AlertChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_deliveries"
    )
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    address = models.CharField(max_length=500, blank=True, help_text="The e-mail address or URL it went to.")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    attempts_before_replay = models.PositiveIntegerField(
        default=0, help_text="Attempts made before it was last replayed: a replay gets a full set of retries."
    )
    last_error = models.TextField(blank=True)
    due_at = models.DateTimeField(help_text="When the next attempt is due; the sweep re-queues what is overdue.")
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "user", "channel"],
                condition=Q(user__isnull=False),
                name="alert_delivery_once_per_user_channel",
                violation_error_message="This alert already goes to this user through this channel.",
            ),
            models.UniqueConstraint(
                fields=["alert", "subscription"],
                condition=Q(subscription__isnull=False),
                name="alert_delivery_once_per_subscription",
                violation_error_message="This alert already goes to this webhook subscription.",
            ),
            models.CheckConstraint(
                condition=Q(channel=AlertChannel.WEBHOOK, subscription__isnull=False, user__isnull=True)
                | (~Q(channel=AlertChannel.WEBHOOK) & Q(user__isnull=False, subscription__isnull=True)),
                name="alert_delivery_recipient_matches_channel",
                violation_error_message="A webhook delivery goes to a subscription; inbox and e-mail go to a user.",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "channel", "read_at"]),
            models.Index(fields=["status", "due_at"]),
        ]

    def __str__(self) -> str:
        to = self.subscription or self.user
        return f"{self.alert} → {to} ({self.get_channel_display()})"


class NotificationPreference(models.Model):
    """
    The channels a user wants for one kind of alert. With none stored, the defaults apply
    (``DEFAULT_CHANNELS``): the inbox and e-mail for every kind.
    """

    DEFAULT_CHANNELS: tuple[str, ...] = (AlertChannel.IN_APP.value, AlertChannel.EMAIL.value)
    USER_CHANNELS: tuple[str, ...] = (AlertChannel.IN_APP.value, AlertChannel.EMAIL.value)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    channels = models.JSONField(default=list, blank=True, help_text='E.g. ["in_app", "email"]; empty: none.')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"],
                name="notification_preference_one_per_kind",
                violation_error_message="The user already has a preference for this kind of alert.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} by {', '.join(self.channels) or 'no channel'}"


class WebhookAttempt(models.Model):
    """One POST of a delivery to a webhook: its response status or error, and how long it took."""

    delivery = models.ForeignKey(AlertDelivery, on_delete=models.CASCADE, related_name="webhook_attempts")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"],
                name="webhook_attempt_number_unique",
                violation_error_message="This attempt of the delivery is already logged.",
            )
        ]

    def __str__(self) -> str:
        outcome = self.status_code or self.error[:40] or "no response"
        return f"Attempt {self.number} of delivery {self.delivery_id}: {outcome}"
