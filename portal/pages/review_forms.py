"""Forms of the review queue: a text to open a review with (a filing uploaded as .txt, .htm or
.html, or pasted), a decision on an item or a section, and an item's value as edited.

An edited value is checked field by field by the model field that will hold it (a date must be
a date, a threshold a number with the digits the schedule keeps, a kind one of the kinds), so a
wrong value is named beside its field when it is typed, not only when the review is applied."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    Reaffirmation,
    ThresholdStep,
)
from documents.importer import MAX_CHARS
from documents.models import ReviewItem
from parties.models import Party, SignatureBlock

#: Filings are read as text: a .txt, or an .htm/.html as filed (converted to its text).
TEXT_SUFFIXES = (".txt", ".htm", ".html")
#: The most bytes read from an upload: the importer's character limit at four bytes a character
#: (UTF-8's widest); the importer refuses anything longer with its own message.
MAX_UPLOAD_BYTES = MAX_CHARS * 4

#: The models an item's fields are stored in, by the kind of its key ("covenant:7.01(b):row:…"
#: is a schedule row).
MODELS_BY_KIND: dict[str, tuple[type[models.Model], ...]] = {
    "agreement": (Agreement,),
    "amendment": (Amendment,),
    "reaffirmation": (Reaffirmation,),
    "party": (Party,),
    "role": (AgreementRole,),
    "covenant": (Covenant, CovenantTerms),
    "row": (ThresholdStep,),
    "condition": (ConditionPrecedent,),
    "signature": (SignatureBlock,),
}


class OpenReviewForm(forms.Form):
    """A filing's text to read into a proposal: a file, or the text pasted."""

    file = forms.FileField(
        required=False,
        label="The filing as a file (.txt, .htm or .html)",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(TEXT_SUFFIXES)}),
    )
    text = forms.CharField(
        required=False,
        strip=False,
        label="Or paste its text",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if not upload:
            return upload
        if not upload.name.lower().endswith(TEXT_SUFFIXES):
            raise ValidationError(f"“{upload.name}” is not a .txt, .htm or .html file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"“{upload.name}” is {upload.size:,} bytes; a filing may be at most {MAX_UPLOAD_BYTES:,} bytes."
            )
        return upload

    def clean_text(self) -> str:
        text = self.cleaned_data.get("text") or ""
        if len(text) > MAX_CHARS:
            raise ValidationError(f"The pasted text is {len(text):,} characters; the limit is {MAX_CHARS:,}.")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and bool(data.get("file")) == bool((data.get("text") or "").strip()):
            raise ValidationError("Choose a file or paste a text, not both and not neither.")
        return data

    def content(self) -> tuple[bytes | str, str, str]:
        """The bytes or text to store, its file name and its media type."""
        upload = self.cleaned_data.get("file")
        if upload:
            return upload.read(MAX_UPLOAD_BYTES + 1), upload.name, upload.content_type or ""
        return self.cleaned_data["text"], "pasted text", "text/plain"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, label) for d, label in ReviewItem.Decision.choices if d != "edited"])
    note = forms.CharField(required=False, max_length=2000)


def models_of(key: str) -> tuple[type[models.Model], ...]:
    kind = "row" if ":row:" in key else key.partition(":")[0]
    return MODELS_BY_KIND.get(kind, ())


def model_field(key: str, name: str) -> models.Field | None:
    """The concrete, non-relational model field an item's field is stored in, if any."""
    for model in models_of(key):
        try:
            found = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if getattr(found, "concrete", False) and not found.is_relation:
            return found
    return None


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class EditItemForm(forms.Form):
    """An item's scalar fields as text, each checked by its model field; lists and objects
    within the value (a block's lines, a party's address) are kept as they are."""

    note = forms.CharField(required=False, max_length=2000, label="Why (kept with the decision)")

    def __init__(self, item: ReviewItem, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        value = item.value if isinstance(item.value, dict) else {}
        self.value_fields = [name for name, v in value.items() if is_scalar(v)]
        for name in self.value_fields:
            current = value[name]
            self.fields[f"v_{name}"] = forms.CharField(
                required=False,
                strip=True,
                label=name.replace("_", " "),
                initial="" if current is None else str(current),
                help_text=self._help(name),
            )
        self.order_fields([f"v_{name}" for name in self.value_fields] + ["note"])

    def _help(self, name: str) -> str:
        found = model_field(self.item.key, name)
        if found is None:
            return ""
        if found.choices:
            return "One of: " + ", ".join(str(c) for c, _ in found.flatchoices if c != "")
        if isinstance(found, models.DateField):
            return "A date: YYYY-MM-DD; empty if the text leaves it blank." if found.null else "A date: YYYY-MM-DD."
        return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in self.value_fields:
            raw = data.get(f"v_{name}", "")
            try:
                data[f"v_{name}"] = self._checked(name, raw)
            except ValidationError as exc:
                self.add_error(f"v_{name}", f"{name.replace('_', ' ')}: {' '.join(exc.messages)}")
        return data

    def _checked(self, name: str, raw: str) -> Any:
        original = self.item.value.get(name)
        found = model_field(self.item.key, name)
        if raw == "":
            if found is not None and not found.null and not found.blank:
                raise ValidationError("This field cannot be empty.")
            return None if found is None or found.null else ""
        if isinstance(original, bool) or isinstance(found, models.BooleanField):
            if raw.lower() not in ("true", "false"):
                raise ValidationError("Enter true or false.")
            return raw.lower() == "true"
        if found is None:
            return int(raw) if isinstance(original, int) and raw.lstrip("-").isdigit() else raw
        cleaned = found.clean(raw, None)
        if isinstance(original, int) and isinstance(cleaned, int):
            return cleaned
        # Stored in the value as the proposal writes it: dates ISO, amounts as strings.
        return cleaned.isoformat() if hasattr(cleaned, "isoformat") else str(cleaned)

    def edited_value(self) -> dict[str, Any]:
        """The item's whole value with the fields as edited."""
        value = dict(self.item.value) if isinstance(self.item.value, dict) else {}
        for name in self.value_fields:
            value[name] = self.cleaned_data[f"v_{name}"]
        return value
