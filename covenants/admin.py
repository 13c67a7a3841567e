"""
The admin for agreements, amendments, covenants and their terms, and the records of fact.

Every admin here derives from ``portal.access.admin.ScopedModelAdmin``: a staff user who is
not an administrator sees and changes only the rows of their agreements that the access
rule allows, and only where their model permissions allow as well. Waivers are recorded by
the waiver service, with its checks; an upload's original is downloaded only by whom
``may(user, "download", upload)`` allows.

Agreements, roles, amendments, covenants, terms and schedules keep history, so they are
registered with ``SimpleHistoryAdmin``: the "History" page shows who changed what, when,
before and after. Financial statements, their lines and uploads, test results and compliance
events are records of fact: the admin shows them and never adds, changes or deletes them,
not even for a superuser. Restatements and re-evaluations go through the services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from simple_history.admin import SimpleHistoryAdmin

from parties.admin import ReadOnlyMixin, SignatureBlockInline, admin_link
from portal.access import may
from portal.access.admin import ScopedInlineMixin, ScopedModelAdmin

from . import services
from .choices import AmendmentStatus, UploadFormat
from .execution import check_execution
from .models import (
    Agreement,
    AgreementRole,
    Amendment,
    ComplianceEvent,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    CovenantTestResult,
    FinancialStatement,
    LineItem,
    Reaffirmation,
    StatementLine,
    StatementUpload,
    ThresholdStep,
    Waiver,
)
from .terms_services import effectiveness_refusal

ALL_SIGNED = "Every party to this document has signed."
NO_SIGNATURE_PAGES = "No signature blocks are recorded for this document, so its execution cannot be checked."


class ExecutionCheckMixin:
    """Adds the read-only "Execution check" of a document's signature blocks to its change page."""

    @admin.display(description="Execution check")
    def execution_check(self, obj: Agreement | Amendment | Reaffirmation | None) -> str:
        if obj is None or obj.pk is None:
            return "Checked once the document and its signature blocks are saved."
        # A document whose signature pages are not on file would list every party as unsigned:
        # say what is missing instead.
        if not obj.signature_blocks.exists():
            return NO_SIGNATURE_PAGES

        findings = check_execution(obj)
        if findings.ok:
            return ALL_SIGNED
        return format_html(
            '<ul class="execution-check">{}</ul>',
            format_html_join("", "<li>{}</li>", ((message,) for message in findings.messages())),
        )


# --- Line items -------------------------------------------------------------------


@admin.register(LineItem)
class LineItemAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """The figures borrowers report: revenues, EBITDA, total debt, interest."""

    list_display = ("name", "code", "description")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}


# --- Agreements, roles, amendments ------------------------------------------------


class AgreementRoleInline(ScopedInlineMixin, admin.TabularInline):
    """The parties to the agreement and the roles they hold, with the dates they hold them."""

    model = AgreementRole
    extra = 0
    autocomplete_fields = ("party", "added_by")
    fields = ("party", "role", "defined_term", "capacity_as_printed", "holds_from", "holds_to", "added_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgreementRole]:
        return super().get_queryset(request).select_related("party", "added_by__agreement")


class AmendmentInline(ScopedInlineMixin, admin.TabularInline):
    """The agreement's amendments; conditions precedent and signatures are on each amendment's page."""

    model = Amendment
    extra = 0
    show_change_link = True
    fields = ("number", "title", "defined_term", "dated_as_of", "effective_on", "status")


@admin.register(Agreement)
class AgreementAdmin(ExecutionCheckMixin, ScopedModelAdmin, SimpleHistoryAdmin):
    """Agreements with their parties' roles, amendments and signature blocks."""

    list_display = ("name", "kind", "title", "dated_as_of", "effective_on", "governing_law", "party_count")
    list_filter = ("kind", "governing_law", "currency")
    search_fields = ("name", "title", "defined_term", "contract_number", "roles__party__legal_name")
    date_hierarchy = "dated_as_of"
    autocomplete_fields = ("guaranteed_agreement",)
    filter_horizontal = ("required_line_items",)
    readonly_fields = ("execution_check", "evaluation_requested_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "title", "defined_term", "contract_number")}),
        ("Dates and law", {"fields": ("dated_as_of", "effective_on", "governing_law", "guaranteed_agreement")}),
        (
            "Reporting",
            {"fields": ("currency", "fiscal_year_end_month", "reporting_deadline_days", "required_line_items")},
        ),
        ("Execution", {"fields": ("execution_check",)}),
        ("Record", {"fields": ("evaluation_requested_at", "created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (AgreementRoleInline, AmendmentInline, SignatureBlockInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        return super().get_queryset(request).annotate(party_total=Count("roles__party", distinct=True))

    @admin.display(description="Parties", ordering="party_total")
    def party_count(self, obj: Agreement) -> int:
        return obj.party_total


@admin.register(AgreementRole)
class AgreementRoleAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Every role of every party, searchable across agreements."""

    list_display = ("party", "role", "agreement", "defined_term", "holds_from", "holds_to", "added_by")
    list_filter = ("role", "agreement")
    search_fields = ("party__legal_name", "defined_term", "agreement__name")
    autocomplete_fields = ("agreement", "party", "added_by")
    list_select_related = ("party", "agreement", "added_by__agreement")


class ConditionsPrecedentFormSet(BaseInlineFormSet):
    """An amendment is effective only once every condition precedent is satisfied: checked here
    with the conditions as submitted, by the same rule as the API."""

    def clean(self) -> None:
        super().clean()
        amendment = self.instance
        if amendment.status != AmendmentStatus.EFFECTIVE:
            return
        kept = [form for form in self.forms if not (self.can_delete and self._should_delete_form(form))]
        conditions = [form.instance for form in kept if form.instance.pk or form.has_changed()]
        refusal = effectiveness_refusal(amendment, conditions)
        if refusal:
            raise forms.ValidationError(refusal)


class ConditionPrecedentInline(ScopedInlineMixin, admin.TabularInline):
    """What the amendment's effectiveness waits on; a deadline left blank in the document stays unknown."""

    model = ConditionPrecedent
    formset = ConditionsPrecedentFormSet
    extra = 0
    fields = ("description", "deadline", "deadline_as_printed", "satisfied_on")


@admin.register(Amendment)
class AmendmentAdmin(ExecutionCheckMixin, ScopedModelAdmin, SimpleHistoryAdmin):
    """Amendments with their conditions precedent, signature blocks and execution check."""

    list_display = ("title", "agreement", "number", "dated_as_of", "effective_on", "status", "fully_executed")
    list_filter = ("status", "agreement")
    search_fields = ("title", "defined_term", "contract_number", "agreement__name", "agreement__title")
    date_hierarchy = "dated_as_of"
    autocomplete_fields = ("agreement",)
    list_select_related = ("agreement",)
    readonly_fields = ("execution_check", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("agreement", "number", "title", "defined_term", "contract_number")}),
        ("Dates and status", {"fields": ("dated_as_of", "effective_on", "status")}),
        ("Execution", {"fields": ("execution_check",)}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (ConditionPrecedentInline, SignatureBlockInline)

    @admin.display(description="Every party signed", boolean=True)
    def fully_executed(self, obj: Amendment) -> bool | None:
        """Unknown (None) where no signature blocks are recorded."""
        if not obj.signature_blocks.exists():
            return None

        return check_execution(obj).ok


@admin.register(ConditionPrecedent)
class ConditionPrecedentAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Conditions precedent across amendments: which are still open, and by when."""

    list_display = ("__str__", "amendment", "deadline", "deadline_as_printed", "satisfied_on")
    list_filter = (("satisfied_on", admin.EmptyFieldListFilter), ("deadline", admin.EmptyFieldListFilter))
    search_fields = ("description", "amendment__title", "amendment__agreement__name")
    autocomplete_fields = ("amendment",)
    list_select_related = ("amendment__agreement",)


@admin.register(Reaffirmation)
class ReaffirmationAdmin(ExecutionCheckMixin, ScopedModelAdmin, SimpleHistoryAdmin):
    """A guarantor's reaffirmation of its guaranty, with its signature blocks."""

    list_display = ("title", "guaranty", "amendment", "dated_as_of")
    list_filter = ("guaranty",)
    search_fields = ("title", "guaranty__name", "amendment__title")
    date_hierarchy = "dated_as_of"
    autocomplete_fields = ("guaranty", "amendment")
    list_select_related = ("guaranty", "amendment__agreement")
    readonly_fields = ("execution_check", "created_at", "updated_at")
    fields = ("guaranty", "amendment", "title", "dated_as_of", "execution_check", "created_at", "updated_at")
    inlines = (SignatureBlockInline,)


# --- Covenants, terms, schedules ----------------------------------------------------


class CovenantTermsListInline(ReadOnlyMixin, ScopedInlineMixin, admin.TabularInline):
    """The versions of a covenant's terms, listed; each is edited on its own page with its schedule."""

    model = CovenantTerms
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "version of the terms"
    verbose_name_plural = "versions of the terms (open one to edit it and its schedule)"
    fields = ("effective_from", "action", "amendment", "line_item", "window_quarters", "direction", "basis", "rows")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CovenantTerms]:
        return (
            super().get_queryset(request).select_related("amendment", "line_item").annotate(row_total=Count("schedule"))
        )

    @admin.display(description="Schedule rows")
    def rows(self, obj: CovenantTerms) -> int:
        return obj.row_total


@admin.register(Covenant)
class CovenantAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Covenants by section, with the warning band and the versions of their terms."""

    list_display = ("section", "name", "agreement", "warning_band_percent", "terms_count")
    list_filter = ("agreement",)
    search_fields = ("section", "name", "agreement__name")
    autocomplete_fields = ("agreement",)
    list_select_related = ("agreement",)
    readonly_fields = ("add_terms", "created_at", "updated_at")
    fields = ("agreement", "section", "name", "warning_band_percent", "add_terms", "created_at", "updated_at")
    inlines = (CovenantTermsListInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Covenant]:
        return super().get_queryset(request).annotate(terms_total=Count("terms", distinct=True))

    @admin.display(description="Versions of terms", ordering="terms_total")
    def terms_count(self, obj: Covenant) -> int:
        return obj.terms_total

    @admin.display(description="New terms")
    def add_terms(self, obj: Covenant) -> str:
        if obj.pk is None:
            return "Save the covenant first, then add its terms."
        url = reverse("admin:covenants_covenantterms_add")
        return format_html('<a href="{}?covenant={}">Add a version of the terms</a>', url, obj.pk)


class ThresholdStepInline(ScopedInlineMixin, admin.TabularInline):
    """The schedule: one row per test date, or a row that holds "and thereafter"."""

    model = ThresholdStep
    extra = 0
    fields = ("test_date", "applies_thereafter", "threshold", "threshold_state", "amount_as_printed")


@admin.register(CovenantTerms)
class CovenantTermsAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """A version of a covenant's terms, in force from its date, with its schedule rows."""

    list_display = (
        "covenant",
        "agreement",
        "effective_from",
        "action",
        "amendment",
        "line_item",
        "window_quarters",
        "direction",
        "basis",
    )
    list_filter = ("covenant__agreement", "action", "metric_kind", "direction", "basis")
    search_fields = ("covenant__section", "covenant__name", "covenant__agreement__name", "text_as_printed")
    date_hierarchy = "effective_from"
    autocomplete_fields = ("covenant", "amendment", "line_item", "denominator_line_item")
    list_select_related = ("covenant__agreement", "amendment__agreement", "line_item")
    fieldsets = (
        (None, {"fields": ("covenant", "amendment", "action", "effective_from")}),
        ("Text", {"fields": ("text_as_printed", "reading")}),
        (
            "Metric",
            {"fields": ("metric_kind", "line_item", "window_quarters", "window_kind", "direction", "basis")},
        ),
        (
            "Ratio denominator",
            {
                "fields": ("denominator_line_item", "denominator_window_quarters", "denominator_window_kind"),
                "classes": ("collapse",),
            },
        ),
    )
    inlines = (ThresholdStepInline,)

    @admin.display(description="Agreement", ordering="covenant__agreement__name")
    def agreement(self, obj: CovenantTerms) -> str:
        return str(obj.covenant.agreement)


@admin.register(ThresholdStep)
class ThresholdStepAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Schedule rows on their own, for search and for their history."""

    list_display = ("terms", "test_date", "applies_thereafter", "threshold", "threshold_state", "amount_as_printed")
    list_filter = ("threshold_state", "applies_thereafter", "terms__covenant__agreement")
    search_fields = ("terms__covenant__section", "terms__covenant__name", "amount_as_printed")
    date_hierarchy = "test_date"
    autocomplete_fields = ("terms",)
    list_select_related = ("terms__covenant", "terms__amendment")


@admin.register(Waiver)
class WaiverAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Waivers of a covenant's test on a test date; each covers only what it names."""

    list_display = ("covenant", "agreement", "test_date", "borrower", "instrument", "recorded_by", "recorded_at")
    list_filter = ("agreement", "covenant")
    search_fields = ("covenant__section", "covenant__name", "agreement__name", "borrower__legal_name", "instrument")
    date_hierarchy = "test_date"
    autocomplete_fields = ("agreement", "covenant", "borrower", "amendment")
    list_select_related = ("covenant", "agreement", "borrower", "recorded_by")
    readonly_fields = ("recorded_by", "recorded_at")
    fields = (
        "agreement",
        "covenant",
        "test_date",
        "borrower",
        "instrument",
        "amendment",
        "note",
        "recorded_by",
        "recorded_at",
    )

    fk_actions = {"covenant": "waive"}

    def get_form(self, request: HttpRequest, obj: Waiver | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class NewWaiverForm(form):  # type: ignore[misc, valid-type]
            """Says before saving what the waiver service would refuse (beyond who may waive,
            which the service decides): the same sentences as the page and the API."""

            def clean(self) -> dict[str, Any]:
                data = super().clean()
                covenant, agreement = data.get("covenant"), data.get("agreement")
                if covenant is None or data.get("test_date") is None:
                    return data
                if agreement is not None and covenant.agreement_id != agreement.pk:
                    raise forms.ValidationError(f"{covenant.section} is not a covenant of {agreement}.")
                refusal = services.waiver_refusal(
                    covenant=covenant,
                    test_date=data["test_date"],
                    instrument=data.get("instrument") or "",
                    borrower_id=data["borrower"].pk if data.get("borrower") else None,
                    amendment_id=data["amendment"].pk if data.get("amendment") else None,
                )
                if refusal:
                    raise forms.ValidationError(refusal)
                return data

        return NewWaiverForm

    def save_model(self, request: HttpRequest, obj: Waiver, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new waiver is recorded by the service, which checks who may waive (once) and what
        # it covers; the agent who records it is the user saving it, never a choice in the form.
        try:
            waiver = services.waiver_record(
                covenant_id=obj.covenant_id,
                test_date=obj.test_date,
                instrument=obj.instrument,
                recorded_by=request.user,
                borrower_id=obj.borrower_id,
                amendment_id=obj.amendment_id,
                note=obj.note,
            )
        except services.WaiverRefused as refused:
            raise PermissionDenied(str(refused)) from None
        obj.pk, obj.agreement_id, obj.recorded_by = waiver.pk, waiver.agreement_id, waiver.recorded_by
        obj.recorded_at, obj.instrument = waiver.recorded_at, waiver.instrument
        obj._state.adding = False


# --- Records of fact: shown, never added, changed or deleted here ---------------------


class RecordOfFactAdmin(ReadOnlyMixin, ScopedModelAdmin, admin.ModelAdmin):
    """Read-only for everyone, superusers included: these rows are changed only by the services."""


class RecordOfFactInline(ReadOnlyMixin, ScopedInlineMixin, admin.TabularInline):
    """A read-only inline for records of fact."""

    extra = 0
    can_delete = False
    show_change_link = True


# Content types the download answers with, by the format the upload was accepted as; the
# type the browser claimed is not trusted.
DOWNLOAD_CONTENT_TYPES = {
    UploadFormat.CSV: "text/csv",
    UploadFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    UploadFormat.JSON: "application/x-ndjson",
}


class UploadStatementInline(RecordOfFactInline):
    """The statements an upload carried."""

    model = FinancialStatement
    fields = ("borrower", "period_end", "version", "status")
    readonly_fields = fields


@admin.register(StatementUpload)
class StatementUploadAdmin(RecordOfFactAdmin):
    """Uploaded files, kept whole: the original can be downloaded; its bytes are never shown on a page."""

    list_display = ("filename", "agreement", "format", "size", "uploaded_by", "uploaded_at", "download_link")
    list_filter = ("agreement", "format", "source")
    search_fields = ("filename", "sha256", "agreement__name", "uploaded_by__username")
    date_hierarchy = "uploaded_at"
    list_select_related = ("agreement", "uploaded_by")
    fields = (
        "agreement",
        "filename",
        "format",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
        "source",
        "download_link",
    )
    readonly_fields = fields
    exclude = ("content",)
    inlines = (UploadStatementInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatementUpload]:
        # The file's bytes are loaded only by the download, never for a list or a page.
        return super().get_queryset(request).defer("content")

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<path:object_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="covenants_statementupload_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The original file, byte for byte, under its original name: for staff with the permission
        to view uploads, and only the files the access rule lets them download."""
        if not object_id.isdigit():
            raise Http404("No such upload.")
        upload = get_object_or_404(StatementUpload.objects.defer("content"), pk=int(object_id))
        # The model permission decides whether this staff user works on uploads at all; the
        # access rule, which files (another agreement's is not disclosed).
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not may(request.user, "download", upload):
            raise Http404("No such upload.")
        response = HttpResponse(
            bytes(upload.content), content_type=DOWNLOAD_CONTENT_TYPES.get(upload.format, "application/octet-stream")
        )
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=upload.filename)
        response["Content-Length"] = str(len(response.content))
        return response

    @admin.display(description="Original file")
    def download_link(self, obj: StatementUpload) -> str:
        if obj.pk is None:
            return ""
        url = reverse("admin:covenants_statementupload_download", args=[obj.pk])
        return format_html('<a href="{}">Download {}</a>', url, obj.filename)


class StatementLineInline(RecordOfFactInline):
    """The figures of a statement."""

    model = StatementLine
    fields = ("line_item", "amount")
    readonly_fields = fields


@admin.register(FinancialStatement)
class FinancialStatementAdmin(RecordOfFactAdmin):
    """Each Borrower's figures for a fiscal quarter, every version kept."""

    list_display = (
        "borrower",
        "agreement",
        "period_end",
        "version",
        "status",
        "submitted_by",
        "submitted_at",
        "upload_link",
    )
    list_filter = ("agreement", ("borrower", admin.RelatedOnlyFieldListFilter), "status", "period_end", "version")
    search_fields = ("borrower__legal_name", "agreement__name", "upload__filename")
    date_hierarchy = "period_end"
    list_select_related = ("borrower", "agreement", "submitted_by", "upload")
    fields = (
        "agreement",
        "borrower",
        "period_end",
        "currency",
        "version",
        "status",
        "supersedes",
        "upload_link",
        "submitted_by",
        "submitted_at",
    )
    readonly_fields = fields
    inlines = (StatementLineInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FinancialStatement]:
        return super().get_queryset(request).select_related("upload").defer("upload__content")

    @admin.display(description="Upload", ordering="upload__uploaded_at")
    def upload_link(self, obj: FinancialStatement) -> str:
        return admin_link(obj.upload) if obj.upload_id else "—"


@admin.register(StatementLine)
class StatementLineAdmin(RecordOfFactAdmin):
    """Single figures, searchable by Borrower, agreement and line item."""

    list_display = ("line_item", "amount", "borrower", "period_end", "version", "agreement")
    list_filter = ("line_item", "statement__agreement", "statement__status", "statement__period_end")
    search_fields = ("statement__borrower__legal_name", "statement__agreement__name", "line_item__name")
    list_select_related = ("line_item", "statement__borrower", "statement__agreement")

    @admin.display(description="Borrower", ordering="statement__borrower__legal_name")
    def borrower(self, obj: StatementLine) -> str:
        return str(obj.statement.borrower)

    @admin.display(description="Fiscal quarter ending", ordering="statement__period_end")
    def period_end(self, obj: StatementLine) -> Any:
        return obj.statement.period_end

    @admin.display(description="Version", ordering="statement__version")
    def version(self, obj: StatementLine) -> int:
        return obj.statement.version

    @admin.display(description="Agreement", ordering="statement__agreement__name")
    def agreement(self, obj: StatementLine) -> str:
        return str(obj.statement.agreement)


@admin.register(CovenantTestResult)
class CovenantTestResultAdmin(RecordOfFactAdmin):
    """Every result ever shown; a changed outcome is a new row and the old one stays, no longer current."""

    list_display = (
        "covenant",
        "agreement",
        "test_date",
        "borrower",
        "status",
        "value",
        "threshold",
        "headroom",
        "provisional",
        "is_current",
        "evaluated_at",
    )
    list_filter = ("agreement", "covenant", "status", "provisional", "is_current", "test_date")
    search_fields = ("covenant__section", "covenant__name", "agreement__name", "borrower__legal_name")
    date_hierarchy = "test_date"
    list_select_related = ("covenant", "agreement", "borrower")


@admin.register(ComplianceEvent)
class ComplianceEventAdmin(RecordOfFactAdmin):
    """Changes of a test's status, with the results before and after."""

    list_display = ("covenant", "agreement", "test_date", "borrower", "from_status", "to_status", "created_at")
    list_filter = ("agreement", "covenant", "to_status", "from_status")
    search_fields = ("covenant__section", "covenant__name", "agreement__name", "borrower__legal_name")
    date_hierarchy = "created_at"
    list_select_related = ("covenant", "agreement", "borrower")


# --- Alerts -------------------------------------------------------------------------
# Imported here, where they are used, so this section can be read on its own.
from .models import Alert, AlertDelivery, NotificationPreference, WebhookAttempt, WebhookSubscription  # noqa: E402


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
