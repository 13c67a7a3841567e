"""Serializers of what onboarding a facility writes: agreements, line items and defined terms."""

from __future__ import annotations

from rest_framework import serializers

from covenants.choices import AgreementKind, Frequency, MetricNature
from covenants.models import Agreement, DefinedMetric, LineItem
from portal.api.base import ScopedPrimaryKeyRelatedField


class AgreementWriteSerializer(serializers.Serializer):
    """A new agreement's particulars (PATCH: any of them). Its parties' roles follow at
    ``agreements/{id}/roles/``, its covenants at ``covenants/``."""

    kind = serializers.ChoiceField(choices=AgreementKind.choices)
    title = serializers.CharField(max_length=255, help_text='As printed: "Credit Agreement".')
    name = serializers.CharField(max_length=255, help_text="How the portal lists it; unique.")
    defined_term = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    contract_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    dated_as_of = serializers.DateField(required=False, allow_null=True, default=None)
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)
    governing_law = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    guaranteed_agreement = ScopedPrimaryKeyRelatedField(Agreement, required=False, allow_null=True, default=None)
    currency = serializers.CharField(min_length=3, max_length=3, required=False, default="USD")
    fiscal_year_end_month = serializers.IntegerField(min_value=1, max_value=12, required=False, default=12)
    fiscal_calendar = serializers.DictField(
        required=False,
        default=dict,
        help_text="The fiscal calendar (see docs/covenants.md); {} for calendar months, the year ending in "
        "fiscal_year_end_month.",
    )
    reporting_frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.QUARTER)
    reporting_deadline_days = serializers.IntegerField(min_value=0, max_value=366, required=False, default=45)
    required_line_items = serializers.SlugRelatedField(
        slug_field="code", queryset=LineItem.objects.all(), many=True, required=False
    )


class LineItemSerializer(serializers.ModelSerializer):
    """A figure Borrowers report, the same in every deal: its code in files, its name as written."""

    class Meta:
        model = LineItem
        fields = ["id", "code", "name", "description"]
        read_only_fields = ["id"]
        extra_kwargs = {"description": {"max_length": 10_000}}


class DefinedMetricSerializer(serializers.ModelSerializer):
    """A defined term of an agreement, as a formula over line items and other defined terms."""

    class Meta:
        model = DefinedMetric
        fields = ["id", "agreement", "name", "label", "formula", "nature", "text_as_printed"]
        read_only_fields = fields


class DefinedMetricWriteSerializer(serializers.Serializer):
    """A defined term to record. The formula is parsed,
    never run as code; an unknown name, a term defined through itself or a syntax error is a 400
    naming ``formula``."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    name = serializers.CharField(max_length=60, help_text="As formulas use it: consolidated_ebitda.")
    label = serializers.CharField(max_length=255, help_text='As the agreement defines it: "Consolidated EBITDA".')
    formula = serializers.CharField(max_length=5_000, help_text="E.g. net_income + interest_expense + income_taxes.")
    nature = serializers.ChoiceField(choices=MetricNature.choices, default=MetricNature.FLOW)
    text_as_printed = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")


class DefinedMetricPatchSerializer(serializers.Serializer):
    """Change a defined term: its name, label, formula, nature or text (its agreement stays)."""

    name = serializers.CharField(max_length=60, required=False)
    label = serializers.CharField(max_length=255, required=False)
    formula = serializers.CharField(max_length=5_000, required=False)
    nature = serializers.ChoiceField(choices=MetricNature.choices, required=False)
    text_as_printed = serializers.CharField(max_length=20_000, required=False, allow_blank=True)


class CovenantPatchSerializer(serializers.Serializer):
    """A covenant's section, name or warning band."""

    section = serializers.CharField(max_length=50, required=False)
    name = serializers.CharField(max_length=255, required=False)
    warning_band_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
