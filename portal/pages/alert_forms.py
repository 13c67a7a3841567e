"""Forms of the alert pages: notification preferences, webhook subscriptions, waivers."""

from __future__ import annotations

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.validators import URLValidator
from django.db.models import QuerySet

from alerts.choices import AlertChannel, AlertKind
from alerts.recipients import USER_CHANNELS
from alerts.webhooks import parties_for_webhooks
from compliance import engine
from covenants.access import agreements_administered_by
from covenants.choices import Role
from covenants.models import Amendment, Covenant
from parties.models import Party

CHANNEL_CHOICES = [(c, AlertChannel(c).label) for c in USER_CHANNELS]


class PreferencesForm(forms.Form):
    """One row of channel checkboxes per kind of alert."""

    def __init__(self, *args: object, current: dict[str, list[str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for kind in AlertKind:
            self.fields[kind.value] = forms.MultipleChoiceField(
                label=kind.label,
                choices=CHANNEL_CHOICES,
                required=False,
                initial=current.get(kind.value, []),
                widget=forms.CheckboxSelectMultiple,
            )


class WebhookSubscriptionForm(forms.Form):
    """A party's new webhook: where to POST, and which kinds of alert."""

    party = forms.ModelChoiceField(queryset=Party.objects.none(), help_text="The party whose alerts are sent.")
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Receives a signed JSON POST per alert (http:// or https://).",
    )
    description = forms.CharField(max_length=255, required=False)
    kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[AlertKind.BREACH, AlertKind.CURE, AlertKind.FINANCIALS_LATE],
        error_messages={"required": "Choose at least one kind of alert to send to the webhook."},
    )

    def __init__(self, *args: object, user: AbstractBaseUser, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        parties = parties_for_webhooks(user)
        self.fields["party"].queryset = parties
        if parties.count() == 1:
            self.fields["party"].initial = parties.first()


class WaiverForm(forms.Form):
    """The Lenders' waiver of one covenant's test on one test date, as an Agent records it."""

    covenant = forms.ModelChoiceField(queryset=Covenant.objects.none())
    test_date = forms.DateField(help_text="The test date waived: the last day of a fiscal quarter (YYYY-MM-DD).")
    borrower = forms.ModelChoiceField(
        queryset=Party.objects.none(),
        required=False,
        help_text="Only for a covenant tested for each Borrower; leave empty for the combined test.",
    )
    instrument = forms.CharField(
        max_length=255, help_text='The instrument that grants it: "Waiver and Amendment No. 3".'
    )
    amendment = forms.ModelChoiceField(queryset=Amendment.objects.none(), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: object, user: AbstractBaseUser, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        agreements = agreements_administered_by(user)
        covenants: QuerySet[Covenant] = (
            Covenant.objects.filter(agreement__in=agreements)
            .select_related("agreement")
            .order_by("agreement__name", "section")
        )
        self.fields["covenant"].queryset = covenants
        self.fields["covenant"].label_from_instance = lambda c: f"{c.agreement.name}: {c.section} {c.name}"
        self.fields["borrower"].queryset = (
            Party.objects.filter(agreement_roles__agreement__in=agreements, agreement_roles__role=Role.BORROWER)
            .distinct()
            .order_by("legal_name")
        )
        self.fields["amendment"].queryset = (
            Amendment.objects.filter(agreement__in=agreements)
            .select_related("agreement")
            .order_by("agreement", "number")
        )

    def clean(self) -> dict:
        data = super().clean() or {}
        covenant: Covenant | None = data.get("covenant")
        if covenant is None:
            return data
        agreement = covenant.agreement
        test_date = data.get("test_date")
        if test_date and not engine.is_fiscal_quarter_end(test_date, agreement.fiscal_year_end_month):
            self.add_error(
                "test_date", f"{test_date.isoformat()} is not the last day of a fiscal quarter of {agreement.name}."
            )
        borrower = data.get("borrower")
        if borrower and not agreement.roles.filter(party=borrower, role=Role.BORROWER).exists():
            self.add_error("borrower", f"{borrower.legal_name} is not a Borrower under {agreement.name}.")
        amendment = data.get("amendment")
        if amendment and amendment.agreement_id != agreement.pk:
            self.add_error("amendment", f"{amendment.title} is not an amendment of {agreement.name}.")
        return data
