"""Covenants and their effective-dated terms: each amendment adds, replaces or deletes terms."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from covenants.choices import Basis, Direction, MetricKind, TermsAction, ThresholdState, WindowKind

from .agreements import Agreement, Amendment, LineItem

__all__ = ["Covenant", "CovenantTerms", "ThresholdStep"]


class Covenant(models.Model):
    """A financial covenant of an agreement, identified by its section ("7.01(b)")."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="covenants")
    section = models.CharField(max_length=50)
    name = models.CharField(max_length=255)
    warning_band_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        help_text="Near breach when headroom is under this percent of the threshold.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "section"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "section"],
                name="covenant_section_unique",
                violation_error_message="The agreement already has a covenant in this section.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.section} {self.name}"


class CovenantTerms(models.Model):
    """
    One version of a covenant's terms, in force from ``effective_from`` until the next version.

    The metric is a line item summed over a window of fiscal quarters ending on the test
    date, or the ratio of two such sums (total debt / four-quarter EBITDA). Thresholds are
    stored as the engine compares them: "EBITDA losses may not exceed ($50,400,000)" is
    stored as EBITDA at least -50,400,000, with the printed amount kept on the schedule row.
    """

    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, related_name="terms")
    amendment = models.ForeignKey(
        Amendment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="covenant_terms",
        help_text="The amendment that made these terms; empty for the agreement as originally signed.",
    )
    action = models.CharField(max_length=10, choices=TermsAction.choices, default=TermsAction.ADD)
    effective_from = models.DateField()
    text_as_printed = models.TextField(blank=True)
    reading = models.TextField(blank=True, help_text="How the portal reads the text, stated for users.")
    metric_kind = models.CharField(max_length=10, choices=MetricKind.choices, default=MetricKind.SUM)
    line_item = models.ForeignKey(
        LineItem, on_delete=models.PROTECT, null=True, blank=True, related_name="covenant_terms"
    )
    window_quarters = models.PositiveSmallIntegerField(default=1)
    window_kind = models.CharField(max_length=20, choices=WindowKind.choices, default=WindowKind.TRAILING)
    denominator_line_item = models.ForeignKey(
        LineItem, on_delete=models.PROTECT, null=True, blank=True, related_name="covenant_terms_as_denominator"
    )
    denominator_window_quarters = models.PositiveSmallIntegerField(null=True, blank=True)
    denominator_window_kind = models.CharField(
        max_length=20, choices=WindowKind.choices, default=WindowKind.TRAILING, blank=True
    )
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.AT_LEAST)
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.COMBINED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["covenant", "effective_from", "id"]
        verbose_name_plural = "covenant terms"
        constraints = [
            models.UniqueConstraint(
                fields=["covenant", "effective_from"],
                name="covenant_terms_one_version_per_date",
                violation_error_message="The covenant already has terms taking effect on this date.",
            ),
            models.CheckConstraint(
                condition=Q(action="delete") | Q(line_item__isnull=False),
                name="covenant_terms_line_item_required",
                violation_error_message="Terms that test a figure must name its line item.",
            ),
            models.CheckConstraint(
                condition=~Q(metric_kind="ratio")
                | Q(denominator_line_item__isnull=False, denominator_window_quarters__isnull=False),
                name="covenant_terms_ratio_has_denominator",
                violation_error_message="A ratio needs a denominator line item and its window.",
            ),
            models.CheckConstraint(
                condition=Q(window_quarters__gte=1),
                name="covenant_terms_window_positive",
                violation_error_message="The window must be at least one fiscal quarter.",
            ),
        ]

    def __str__(self) -> str:
        source = self.amendment.title if self.amendment_id else "original agreement"
        return f"{self.covenant.section} from {self.effective_from:%Y-%m-%d} ({source})"


class ThresholdStep(models.Model):
    """
    A row of a covenant's schedule: the threshold for a test date.

    With ``applies_thereafter`` the row also holds for every later test date until the
    next row ("December 31, 2001 and the last day of each fiscal quarter thereafter").
    A threshold that is not known (to be set by the Agent, redacted) is kept as such:
    the test is then undecided, never compliant.
    """

    terms = models.ForeignKey(CovenantTerms, on_delete=models.CASCADE, related_name="schedule")
    test_date = models.DateField()
    applies_thereafter = models.BooleanField(default=False)
    threshold = models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True)
    threshold_state = models.CharField(max_length=20, choices=ThresholdState.choices, default=ThresholdState.SET)
    amount_as_printed = models.CharField(max_length=100, blank=True, help_text='E.g. "($50,400,000)".')
    history = HistoricalRecords()

    class Meta:
        ordering = ["terms", "test_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["terms", "test_date"],
                name="threshold_step_one_per_date",
                violation_error_message="The schedule already has a row for this test date.",
            ),
            models.CheckConstraint(
                condition=Q(threshold_state="set", threshold__isnull=False)
                | (~Q(threshold_state="set") & Q(threshold__isnull=True)),
                name="threshold_step_known_iff_set",
                violation_error_message="A set threshold needs an amount; an unknown one must have none.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test_date:%Y-%m-%d}: {self.amount_as_printed or self.threshold}"
