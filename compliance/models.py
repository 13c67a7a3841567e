"""Covenant test results, with their history, and the status changes they raise."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from compliance.choices import ResultStatus
from compliance.inputs_json import InputsDecoder
from covenants.models.agreements import Agreement
from covenants.models.terms import Covenant, CovenantTerms
from parties.models import Party

__all__ = ["AgreementStanding", "CovenantTestResult", "ComplianceEvent", "EvaluatedInputs"]


class CovenantTestResult(models.Model):
    """
    The outcome of testing one covenant on one test date (for one Borrower on an
    each-Borrower basis). A changed outcome is a new row; the old row stays, no longer
    current, so every result that was ever shown can still be explained.
    """

    # Indexed by (agreement, is_current) below: an index of its own would be one more to write
    # for each of the 240,000 results a first evaluation of the portfolio stores.
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="test_results", db_index=False)
    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, related_name="test_results")
    terms = models.ForeignKey(CovenantTerms, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    test_date = models.DateField()
    borrower = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Each-Borrower tests only.",
        db_index=False,  # indexed where set (Meta.indexes): most results are combined tests
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
    inputs = models.JSONField(default=dict, blank=True, decoder=InputsDecoder)
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
            # Only the rows that have one: a Borrower's results are found by it (and a Party's
            # deletion checks for them), never the rows without.
            models.Index(fields=["borrower"], condition=Q(borrower__isnull=False), name="result_borrower_set_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.covenant.section} {self.test_date:%Y-%m-%d}: {self.get_status_display()}"


class ComplianceEvent(models.Model):
    """A change of a test's status (first result included), with the results before and after."""

    # Indexed by (agreement, created_at) below.
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="compliance_events", db_index=False)
    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, related_name="compliance_events")
    test_date = models.DateField()
    borrower = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    previous_result = models.ForeignKey(
        CovenantTestResult, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    result = models.ForeignKey(CovenantTestResult, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=ResultStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ResultStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["agreement", "created_at"]),
            # Indexed where set: a first result has no previous one, most tests are combined.
            models.Index(fields=["borrower"], condition=Q(borrower__isnull=False), name="event_borrower_set_idx"),
            models.Index(
                fields=["previous_result"],
                condition=Q(previous_result__isnull=False),
                name="event_previous_result_set_idx",
            ),
        ]

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


class AgreementStanding(models.Model):
    """
    An agreement's standing kept as data, for the portfolio dashboard (compliance.standings): its
    covenants' latest results counted by the status shown, and how much is late as of a day. The
    rules compute (the covenants table's selection of results, compliance.late_financials); this
    row only stores what they gave, written with the results by each evaluation and rewritten
    for the new day by the daily refresh. It is read only while it is the agreement's as it
    stands: as of the day asked, for the agreement's calendar and deadline as they are, and with
    no evaluation outstanding (whatever changes figures, terms, roles or waivers asks for one).
    """

    agreement = models.OneToOneField(Agreement, on_delete=models.CASCADE, primary_key=True, related_name="standing")
    # The covenants table's rows by the status shown (compliance.statuses), and covenants without a result.
    breach = models.PositiveIntegerField(default=0)
    near_breach = models.PositiveIntegerField(default=0)
    incomplete = models.PositiveIntegerField(default=0)
    waived = models.PositiveIntegerField(default=0)
    compliant = models.PositiveIntegerField(default=0)
    not_tested = models.PositiveIntegerField(default=0)
    no_result = models.PositiveIntegerField(default=0)
    late_financials = models.PositiveIntegerField(default=0, help_text="Late statements as of ``as_of``.")
    late_quarters = models.PositiveIntegerField(default=0, help_text="Periods with a late statement as of ``as_of``.")
    late_deliverables = models.JSONField(
        default=dict, blank=True, help_text="Periods late as of ``as_of`` of each other deliverable, by its name."
    )
    as_of = models.DateField(help_text="The day the late counts are as of.")
    calendar = models.CharField(
        max_length=32, help_text="Digest of the agreement's calendar and reporting deadline the late counts used."
    )
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"agreement {self.agreement_id}: standing as of {self.as_of:%Y-%m-%d}"
