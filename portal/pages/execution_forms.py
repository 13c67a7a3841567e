"""Forms of the execution pages: signing a block, uploading a counterpart, revoking, recording
a condition satisfied by other means. Each signature asks for the password again."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from execution.evidence import COUNTERPART_MAX_BYTES


class SignForm(forms.Form):
    """The version read, the password again and, where set up, the second-factor code."""

    document_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), help_text="Your portal password, again."
    )
    code = forms.CharField(
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The code from your authenticator app, if you use one.",
    )


class CounterpartForm(SignForm):
    counterpart = forms.FileField(
        help_text=f"The signed page scanned: PDF, PNG or JPEG, at most {COUNTERPART_MAX_BYTES // (1024 * 1024)} MB."
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the execution is revoked.")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(required=False, max_length=16)


class RecordForm(forms.Form):
    """An administrator records a condition (or one party's part) satisfied by other means."""

    party = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text='E.g. "Originals received on paper".')
    satisfied_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate)

    def __init__(self, *args: object, parties: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = [("", "The whole condition"), *parties]
