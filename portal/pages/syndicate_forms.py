"""Forms of the syndicate pages: opening a consent request, a Lender's vote, an agreement's voting
thresholds and its Defaulting Lenders."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from covenants.choices import Role
from covenants.models import Agreement
from documents.models import Document
from parties.models import Party
from syndicate.choices import Answer, RequestKind, ShareBasis, VoteNeeded


class ConsentRequestForm(forms.Form):
    """What the Agent asks: on which stored document, which vote, by when, for what fee."""

    document = forms.ModelChoiceField(
        queryset=Document.objects.none(), help_text="The amendment or waiver as stored for the agreement."
    )
    title = forms.CharField(max_length=255, help_text='As the Lenders know it: "Amendment No. 4".')
    kind = forms.ChoiceField(choices=RequestKind.choices)
    vote_needed = forms.ChoiceField(choices=VoteNeeded.choices, initial=VoteNeeded.REQUISITE)
    deadline = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Votes are refused after it."
    )
    record_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Commitments are weighed as they stand on this date (today if empty).",
    )
    consent_fee = forms.DecimalField(required=False, min_value=0, max_digits=20, decimal_places=2)
    consent_fee_terms = forms.CharField(required=False, max_length=255)
    affected_lenders = forms.ModelMultipleChoiceField(
        queryset=Party.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For a vote of all affected Lenders: the Lenders the amendment or waiver affects.",
    )

    def __init__(
        self, *args: object, documents: QuerySet[Document], lenders: QuerySet[Party], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = documents
        self.fields["affected_lenders"].queryset = lenders

    def clean_deadline(self) -> dt.datetime:
        deadline = self.cleaned_data["deadline"]
        if deadline <= timezone.now():
            raise forms.ValidationError("The deadline must be in the future.")
        return deadline


class VoteForm(forms.Form):
    """A signatory's answer for one of its Lenders, optionally with a condition."""

    lender = forms.TypedChoiceField(coerce=int, help_text="The Lender you answer for.")
    answer = forms.ChoiceField(choices=Answer.choices, widget=forms.RadioSelect)
    condition = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A condition attached to the answer, if any.",
    )

    def __init__(self, *args: object, lenders: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lender"].choices = lenders
        self.lenders = lenders
        if len(lenders) == 1:  # a signatory of one Lender answers for it without choosing
            self.fields["lender"].required = False
            self.fields["lender"].initial = lenders[0][0]

    def clean_lender(self) -> int:
        lender = self.cleaned_data.get("lender")
        if lender in (None, "") and len(self.lenders) == 1:
            return self.lenders[0][0]
        return lender


def lenders_of(agreement: Agreement) -> QuerySet[Party]:
    """The agreement's Lenders, for choosing those an amendment affects."""
    return Party.objects.filter(agreement_roles__agreement=agreement, agreement_roles__role=Role.LENDER).distinct()


def documents_for(agreement: Agreement) -> QuerySet[Document]:
    """The agreement's stored amendments and waivers first, then its other texts."""
    return Document.objects.filter(agreement=agreement).defer("original", "text").order_by("-stored_at")


class ThresholdForm(forms.Form):
    """How the agreement defines a vote; an empty percent makes it unknown (not in the documents)."""

    vote = forms.ChoiceField(choices=VoteNeeded.choices)
    basis = forms.ChoiceField(choices=ShareBasis.choices, initial=ShareBasis.COMMITMENTS)
    percent = forms.DecimalField(
        required=False, max_digits=7, decimal_places=4, help_text="Above 0 and at most 100; empty: unknown."
    )
    more_than = forms.BooleanField(required=False, initial=True, label='"More than" the percent (else "at least")')
    as_printed = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The definition as printed, with its section.",
    )


class DefaultingLenderForm(forms.Form):
    """Mark a Lender of the agreement a Defaulting Lender from a date (to a date, if it cured)."""

    lender = forms.ModelChoiceField(queryset=Party.objects.none())
    from_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    to_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty: still defaulting."
    )
    reason = forms.CharField(required=False, max_length=255)

    def __init__(self, *args: object, lenders: QuerySet[Party], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lender"].queryset = lenders


class DefaultingEndForm(forms.Form):
    to_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="Its last day as a Defaulting Lender."
    )
