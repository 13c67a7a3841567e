"""Serializers of covenants and the versions of their terms, with their schedules."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance import engine, selectors
from covenants.choices import (
    AmendmentStatus,
    Basis,
    Direction,
    Frequency,
    MetricKind,
    TermsAction,
    ThresholdState,
    WindowKind,
)
from covenants.models import Agreement, Amendment, Covenant, CovenantTerms, DefinedMetric, LineItem, ThresholdStep
from parties.models import Party
from portal.api.base import ScopedPrimaryKeyRelatedField


class ThresholdStepSerializer(serializers.ModelSerializer):
    """A schedule row: the threshold for a test date (null when to be set or redacted)."""

    class Meta:
        model = ThresholdStep
        fields = [
            "test_date",
            "applies_thereafter",
            "threshold",
            "threshold_state",
            "amount_as_printed",
            "date_as_printed",
            "date_reading",
        ]
        read_only_fields = fields


class CovenantTermsSerializer(serializers.ModelSerializer):
    """One version of a covenant's terms, in force from ``effective_from`` until the next version."""

    amendment_title = serializers.CharField(source="amendment.title", read_only=True, allow_null=True, default=None)
    provisional = serializers.SerializerMethodField()
    line_item = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    denominator_line_item = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    threshold_relative_to = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    schedule = ThresholdStepSerializer(many=True, read_only=True)

    class Meta:
        model = CovenantTerms
        fields = [
            "id",
            "covenant",
            "amendment",
            "amendment_title",
            "provisional",
            "action",
            "effective_from",
            "effective_from_as_printed",
            "text_as_printed",
            "reading",
            "metric_kind",
            "line_item",
            "metric",
            "frequency",
            "window_periods",
            "window_kind",
            "denominator_line_item",
            "denominator_window_periods",
            "denominator_window_kind",
            "direction",
            "basis",
            "reporting_party",
            "threshold_relative_to",
            "schedule",
        ]
        read_only_fields = fields

    def get_provisional(self, terms: CovenantTerms) -> bool:
        """True while the amendment that made these terms is pending its conditions precedent."""
        return bool(terms.amendment_id and terms.amendment.status == AmendmentStatus.PENDING)


class ScheduleRowWriteSerializer(serializers.Serializer):
    """A schedule row to record. A threshold that is not set (to be set by the Agent, redacted) has none."""

    test_date = serializers.DateField()
    threshold = serializers.DecimalField(max_digits=26, decimal_places=6, required=False, allow_null=True, default=None)
    threshold_state = serializers.ChoiceField(choices=ThresholdState.choices, default=ThresholdState.SET)
    applies_thereafter = serializers.BooleanField(default=False)
    amount_as_printed = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    date_as_printed = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    date_reading = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CovenantTermsWriteSerializer(serializers.Serializer):
    """A new version of a covenant's terms with its schedule, as an amendment makes it."""

    amendment = ScopedPrimaryKeyRelatedField(Amendment, required=False, allow_null=True, default=None)
    action = serializers.ChoiceField(choices=TermsAction.choices, default=TermsAction.ADD)
    effective_from = serializers.DateField()
    effective_from_as_printed = serializers.BooleanField(
        default=False, help_text="The text sets its own date; otherwise terms follow their amendment's date."
    )
    text_as_printed = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    reading = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    metric_kind = serializers.ChoiceField(choices=MetricKind.choices, default=MetricKind.SUM)
    line_item = serializers.SlugRelatedField(
        slug_field="code", queryset=LineItem.objects.all(), required=False, allow_null=True, default=None
    )
    metric = ScopedPrimaryKeyRelatedField(
        DefinedMetric,
        required=False,
        allow_null=True,
        default=None,
        help_text="A defined term of the agreement to test, instead of one line item.",
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.QUARTER)
    window_periods = serializers.IntegerField(min_value=1, max_value=40, default=1)
    window_kind = serializers.ChoiceField(choices=WindowKind.choices, default=WindowKind.TRAILING)
    denominator_line_item = serializers.SlugRelatedField(
        slug_field="code", queryset=LineItem.objects.all(), required=False, allow_null=True, default=None
    )
    denominator_window_periods = serializers.IntegerField(
        min_value=1, max_value=40, required=False, allow_null=True, default=None
    )
    denominator_window_kind = serializers.ChoiceField(choices=WindowKind.choices, default=WindowKind.TRAILING)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.AT_LEAST)
    basis = serializers.ChoiceField(choices=Basis.choices, default=Basis.COMBINED)
    reporting_party = ScopedPrimaryKeyRelatedField(
        Party,
        required=False,
        allow_null=True,
        default=None,
        help_text="On a consolidated basis: the party whose consolidated statement stands for the group.",
    )
    threshold_relative_to = serializers.SlugRelatedField(
        slug_field="code", queryset=LineItem.objects.all(), required=False, allow_null=True, default=None
    )
    schedule = ScheduleRowWriteSerializer(many=True, allow_empty=True, max_length=500)


class CovenantSerializer(serializers.ModelSerializer):
    """A covenant with the terms in force today and every version of its terms with its schedule."""

    terms_in_force = serializers.SerializerMethodField()
    versions = CovenantTermsSerializer(source="terms", many=True, read_only=True)

    class Meta:
        model = Covenant
        fields = ["id", "agreement", "section", "name", "warning_band_percent", "terms_in_force", "versions"]
        read_only_fields = fields

    @extend_schema_field(CovenantTermsSerializer(allow_null=True))
    def get_terms_in_force(self, covenant: Covenant) -> dict | None:
        """The version in force today (null before the first, or once an amendment deletes the covenant)."""
        terms = terms_in_force_on(covenant, timezone.localdate())
        return CovenantTermsSerializer(terms, context=self.context).data if terms is not None else None


def terms_in_force_on(covenant: Covenant, day: Any) -> CovenantTerms | None:
    """The prefetched version of the covenant's terms in force on ``day``, chosen by the engine."""
    chosen = engine.terms_in_force(selectors.covenant_spec(covenant).versions, day)
    if chosen is None:
        return None
    return next(t for t in covenant.terms.all() if t.pk == chosen.terms_id)


class CovenantWriteSerializer(serializers.Serializer):
    """A new covenant of an agreement; its terms follow at ``covenants/{id}/terms/``."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    section = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=255)
    warning_band_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True, default=None
    )


class TermsInForceQuerySerializer(serializers.Serializer):
    """The test date to read the terms for."""

    date = serializers.DateField(help_text="A date, YYYY-MM-DD; today when omitted.", required=False)
