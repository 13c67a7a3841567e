"""
The covenants API: agreements, amendments, covenants and their terms, financial
statements, covenant test results and waivers.

Views stay thin: reads start from the user's scope (``portal.api.PortalViewSet``), writes go
through the same services as the pages, in the request's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.models import CovenantTestResult
from covenants import onboarding, services, terms_services
from covenants.access import may
from covenants.models import Agreement, AgreementRole, Amendment, Covenant, CovenantTerms, ThresholdStep, Waiver
from portal.api.base import ERROR, PortalViewSet
from portal.api.covenants.filtersets import (
    AgreementFilterSet,
    AmendmentFilterSet,
    CovenantFilterSet,
    CovenantTestResultFilterSet,
    FinancialStatementFilterSet,
    WaiverFilterSet,
)
from portal.api.covenants.permissions import AdministersAgreement
from portal.api.covenants.rows import ValuesListMixin
from portal.api.covenants.serializers.agreements import (
    AgreementRoleSerializer,
    AgreementRoleWriteSerializer,
    AgreementSerializer,
    AmendmentChangeSerializer,
    AmendmentSerializer,
    AmendmentWriteSerializer,
)
from portal.api.covenants.serializers.onboarding import AgreementWriteSerializer, CovenantPatchSerializer
from portal.api.covenants.serializers.results import (
    CovenantTestResultSerializer,
    WaiverSerializer,
    WaiverWriteSerializer,
)
from portal.api.covenants.serializers.statements import (
    RECORD_SCHEMA,
    FinancialStatementSerializer,
    StatementFileSubmitSerializer,
    StatementRecordsSubmitSerializer,
    SubmissionErrorsSerializer,
    SubmissionSerializer,
)
from portal.api.covenants.serializers.terms import (
    CovenantSerializer,
    CovenantTermsSerializer,
    CovenantTermsWriteSerializer,
    CovenantWriteSerializer,
    TermsInForceQuerySerializer,
    terms_in_force_on,
)
from statements import services as statement_services
from statements.file_size import file_too_large
from statements.models import FinancialStatement, StatementLine, StatementUpload
from statements.types import UploadError

SUBMIT_REFUSED = "Only the Borrowers' users and the Agents may submit financial statements for this agreement."
FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Agreements the user's parties hold a role in, with roles, amendment chain and covenants.

    The Agents of an agreement and administrators add and remove its roles."""

    model = Agreement
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilterSet
    permission_classes = [IsAuthenticated, AdministersAgreement]
    ordering_fields = ["id", "name", "dated_as_of"]
    ordering = ["name"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related(
            Prefetch(
                "roles",
                queryset=AgreementRole.objects.select_related("party").order_by("role", "party__legal_name", "id"),
            ),
            Prefetch(
                "amendments",
                queryset=Amendment.objects.prefetch_related("conditions_precedent").order_by("number"),
            ),
            Prefetch("covenants", queryset=Covenant.objects.order_by("section")),
            "required_line_items",
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            # Which guaranteed agreements the user may see: one query per page, not per row.
            context["visible_agreement_ids"] = set(self.visible(Agreement).values_list("pk", flat=True))
        return context

    def _respond(self, agreement: Agreement, status_code: int = status.HTTP_200_OK) -> Response:
        agreement = self.get_queryset().get(pk=agreement.pk)
        return Response(self.get_serializer(agreement).data, status=status_code)

    @extend_schema(request=AgreementWriteSerializer, responses={201: AgreementSerializer})
    def create(self, request: Request) -> Response:
        """Create an agreement (administrators). Give its parties their roles next, at
        ``agreements/{id}/roles/``: until then only administrators see it."""
        serializer = AgreementWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        items = fields.pop("required_line_items", ())
        agreement = onboarding.agreement_create(user=request.user, required_line_items=items, **fields)
        return self._respond(agreement, status.HTTP_201_CREATED)

    @extend_schema(request=AgreementWriteSerializer(partial=True), responses={200: AgreementSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change an agreement's particulars (its Agents and administrators)."""
        agreement = self.get_object()
        context = self.get_serializer_context()
        serializer = AgreementWriteSerializer(data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        items = changes.pop("required_line_items", None)
        agreement = onboarding.agreement_update(
            user=request.user, agreement=agreement, changes=changes, required_line_items=items
        )
        return self._respond(agreement)

    @extend_schema(request=AgreementRoleWriteSerializer, responses={201: AgreementRoleSerializer})
    @action(detail=True, methods=["post"], url_path="roles")
    def add_role(self, request: Request, pk: str | None = None) -> Response:
        """Give a party a role in the agreement (Agents of the agreement and administrators)."""
        agreement = self.get_object()
        serializer = AgreementRoleWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        role = terms_services.agreement_role_add(user=request.user, agreement=agreement, **serializer.validated_data)
        return Response(AgreementRoleSerializer(role).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[OpenApiParameter("role_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The role's id.")],
    )
    @action(detail=True, methods=["delete"], url_path=r"roles/(?P<role_id>[0-9]+)")
    def remove_role(self, request: Request, pk: str | None = None, role_id: str | None = None) -> Response:
        """Remove a role from the agreement (Agents of the agreement and administrators)."""
        agreement = self.get_object()
        role = get_object_or_404(AgreementRole.objects.select_related("agreement"), agreement=agreement, pk=role_id)
        terms_services.agreement_role_remove(user=request.user, agreement_role=role)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AmendmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Amendments with their conditions precedent. The Agents and administrators record them,
    mark them effective and correct their dates."""

    model = Amendment
    serializer_class = AmendmentSerializer
    filterset_class = AmendmentFilterSet
    permission_classes = [IsAuthenticated, AdministersAgreement]
    ordering_fields = ["id", "number", "dated_as_of", "effective_on"]
    ordering = ["agreement_id", "number"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("agreement").prefetch_related("conditions_precedent")

    def _respond(self, amendment: Amendment, status_code: int = status.HTTP_200_OK) -> Response:
        amendment = self.get_queryset().get(pk=amendment.pk)
        return Response(self.get_serializer(amendment).data, status=status_code)

    @extend_schema(request=AmendmentWriteSerializer, responses={201: AmendmentSerializer})
    def create(self, request: Request) -> Response:
        """Record an amendment of an agreement (its Agents and administrators)."""
        serializer = AmendmentWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        amendment = terms_services.amendment_create(user=request.user, **serializer.validated_data)
        return self._respond(amendment, status.HTTP_201_CREATED)

    @extend_schema(request=AmendmentChangeSerializer, responses={200: AmendmentSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change the amendment's status (pending → effective once its conditions precedent are
        satisfied) or its particulars. A new effective date moves the terms it made, or is refused
        with a message naming the terms whose schedule disagrees; nothing is saved then."""
        amendment = self.get_object()
        serializer = AmendmentChangeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        new_status = changes.pop("status", None)
        if changes:
            amendment = terms_services.amendment_update(user=request.user, amendment=amendment, **changes)
        if new_status is not None:
            amendment = terms_services.amendment_status_set(user=request.user, amendment=amendment, status=new_status)
        return self._respond(amendment)


def _terms_prefetch() -> Prefetch:
    terms = CovenantTerms.objects.select_related("amendment", "line_item", "denominator_line_item").prefetch_related(
        Prefetch("schedule", queryset=ThresholdStep.objects.order_by("test_date"))
    )
    return Prefetch("terms", queryset=terms.order_by("effective_from", "id"))


class CovenantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Covenants with the terms in force today and every version of their terms with schedules."""

    model = Covenant
    serializer_class = CovenantSerializer
    filterset_class = CovenantFilterSet
    permission_classes = [IsAuthenticated, AdministersAgreement]
    ordering_fields = ["id", "section"]
    ordering = ["agreement_id", "section"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("agreement").prefetch_related(_terms_prefetch())

    @extend_schema(request=CovenantWriteSerializer, responses={201: CovenantSerializer})
    def create(self, request: Request) -> Response:
        """Add a covenant to an agreement (Agents of the agreement and administrators)."""
        serializer = CovenantWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        covenant = terms_services.covenant_create(user=request.user, **serializer.validated_data)
        covenant = self.get_queryset().get(pk=covenant.pk)
        return Response(self.get_serializer(covenant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CovenantPatchSerializer, responses={200: CovenantSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change a covenant's section, name or warning band (Agents of the agreement and administrators)."""
        covenant = self.get_object()
        serializer = CovenantPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        onboarding.covenant_update(user=request.user, covenant=covenant, changes=serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=covenant.pk)).data)

    @extend_schema(request=CovenantTermsWriteSerializer, responses={201: CovenantTermsSerializer})
    @action(detail=True, methods=["post"], url_path="terms")
    def add_terms(self, request: Request, pk: str | None = None) -> Response:
        """Record a new version of the terms with its schedule, in force from ``effective_from``.

        The version and its rows are saved together or not at all; a row's problem names its
        position: ``{"schedule": ["Row 2 (test_date): ..."]}``."""
        covenant = self.get_object()
        serializer = CovenantTermsWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        schedule = data.pop("schedule")
        terms = onboarding.terms_version_create(user=request.user, covenant=covenant, schedule=schedule, **data)
        terms = (
            CovenantTerms.objects.select_related("amendment", "line_item", "denominator_line_item")
            .prefetch_related(Prefetch("schedule", queryset=ThresholdStep.objects.order_by("test_date")))
            .get(pk=terms.pk)
        )
        return Response(CovenantTermsSerializer(terms).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[TermsInForceQuerySerializer],
        responses={200: CovenantTermsSerializer, 404: OpenApiResponse(ERROR, description="No terms in force.")},
    )
    @action(detail=True, methods=["get"], url_path="terms-in-force")
    def terms_in_force(self, request: Request, pk: str | None = None) -> Response:
        """The version of the terms in force on ``date`` (today when omitted), as its amendments make it."""
        covenant = self.get_object()
        query = TermsInForceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day: dt.date = query.validated_data.get("date") or timezone.localdate()
        terms = terms_in_force_on(covenant, day)
        if terms is None:
            raise NotFound(f"No terms of {covenant.section} are in force on {day.isoformat()}.")
        return Response(CovenantTermsSerializer(terms).data)


def _upload_errors(errors: list[UploadError]) -> Response:
    count = len(errors)
    return Response(
        {
            "detail": f"Nothing was saved: {count} problem{'s' if count != 1 else ''} to correct.",
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def _field_errors(errors: dict[str, Any]) -> Response:
    """A submission's field errors in the upload errors' shape: the field as the column."""
    flat: list[UploadError] = []
    for field, messages in errors.items():
        if isinstance(messages, dict):  # a list's items: {index: [messages]}
            for index, item_messages in messages.items():
                flat.extend(UploadError(int(index) + 1, field, str(m)) for m in item_messages)
        else:
            flat.extend(UploadError(None, field, str(m)) for m in messages)
    return _upload_errors(flat)


class FinancialStatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """
    Borrowers' statements, every version (a restatement supersedes the earlier one).

    Submit figures as a CSV or XLSX file (multipart) or as JSON records; the whole
    submission is accepted or nothing is saved, and every problem comes back at once with
    its row and column.
    """

    model = FinancialStatement
    serializer_class = FinancialStatementSerializer
    filterset_class = FinancialStatementFilterSet
    ordering_fields = ["id", "period_end", "submitted_at", "version"]
    ordering = ["agreement_id", "period_end", "borrower__legal_name", "version"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.select_related("borrower", "upload", "submitted_by", "superseded_by")
            .defer("upload__content")
            .prefetch_related(
                Prefetch(
                    "lines", queryset=StatementLine.objects.select_related("line_item").order_by("line_item__name")
                )
            )
        )

    @extend_schema(
        request={
            "application/json": StatementRecordsSubmitSerializer,
            "multipart/form-data": StatementFileSubmitSerializer,
        },
        responses={201: SubmissionSerializer, 400: SubmissionErrorsSerializer},
    )
    def create(self, request: Request) -> Response:
        """Submit a statement file or JSON records for an agreement's Borrowers."""
        multipart = (request.content_type or "").startswith("multipart/")
        serializer_class = StatementFileSubmitSerializer if multipart else StatementRecordsSubmitSerializer
        try:
            body = request.data
        except ParseError as exc:
            return _upload_errors([UploadError(None, None, str(exc.detail))])
        serializer = serializer_class(data=body, context=self.get_serializer_context())
        if not serializer.is_valid():
            return _field_errors(serializer.errors)
        agreement: Agreement = serializer.validated_data["agreement"]
        if not may(request.user, "submit", agreement):
            raise PermissionDenied(SUBMIT_REFUSED)
        if multipart:
            upload = serializer.validated_data["file"]
            name = upload.name or "statement"
            if too_large := file_too_large(name, upload.size, settings.STATEMENT_UPLOAD_MAX_BYTES):
                return _upload_errors([UploadError(None, None, too_large)])
            outcome = statement_services.statement_file_submit(
                agreement=agreement,
                user=request.user,
                filename=name,
                content=upload.read(),
                content_type=upload.content_type or "",
                source="api",
            )
        else:
            outcome = statement_services.statement_records_submit(
                agreement=agreement, user=request.user, records=serializer.validated_data["records"], source="api"
            )
        if not outcome.ok:
            return _upload_errors(outcome.errors)
        statements = self.get_queryset().filter(pk__in=[st.pk for st in outcome.statements]).order_by(*self.ordering)
        data = {
            "upload": outcome.upload,
            "statements": statements,
            "unchanged": [{"borrower": party, "period_end": period_end} for party, period_end in outcome.unchanged],
        }
        return Response(SubmissionSerializer(data, context=self.get_serializer_context()).data, status=201)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The original file is sent as it was stored, whatever the client says it accepts.
        return super().perform_content_negotiation(request, force=force or self.action == "file")

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, FILE_TYPES["xlsx"]): OpenApiTypes.BINARY,
            (200, "application/json"): {"type": "array", "items": RECORD_SCHEMA},
        }
    )
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The original file (or JSON records) the statement was submitted in, byte for byte."""
        statement = self.get_object()
        # Loaded through the rule's "download" scope: may(user, "download", upload), in the same query.
        uploads = self.visible(StatementUpload, "download").only("filename", "format", "content")
        upload = get_object_or_404(uploads, pk=statement.upload_id)
        response = HttpResponse(bytes(upload.content), content_type=FILE_TYPES.get(upload.format, FILE_TYPES["csv"]))
        response["Content-Disposition"] = content_disposition_header(True, upload.filename)
        return response


class CovenantTestResultViewSet(ValuesListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Covenant test results: current ones unless ``is_current`` says otherwise."""

    # Lists are shaped from .values() rows (an integration reads thousands of results a page at
    # a time); the serializer still defines the body, and shapes a single result.

    model = CovenantTestResult
    serializer_class = CovenantTestResultSerializer
    filterset_class = CovenantTestResultFilterSet
    ordering_fields = ["id", "test_date", "covenant__section", "status", "headroom_percent", "evaluated_at"]
    ordering = ["agreement_id", "covenant__section", "test_date", "borrower_id", "id"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("covenant", "borrower")


class WaiverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Waivers of covenant tests. The Agents of the agreement and administrators record them."""

    model = Waiver
    serializer_class = WaiverSerializer
    filterset_class = WaiverFilterSet
    permission_classes = [IsAuthenticated, AdministersAgreement]
    ordering_fields = ["id", "test_date", "recorded_at"]
    ordering = ["agreement_id", "covenant__section", "test_date", "id"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("covenant", "borrower", "recorded_by")

    @extend_schema(request=WaiverWriteSerializer, responses={201: WaiverSerializer})
    def create(self, request: Request) -> Response:
        """Record the Lenders' waiver of one test; the agreement is re-evaluated and the result shows waived."""
        serializer = WaiverWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        covenant: Covenant = data["covenant"]
        try:  # the service asks may(user, "waive", covenant): refused, a 403
            waiver = services.waiver_record(
                covenant_id=covenant.pk,
                test_date=data["test_date"],
                instrument=data["instrument"],
                recorded_by=request.user,
                borrower_id=data["borrower"].pk if data["borrower"] else None,
                amendment_id=data["amendment"].pk if data["amendment"] else None,
                note=data["note"],
            )
        except services.WaiverRefused as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from None
        waiver = self.get_queryset().get(pk=waiver.pk)
        return Response(self.get_serializer(waiver).data, status=status.HTTP_201_CREATED)
