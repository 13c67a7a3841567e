"""
The admin for covenants, their terms and schedules, and waivers (recorded by the waiver
service, with its checks).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from covenants import services
from covenants.models import (
    Covenant,
    CovenantTerms,
    DefinedMetric,
    ThresholdStep,
    Waiver,
)
from portal.admin.base import ScopedInlineMixin, ScopedModelAdmin
from portal.admin.parties import ReadOnlyMixin

# --- Covenants, terms, schedules ----------------------------------------------------


class CovenantTermsListInline(ReadOnlyMixin, ScopedInlineMixin, admin.TabularInline):
    """The versions of a covenant's terms, listed; each is edited on its own page with its schedule."""

    model = CovenantTerms
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "version of the terms"
    verbose_name_plural = "versions of the terms (open one to edit it and its schedule)"
    fields = ("effective_from", "action", "amendment", "line_item", "window_periods", "direction", "basis", "rows")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CovenantTerms]:
        return (
            super().get_queryset(request).select_related("amendment", "line_item").annotate(row_total=Count("schedule"))
        )

    @admin.display(description="Schedule rows")
    def rows(self, obj: CovenantTerms) -> int:
        return obj.row_total


@admin.register(DefinedMetric)
class DefinedMetricAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """An agreement's defined terms as formulas, checked when saved (covenants.formulas)."""

    list_display = ("label", "name", "agreement", "nature", "formula")
    list_filter = ("agreement", "nature")
    search_fields = ("label", "name", "formula", "agreement__name")
    autocomplete_fields = ("agreement",)
    list_select_related = ("agreement",)
    fields = ("agreement", "label", "name", "nature", "formula", "text_as_printed")


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
    fields = (
        "test_date",
        "applies_thereafter",
        "threshold",
        "threshold_state",
        "amount_as_printed",
        "date_as_printed",
        "date_reading",
    )


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
        "metric",
        "frequency",
        "window_periods",
        "direction",
        "basis",
    )
    list_filter = ("covenant__agreement", "action", "metric_kind", "frequency", "direction", "basis")
    search_fields = ("covenant__section", "covenant__name", "covenant__agreement__name", "text_as_printed")
    date_hierarchy = "effective_from"
    autocomplete_fields = ("covenant", "amendment", "line_item", "denominator_line_item", "metric")
    list_select_related = ("covenant__agreement", "amendment__agreement", "line_item", "metric")
    fieldsets = (
        (None, {"fields": ("covenant", "amendment", "action", "effective_from", "effective_from_as_printed")}),
        ("Text", {"fields": ("text_as_printed", "reading")}),
        (
            "Metric",
            {
                "fields": (
                    "metric_kind",
                    "line_item",
                    "metric",
                    "frequency",
                    "window_periods",
                    "window_kind",
                    "direction",
                    "threshold_relative_to",
                )
            },
        ),
        (
            "Basis",
            {
                "fields": ("basis", "reporting_party"),
                "description": "On a consolidated basis, the party whose consolidated statement stands for the "
                "group (it must hold a role in the agreement; its users may submit that statement).",
            },
        ),
        (
            "Ratio denominator",
            {
                "fields": ("denominator_line_item", "denominator_window_periods", "denominator_window_kind"),
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

    list_display = (
        "terms",
        "test_date",
        "applies_thereafter",
        "threshold",
        "threshold_state",
        "amount_as_printed",
        "date_as_printed",
    )
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

        class NewWaiverForm(form):
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
