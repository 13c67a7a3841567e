"""
Executions of signature blocks, their revocations, and conditions precedent stated as data.

An execution is evidence: it is never changed or deleted (``save`` of a stored row and
``delete`` refuse, and so do the querysets' bulk ``update`` and ``delete``). A mistaken one is
revoked by a revocation row naming the reason; both stay. One block is executed once at a
time: each execution of a block takes the next ``sequence`` number, unique per block, so two
signatories racing for the same block cannot both succeed, whatever the database.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from covenants.choices import Role
from covenants.models import Agreement, ConditionPrecedent
from documents.models import Document
from parties.models import Party, Person, SignatureBlock
from syndicate.choices import VoteNeeded

from .choices import CertificateStatus, ExecutionMethod

__all__ = [
    "ComplianceCertificate",
    "Execution",
    "ExecutionCondition",
    "ExecutionRevocation",
    "RecordedSatisfaction",
    "SignerRequirement",
]

RECORD_REFUSAL = "{what} is a record of what happened and cannot be changed or deleted; {remedy}"


class RecordQuerySet(models.QuerySet):
    """Bulk writes would bypass the refusal in ``save`` and ``delete``: refused too."""

    def update(self, **kwargs: Any) -> int:
        raise ValidationError(RECORD_REFUSAL.format(what=self.model._meta.verbose_name.capitalize(), remedy=""))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError(RECORD_REFUSAL.format(what=self.model._meta.verbose_name.capitalize(), remedy=""))


class ImmutableRecord(models.Model):
    """A row written once: a second save or a delete raises ValidationError."""

    remedy = "record another."
    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(RECORD_REFUSAL.format(what=self._meta.verbose_name.capitalize(), remedy=self.remedy))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError(RECORD_REFUSAL.format(what=self._meta.verbose_name.capitalize(), remedy=self.remedy))


class Execution(ImmutableRecord):
    """One signature block executed: in the portal by a signatory named on it, or by a scanned
    counterpart uploaded in its place. Records who, for which party, in which capacity, when,
    from which address, and the SHA-256 of the exact stored version of the document signed."""

    remedy = "revoke it with a reason and execute the block again."

    block = models.ForeignKey(SignatureBlock, on_delete=models.PROTECT, related_name="executions")
    sequence = models.PositiveIntegerField(help_text="1 for the block's first execution; the next after a revocation.")
    method = models.CharField(max_length=20, choices=ExecutionMethod.choices)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="executions")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="executions")
    signatory_name = models.CharField(max_length=255, help_text="The name signed: the person of record, or the user.")
    capacity = models.CharField(
        max_length=500, help_text='As it reads under the signature: "By: KMC Telecom Inc., as Sole Member".'
    )
    authority = models.TextField(blank=True, help_text="The signatory's authority as recorded (syndicate).")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    second_factor = models.BooleanField(default=False, help_text="A second-factor code was entered to sign.")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="executions")
    document_sha256 = models.CharField(max_length=64)
    counterpart = models.BinaryField(null=True, blank=True, help_text="The scanned counterpart, as uploaded.")
    counterpart_name = models.CharField(max_length=255, blank=True)
    counterpart_media_type = models.CharField(max_length=100, blank=True)
    counterpart_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["block", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "sequence"],
                name="execution_once_per_block",
                violation_error_message="This signature block has just been executed by someone else.",
            ),
            models.CheckConstraint(
                condition=Q(method=ExecutionMethod.PORTAL, counterpart__isnull=True)
                | Q(method=ExecutionMethod.COUNTERPART, counterpart__isnull=False),
                name="execution_method_evidence",
                violation_error_message="A counterpart carries its scan; a portal execution carries none.",
            ),
        ]

    def __str__(self) -> str:
        who = self.signatory_name or "a scanned counterpart"
        return f"{self.block.party_name_as_printed} executed by {who}"


class ExecutionRevocation(ImmutableRecord):
    """A mistaken execution revoked, with the reason; the execution stays in history."""

    execution = models.OneToOneField(Execution, on_delete=models.PROTECT, related_name="revocation")
    reason = models.TextField()
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="execution_revocation_reason",
                violation_error_message="Say why the execution is revoked.",
            )
        ]

    def __str__(self) -> str:
        return f"Revoked: {self.execution} ({self.reason[:60]})"


class ExecutionCondition(models.Model):
    """A condition precedent that the document be executed, stated as data: who must sign
    (``requirements``) and the date the amendment becomes effective as of when it holds."""

    condition = models.OneToOneField(ConditionPrecedent, on_delete=models.CASCADE, related_name="execution_terms")
    effective_as_of = models.DateField(
        null=True, blank=True, help_text="The date the text gives (e.g. the date above written); empty: unknown."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Execution terms of {self.condition}"


class SignerRequirement(models.Model):
    """Who must execute: every holder of ``role`` on the document's date, or, with ``vote``, the
    holders of that role whose signatures reach that vote (the Requisite Lenders)."""

    terms = models.ForeignKey(ExecutionCondition, on_delete=models.CASCADE, related_name="requirements")
    position = models.PositiveSmallIntegerField(default=1)
    role = models.CharField(max_length=30, choices=Role.choices)
    vote = models.CharField(max_length=20, choices=VoteNeeded.choices, blank=True)
    words = models.CharField(max_length=100, help_text='As the text says it: "the Borrowers", "the Requisite Lenders".')
    history = HistoricalRecords()

    class Meta:
        ordering = ["terms", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["terms", "role"],
                name="signer_requirement_role_once",
                violation_error_message="This role is already required to sign under the condition.",
            )
        ]

    def __str__(self) -> str:
        return self.words


class RecordedSatisfaction(ImmutableRecord):
    """An administrator records a condition precedent (or one party's part of it) satisfied by
    other means, such as originals received on paper, with the reason: shown wherever the
    condition is."""

    remedy = "record another with the correction."

    condition = models.ForeignKey(ConditionPrecedent, on_delete=models.CASCADE, related_name="recorded_satisfactions")
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Empty: the whole."
    )
    reason = models.TextField()
    satisfied_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["condition", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="recorded_satisfaction_reason",
                violation_error_message="Say how the condition was satisfied (e.g. originals received on paper).",
            )
        ]

    def __str__(self) -> str:
        part = f"{self.party}: " if self.party_id else ""
        return f"{part}satisfied by other means ({self.reason[:60]})"


class ComplianceCertificate(models.Model):
    """
    The Borrowers' compliance certificate for one reporting period: generated from the evaluated
    results (``content``, with its SHA-256: what the Responsible Officer signs), signed by a
    Responsible Officer of a Borrower (an authorised signatory, authority recorded), then
    accepted by the Agent or returned with comments. Restated figures after it was prepared make
    it superseded, and a new version is prepared. The status changes are kept in history.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="compliance_certificates")
    period_end = models.DateField()
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=CertificateStatus.choices, default=CertificateStatus.PREPARED)
    content = models.JSONField(help_text="The computations, values, thresholds, headroom and representation.")
    content_sha256 = models.CharField(max_length=64)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(auto_now_add=True)
    officer_party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signatory_name = models.CharField(max_length=255, blank=True)
    signatory_title = models.CharField(max_length=255, blank=True)
    authority = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    second_factor = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comments = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_reason = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords(excluded_fields=["content"])

    class Meta:
        ordering = ["agreement", "-period_end", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "period_end", "version"],
                name="certificate_version_unique",
                violation_error_message="This version of the period's certificate already exists.",
            ),
            models.UniqueConstraint(
                fields=["agreement", "period_end"],
                condition=~Q(status__in=["returned", "superseded"]),
                name="certificate_one_standing_per_period",
                violation_error_message="The period already has a certificate standing.",
            ),
        ]

    def __str__(self) -> str:
        return f"Compliance certificate for {self.period_end:%B %-d, %Y} ({self.agreement}), version {self.version}"
