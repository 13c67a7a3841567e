"""The text of an agreement, amendment, waiver or reaffirmation, kept as filed."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from covenants.models import Agreement, Amendment

__all__ = ["Document"]


class Document(models.Model):
    """
    One document's text, immutable once stored: the original bytes (a .txt or .htm as filed,
    or pasted text) with their SHA-256, and the plain text the importer reads, so that every
    span a proposal cites points into text that never changes.
    """

    class Kind(models.TextChoices):
        AGREEMENT = "agreement", "Agreement"
        AMENDMENT = "amendment", "Amendment"
        WAIVER = "waiver", "Waiver"
        REAFFIRMATION = "reaffirmation", "Reaffirmation"
        OTHER = "other", "Other"

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="documents")
    amendment = models.ForeignKey(Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(max_length=255, blank=True, help_text="The title the importer read, or as given.")
    filename = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100, blank=True)
    original = models.BinaryField(help_text="The bytes as uploaded or pasted.")
    sha256 = models.CharField(max_length=64)
    text = models.TextField(help_text="The plain text the importer read (HTML converted), which spans point into.")
    stored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "stored_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "sha256"],
                name="document_once_per_agreement",
                violation_error_message="This document is already stored for the agreement.",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.filename

    def save(self, *args: object, **kwargs: object) -> None:
        # A stored text is evidence: spans and accepted values point into it.
        if self.pk is not None and Document.objects.filter(pk=self.pk).exists():
            raise ValidationError("A stored document cannot be changed; store the new text as another document.")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.amendment_id and self.amendment.agreement_id != self.agreement_id:
            raise ValidationError({"amendment": "The amendment belongs to another agreement."})
