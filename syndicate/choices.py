"""Choices for commitments, voting thresholds and consent requests, in the agreements' words."""

from django.db import models


class VoteNeeded(models.TextChoices):
    """The vote a decision of the Lenders needs, as loan agreements define them."""

    REQUISITE = "requisite", "Requisite Lenders"
    SUPERMAJORITY = "supermajority", "Supermajority Lenders"
    ALL_LENDERS = "all_lenders", "All Lenders"
    ALL_AFFECTED = "all_affected", "All affected Lenders"


class ShareBasis(models.TextChoices):
    """What a Lender's voting share is a share of."""

    COMMITMENTS = "commitments", "aggregate Commitments"
    LOANS_OUTSTANDING = "loans_outstanding", "Loans outstanding"


class Answer(models.TextChoices):
    """A Lender's answer to a consent request."""

    CONSENT = "consent", "Consents"
    DECLINE = "decline", "Declines"
    ABSTAIN = "abstain", "Abstains"


class RequestKind(models.TextChoices):
    AMENDMENT = "amendment", "Amendment"
    WAIVER = "waiver", "Waiver"


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open for votes"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    """Where a tally stands: reached, not reached, or unknown (the threshold is not set)."""

    REACHED = "reached", "Threshold reached"
    NOT_REACHED = "not_reached", "Threshold not reached"
    UNKNOWN = "unknown", "Threshold unknown"
