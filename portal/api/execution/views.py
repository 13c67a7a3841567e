"""
The execution API: executions (list, detail, create; never changed: a mistaken one is revoked
with a reason) and conditions precedent as evaluated from them. Reads start from the scope of
each model (:class:`portal.api.base.PortalViewSet`): an agent of another agreement sees
nothing. Writes go through :mod:`execution.services`, which asks the access rule: only a
named signatory executes a block.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from covenants.models import ConditionPrecedent
from execution import certificates, services
from execution.conditions import ConditionFindings, condition_findings
from execution.evidence import COUNTERPART_MAX_BYTES
from execution.models import ComplianceCertificate, Execution
from portal.api.base import PortalViewSet
from portal.api.execution import serializers as s
from portal.login_throttle import client_address


def _reauthentication(request: Request, data: dict[str, Any]) -> services.Reauthentication:
    return services.Reauthentication(
        password=data["password"], code=data.get("code", ""), ip_address=client_address(request)
    )


class ExecutionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Executions of signature blocks, revoked ones included (with the revocation)."""

    model = Execution
    serializer_class = s.ExecutionSerializer
    ordering = ["block_id", "sequence"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("party", "signed_by", "revocation__revoked_by").defer("counterpart")

    @extend_schema(request=s.ExecuteSerializer, responses={201: s.ExecutionSerializer})
    def create(self, request: Request) -> Response:
        """Execute a block as its named signatory, or (with ``counterpart``) stand a scanned
        counterpart for it; the password again, and the code where a device is set up."""
        data = self._valid(s.ExecuteSerializer, request)
        upload = data.get("counterpart")
        common = {
            "user": request.user,
            "block": data["block"],
            "reauthentication": _reauthentication(request, data),
            "document_sha256": data["document_sha256"],
        }
        if upload is None:
            execution = services.block_execute(**common)
        else:
            execution = services.counterpart_upload(
                **common, content=upload.read(COUNTERPART_MAX_BYTES + 1), filename=upload.name
            )
        return Response(self.get_serializer(self.get_queryset().get(pk=execution.pk)).data, status=201)

    @extend_schema(request=s.RevokeSerializer, responses={200: s.ExecutionSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: int | None = None) -> Response:
        """Revoke a mistaken execution with the reason (who signed it, or the agreement's Agents)."""
        execution = self.get_object()
        data = self._valid(s.RevokeSerializer, request)
        services.execution_revoke(
            user=request.user, execution=execution, reason=data["reason"],
            reauthentication=_reauthentication(request, data),
        )  # fmt: skip
        return Response(self.get_serializer(self.get_queryset().get(pk=execution.pk)).data)

    def _valid(self, serializer_class: Any, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _findings_data(found: ConditionFindings) -> dict[str, Any]:
    return {
        "id": found.condition.pk,
        "amendment": found.condition.amendment_id,
        "description": found.condition.description,
        "evaluated": found.evaluated,
        "met": found.met,
        "satisfied_on": found.condition.satisfied_on,
        "missing": found.missing,
        "requirements": [
            {
                "words": r.words,
                "met": r.met,
                "signed": [p.legal_name for p in r.signed],
                "percent_signed": None if r.share is None or r.share.percent is None else f"{r.share.percent:.1f}",
            }
            for r in found.requirements
        ],
        "recorded": s.RecordedSatisfactionSerializer(found.recorded, many=True).data,
    }


_FINDINGS = inline_serializer(
    "ConditionFindings",
    {
        "id": serializers.IntegerField(),
        "amendment": serializers.IntegerField(),
        "description": serializers.CharField(),
        "evaluated": serializers.BooleanField(),
        "met": serializers.BooleanField(),
        "satisfied_on": serializers.DateField(allow_null=True),
        "missing": serializers.ListField(child=serializers.CharField()),
        "requirements": serializers.ListField(child=serializers.DictField()),
        "recorded": s.RecordedSatisfactionSerializer(many=True),
    },
)


class ConditionViewSet(PortalViewSet):
    """Conditions precedent, evaluated from the executions and the Lenders' commitments."""

    model = ConditionPrecedent
    serializer_class = s.RecordSerializer
    ordering = ["amendment_id", "id"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("amendment")

    @extend_schema(responses={200: _FINDINGS})
    def retrieve(self, request: Request, pk: int | None = None) -> Response:
        """The condition as evaluated now: met, what is missing, who signed, what was recorded."""
        return Response(_findings_data(condition_findings(self.get_object())))

    @extend_schema(request=s.RecordSerializer, responses={201: _FINDINGS})
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk: int | None = None) -> Response:
        """Record the condition (or one party's part) satisfied by other means, with the reason
        (the agreement's Agents and administrators)."""
        condition = self.get_object()
        serializer = s.RecordSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.satisfaction_record(
            user=request.user, condition=condition, party=data.get("party"), reason=data["reason"],
            satisfied_on=data["satisfied_on"],
        )  # fmt: skip
        return Response(_findings_data(condition_findings(condition)), status=status.HTTP_201_CREATED)


class CertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Compliance certificates: prepared from the results, signed by a Responsible Officer of a
    Borrower, accepted or returned by the Agent. Lenders see them once signed."""

    model = ComplianceCertificate
    serializer_class = s.CertificateSerializer
    ordering = ["agreement_id", "-period_end", "-version"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("officer_party", "signed_by", "reviewed_by")

    def _valid(self, serializer_class: Any, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _shown(self, certificate: ComplianceCertificate, code: int = 200) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=certificate.pk)).data, status=code)

    @extend_schema(request=s.PrepareSerializer, responses={201: s.CertificateSerializer})
    def create(self, request: Request) -> Response:
        """Prepare the period's certificate from the results as they stand (the same one if unchanged)."""
        data = self._valid(s.PrepareSerializer, request)
        certificate = certificates.certificate_prepare(
            user=request.user, agreement=data["agreement"], period_end=data["period_end"]
        )
        return self._shown(certificate, status.HTTP_201_CREATED)

    @extend_schema(request=s.SignCertificateSerializer, responses={200: s.CertificateSerializer})
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: int | None = None) -> Response:
        """A Responsible Officer of a Borrower signs the certificate whose SHA-256 they read."""
        data = self._valid(s.SignCertificateSerializer, request)
        certificate = certificates.certificate_sign(
            user=request.user, certificate=self.get_object(), reauthentication=_reauthentication(request, data),
            content_sha256_read=data["content_sha256"],
        )  # fmt: skip
        return self._shown(certificate)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.CertificateSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: int | None = None) -> Response:
        """The Agent accepts the signed certificate, or returns it with comments."""
        data = self._valid(s.ReviewSerializer, request)
        certificate = certificates.certificate_review(
            user=request.user, certificate=self.get_object(), accept=data["accept"], comments=data.get("comments", "")
        )
        return self._shown(certificate)
