"""Serializers of the execution API: executions (create only), revocations, and conditions
precedent as evaluated."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from covenants.models import Agreement
from execution.models import ComplianceCertificate, Execution, RecordedSatisfaction
from parties.models import Party, SignatureBlock
from portal.api.base import ScopedPrimaryKeyRelatedField


class RevocationSerializer(serializers.Serializer):
    reason = serializers.CharField()
    revoked_by = serializers.CharField(source="revoked_by.username")
    revoked_at = serializers.DateTimeField()


class ExecutionSerializer(serializers.ModelSerializer):
    """One execution as recorded; ``revocation`` is null while it stands."""

    party = serializers.CharField(source="party.legal_name")
    signed_by = serializers.CharField(source="signed_by.username")
    revocation = serializers.SerializerMethodField()
    has_counterpart = serializers.SerializerMethodField()
    # Declared: a record of fact, and its schema the same on every database.
    sequence = serializers.IntegerField(read_only=True)

    class Meta:
        model = Execution
        fields = [
            "id", "block", "sequence", "method", "party", "signatory_name", "capacity", "authority", "signed_by",
            "signed_at", "ip_address", "second_factor", "document", "document_sha256", "counterpart_name",
            "counterpart_media_type", "counterpart_sha256", "has_counterpart", "revocation",
        ]  # fmt: skip

    def get_revocation(self, obj: Execution) -> dict[str, Any] | None:
        revocation = getattr(obj, "revocation", None)
        return RevocationSerializer(revocation).data if revocation is not None else None

    def get_has_counterpart(self, obj: Execution) -> bool:
        return bool(obj.counterpart_sha256)


class ExecuteSerializer(serializers.Serializer):
    """Execute a block (or, with ``counterpart``, stand a scanned counterpart for it): the
    version read, the password again and, where set up, the second-factor code."""

    block = ScopedPrimaryKeyRelatedField(SignatureBlock)
    document_sha256 = serializers.CharField(max_length=64)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    code = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=16)
    counterpart = serializers.FileField(required=False, write_only=True)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    code = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=16)


class RecordedSatisfactionSerializer(serializers.ModelSerializer):
    party = serializers.CharField(source="party.legal_name", allow_null=True, default=None)
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = RecordedSatisfaction
        fields = ["id", "party", "reason", "satisfied_on", "recorded_by", "recorded_at"]


class RecordSerializer(serializers.Serializer):
    party = ScopedPrimaryKeyRelatedField(Party, required=False, allow_null=True)
    reason = serializers.CharField()
    satisfied_on = serializers.DateField()


class CertificateSerializer(serializers.ModelSerializer):
    """A compliance certificate as generated and where it stands."""

    officer_party = serializers.CharField(source="officer_party.legal_name", allow_null=True, default=None)
    signed_by = serializers.CharField(source="signed_by.username", allow_null=True, default=None)
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True, default=None)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = ComplianceCertificate
        fields = [
            "id", "agreement", "period_end", "version", "status", "content", "content_sha256", "prepared_at",
            "officer_party", "signed_by", "signatory_name", "signatory_title", "authority", "signed_at",
            "reviewed_by", "reviewed_at", "review_comments", "superseded_at", "superseded_reason",
        ]  # fmt: skip


class PrepareSerializer(serializers.Serializer):
    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    period_end = serializers.DateField()


class SignCertificateSerializer(serializers.Serializer):
    content_sha256 = serializers.CharField(max_length=64)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    code = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=16)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    comments = serializers.CharField(required=False, allow_blank=True)
