"""Agreements, the parties' roles in them, amendments and their conditions precedent."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from covenants.choices import AgreementKind, AmendmentStatus, Frequency, Role
from covenants.periods import FiscalCalendar, calendar_of
from parties.models import Party, SignatureBlock

__all__ = ["LineItem", "Agreement", "AgreementRole", "Amendment", "ConditionPrecedent", "Reaffirmation"]


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class LineItem(models.Model):
    """A figure a borrower reports each fiscal quarter, such as revenues or EBITDA."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable key used in files: revenues, ebitda.")
    name = models.CharField(max_length=100, unique=True, help_text="As users write it: Revenues, EBITDA.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agreement(TimeStamped):
    """An agreement among parties: a loan agreement with covenants, a guaranty, a supply agreement."""

    kind = models.CharField(max_length=40, choices=AgreementKind.choices)
    title = models.CharField(max_length=255, help_text='As printed: "Loan and Security Agreement".')
    name = models.CharField(
        max_length=255, unique=True, help_text="How the portal lists it: distinguishes agreements with the same title."
    )
    defined_term = models.CharField(max_length=100, blank=True, help_text='E.g. "Loan Agreement".')
    contract_number = models.CharField(max_length=100, blank=True)
    dated_as_of = models.DateField(null=True, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    governing_law = models.CharField(max_length=100, blank=True)
    guaranteed_agreement = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guaranties",
        help_text="For a guaranty: the agreement whose obligations it guarantees.",
    )
    currency = models.CharField(max_length=3, default="USD")
    fiscal_year_end_month = models.PositiveSmallIntegerField(
        default=12, help_text="Fiscal quarters end every third month counting from this month (12: calendar)."
    )
    fiscal_calendar = models.JSONField(
        default=dict,
        blank=True,
        help_text="The fiscal calendar (covenants.periods.FiscalCalendar.to_dict()); empty: calendar months "
        "with the fiscal year ending in the fiscal year end month.",
    )
    reporting_frequency = models.CharField(
        max_length=10,
        choices=Frequency.choices,
        default=Frequency.QUARTER,
        help_text="How often each Borrower reports figures: a statement per month or per fiscal quarter.",
    )
    reporting_deadline_days = models.PositiveSmallIntegerField(
        default=45, help_text="Days after a fiscal quarter's end by which each Borrower's financials are due."
    )
    required_line_items = models.ManyToManyField(LineItem, blank=True, related_name="agreements")
    # Set when figures or terms change, cleared when an evaluation has run: a sweep
    # re-queues what is still set, so nothing depends on a task reaching the broker.
    evaluation_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    signature_blocks = GenericRelation(
        SignatureBlock, content_type_field="document_type", object_id_field="document_id"
    )
    history = HistoricalRecords(m2m_fields=[required_line_items], excluded_fields=["evaluation_requested_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fiscal_year_end_month__gte=1, fiscal_year_end_month__lte=12),
                name="agreement_fiscal_year_end_month_valid",
                violation_error_message="The fiscal year must end in a month from 1 to 12.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def date(self) -> dt.date | None:
        return self.dated_as_of or self.effective_on

    def calendar(self) -> FiscalCalendar:
        """The agreement's fiscal calendar: the one stored, or calendar months ending the year in
        ``fiscal_year_end_month``."""
        return calendar_of(self.fiscal_calendar, self.fiscal_year_end_month)


class AgreementRole(TimeStamped):
    """
    A party holds a role in an agreement, under a defined term, for a span of dates.

    ``holds_from`` empty means from the agreement's start; ``holds_to`` empty means still
    holds. KMC III Services LLC becomes a Customer on 2000-02-15, by Amendment Four.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="roles")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="agreement_roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    defined_term = models.CharField(max_length=100, blank=True, help_text='E.g. "KMC", "Leasing I", "Agent".')
    capacity_as_printed = models.CharField(max_length=255, blank=True)
    holds_from = models.DateField(null=True, blank=True)
    holds_to = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(
        "Amendment", on_delete=models.PROTECT, null=True, blank=True, related_name="roles_added"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "role", "party__legal_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party", "role"],
                name="agreement_role_unique",
                violation_error_message="This party already holds this role in the agreement.",
            ),
            models.CheckConstraint(
                condition=Q(holds_to__isnull=True)
                | Q(holds_from__isnull=True)
                | Q(holds_to__gte=models.F("holds_from")),
                name="agreement_role_dates_ordered",
                violation_error_message="A role cannot end before it begins.",
            ),
        ]
        indexes = [models.Index(fields=["party", "role"])]

    def __str__(self) -> str:
        return f"{self.party} as {self.get_role_display()} in {self.agreement}"

    def holds_on(self, day: dt.date) -> bool:
        return (self.holds_from is None or self.holds_from <= day) and (self.holds_to is None or day <= self.holds_to)


class Amendment(TimeStamped):
    """An amendment to an agreement, with its own dates and execution."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="amendments")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=255, help_text='As printed: "Waiver and Amendment No. 3".')
    defined_term = models.CharField(max_length=100, blank=True, help_text='E.g. "Amendment", "Amendment Four".')
    contract_number = models.CharField(max_length=100, blank=True)
    dated_as_of = models.DateField(null=True, blank=True)
    effective_on = models.DateField(
        null=True, blank=True, help_text="The date it takes effect as of, once its conditions are satisfied."
    )
    status = models.CharField(max_length=20, choices=AmendmentStatus.choices, default=AmendmentStatus.EFFECTIVE)
    signature_blocks = GenericRelation(
        SignatureBlock, content_type_field="document_type", object_id_field="document_id"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"],
                name="amendment_number_unique",
                violation_error_message="The agreement already has an amendment with this number.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.agreement.name})"

    @property
    def is_pending(self) -> bool:
        return self.status == AmendmentStatus.PENDING

    @property
    def in_force_from(self) -> dt.date | None:
        return self.effective_on or self.dated_as_of


class ConditionPrecedent(TimeStamped):
    """A condition an amendment's effectiveness waits on; its deadline may be unknown."""

    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, related_name="conditions_precedent")
    description = models.TextField()
    deadline = models.DateField(null=True, blank=True, help_text="Empty when the document leaves it blank.")
    deadline_as_printed = models.CharField(max_length=100, blank=True, help_text='E.g. "January __, 2000".')
    satisfied_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["amendment", "id"]

    def __str__(self) -> str:
        return self.description[:80]

    @property
    def deadline_known(self) -> bool:
        return self.deadline is not None


class Reaffirmation(TimeStamped):
    """A guarantor's reaffirmation of its guaranty, given for an amendment of the guaranteed agreement."""

    guaranty = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="reaffirmations")
    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, related_name="reaffirmations")
    title = models.CharField(max_length=255, default="Reaffirmation of Guaranty")
    dated_as_of = models.DateField()
    signature_blocks = GenericRelation(
        SignatureBlock, content_type_field="document_type", object_id_field="document_id"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["dated_as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["guaranty", "amendment"],
                name="reaffirmation_unique",
                violation_error_message="This guaranty is already reaffirmed for this amendment.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} for {self.amendment}"
