"""The text of an agreement, amendment, waiver or reaffirmation, kept as filed."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from covenants.models import Agreement, Amendment

__all__ = ["Document", "ImportReview", "ItemDecision", "ReviewItem", "SourceSpan"]


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


class ImportReview(models.Model):
    """A person's review of what the importer proposes from one stored document: each proposed
    fact becomes a :class:`ReviewItem` to accept, edit or reject, and nothing reaches the
    portal's parties, covenants or terms until the review is applied."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        APPLIED = "applied", "Applied"
        ABANDONED = "abandoned", "Abandoned"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="reviews")
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_reviews",
        help_text="The agreement the proposal applies to; empty until chosen.",
    )
    proposal = models.JSONField(help_text="The importer's proposal as read when the review was opened.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "opened_at", "id"]

    def __str__(self) -> str:
        return f"Review of {self.document} ({self.get_status_display()})"


class ReviewItem(models.Model):
    """One proposed fact: its stable key, the value proposed, where it was read, and the
    current decision (every decision is also kept in :class:`ItemDecision`)."""

    class Section(models.TextChoices):
        INSTRUMENT = "instrument", "Instrument"
        PARTIES = "parties", "Parties"
        ROLES = "roles", "Roles"
        COVENANTS = "covenants", "Covenants"
        CONDITIONS = "conditions", "Conditions precedent"
        SIGNATURES = "signatures", "Signatures"

    class Decision(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EDITED = "edited", "Edited"
        REJECTED = "rejected", "Rejected"

    review = models.ForeignKey(ImportReview, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=255, help_text='Stable across readings: "party:KMC Telecom II, Inc.".')
    section = models.CharField(max_length=20, choices=Section.choices)
    position = models.PositiveIntegerField(help_text="The order in which the document gives it.")
    label = models.CharField(max_length=255, help_text='For people: "7.01(b) minimum for March 31, 2000".')
    proposed = models.JSONField(help_text="The value proposed, in the portal's fields.")
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    confidence = models.FloatField(default=0.0)
    reason = models.TextField(blank=True)
    conflict = models.JSONField(
        default=dict, blank=True, help_text="What the portal holds that this value would change, field by field."
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    edited = models.JSONField(null=True, blank=True, help_text="The value as edited, when the decision is edited.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["review", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "key"],
                name="review_item_key_once",
                violation_error_message="The review already has an item with this key.",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.key

    @property
    def value(self) -> object:
        """The value that would be applied: the edited value, else the proposed one."""
        return self.edited if self.decision == self.Decision.EDITED else self.proposed


class ItemDecision(models.Model):
    """One decision on a review item, as taken: the history is appended to, never rewritten."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=10, choices=ReviewItem.Decision.choices)
    value = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.item.key}: {self.decision}"


class SourceSpan(models.Model):
    """Where a value the portal holds was read: a stored document and a character span in its
    text, for one object's field (an empty field: the object as a whole). Written when an
    accepted review item is applied."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="source_spans")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    field = models.CharField(max_length=100, blank=True, help_text="The field the value is in; empty for the row.")
    label = models.CharField(max_length=255, help_text='"7.01(b) minimum for March 31, 2000".')
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    item_key = models.CharField(max_length=255, blank=True, help_text="The review item the value came from.")
    item = models.ForeignKey(ReviewItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["document", "start", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="source_span_target")]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "content_type", "object_id", "field"],
                name="source_span_once_per_field",
                violation_error_message="This value already has its span in the document.",
            ),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")),
                name="source_span_ends_after_start",
                violation_error_message="A span ends at or after its start.",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def excerpt(self) -> str:
        """The text the value was read from."""
        return self.document.text[self.start : self.end]
