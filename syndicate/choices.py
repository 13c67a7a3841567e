"""Choices for commitments, voting thresholds and consent requests, in the agreements' words."""

from django.db import models

from syndicate import words as w


class VoteNeeded(models.TextChoices):
    """The vote a decision of the Lenders needs, as loan agreements define them."""

    REQUISITE = w.REQUISITE, w.VOTE_LABELS[w.REQUISITE]
    SUPERMAJORITY = w.SUPERMAJORITY, w.VOTE_LABELS[w.SUPERMAJORITY]
    ALL_LENDERS = w.ALL_LENDERS, w.VOTE_LABELS[w.ALL_LENDERS]
    ALL_AFFECTED = w.ALL_AFFECTED, w.VOTE_LABELS[w.ALL_AFFECTED]


class ShareBasis(models.TextChoices):
    """What a Lender's voting share is a share of."""

    COMMITMENTS = w.COMMITMENTS, w.BASIS_LABELS[w.COMMITMENTS]
    LOANS_OUTSTANDING = w.LOANS_OUTSTANDING, w.BASIS_LABELS[w.LOANS_OUTSTANDING]


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

    REACHED = w.REACHED, w.OUTCOME_LABELS[w.REACHED]
    NOT_REACHED = w.NOT_REACHED, w.OUTCOME_LABELS[w.NOT_REACHED]
    UNKNOWN = w.UNKNOWN, w.OUTCOME_LABELS[w.UNKNOWN]
