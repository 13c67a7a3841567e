"""
The admin for executions and conditions precedent stated as data.

Executions, their revocations and satisfactions recorded by other means are records of fact:
shown, never added, changed or deleted here (signing asks for the password again, and a
mistake is revoked with a reason on the amendment's execution page or through the API). The
requirements a condition's text was read into are the agreement's data: its Agents and
administrators correct them, with history.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from execution.models import (
    ComplianceCertificate,
    Execution,
    ExecutionCondition,
    ExecutionRevocation,
    RecordedSatisfaction,
    SignerRequirement,
)
from portal.admin.base import ScopedInlineMixin, ScopedModelAdmin
from portal.admin.statements import RecordOfFactAdmin


@admin.register(Execution)
class ExecutionAdmin(RecordOfFactAdmin):
    """Who executed which block, for whom, in which capacity, when, from where, on which text."""

    list_display = ("block", "sequence", "method", "signatory_name", "party", "signed_at", "revoked")
    list_filter = ("method",)
    search_fields = ("signatory_name", "party__legal_name", "document_sha256")
    list_select_related = ("block", "party", "revocation")
    fields = (
        "block", "sequence", "method", "party", "person", "signatory_name", "capacity", "authority", "signed_by",
        "signed_at", "ip_address", "second_factor", "document", "document_sha256", "counterpart_name",
        "counterpart_media_type", "counterpart_sha256", "counterpart_link",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(boolean=True, description="Revoked")
    def revoked(self, obj: Execution) -> bool:
        return hasattr(obj, "revocation")

    @admin.display(description="Counterpart")
    def counterpart_link(self, obj: Execution) -> str:
        if not obj.counterpart_sha256:
            return "—"
        url = reverse("execution:counterpart_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.counterpart_name or "Download")


@admin.register(ExecutionRevocation)
class ExecutionRevocationAdmin(RecordOfFactAdmin):
    list_display = ("execution", "reason", "revoked_by", "revoked_at")
    fields = ("execution", "reason", "revoked_by", "revoked_at")
    readonly_fields = fields


@admin.register(RecordedSatisfaction)
class RecordedSatisfactionAdmin(RecordOfFactAdmin):
    list_display = ("condition", "party", "reason", "satisfied_on", "recorded_by", "recorded_at")
    fields = ("condition", "party", "reason", "satisfied_on", "recorded_by", "recorded_at")
    readonly_fields = fields


class SignerRequirementInline(ScopedInlineMixin, admin.TabularInline):
    model = SignerRequirement
    fields = ("position", "role", "vote", "words")
    extra = 0


@admin.register(ExecutionCondition)
class ExecutionConditionAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Who must execute under a condition precedent, as its text was read."""

    list_display = ("condition", "effective_as_of")
    fields = ("condition", "effective_as_of")
    readonly_fields = ("condition",)
    inlines = (SignerRequirementInline,)

    def has_add_permission(self, request: object) -> bool:
        return False  # stated from a condition's text as it is stored


@admin.register(ComplianceCertificate)
class ComplianceCertificateAdmin(RecordOfFactAdmin):
    """Certificates as prepared, signed and reviewed: changed only by their services (sign, review,
    supersede), so the admin shows them read-only."""

    list_display = ("agreement", "period_end", "version", "status", "signatory_name", "signed_at", "reviewed_at")
    list_filter = ("status",)
    list_select_related = ("agreement",)
    fields = (
        "agreement", "period_end", "version", "status", "content_sha256", "prepared_by", "prepared_at",
        "officer_party", "signed_by", "signatory_name", "signatory_title", "authority", "signed_at", "ip_address",
        "second_factor", "reviewed_by", "reviewed_at", "review_comments", "superseded_at", "superseded_reason",
    )  # fmt: skip
    readonly_fields = fields
