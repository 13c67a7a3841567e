"""
Commitments per Lender per facility, effective-dated, and what weighs a Lender's vote.

A Lender's commitment on a date is what it was allotted (:class:`Commitment`, from its
effective date) plus what was assigned to it, less what it assigned away
(:class:`Assignment`, each from its effective date): history is never rewritten, a later
assignment is another row. Rows flagged ``demo`` are figures the seeds do not state, loaded
for the demonstration and labelled as such wherever they show.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from simple_history.models import HistoricalRecords

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from parties.models import Party, Person, Signature
from syndicate.choices import ShareBasis, VoteNeeded

MONEY = {"max_digits": 20, "decimal_places": 2}


class Facility(models.Model):
    """A facility of an agreement (a term loan, a revolver) whose commitments the Lenders hold."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="facilities")
    name = models.CharField(max_length=150, help_text='As the agreement names it: "Term Loan", "Revolving Loans".')
    demo = models.BooleanField(default=False, help_text="Not stated in the documents: demonstration data.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agreement", "name"]
        verbose_name_plural = "facilities"
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "name"],
                name="facility_name_unique_per_agreement",
                violation_error_message="The agreement already has a facility with this name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.agreement.name}){' [demo]' if self.demo else ''}"


class HoldingQuerySet(models.QuerySet):
    """Rows of an effective-dated holding (:class:`FacilityHolding`)."""

    def in_force_on(self, day: dt.date) -> HoldingQuerySet:
        """The rows that count on ``day``: every row dated on or before it where the rows add up
        (allotted commitments), else each Lender's latest per facility (loans outstanding)."""
        dated_by = self.model.dated_by
        rows = self.filter(**{f"{dated_by}__lte": day})
        if self.model.cumulative:
            return rows
        later = self.model._default_manager.filter(
            facility=OuterRef("facility"),
            lender=OuterRef("lender"),
            **{f"{dated_by}__gt": OuterRef(dated_by), f"{dated_by}__lte": day},
        )
        return rows.filter(~Exists(later))


class FacilityHolding(models.Model):
    """
    What a Lender holds under a facility from a date: an amount, the date it counts from (the
    field ``dated_by`` names), and whether it is demonstration data. Each concrete model
    declares its facility and lender (with its own reverse name), its date, and its constraints
    (named per table); the shape, the rule for which rows are in force and the validation are here.
    """

    dated_by: ClassVar[str]
    cumulative: ClassVar[bool]
    """True: every row up to a date adds up; False: the latest row per facility and Lender replaces the earlier."""
    amount_may_be_zero: ClassVar[bool] = False

    facility: models.ForeignKey[Facility, Facility]
    lender: models.ForeignKey[Party, Party]
    amount = models.DecimalField(**MONEY)
    demo = models.BooleanField(default=False, help_text="Not stated in the documents: demonstration data.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HoldingQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        """Refuse, naming the field, what the constraints and the agreement forbid: an amount of
        the wrong sign, a party that is not a Lender under the facility's agreement."""
        errors: dict[str, str] = {}
        if self.amount is not None and (self.amount < 0 or (self.amount == 0 and not self.amount_may_be_zero)):
            errors["amount"] = f"The amount must be {'zero or more' if self.amount_may_be_zero else 'positive'}."
        if self.facility_id is not None and self.lender_id is not None:
            lender = AgreementRole.objects.filter(
                agreement_id=self.facility.agreement_id, party_id=self.lender_id, role=Role.LENDER
            )
            if not lender.exists():
                errors["lender"] = f"This party is not a Lender under {self.facility.agreement.name}."
        if errors:
            raise ValidationError(errors)


class Commitment(FacilityHolding):
    """A Lender's commitment allotted under a facility, in force from ``effective_on``; a Lender's
    allotments add up (assignments move them, :class:`Assignment`)."""

    dated_by = "effective_on"
    cumulative = True

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="commitments")
    lender = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="commitments")
    effective_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["facility", "effective_on", "lender__legal_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="commitment_amount_positive",
                violation_error_message="A commitment must be a positive amount.",
            ),
            models.UniqueConstraint(
                fields=["facility", "lender", "effective_on"],
                name="commitment_once_per_lender_and_date",
                violation_error_message="This Lender already has a commitment under the facility from this date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lender}: {self.amount:,} under {self.facility.name} from {self.effective_on}"


class Assignment(models.Model):
    """An assignment moving ``amount`` of commitment from ``assignor`` to ``assignee`` on ``effective_on``."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="assignments")
    assignor = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="assignments_made")
    assignee = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="assignments_taken")
    amount = models.DecimalField(**MONEY)
    effective_on = models.DateField()
    demo = models.BooleanField(default=False, help_text="Not stated in the documents: demonstration data.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["facility", "effective_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="assignment_amount_positive",
                violation_error_message="An assignment must move a positive amount.",
            ),
            models.CheckConstraint(
                condition=~Q(assignor=models.F("assignee")),
                name="assignment_between_two_lenders",
                violation_error_message="A Lender cannot assign to itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignor} to {self.assignee}: {self.amount:,} of {self.facility.name} on {self.effective_on}"


class LoansOutstanding(FacilityHolding):
    """A Lender's loans outstanding under a facility as of a date (the latest on or before a date counts)."""

    dated_by = "as_of"
    cumulative = False
    amount_may_be_zero = True

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="loans_outstanding")
    lender = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="loans_outstanding")
    as_of = models.DateField()

    class Meta:
        ordering = ["facility", "as_of", "lender__legal_name"]
        verbose_name_plural = "loans outstanding"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="loans_outstanding_not_negative",
                violation_error_message="Loans outstanding cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["facility", "lender", "as_of"],
                name="loans_outstanding_once_per_date",
                violation_error_message="This Lender's loans outstanding are already recorded for this date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lender}: {self.amount:,} outstanding under {self.facility.name} on {self.as_of}"


class DefaultingLender(models.Model):
    """A Lender is a Defaulting Lender from ``from_date`` (to ``to_date``, if it cured): its
    commitment counts in neither side of a vote."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="defaulting_lenders")
    lender = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    from_date = models.DateField()
    to_date = models.DateField(null=True, blank=True, help_text="Empty: still a Defaulting Lender.")
    reason = models.CharField(max_length=255, blank=True)
    demo = models.BooleanField(default=False, help_text="Not stated in the documents: demonstration data.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "from_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_date__isnull=True) | Q(to_date__gte=models.F("from_date")),
                name="defaulting_lender_dates_ordered",
                violation_error_message="A Lender cannot stop defaulting before it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lender}: Defaulting Lender from {self.from_date}"

    def holds_on(self, day: dt.date) -> bool:
        return self.from_date <= day and (self.to_date is None or day <= self.to_date)


class VotingThreshold(models.Model):
    """
    A vote as the agreement's definitions set it: "Requisite Lenders" means Lenders holding more
    than ``percent`` of the aggregate Commitments (or of the Loans outstanding). ``percent`` empty
    means the documents do not state it: a tally against it is unknown until an admin sets it.
    All Lenders and all affected Lenders need no percent.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="voting_thresholds")
    vote = models.CharField(max_length=20, choices=VoteNeeded.choices)
    basis = models.CharField(max_length=20, choices=ShareBasis.choices, default=ShareBasis.COMMITMENTS)
    percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    more_than = models.BooleanField(
        default=True, help_text='"more than" the percent (the usual wording); unticked: "at least".'
    )
    as_printed = models.TextField(blank=True, help_text="The definition as the documents print it, with its section.")
    demo = models.BooleanField(default=False, help_text="Not stated in the documents: demonstration data.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "vote"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "vote"],
                name="voting_threshold_once_per_vote",
                violation_error_message="The agreement already defines this vote.",
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100),
                name="voting_threshold_percent_valid",
                violation_error_message="A voting threshold is a percent above 0 and at most 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_vote_display()} in {self.agreement.name}"


class AuthorisedSignatory(models.Model):
    """
    A portal user authorised to sign and vote for a party: the person on a signature line of
    record (``signature``), or one an admin adds with the authority recorded (``authority``).
    """

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="authorised_signatories")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signatory_for")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signature = models.ForeignKey(
        Signature, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The signature line of record this authority comes from, if any.",
    )  # fmt: skip
    title = models.CharField(max_length=255, blank=True, help_text="The office held, e.g. Vice President.")
    authority = models.TextField(help_text="Where the authority comes from: the line of record, a board resolution...")
    holds_from = models.DateField(null=True, blank=True)
    holds_to = models.DateField(null=True, blank=True)
    demo = models.BooleanField(default=False, help_text="Not stated in the documents: demonstration data.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["party__legal_name", "user__username"]
        verbose_name_plural = "authorised signatories"
        constraints = [
            models.UniqueConstraint(
                fields=["party", "user"],
                name="authorised_signatory_once_per_party",
                violation_error_message="This user is already an authorised signatory of the party.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person or self.user} for {self.party}"

    def holds_on(self, day: dt.date) -> bool:
        return (self.holds_from is None or self.holds_from <= day) and (self.holds_to is None or day <= self.holds_to)
