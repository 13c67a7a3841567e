"""
The admin for alerts, their deliveries and webhook attempts (records of fact), webhook
subscriptions and notification preferences.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from alerts.models import Alert, AlertDelivery, NotificationPreference, WebhookAttempt, WebhookSubscription
from portal.admin.base import ScopedModelAdmin
from portal.admin.statements import RecordOfFactAdmin, RecordOfFactInline

# --- Alerts -------------------------------------------------------------------------


class AlertDeliveryInline(RecordOfFactInline):
    """Where the alert went, through which channel, and what became of it."""

    model = AlertDelivery
    fields = (
        "channel",
        "user",
        "subscription",
        "address",
        "status",
        "attempts",
        "sent_at",
        "read_at",
        "acknowledged_by",
    )
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(RecordOfFactAdmin):
    """Alerts as raised: stored before delivery, one per key; changed only by the services."""

    list_display = ("title", "kind", "agreement", "test_date", "borrower", "created_at", "stopped_at")
    list_filter = ("kind", "agreement", ("stopped_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "message", "key", "agreement__name", "covenant__section", "borrower__legal_name")
    date_hierarchy = "created_at"
    list_select_related = ("agreement", "borrower")
    inlines = (AlertDeliveryInline,)


class WebhookAttemptInline(RecordOfFactInline):
    """Each POST of the delivery: status code or error, and how long it took."""

    model = WebhookAttempt
    show_change_link = False
    fields = ("number", "at", "status_code", "succeeded", "duration_ms", "error")
    readonly_fields = fields


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(RecordOfFactAdmin):
    """Deliveries of alerts (inbox, e-mail, webhook), with their attempts."""

    list_display = ("alert", "channel", "user", "subscription", "status", "attempts", "due_at", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("alert__title", "user__username", "address")
    date_hierarchy = "created_at"
    list_select_related = ("alert", "user", "subscription__party")
    inlines = (WebhookAttemptInline,)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(RecordOfFactAdmin):
    """The log of webhook POSTs."""

    list_display = ("delivery", "number", "at", "status_code", "succeeded", "duration_ms")
    list_filter = ("succeeded", "status_code")
    search_fields = ("delivery__address", "error")
    date_hierarchy = "at"
    list_select_related = ("delivery__alert",)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """Parties' webhook subscriptions; pausing and resuming are also on the alerts pages."""

    fk_actions = {"party": "manage_webhooks"}

    list_display = ("party", "url", "active", "paused_at", "consecutive_failures", "created_by", "created_at")
    list_filter = ("active", ("paused_at", admin.EmptyFieldListFilter))
    search_fields = ("party__legal_name", "url", "description")
    autocomplete_fields = ("party",)
    list_select_related = ("party", "created_by")
    readonly_fields = ("consecutive_failures", "created_by", "created_at", "updated_at")
    # A URL typed without its scheme is read as https, as the alerts page's form reads it.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = (
        "party",
        "url",
        "description",
        "kinds",
        "secret",
        "active",
        "paused_at",
        "pause_reason",
        "consecutive_failures",
        "created_by",
        "created_at",
        "updated_at",
    )

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """Users' chosen channels per kind of alert; without one, the defaults apply."""

    list_display = ("user", "kind", "channels", "updated_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
