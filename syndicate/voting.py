"""
:func:`voting_share`: the share of an agreement's commitments (or loans outstanding) a set of
Lenders holds on a date, and whether it reaches a vote: the database side of
:mod:`syndicate.shares` (see its docstring for the interface).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from covenants.models import Agreement
from syndicate.choices import ShareBasis, VoteNeeded
from syndicate.holdings import defaulting_lenders_on, holdings_on
from syndicate.models import VotingThreshold
from syndicate.shares import Share, Threshold, share_of

__all__ = ["Share", "threshold_of", "voting_share"]


def threshold_of(agreement: Agreement | int, vote: str) -> Threshold:
    """The agreement's definition of ``vote``; for Requisite or supermajority votes the documents
    do not state and no admin has set, a threshold with no percent (unknown). One query."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.pk
    row = VotingThreshold.objects.filter(agreement_id=agreement_id, vote=vote).first()
    if row is None:
        return Threshold(vote=vote)
    return Threshold(vote=vote, basis=row.basis, percent=row.percent, more_than=row.more_than, demo=row.demo)


def voting_share(
    agreement: Agreement | int,
    lender_party_ids: Iterable[int],
    on: dt.date,
    vote: str = VoteNeeded.REQUISITE,
    basis: str | None = None,
    affected: Iterable[int] | None = None,
) -> Share:
    """The share ``lender_party_ids`` hold on ``on`` and whether ``vote`` is reached, Defaulting
    Lenders excluded from both sides; ``basis`` None weighs by the threshold's own basis. Five
    queries on commitments, three on loans outstanding."""
    threshold = threshold_of(agreement, vote)
    weighed_by = basis or threshold.basis or ShareBasis.COMMITMENTS
    return share_of(
        holdings_on(agreement, on, weighed_by),
        lender_party_ids,
        defaulting=defaulting_lenders_on(agreement, on),
        vote=vote,
        threshold=threshold,
        basis=weighed_by,
        on=on,
        affected=affected,
    )
