"""
The admin for line items, agreements, their roles, amendments, conditions precedent and
reaffirmations, with the execution check of each document's signature blocks.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from covenants.amendment_terms import amendment_move_refusals, refusal_error
from covenants.choices import AmendmentStatus
from covenants.execution import check_execution
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    LineItem,
    Reaffirmation,
)
from covenants.periods import FiscalCalendar
from covenants.terms_services import effectiveness_refusal
from portal.admin.base import ScopedInlineMixin, ScopedModelAdmin
from portal.admin.parties import SignatureBlockInline

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


class AgreementForm(forms.ModelForm):
    """The agreement, its stored calendar read as the portal will read it."""

    def clean_fiscal_calendar(self) -> object:
        stored = self.cleaned_data.get("fiscal_calendar") or {}
        if stored:
            try:
                FiscalCalendar.from_dict(stored)
            except ValueError as exc:
                raise forms.ValidationError(f"Not a fiscal calendar: {exc}") from None
        return stored


class AmendmentForm(forms.ModelForm):
    """A change of the effective date is checked against the terms that follow it."""

    def clean(self) -> dict:
        cleaned = super().clean()
        amendment = self.instance
        if amendment.pk and any(name in self.changed_data for name in ("effective_on", "dated_as_of")):
            new_from = cleaned.get("effective_on") or cleaned.get("dated_as_of")
            refusals = amendment_move_refusals(amendment, new_from)
            if refusals:
                raise refusal_error(amendment, refusals, new_from)
        return cleaned


@admin.register(Agreement)
class AgreementAdmin(ExecutionCheckMixin, ScopedModelAdmin, SimpleHistoryAdmin):
    """Agreements with their parties' roles, amendments and signature blocks."""

    list_display = ("name", "kind", "title", "dated_as_of", "effective_on", "governing_law", "party_count")
    list_filter = ("kind", "governing_law", "currency")
    search_fields = ("name", "title", "defined_term", "contract_number", "roles__party__legal_name")
    date_hierarchy = "dated_as_of"
    autocomplete_fields = ("guaranteed_agreement",)
    filter_horizontal = ("required_line_items",)
    readonly_fields = ("execution_check", "calendar_described", "evaluation_requested_at", "created_at", "updated_at")
    form = AgreementForm
    fieldsets = (
        (None, {"fields": ("name", "kind", "title", "defined_term", "contract_number")}),
        ("Dates and law", {"fields": ("dated_as_of", "effective_on", "governing_law", "guaranteed_agreement")}),
        (
            "Reporting",
            {
                "fields": (
                    "currency",
                    "fiscal_year_end_month",
                    "fiscal_calendar",
                    "calendar_described",
                    "reporting_frequency",
                    "reporting_deadline_days",
                    "required_line_items",
                ),
                "description": "The fiscal calendar is JSON, one of: "
                '{"kind": "calendar_months", "year_end_month": 12}; '
                '{"kind": "52_53_weeks", "year_end_month": 12, "weekday": "saturday", "rule": "last" or '
                '"nearest", "pattern": "4-4-5"}; {"kind": "explicit", "years": [["2023-03-31", ...], ...]} '
                "(12 month ends, 4 quarter ends or the year end per fiscal year). Empty: calendar months "
                "ending the year in the fiscal year end month. Statements are made for each period of the "
                "reporting frequency, due the reporting deadline's days after it ends.",
            },
        ),
        ("Execution", {"fields": ("execution_check",)}),
        ("Record", {"fields": ("evaluation_requested_at", "created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (AgreementRoleInline, AmendmentInline, SignatureBlockInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        return super().get_queryset(request).annotate(party_total=Count("roles__party", distinct=True))

    @admin.display(description="Calendar in words")
    def calendar_described(self, obj: Agreement) -> str:
        try:
            return obj.calendar().describe() if obj.pk else "-"
        except ValueError as exc:
            return f"Not a calendar: {exc}"

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
    form = AmendmentForm
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
