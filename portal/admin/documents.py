"""Agreements' stored texts: shown, never changed (spans and accepted values point into them)."""

from __future__ import annotations

from django.contrib import admin

from documents.models import Document
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
