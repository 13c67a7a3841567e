"""Agreements' stored texts, their reviews and the spans values were read from: shown, never
changed here (spans and accepted values point into the texts; reviews are decided on their pages)."""

from __future__ import annotations

from django.contrib import admin

from documents.models import Document, ImportReview, ItemDecision, ReviewItem, SourceSpan
from portal.admin.statements import RecordOfFactAdmin


@admin.register(Document)
class DocumentAdmin(RecordOfFactAdmin):
    list_display = ("__str__", "agreement", "kind", "filename", "stored_at", "stored_by")
    list_filter = ("kind", "agreement")
    search_fields = ("title", "filename", "sha256", "agreement__name")
    list_select_related = ("agreement", "stored_by")
    exclude = ("original",)
    readonly_fields = (
        "agreement",
        "amendment",
        "kind",
        "title",
        "filename",
        "media_type",
        "sha256",
        "text",
        "stored_by",
        "stored_at",
    )


@admin.register(ImportReview)
class ImportReviewAdmin(RecordOfFactAdmin):
    """Reviews are decided and applied on the review pages (documents.review), not here."""

    list_display = ("__str__", "document", "agreement", "status", "opened_by", "opened_at", "applied_at")
    list_filter = ("status",)
    list_select_related = ("document", "agreement", "opened_by")
    exclude = ("proposal",)
    readonly_fields = ("document", "agreement", "status", "opened_by", "opened_at", "applied_by", "applied_at")


@admin.register(ReviewItem)
class ReviewItemAdmin(RecordOfFactAdmin):
    list_display = ("key", "review", "section", "decision", "decided_by", "decided_at")
    list_filter = ("section", "decision")
    search_fields = ("key", "label")
    list_select_related = ("review__document", "decided_by")
    readonly_fields = (
        "review", "key", "section", "position", "label", "proposed", "span_start", "span_end", "confidence",
        "reason", "conflict", "decision", "edited", "decided_by", "decided_at", "note",
    )  # fmt: skip


@admin.register(ItemDecision)
class ItemDecisionAdmin(RecordOfFactAdmin):
    list_display = ("item", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
    list_select_related = ("item", "decided_by")
    readonly_fields = ("item", "decision", "value", "note", "decided_by", "decided_at")


@admin.register(SourceSpan)
class SourceSpanAdmin(RecordOfFactAdmin):
    list_display = ("label", "document", "content_type", "object_id", "field", "start", "end")
    search_fields = ("label", "item_key")
    list_select_related = ("document", "content_type")
    readonly_fields = ("document", "content_type", "object_id", "field", "label", "start", "end", "item_key", "item")
