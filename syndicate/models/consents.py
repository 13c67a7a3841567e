"""
Consent requests put to the Lenders of an agreement, and each Lender's vote on them.

One vote per Lender per request (a constraint, not a convention): whichever of its
signatories answers, the Lender's one vote is created or changed, and its history is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from covenants.models import Agreement, Amendment
from documents.models import Document
from parties.models import Party
from syndicate.choices import Answer, Outcome, RequestKind, RequestStatus, VoteNeeded
from syndicate.models.commitments import MONEY, AuthorisedSignatory


class ConsentRequest(models.Model):
    """An agent asks the Lenders to consent to an amendment or waiver, by a deadline."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="consent_requests")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="consent_requests")
    amendment = models.ForeignKey(
        Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="consent_requests"
    )
    kind = models.CharField(max_length=20, choices=RequestKind.choices, default=RequestKind.AMENDMENT)
    title = models.CharField(max_length=255)
    vote_needed = models.CharField(max_length=20, choices=VoteNeeded.choices, default=VoteNeeded.REQUISITE)
    affected_lenders = models.ManyToManyField(
        Party, blank=True, related_name="+", help_text="For a vote of all affected Lenders: who is affected."
    )
    record_date = models.DateField(help_text="Commitments are weighed as they stand on this date.")
    deadline = models.DateTimeField()
    consent_fee = models.DecimalField(**MONEY, null=True, blank=True)
    consent_fee_terms = models.CharField(
        max_length=255, blank=True, help_text='E.g. "0.10% of the consenting commitment".'
    )
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set once, when a tally first finds the threshold reached: the alert is raised then.
    threshold_reached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_fee__isnull=True) | Q(consent_fee__gte=0),
                name="consent_request_fee_not_negative",
                violation_error_message="A consent fee cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(status=RequestStatus.OPEN) | Q(closed_at__isnull=False),
                name="consent_request_closed_has_date",
                violation_error_message="A closed request must say when it closed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.agreement.name})"

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN


class Vote(models.Model):
    """A Lender's one vote on a consent request, cast (and changeable) by any of its signatories."""

    request = models.ForeignKey(ConsentRequest, on_delete=models.CASCADE, related_name="votes")
    lender = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="consent_votes")
    answer = models.CharField(max_length=10, choices=Answer.choices)
    condition = models.TextField(blank=True, help_text="A condition the Lender attaches to its answer.")
    cast_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signatory = models.ForeignKey(AuthorisedSignatory, on_delete=models.PROTECT, related_name="+")
    cast_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["request", "lender__legal_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "lender"],
                name="vote_once_per_lender",
                violation_error_message="This Lender has already voted on the request; change its vote instead.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lender}: {self.get_answer_display()} on {self.request.title}"
