"""
The admin for the syndicate: facilities, commitments, assignments, loans outstanding,
Defaulting Lenders, voting thresholds, authorised signatories, consent requests and their votes.

Everything is scoped by the one access rule (``ScopedModelAdmin``). Commitments and assignments
are added through the services, so the admin refuses what the page and the API refuse, with
the same sentences (an assignor holding less than it assigns), and once made they are records:
a correction is another assignment. Thresholds and Defaulting Lenders go through the same
services as the page and the API (who set them, open consent requests re-tallied). Consent
requests are opened on the portal's pages or the API (which alert the Lenders); here they and
their votes are read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from portal.admin.base import ScopedModelAdmin
from portal.admin.statements import RecordOfFactAdmin, RecordOfFactInline
from syndicate import definitions, services
from syndicate.models import (
    Assignment,
    AuthorisedSignatory,
    Commitment,
    ConsentRequest,
    DefaultingLender,
    Facility,
    LoansOutstanding,
    Vote,
    VotingThreshold,
)
from syndicate.services import SyndicateRefused

DEMO_NOTE = "Demo rows are not stated in the documents: figures for the demonstration."


class _AddedByServiceAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """Added through a service (its checks, under a lock), never changed or deleted afterwards."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    #: Each admin names its service's refusal of the form's data ("" when the service accepts it).
    refusal: Callable[[dict], str]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = self.refusal

        class CheckedForm(form):
            """Says before saving what the service would refuse, in its words."""

            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if data.get("facility") is not None and not self.errors:
                    message = refusal(data)
                    if message:
                        raise forms.ValidationError(message)
                return data

        return CheckedForm


@admin.register(Facility)
class FacilityAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """Facilities of an agreement whose commitments the Lenders hold."""

    list_display = ("name", "agreement", "demo")
    list_filter = ("agreement", "demo")
    search_fields = ("name", "agreement__name")
    fk_actions = {"agreement": "administer"}


@admin.register(Commitment)
class CommitmentAdmin(_AddedByServiceAdmin):
    """Commitments allotted to Lenders, each from its effective date."""

    list_display = ("lender", "facility", "amount", "effective_on", "demo", "recorded_by")
    list_filter = ("facility", "demo")
    search_fields = ("lender__legal_name", "facility__name", "facility__agreement__name")
    list_select_related = ("lender", "facility__agreement", "recorded_by")
    fields = ("facility", "lender", "amount", "effective_on")
    fk_actions = {"facility": "change"}

    def refusal(self, data: dict) -> str:
        lender = data.get("lender")
        return services.commitment_refusal(
            facility=data["facility"], lender_id=lender.pk if lender else None, amount=data.get("amount"),
            effective_on=data.get("effective_on"),
        )  # fmt: skip

    def save_model(self, request: HttpRequest, obj: Commitment, form: Any, change: bool) -> None:
        saved = services.commitment_record(
            facility_id=obj.facility_id, lender_id=obj.lender_id, amount=obj.amount, effective_on=obj.effective_on,
            recorded_by=request.user,
        )  # fmt: skip
        obj.pk = saved.pk


@admin.register(Assignment)
class AssignmentAdmin(_AddedByServiceAdmin):
    """Assignments moving commitments between Lenders, each from its date."""

    list_display = ("facility", "assignor", "assignee", "amount", "effective_on", "demo", "recorded_by")
    list_filter = ("facility", "demo")
    search_fields = ("assignor__legal_name", "assignee__legal_name", "facility__agreement__name")
    list_select_related = ("assignor", "assignee", "facility__agreement", "recorded_by")
    fields = ("facility", "assignor", "assignee", "amount", "effective_on")
    fk_actions = {"facility": "change"}

    def refusal(self, data: dict) -> str:
        assignor, assignee = data.get("assignor"), data.get("assignee")
        return services.assignment_refusal(
            facility=data["facility"], assignor_id=assignor.pk if assignor else None,
            assignee_id=assignee.pk if assignee else None, amount=data.get("amount"),
            effective_on=data.get("effective_on"),
        )  # fmt: skip

    def save_model(self, request: HttpRequest, obj: Assignment, form: Any, change: bool) -> None:
        saved = services.assignment_record(
            facility_id=obj.facility_id, assignor_id=obj.assignor_id, assignee_id=obj.assignee_id, amount=obj.amount,
            effective_on=obj.effective_on, recorded_by=request.user,
        )  # fmt: skip
        obj.pk = saved.pk


@admin.register(LoansOutstanding)
class LoansOutstandingAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """Each Lender's loans outstanding as of a date, for votes weighed by loans."""

    list_display = ("lender", "facility", "amount", "as_of", "demo")
    list_filter = ("facility", "demo")
    fk_actions = {"facility": "change"}


def _refused_on_the_form(refusal: SyndicateRefused | None, form: forms.ModelForm) -> None:
    """The service's refusal beside the field it names (or above the form), before saving."""
    if refusal is None:
        return
    field = refusal.field if refusal.field in form.fields else None
    raise forms.ValidationError({field: [str(refusal)]} if field else str(refusal))


@admin.register(DefaultingLender)
class DefaultingLenderAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Defaulting Lenders, from (and to) a date: counted on neither side of a vote meanwhile.
    Recorded and corrected through the same services as the page and the API (the overlap check
    under the agreement's lock, the history naming who, open consent requests re-tallied); a
    period is ended or corrected, never deleted."""

    list_display = ("lender", "agreement", "from_date", "to_date", "reason", "demo")
    list_filter = ("agreement", "demo")
    fields = ("agreement", "lender", "from_date", "to_date", "reason")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("agreement", "lender") if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                agreement = self.instance.agreement if self.instance.pk else data.get("agreement")
                lender = self.instance.lender if self.instance.pk else data.get("lender")
                if agreement is not None and not self.errors:
                    refusal = definitions.defaulting_lender_refusal(
                        agreement=agreement, lender_id=lender.pk if lender else None,
                        from_date=data.get("from_date"), to_date=data.get("to_date"), excluding=self.instance.pk,
                    )  # fmt: skip
                    _refused_on_the_form(refusal, self)
                return data

        return CheckedForm

    def save_model(self, request: HttpRequest, obj: DefaultingLender, form: Any, change: bool) -> None:
        if change:
            saved = definitions.defaulting_lender_change(
                defaulting_id=obj.pk, changed_by=request.user, from_date=obj.from_date, to_date=obj.to_date,
                reason=obj.reason,
            )  # fmt: skip
        else:
            saved = definitions.defaulting_lender_record(
                agreement_id=obj.agreement_id, lender_id=obj.lender_id, from_date=obj.from_date, to_date=obj.to_date,
                reason=obj.reason, recorded_by=request.user,
            )  # fmt: skip
        obj.pk = saved.pk


@admin.register(VotingThreshold)
class VotingThresholdAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """How each agreement defines its votes; an empty percent is unknown (not in the documents)."""

    list_display = ("agreement", "vote", "basis", "percent", "more_than", "demo", "set_by", "updated_at")
    list_filter = ("agreement", "vote", "demo")
    readonly_fields = ("set_by", "updated_at")
    fields = ("agreement", "vote", "basis", "percent", "more_than", "as_printed", "demo", "set_by", "updated_at")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if not self.errors:
                    refusal = definitions.threshold_refusal(
                        vote=data.get("vote", ""), basis=data.get("basis", ""), percent=data.get("percent")
                    )
                    _refused_on_the_form(refusal, self)
                return data

        return CheckedForm

    def save_model(self, request: HttpRequest, obj: VotingThreshold, form: Any, change: bool) -> None:
        # Through the service, as the page and the API: who set it in the history, and the open
        # consent requests re-tallied against the new definition.
        saved = definitions.threshold_set(
            agreement_id=obj.agreement_id, vote=obj.vote, percent=obj.percent, set_by=request.user, basis=obj.basis,
            more_than=obj.more_than, as_printed=obj.as_printed, demo=obj.demo,
        )  # fmt: skip
        obj.pk = saved.pk


@admin.register(AuthorisedSignatory)
class AuthorisedSignatoryAdmin(ScopedModelAdmin, admin.ModelAdmin):
    """Users authorised to sign and vote for a party, with the authority recorded."""

    list_display = ("user", "party", "person", "title", "holds_from", "holds_to", "demo")
    list_filter = ("demo",)
    search_fields = ("user__username", "party__legal_name", "person__full_name")
    autocomplete_fields = ("party", "person")
    raw_id_fields = ("user", "signature")


class VoteInline(RecordOfFactInline):
    model = Vote
    fields = ("lender", "answer", "condition", "cast_by", "updated_at")
    readonly_fields = fields


@admin.register(ConsentRequest)
class ConsentRequestAdmin(RecordOfFactAdmin):
    """Consent requests and their votes, read-only: opened, voted and closed on the pages or the API."""

    list_display = ("title", "agreement", "vote_needed", "deadline", "status", "outcome", "opened_by")
    list_filter = ("agreement", "status", "vote_needed")
    inlines = [VoteInline]


@admin.register(Vote)
class VoteAdmin(RecordOfFactAdmin, SimpleHistoryAdmin):
    """Lenders' votes, read-only, with each change in their history."""

    list_display = ("lender", "request", "answer", "cast_by", "updated_at")
    list_filter = ("answer",)
