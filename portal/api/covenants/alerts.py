"""
API resources for alerts (each user's inbox) and webhooks (a party's subscriptions).

An alert is read through its inbox entry: a user lists, reads and acknowledges only the
entries addressed to them, for agreements they may still see. Webhook subscriptions are
managed by the party's own users and administrators only (a party sits in many deals, so no
deal's Agent manages them); the signing secret is shown once, when the subscription is
created or its secret rotated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import inbox as inbox_services
from alerts import raising as alert_services
from alerts import webhooks as webhook_services
from alerts.choices import AlertKind
from alerts.models import AlertDelivery, WebhookSubscription
from portal.api.base import PortalViewSet

# Scopes: the user's inbox and their parties' subscriptions (covenants.access.scopes).


class AlertSerializer(serializers.ModelSerializer):
    """One alert as it reached the user's inbox."""

    alert = serializers.IntegerField(source="alert.id", read_only=True)
    kind = serializers.CharField(source="alert.kind", read_only=True)
    agreement = serializers.IntegerField(source="alert.agreement_id", read_only=True)
    covenant = serializers.IntegerField(source="alert.covenant_id", read_only=True, allow_null=True)
    section = serializers.CharField(source="alert.covenant.section", read_only=True, allow_null=True, default=None)
    test_date = serializers.DateField(source="alert.test_date", read_only=True, allow_null=True)
    borrower = serializers.CharField(source="alert.borrower.legal_name", read_only=True, allow_null=True, default=None)
    transition = serializers.CharField(source="alert.transition", read_only=True)
    title = serializers.CharField(source="alert.title", read_only=True)
    message = serializers.CharField(source="alert.message", read_only=True)
    value = serializers.DecimalField(
        source="alert.value", max_digits=28, decimal_places=6, read_only=True, allow_null=True
    )
    threshold = serializers.DecimalField(
        source="alert.threshold", max_digits=26, decimal_places=6, read_only=True, allow_null=True
    )
    link = serializers.CharField(source="alert.link_path", read_only=True)
    raised_at = serializers.DateTimeField(source="alert.created_at", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = AlertDelivery
        fields = [
            "id", "alert", "kind", "agreement", "covenant", "section", "test_date", "borrower", "transition",
            "title", "message", "value", "threshold", "link", "raised_at", "read_at", "acknowledged_at",
            "acknowledged_by",
        ]  # fmt: skip
        read_only_fields = fields


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """The requesting user's alerts: list, read and acknowledge."""

    model = AlertDelivery
    serializer_class = AlertSerializer
    ordering_fields = ["id", "read_at"]
    ordering = ["-id"]

    def optimize(self, queryset: Any) -> Any:
        return queryset.select_related("alert__covenant", "alert__borrower", "acknowledged_by")

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Acknowledge the alert: your team sees who has it in hand, and when."""
        entry = self.get_object()
        try:
            inbox_services.alert_acknowledge(user=request.user, delivery=entry)
        except alert_services.AlertRefused as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"], url_path="read")
    def mark_read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the alert read."""
        entry = self.get_object()
        inbox_services.alert_mark_read(user=request.user, delivery_ids=[entry.pk])
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)


class WebhookSerializer(serializers.ModelSerializer):
    """A party's subscription of a URL to kinds of alert."""

    party = serializers.PrimaryKeyRelatedField(read_only=True)
    failed_deliveries = serializers.IntegerField(
        read_only=True, help_text="Deliveries that failed every retry: POST replay/ to send them again."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id", "party", "url", "description", "kinds", "active", "paused_at", "pause_reason",
            "consecutive_failures", "failed_deliveries", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    """As created or given a new secret: with the secret that signs each delivery (shown only now)."""

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookWriteSerializer(serializers.Serializer):
    """Subscribe a party's URL to the chosen kinds of alert."""

    party = serializers.IntegerField()
    url = serializers.URLField(max_length=500)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=AlertKind.choices), allow_empty=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, PortalViewSet):
    """Webhook subscriptions of the parties the user may manage."""

    model = WebhookSubscription
    serializer_class = WebhookSerializer
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def optimize(self, queryset: Any) -> Any:
        # The rows of the scope, with the replayable failed deliveries the list shows.
        return webhook_services.subscriptions_for(self.user).filter(pk__in=queryset.values("pk")).order_by()

    def _respond(
        self,
        subscription: WebhookSubscription,
        serializer: type[WebhookSerializer] = WebhookSerializer,
        code: int = status.HTTP_200_OK,
    ) -> Response:
        # Read back through the scope, which counts the replayable failed deliveries.
        return Response(serializer(self.get_queryset().get(pk=subscription.pk)).data, status=code)

    @extend_schema(request=WebhookWriteSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request) -> Response:
        """Subscribe a URL; the response carries the signing secret, shown only once."""
        data = WebhookWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        party = webhook_services.parties_for_webhooks(request.user).filter(pk=data.validated_data["party"]).first()
        if party is None:
            raise serializers.ValidationError({"party": ["You may not manage the webhooks of this party."]})
        try:
            subscription = webhook_services.webhook_subscription_create(
                user=request.user,
                party=party,
                url=data.validated_data["url"],
                kinds=data.validated_data["kinds"],
                description=data.validated_data["description"],
            )
        except alert_services.AlertRefused as exc:
            raise serializers.ValidationError({"url": [str(exc)]}) from None
        return self._respond(subscription, WebhookCreatedSerializer, status.HTTP_201_CREATED)

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        try:
            webhook_services.webhook_subscription_delete(user=self.request.user, subscription=instance)
        except alert_services.AlertRefused as exc:
            raise PermissionDenied(str(exc)) from None

    @extend_schema(request=None, responses={200: WebhookSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Pause deliveries to this URL; they wait until it is resumed."""
        try:
            subscription = webhook_services.webhook_subscription_pause(
                user=request.user, subscription=self.get_object()
            )
        except alert_services.AlertRefused as exc:
            raise PermissionDenied(str(exc)) from None
        return self._respond(subscription)

    @extend_schema(request=None, responses={200: WebhookCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """Replace the signing secret; the response carries the new one, shown only now."""
        try:
            subscription = webhook_services.webhook_subscription_rotate_secret(
                user=request.user, subscription=self.get_object()
            )
        except alert_services.AlertRefused as exc:
            raise PermissionDenied(str(exc)) from None
        return self._respond(subscription, WebhookCreatedSerializer)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("WebhookReplay", {"replayed": serializers.IntegerField()})},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Send again the deliveries that failed every retry (each carries its alert's key, so a
        receiver drops what it already has); a paused subscription sends them when resumed."""
        try:
            replayed = webhook_services.webhook_deliveries_replay(user=request.user, subscription=self.get_object())
        except alert_services.AlertRefused as exc:
            raise PermissionDenied(str(exc)) from None
        return Response({"replayed": replayed})

    @extend_schema(request=None, responses={200: WebhookSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Resume deliveries; those that waited are sent."""
        try:
            subscription = webhook_services.webhook_subscription_resume(
                user=request.user, subscription=self.get_object()
            )
        except alert_services.AlertRefused as exc:
            raise PermissionDenied(str(exc)) from None
        return self._respond(subscription)


__all__ = ["AlertViewSet", "WebhookViewSet"]
