"""Covenant test results, with their history, and the status changes they raise."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from compliance.choices import ResultStatus
from covenants.models.agreements import Agreement
from covenants.models.terms import Covenant, CovenantTerms
from parties.models import Party

__all__ = ["CovenantTestResult", "ComplianceEvent", "EvaluatedInputs"]


class CovenantTestResult(models.Model):
    """
    The outcome of testing one covenant on one test date (for one Borrower on an
    each-Borrower basis). A changed outcome is a new row; the old row stays, no longer
    current, so every result that was ever shown can still be explained.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="test_results")
    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, related_name="test_results")
    terms = models.ForeignKey(CovenantTerms, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    test_date = models.DateField()
    borrower = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Each-Borrower tests only."
    )
    status = models.CharField(max_length=20, choices=ResultStatus.choices)
    value = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    threshold = models.DecimalField(max_digits=26, decimal_places=6, null=True, blank=True)
    headroom = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    headroom_percent = models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True)
    provisional = models.BooleanField(default=False)
    near_breach = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Compliant, with headroom under the covenant's warning band, as the engine decided it "
        "(engine.is_near_breach). Pages, exports, alerts and the API read this; none decides it again.",
    )
    explanation = models.TextField(blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=True)
    evaluated_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(
        max_length=32,
        blank=True,
        db_default="",
        editable=False,
        help_text="Digest of the result as computed (engine.Result.fingerprint): a re-evaluation compares it, "
        "not every field. Blank for a result stored without one; such a result is compared field by field.",
    )

    class Meta:
        ordering = ["agreement", "covenant", "test_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["covenant", "test_date"],
                condition=Q(is_current=True, borrower__isnull=True),
                name="result_one_current_combined",
                violation_error_message="The covenant already has a current result for this test date.",
            ),
            models.UniqueConstraint(
                fields=["covenant", "test_date", "borrower"],
                condition=Q(is_current=True, borrower__isnull=False),
                name="result_one_current_per_borrower",
                violation_error_message="The covenant already has a current result for this Borrower and test date.",
            ),
        ]
        indexes = [
            models.Index(fields=["agreement", "is_current"]),
            models.Index(fields=["status", "is_current"]),
        ]

    def __str__(self) -> str:
        return f"{self.covenant.section} {self.test_date:%Y-%m-%d}: {self.get_status_display()}"


class ComplianceEvent(models.Model):
    """A change of a test's status (first result included), with the results before and after."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="compliance_events")
    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, related_name="compliance_events")
    test_date = models.DateField()
    borrower = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    previous_result = models.ForeignKey(
        CovenantTestResult, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.ForeignKey(CovenantTestResult, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=ResultStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ResultStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agreement", "created_at"])]

    def __str__(self) -> str:
        before = self.get_from_status_display() or "no result"
        return f"{self.covenant.section} {self.test_date:%Y-%m-%d}: {before} → {self.get_to_status_display()}"


class EvaluatedInputs(models.Model):
    """
    What an agreement's last evaluation read, as one digest (compliance.input_digests): its
    figures, terms, schedules, amendments, defined terms, waivers, Borrowers, calendar, the
    evaluation date's latest period end and the engine's own code. An evaluation that finds the
    same digest skips the agreement: the same inputs give the same results, already stored.
    """

    agreement = models.OneToOneField(
        Agreement, on_delete=models.CASCADE, primary_key=True, related_name="evaluated_inputs"
    )
    digest = models.CharField(max_length=32)
    as_of = models.DateField(help_text="The evaluation date of the last evaluation.")
    evaluated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "evaluated inputs"

    def __str__(self) -> str:
        return f"agreement {self.agreement_id}: inputs {self.digest} as of {self.as_of:%Y-%m-%d}"
