"""
One filterset per resource of the covenants app, shared by the API and the pages.

Every filter that names another row (an agreement, a covenant, a Borrower) offers and
accepts only the rows the requesting user may see (``portal.api.scoped_choices``): a
filter can neither list another party's rows as choices nor confirm that one exists.
Pass ``request`` when building a filterset outside DRF.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from covenants.choices import AgreementKind, AmendmentStatus
from covenants.models import Agreement, Amendment, Covenant, Waiver
from parties.models import Party
from portal.api.base import scoped_choices
from statements.choices import StatementStatus
from statements.models import FinancialStatement, StatementUpload

__all__ = [
    "AgreementFilterSet",
    "AmendmentFilterSet",
    "CovenantFilterSet",
    "CovenantTestResultFilterSet",
    "FinancialStatementFilterSet",
    "WaiverFilterSet",
]


def _agreement_filter() -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(queryset=scoped_choices(Agreement), help_text="An agreement's id.")


class AgreementFilterSet(filters.FilterSet):
    """Agreements by kind, by words of their name, and by a party holding a role in them."""

    q = filters.CharFilter(method="search", help_text="Words of the agreement's name, title or defined term.")
    kind = filters.ChoiceFilter(choices=AgreementKind.choices)
    party = filters.ModelChoiceFilter(
        field_name="roles__party", queryset=scoped_choices(Party), distinct=True, help_text="A party's id."
    )

    class Meta:
        model = Agreement
        fields = ["q", "kind", "party"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(title__icontains=value) | Q(defined_term__icontains=value))


class AmendmentFilterSet(filters.FilterSet):
    """Amendments of an agreement, pending or effective."""

    agreement = _agreement_filter()
    status = filters.ChoiceFilter(choices=AmendmentStatus.choices)

    class Meta:
        model = Amendment
        fields = ["agreement", "status"]


class CovenantFilterSet(filters.FilterSet):
    """Covenants of an agreement, or by section."""

    agreement = _agreement_filter()
    section = filters.CharFilter(help_text='The section, as printed: "7.01(b)".')

    class Meta:
        model = Covenant
        fields = ["agreement", "section"]


class FinancialStatementFilterSet(filters.FilterSet):
    """Statements by agreement, Borrower, fiscal quarter, and current or superseded."""

    agreement = _agreement_filter()
    borrower = filters.ModelChoiceFilter(queryset=scoped_choices(Party), help_text="A Borrower's party id.")
    period_end = filters.DateFromToRangeFilter(help_text="Fiscal quarters ending in this range (inclusive).")
    status = filters.ChoiceFilter(choices=StatementStatus.choices)
    upload = filters.ModelChoiceFilter(queryset=scoped_choices(StatementUpload), help_text="The upload's id.")

    class Meta:
        model = FinancialStatement
        fields = ["agreement", "borrower", "period_end", "status", "upload"]


class CovenantTestResultFilterSet(filters.FilterSet):
    """
    Covenant test results. Only current results unless ``is_current`` says otherwise:
    ``false`` gives the results later evaluations replaced, ``all`` gives both.
    """

    CURRENT_CHOICES = (("true", "Current results"), ("false", "Replaced results"), ("all", "Both"))

    agreement = _agreement_filter()
    covenant = filters.ModelChoiceFilter(queryset=scoped_choices(Covenant), help_text="A covenant's id.")
    borrower = filters.ModelChoiceFilter(queryset=scoped_choices(Party), help_text="A Borrower's party id.")
    status = filters.MultipleChoiceFilter(choices=ResultStatus.choices, help_text="One or more statuses.")
    test_date = filters.DateFromToRangeFilter(help_text="Test dates in this range (inclusive).")
    provisional = filters.BooleanFilter(help_text="Computed under an amendment still pending.")
    is_current = filters.ChoiceFilter(choices=CURRENT_CHOICES, method="current", empty_label=None)

    class Meta:
        model = CovenantTestResult
        fields = ["agreement", "covenant", "borrower", "status", "test_date", "provisional", "is_current"]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Current results by default: a replaced result is history, asked for explicitly.
        if data is not None and not data.get("is_current"):
            data = data.copy()
            data["is_current"] = "true"
        super().__init__(data, *args, **kwargs)

    def current(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "all":
            return queryset
        return queryset.filter(is_current=(value == "true"))


class WaiverFilterSet(filters.FilterSet):
    """Waivers by agreement, covenant and test date."""

    agreement = _agreement_filter()
    covenant = filters.ModelChoiceFilter(queryset=scoped_choices(Covenant), help_text="A covenant's id.")
    test_date = filters.DateFromToRangeFilter(help_text="Test dates in this range (inclusive).")

    class Meta:
        model = Waiver
        fields = ["agreement", "covenant", "test_date"]
