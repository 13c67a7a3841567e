"""
The reference rows a facility's covenants are written with: line items (the figures every
deal's statements name; administrators create them) and each agreement's defined terms (its
Agents and administrators). Writes go through ``covenants.onboarding``, which asks the access
rule and runs the models' own checks.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from covenants import onboarding
from covenants.models import Agreement, DefinedMetric, LineItem
from portal.api.base import PortalViewSet, scoped_choices
from portal.api.covenants.permissions import AdministersAgreement
from portal.api.covenants.serializers.onboarding import (
    DefinedMetricPatchSerializer,
    DefinedMetricSerializer,
    DefinedMetricWriteSerializer,
    LineItemSerializer,
)


class LineItemFilterSet(filters.FilterSet):
    """Line items by code."""

    code = filters.CharFilter(help_text="A line item's code, e.g. net_income.")

    class Meta:
        model = LineItem
        fields = ["code"]


class DefinedMetricFilterSet(filters.FilterSet):
    """An agreement's defined terms."""

    agreement = filters.ModelChoiceFilter(queryset=scoped_choices(Agreement), help_text="An agreement's id.")
    name = filters.CharFilter(help_text="The name formulas use.")

    class Meta:
        model = DefinedMetric
        fields = ["agreement", "name"]


class LineItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """The figures Borrowers report, the same in every deal. Administrators add them."""

    model = LineItem
    serializer_class = LineItemSerializer
    filterset_class = LineItemFilterSet
    ordering_fields = ["id", "code", "name"]
    ordering = ["name"]

    @extend_schema(request=LineItemSerializer, responses={201: LineItemSerializer})
    def create(self, request: Request) -> Response:
        """Add a line item (administrators): its ``code`` is what files and formulas name."""
        serializer = LineItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line_item = onboarding.line_item_create(user=request.user, **serializer.validated_data)
        return Response(LineItemSerializer(line_item).data, status=status.HTTP_201_CREATED)


class DefinedMetricViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Defined terms of the agreements the user sees, as formulas over line items and other
    defined terms. The Agents of the agreement and administrators record and change them."""

    model = DefinedMetric
    serializer_class = DefinedMetricSerializer
    filterset_class = DefinedMetricFilterSet
    permission_classes = [IsAuthenticated, AdministersAgreement]
    ordering_fields = ["id", "name"]
    ordering = ["agreement_id", "name"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("agreement")

    @extend_schema(request=DefinedMetricWriteSerializer, responses={201: DefinedMetricSerializer})
    def create(self, request: Request) -> Response:
        """Define a term of an agreement, e.g. ``consolidated_ebitda`` = ``net_income + interest_expense``."""
        serializer = DefinedMetricWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        metric = onboarding.defined_metric_create(user=request.user, **serializer.validated_data)
        return Response(DefinedMetricSerializer(metric).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DefinedMetricPatchSerializer, responses={200: DefinedMetricSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change a defined term; the covenants testing it are re-evaluated."""
        metric = self.get_object()
        serializer = DefinedMetricPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        metric = onboarding.defined_metric_update(user=request.user, metric=metric, changes=serializer.validated_data)
        return Response(DefinedMetricSerializer(metric).data)
