"""The syndicate's models: who holds which commitment when, and what the Lenders are asked."""

from syndicate.models.commitments import (
    Assignment,
    AuthorisedSignatory,
    Commitment,
    DefaultingLender,
    Facility,
    LoansOutstanding,
    VotingThreshold,
)
from syndicate.models.consents import ConsentRequest, Vote

__all__ = [
    "Assignment",
    "AuthorisedSignatory",
    "Commitment",
    "ConsentRequest",
    "DefaultingLender",
    "Facility",
    "LoansOutstanding",
    "Vote",
    "VotingThreshold",
]
