"""Serializers of financial statements, their uploads, and submissions as files or JSON records."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from covenants.models import Agreement
from portal.api.base import ScopedPrimaryKeyRelatedField
from portal.api.covenants.serializers.references import UsernameField
from portal.api.parties.serializers import PartyRefSerializer
from statements.models import FinancialStatement, StatementLine, StatementUpload


class StatementLineSerializer(serializers.ModelSerializer):
    """One line item's amount, in whole currency units with cents."""

    line_item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    line_item_name = serializers.CharField(source="line_item.name", read_only=True)

    class Meta:
        model = StatementLine
        fields = ["line_item", "line_item_name", "amount"]
        read_only_fields = fields


class FinancialStatementSerializer(serializers.ModelSerializer):
    """One Borrower's figures for one fiscal quarter, in one version (later versions restate it)."""

    borrower = PartyRefSerializer(read_only=True)
    superseded_by = serializers.SerializerMethodField()
    filename = serializers.CharField(source="upload.filename", read_only=True)
    submitted_by = UsernameField()
    lines = StatementLineSerializer(many=True, read_only=True)
    file = serializers.SerializerMethodField()

    class Meta:
        model = FinancialStatement
        fields = [
            "id",
            "agreement",
            "borrower",
            "period_end",
            "currency",
            "version",
            "status",
            "supersedes",
            "superseded_by",
            "upload",
            "filename",
            "file",
            "submitted_by",
            "submitted_at",
            "lines",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_superseded_by(self, statement: FinancialStatement) -> int | None:
        """The restatement that replaced this version, if any."""
        try:
            return statement.superseded_by.pk
        except FinancialStatement.superseded_by.RelatedObjectDoesNotExist:
            return None

    @extend_schema_field(OpenApiTypes.URI)
    def get_file(self, statement: FinancialStatement) -> str:
        """Where to download the original file (or JSON records) the statement came in."""
        return reverse("api:financialstatement-file", args=[statement.pk], request=self.context.get("request"))


class StatementUploadSerializer(serializers.ModelSerializer):
    """A submitted file, kept whole with its SHA-256."""

    uploaded_by = UsernameField()

    class Meta:
        model = StatementUpload
        fields = ["id", "agreement", "filename", "format", "size", "sha256", "source", "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class UnchangedStatementSerializer(serializers.Serializer):
    """A Borrower and quarter whose figures were already on file, exactly: nothing new recorded."""

    borrower = PartyRefSerializer()
    period_end = serializers.DateField()


class SubmissionSerializer(serializers.Serializer):
    """What a submission recorded: the upload, the statements (restatements included) and what was unchanged."""

    upload = StatementUploadSerializer()
    statements = FinancialStatementSerializer(many=True)
    unchanged = UnchangedStatementSerializer(many=True)


class UploadErrorSerializer(serializers.Serializer):
    """One problem, placed where it is in the file: row 1 is the header; a JSON record's row is its position."""

    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class SubmissionErrorsSerializer(serializers.Serializer):
    """Every problem with a submission, all at once. Nothing was saved."""

    detail = serializers.CharField()
    errors = UploadErrorSerializer(many=True)


RECORD_SCHEMA = {
    "type": "object",
    "properties": {
        "entity": {"type": "string", "description": "A Borrower's legal name or defined term."},
        "period_end": {"type": "string", "format": "date", "description": "The last day of a fiscal quarter."},
        "line_item": {"type": "string", "description": "A line item's name or code: Revenues, EBITDA."},
        "amount": {
            "oneOf": [{"type": "string"}, {"type": "number"}],
            "description": 'E.g. "18,000,000", "$18,000,000", "(4,157,000)", -4157000, "18000000.00".',
        },
    },
    "required": ["entity", "period_end", "line_item", "amount"],
}


class _AsSent(serializers.Field):
    """A record exactly as sent: the upload rules check it, naming its row and column."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "array", "items": RECORD_SCHEMA, "minItems": 1})
class StatementRecordsField(serializers.ListField):
    """Records with the file's columns; each is validated by the upload rules, errors naming row and column."""

    child = _AsSent()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_empty=False, **kwargs)


class StatementRecordsSubmitSerializer(serializers.Serializer):
    """Figures as JSON records, one per Borrower, quarter and line item."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    records = StatementRecordsField()


class StatementFileSubmitSerializer(serializers.Serializer):
    """A CSV or XLSX file with the columns entity, period_end, line_item, amount."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    file = serializers.FileField(allow_empty_file=True, use_url=False)
