"""Covenants and their effective-dated terms: each amendment adds, replaces or deletes terms."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from covenants.choices import (
    Basis,
    Direction,
    Frequency,
    MetricKind,
    MetricNature,
    TermsAction,
    ThresholdState,
    WindowKind,
)
from covenants.formulas import FormulaError, check_definitions, parse
from covenants.period_checks import PERIOD_NOUNS, not_a_period_end, read_printed_date
from covenants.period_kinds import FREQUENCIES
from parties.models import Party

from .agreements import Agreement, Amendment, LineItem

# A defined term's name as formulas write it.
NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")

__all__ = ["DefinedMetric", "Covenant", "CovenantTerms", "ThresholdStep"]


class DefinedMetric(models.Model):
    """
    A defined term of an agreement that covenants test, written as a formula over line items
    and other defined terms ("Consolidated EBITDA" = net_income + interest_expense + taxes +
    depreciation + amortization + min(addbacks, 5000000)); see covenants.formulas. The formula
    is parsed, never evaluated as code, and checked when saved: unknown names, cycles.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="defined_metrics")
    name = models.CharField(
        max_length=60, help_text="The name formulas use: lower case, digits and underscores (consolidated_ebitda)."
    )
    label = models.CharField(max_length=255, help_text='As the agreement defines it: "Consolidated EBITDA".')
    formula = models.TextField(help_text="E.g. net_income + interest_expense + min(addbacks, 0.15 * ebitda).")
    nature = models.CharField(max_length=10, choices=MetricNature.choices, default=MetricNature.FLOW)
    text_as_printed = models.TextField(blank=True, help_text="The definition as printed in the agreement.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "name"],
                name="defined_metric_name_unique",
                violation_error_message="The agreement already defines a term with this name.",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.name

    def clean(self) -> None:
        """Refuse a name formulas cannot use, and a formula that does not parse, names a figure
        the portal does not know, or defines a term through itself."""
        if not NAME.fullmatch(self.name or ""):
            raise ValidationError({"name": "Use lower case letters, digits and underscores, starting with a letter."})
        try:
            parse(self.formula or "")
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from None
        if not self.agreement_id:
            return
        others = dict(
            DefinedMetric.objects.filter(agreement_id=self.agreement_id)
            .exclude(pk=self.pk)
            .values_list("name", "formula")
        )
        try:
            check_definitions({**others, self.name: self.formula}, set(LineItem.objects.values_list("code", flat=True)))
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from None


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
    metric = models.ForeignKey(
        DefinedMetric,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="covenant_terms",
        help_text="A defined term the covenant tests, instead of one line item.",
    )
    frequency = models.CharField(
        max_length=10,
        choices=Frequency.choices,
        default=Frequency.QUARTER,
        help_text="Tested on the fiscal calendar's month, quarter or year ends; windows count these periods.",
    )
    window_periods = models.PositiveSmallIntegerField(default=1)
    window_kind = models.CharField(max_length=20, choices=WindowKind.choices, default=WindowKind.TRAILING)
    denominator_line_item = models.ForeignKey(
        LineItem, on_delete=models.PROTECT, null=True, blank=True, related_name="covenant_terms_as_denominator"
    )
    denominator_window_periods = models.PositiveSmallIntegerField(null=True, blank=True)
    denominator_window_kind = models.CharField(
        max_length=20, choices=WindowKind.choices, default=WindowKind.TRAILING, blank=True
    )
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.AT_LEAST)
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.COMBINED)
    reporting_party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consolidated_terms",
        help_text="On a consolidated basis: the party whose consolidated statement stands for the group.",
    )
    threshold_relative_to = models.ForeignKey(
        LineItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="relative_thresholds",
        help_text="When set, each schedule amount is a percentage of this line item as reported for the "
        "same period (85 = 85% of the budget).",
    )
    effective_from_as_printed = models.BooleanField(
        default=False,
        help_text="The text sets its own effective date; otherwise terms made by an amendment take effect "
        "on the amendment's effective date and move with it.",
    )
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
                condition=Q(action="delete") | Q(line_item__isnull=False) | Q(metric__isnull=False),
                name="covenant_terms_line_item_required",
                violation_error_message="Terms that test a figure must name its line item or defined term.",
            ),
            models.CheckConstraint(
                condition=~Q(basis="consolidated") | Q(reporting_party__isnull=False),
                name="covenant_terms_consolidated_names_reporter",
                violation_error_message="A consolidated test names the party whose statement stands for the group.",
            ),
            models.CheckConstraint(
                condition=~Q(metric_kind="ratio")
                | Q(denominator_line_item__isnull=False, denominator_window_periods__isnull=False),
                name="covenant_terms_ratio_has_denominator",
                violation_error_message="A ratio needs a denominator line item and its window.",
            ),
            models.CheckConstraint(
                condition=Q(window_periods__gte=1),
                name="covenant_terms_window_positive",
                violation_error_message="The window must be at least one period.",
            ),
        ]

    def __str__(self) -> str:
        source = self.amendment.title if self.amendment_id else "original agreement"
        return f"{self.covenant.section} from {self.effective_from:%Y-%m-%d} ({source})"

    @property
    def is_ratio(self) -> bool:
        """Whether the terms test a ratio, shown "4.50 to 1.00" rather than in money: two windowed
        sums, or a defined term whose formula divides at its top (the engine's reading of it).
        Reads ``metric``: load it with the terms where many are shown."""
        if self.metric_kind == MetricKind.RATIO:
            return True
        if self.metric_id is None:
            return False
        try:
            return parse(self.metric.formula).is_quotient()
        except FormulaError:
            return False

    def next_version(self) -> CovenantTerms | None:
        """The covenant's terms that take over from these (the next to take effect), if any."""
        if not self.covenant_id or self.effective_from is None:
            return None
        later = CovenantTerms.objects.filter(covenant_id=self.covenant_id, effective_from__gt=self.effective_from)
        return later.exclude(pk=self.pk).order_by("effective_from").first()

    def in_force_until(self) -> date | None:
        """The day before the next version takes effect (None: still in force)."""
        following = self.next_version()
        return following.effective_from - timedelta(days=1) if following else None

    def clean(self) -> None:
        """Refuse a covenant tested more often than the agreement reports, a consolidated test
        whose reporting party holds no role in the agreement, and a relative threshold whose
        line item the agreement's statements do not carry."""
        errors: dict[str, list[str]] = {}
        agreement = self.covenant.agreement if self.covenant_id else None
        if agreement is not None:
            reporting = agreement.reporting_frequency
            if self.frequency in FREQUENCIES and FREQUENCIES.index(self.frequency) < FREQUENCIES.index(reporting):
                errors["frequency"] = [
                    f"A {self.get_frequency_display().lower()} covenant needs {self.get_frequency_display().lower()} "
                    f"statements, and {agreement.name} reports {agreement.get_reporting_frequency_display().lower()}: "
                    f"test it on {PERIOD_NOUNS[reporting]} ends or change the agreement's reporting frequency."
                ]
            consolidated = self.basis == Basis.CONSOLIDATED and self.reporting_party_id
            if consolidated and not agreement.roles.filter(party_id=self.reporting_party_id).exists():
                errors["reporting_party"] = [
                    f"{self.reporting_party} holds no role in {agreement.name}: the party whose consolidated "
                    "statement stands for the group must be a party to the agreement (add its role first)."
                ]
            errors.update(self._relative_threshold_refusal(agreement))
        if self.basis == Basis.CONSOLIDATED and not self.reporting_party_id:
            errors["reporting_party"] = ["A consolidated test names the party whose statement stands for the group."]
        if self.basis != Basis.CONSOLIDATED and self.reporting_party_id:
            errors["reporting_party"] = ["Only a consolidated test names a reporting party."]
        if errors:
            raise ValidationError(errors)

    def _relative_threshold_refusal(self, agreement: Agreement) -> dict[str, list[str]]:
        if not self.threshold_relative_to_id:
            return {}
        required = set(agreement.required_line_items.values_list("pk", flat=True)) if agreement.pk else set()
        if self.threshold_relative_to_id in required:
            return {}
        return {
            "threshold_relative_to": [
                f"A relative threshold needs a line item the statements carry: {self.threshold_relative_to} is not "
                f"among the line items {agreement.name} requires; add it to them first."
            ]
        }


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
    threshold = models.DecimalField(max_digits=26, decimal_places=6, null=True, blank=True)
    threshold_state = models.CharField(max_length=20, choices=ThresholdState.choices, default=ThresholdState.SET)
    amount_as_printed = models.CharField(max_length=100, blank=True, help_text='E.g. "($50,400,000)".')
    date_as_printed = models.CharField(
        max_length=100, blank=True, help_text='The test date as printed, when it differs: "June, 2019".'
    )
    date_reading = models.CharField(
        max_length=255,
        blank=True,
        help_text="How an incomplete or ambiguous printed date was read (flagged wherever the row is used): "
        '"no day printed: read as the last day of June 2019".',
    )
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

    def clean(self) -> None:
        """Refuse a test date that is not a period end of the covenant's frequency on the agreement's
        calendar (naming the nearest ones) or that falls outside its terms' time in force, and a
        printed date read as another without saying how it was read."""
        errors: dict[str, list[str]] = {}
        if self.date_as_printed.strip():
            read, reading = read_printed_date(self.date_as_printed)
            if (read != self.test_date or reading) and not self.date_reading.strip():
                why = reading or (f"it reads as {read.isoformat()}" if read else "it is not a date")
                errors["date_reading"] = [
                    f'The date as printed, "{self.date_as_printed.strip()}", is not the test date as stored '
                    f'({why}): say how it was read, e.g. "{reading or "read as the last day of the quarter"}".'
                ]
        try:
            terms = self.terms
        except ObjectDoesNotExist:
            terms = None
        if terms is not None:
            errors.update(self._period_refusals(terms))
        if errors:
            raise ValidationError(errors)

    def _period_refusals(self, terms: CovenantTerms) -> dict[str, list[str]]:
        if self.test_date is None or terms.covenant_id is None:
            return {}
        agreement = terms.covenant.agreement
        problem = not_a_period_end(agreement.calendar(), self.test_date, terms.frequency)
        if problem:
            noun = PERIOD_NOUNS.get(terms.frequency, terms.frequency)
            return {"test_date": [f"{problem}: a test date of {terms.covenant.section} ends a {noun}."]}
        if terms.effective_from and self.test_date < terms.effective_from:
            return {
                "test_date": [
                    f"{self.test_date.isoformat()} is before these terms of {terms.covenant.section} take effect "
                    f"({terms.effective_from.isoformat()}): a row of an earlier version belongs to that version."
                ]
            }
        until = terms.in_force_until()
        if until is not None and self.test_date > until:
            return {
                "test_date": [
                    f"{self.test_date.isoformat()} is after these terms of {terms.covenant.section} give way to the "
                    f"next version (from {(until + timedelta(days=1)).isoformat()}): put the row in that version."
                ]
            }
        return {}
