"""
Serializers of the covenants API. They shape data and check input; the rules live in the
services, and every row they name comes from the requesting user's scope
(:class:`portal.api.ScopedPrimaryKeyRelatedField`). Money is a string of decimals, dates ISO.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from compliance import engine, selectors
from compliance.models import CovenantTestResult
from covenants.choices import (
    AmendmentStatus,
    Basis,
    Direction,
    MetricKind,
    Role,
    TermsAction,
    ThresholdState,
    WindowKind,
)
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    LineItem,
    ThresholdStep,
    Waiver,
)
from parties.models import Party
from portal.api.base import ScopedPrimaryKeyRelatedField, parties_attachable_by
from portal.api.parties.serializers import PartyRefSerializer
from statements.models import FinancialStatement, StatementLine, StatementUpload

# --- References: how one resource names another ------------------------------------


class CovenantRefSerializer(serializers.ModelSerializer):
    """A covenant named by another resource."""

    class Meta:
        model = Covenant
        fields = ["id", "section", "name"]
        read_only_fields = fields


class UsernameField(serializers.CharField):
    """The username of a portal user, or null (a command-line import)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        user = super().get_attribute(instance)
        return user.get_username() if user is not None else None

    def to_representation(self, value: Any) -> Any:
        return value


# --- Agreements, roles, amendments ---------------------------------------------------


class AgreementRoleSerializer(serializers.ModelSerializer):
    """A party's role in an agreement, under its defined term, for a span of dates."""

    party = PartyRefSerializer(read_only=True)

    class Meta:
        model = AgreementRole
        fields = [
            "id",
            "party",
            "role",
            "defined_term",
            "capacity_as_printed",
            "holds_from",
            "holds_to",
            "added_by",
        ]
        read_only_fields = fields


class AgreementRoleWriteSerializer(serializers.Serializer):
    """Give a party a role in the agreement."""

    party = ScopedPrimaryKeyRelatedField(Party, scope=parties_attachable_by)
    role = serializers.ChoiceField(choices=Role.choices)
    defined_term = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    capacity_as_printed = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    holds_from = serializers.DateField(required=False, allow_null=True, default=None)
    holds_to = serializers.DateField(required=False, allow_null=True, default=None)
    added_by = ScopedPrimaryKeyRelatedField(Amendment, required=False, allow_null=True, default=None)


class ConditionPrecedentSerializer(serializers.ModelSerializer):
    """A condition an amendment's effectiveness waits on; a deadline left blank is null, with the text as printed."""

    class Meta:
        model = ConditionPrecedent
        fields = ["id", "description", "deadline", "deadline_as_printed", "satisfied_on"]
        read_only_fields = fields


class AmendmentSerializer(serializers.ModelSerializer):
    """An amendment in the agreement's chain; pending until its conditions precedent are satisfied."""

    conditions_precedent = ConditionPrecedentSerializer(many=True, read_only=True)

    class Meta:
        model = Amendment
        fields = [
            "id",
            "agreement",
            "number",
            "title",
            "defined_term",
            "contract_number",
            "dated_as_of",
            "effective_on",
            "status",
            "conditions_precedent",
        ]
        read_only_fields = fields


class AmendmentStatusSerializer(serializers.Serializer):
    """Mark an amendment effective, or pending again. Results under a pending amendment are provisional."""

    status = serializers.ChoiceField(choices=AmendmentStatus.choices)


class AgreementSerializer(serializers.ModelSerializer):
    """An agreement with its parties' roles, its amendment chain and its covenants."""

    guaranteed_agreement = serializers.SerializerMethodField()
    required_line_items = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    roles = AgreementRoleSerializer(many=True, read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)
    covenants = CovenantRefSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "kind",
            "title",
            "name",
            "defined_term",
            "contract_number",
            "dated_as_of",
            "effective_on",
            "governing_law",
            "guaranteed_agreement",
            "currency",
            "fiscal_year_end_month",
            "reporting_deadline_days",
            "required_line_items",
            "roles",
            "amendments",
            "covenants",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_guaranteed_agreement(self, agreement: Agreement) -> int | None:
        """For a guaranty, the agreement it guarantees, when the user may see that one too."""
        pk = agreement.guaranteed_agreement_id
        return pk if pk is not None and pk in self.context.get("visible_agreement_ids", ()) else None


# --- Covenants and their terms ---------------------------------------------------------


class ThresholdStepSerializer(serializers.ModelSerializer):
    """A schedule row: the threshold for a test date (null when to be set or redacted)."""

    class Meta:
        model = ThresholdStep
        fields = ["test_date", "applies_thereafter", "threshold", "threshold_state", "amount_as_printed"]
        read_only_fields = fields


class CovenantTermsSerializer(serializers.ModelSerializer):
    """One version of a covenant's terms, in force from ``effective_from`` until the next version."""

    amendment_title = serializers.CharField(source="amendment.title", read_only=True, allow_null=True, default=None)
    provisional = serializers.SerializerMethodField()
    line_item = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    denominator_line_item = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
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
            "text_as_printed",
            "reading",
            "metric_kind",
            "line_item",
            "window_quarters",
            "window_kind",
            "denominator_line_item",
            "denominator_window_quarters",
            "denominator_window_kind",
            "direction",
            "basis",
            "schedule",
        ]
        read_only_fields = fields

    def get_provisional(self, terms: CovenantTerms) -> bool:
        """True while the amendment that made these terms is pending its conditions precedent."""
        return bool(terms.amendment_id and terms.amendment.status == AmendmentStatus.PENDING)


class ScheduleRowWriteSerializer(serializers.Serializer):
    """A schedule row to record. A threshold that is not set (to be set by the Agent, redacted) has none."""

    test_date = serializers.DateField()
    threshold = serializers.DecimalField(max_digits=24, decimal_places=4, required=False, allow_null=True, default=None)
    threshold_state = serializers.ChoiceField(choices=ThresholdState.choices, default=ThresholdState.SET)
    applies_thereafter = serializers.BooleanField(default=False)
    amount_as_printed = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class CovenantTermsWriteSerializer(serializers.Serializer):
    """A new version of a covenant's terms with its schedule, as an amendment makes it."""

    amendment = ScopedPrimaryKeyRelatedField(Amendment, required=False, allow_null=True, default=None)
    action = serializers.ChoiceField(choices=TermsAction.choices, default=TermsAction.ADD)
    effective_from = serializers.DateField()
    text_as_printed = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    reading = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    metric_kind = serializers.ChoiceField(choices=MetricKind.choices, default=MetricKind.SUM)
    line_item = serializers.SlugRelatedField(
        slug_field="code", queryset=LineItem.objects.all(), required=False, allow_null=True, default=None
    )
    window_quarters = serializers.IntegerField(min_value=1, max_value=40, default=1)
    window_kind = serializers.ChoiceField(choices=WindowKind.choices, default=WindowKind.TRAILING)
    denominator_line_item = serializers.SlugRelatedField(
        slug_field="code", queryset=LineItem.objects.all(), required=False, allow_null=True, default=None
    )
    denominator_window_quarters = serializers.IntegerField(
        min_value=1, max_value=40, required=False, allow_null=True, default=None
    )
    denominator_window_kind = serializers.ChoiceField(choices=WindowKind.choices, default=WindowKind.TRAILING)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.AT_LEAST)
    basis = serializers.ChoiceField(choices=Basis.choices, default=Basis.COMBINED)
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


# --- Statements ------------------------------------------------------------------------


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


# --- Results and waivers -----------------------------------------------------------------


class CovenantTestResultSerializer(serializers.ModelSerializer):
    """
    The outcome of testing a covenant on a test date (for one Borrower on an each-Borrower
    basis). ``is_current`` is false once a later evaluation replaced it; ``provisional``
    when computed under an amendment still pending; ``near_breach`` when compliant with
    headroom under the covenant's warning band, as the engine decided it (the pages, exports
    and alerts say "Near breach" for exactly these).
    """

    covenant = CovenantRefSerializer(read_only=True)
    borrower = PartyRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CovenantTestResult
        fields = [
            "id",
            "agreement",
            "covenant",
            "terms",
            "test_date",
            "borrower",
            "status",
            "value",
            "threshold",
            "headroom",
            "headroom_percent",
            "provisional",
            "near_breach",
            "explanation",
            "inputs",
            "is_current",
            "evaluated_at",
            "superseded_at",
        ]
        read_only_fields = fields


class WaiverSerializer(serializers.ModelSerializer):
    """The Lenders' waiver of one covenant's test on one test date."""

    covenant = CovenantRefSerializer(read_only=True)
    borrower = PartyRefSerializer(read_only=True, allow_null=True)
    recorded_by = UsernameField()

    class Meta:
        model = Waiver
        fields = [
            "id",
            "agreement",
            "covenant",
            "test_date",
            "borrower",
            "instrument",
            "amendment",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class WaiverWriteSerializer(serializers.Serializer):
    """Record a waiver: the covenant, the test date (and the Borrower, on an each-Borrower basis), and the
    instrument that grants it."""

    covenant = ScopedPrimaryKeyRelatedField(Covenant)
    test_date = serializers.DateField()
    borrower = ScopedPrimaryKeyRelatedField(Party, required=False, allow_null=True, default=None)
    instrument = serializers.CharField(max_length=255)
    amendment = ScopedPrimaryKeyRelatedField(Amendment, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        covenant: Covenant = attrs["covenant"]
        borrower = attrs.get("borrower")
        if borrower is not None and not covenant.agreement.roles.filter(party=borrower, role=Role.BORROWER).exists():
            raise serializers.ValidationError(
                {"borrower": [f"{borrower} is not a Borrower under {covenant.agreement}."]}
            )
        return attrs
