"""
The admin for records of fact: statement uploads, financial statements and their lines,
test results and compliance events. Shown, never added, changed or deleted here, not even by a
superuser; restatements and re-evaluations go through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header

from compliance.models import AgreementStanding, ComplianceEvent, CovenantTestResult, EvaluatedInputs
from covenants.access import may
from portal.admin.base import ScopedInlineMixin, ScopedModelAdmin
from portal.admin.parties import ReadOnlyMixin, admin_link
from statements.choices import UploadFormat
from statements.models import FinancialStatement, StatementLine, StatementUpload

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
            name="statements_statementupload_download",
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
        url = reverse("admin:statements_statementupload_download", args=[obj.pk])
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


@admin.register(EvaluatedInputs)
class EvaluatedInputsAdmin(RecordOfFactAdmin):
    """The digest of what each agreement's last evaluation read: an evaluation finding it unchanged skips it."""

    list_display = ("agreement", "as_of", "evaluated_at", "digest")
    search_fields = ("agreement__name",)
    list_select_related = ("agreement",)


@admin.register(AgreementStanding)
class AgreementStandingAdmin(RecordOfFactAdmin):
    """Each agreement's counts as the dashboard reads them, written by its evaluations and the
    daily refresh: shown to check a dashboard figure against, never edited."""

    list_display = ("agreement", "as_of", "breach", "near_breach", "incomplete", "late_financials", "written_at")
    search_fields = ("agreement__name",)
    list_select_related = ("agreement",)
