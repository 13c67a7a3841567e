"""
The tally of a consent request: each Lender's answer weighed by its holding on the request's
record date (not by head count), who has not answered, and whether the vote it needs is
reached. The one place a request is counted: the pages, the API, the alerts and the closing of
a request all read :func:`tally_of`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from covenants.choices import Role
from covenants.models import AgreementRole
from parties.models import Party
from syndicate.choices import Answer
from syndicate.holdings import defaulting_lenders_on, holdings_on
from syndicate.models import Commitment, ConsentRequest, Vote
from syndicate.shares import Share, share_of
from syndicate.voting import threshold_of

__all__ = ["LenderLine", "Tally", "tally_of"]


@dataclass(frozen=True)
class LenderLine:
    """One Lender in a tally: what it holds, what it answered (empty: not answered)."""

    lender_id: int
    name: str
    holding: Decimal
    percent: Decimal | None
    defaulting: bool
    answer: str = ""
    condition: str = ""
    cast_by: str = ""
    answered_at: dt.datetime | None = None

    @property
    def answer_label(self) -> str:
        return Answer(self.answer).label if self.answer else "Not answered"


@dataclass(frozen=True)
class Tally:
    """Where a request stands: the share in favour (:class:`syndicate.shares.Share`) and each Lender's line."""

    request_id: int
    share: Share
    lines: tuple[LenderLine, ...]
    #: Commitments or the threshold are demonstration figures (not stated in the documents).
    demo: bool = False

    @property
    def not_answered(self) -> tuple[LenderLine, ...]:
        return tuple(line for line in self.lines if not line.answer and not line.defaulting)

    def weight_of(self, answer: str) -> Decimal:
        """The holdings (Defaulting Lenders left out) behind one answer."""
        return sum((line.holding for line in self.lines if line.answer == answer and not line.defaulting), Decimal(0))


def tally_of(request: ConsentRequest) -> Tally:
    """Count ``request`` afresh from its votes: nine queries whatever the number of Lenders."""
    on = request.record_date
    threshold = threshold_of(request.agreement_id, request.vote_needed)
    holdings = holdings_on(request.agreement_id, on, threshold.basis)
    defaulting = defaulting_lenders_on(request.agreement_id, on)
    votes = {vote.lender_id: vote for vote in Vote.objects.filter(request=request).select_related("cast_by")}
    lenders = AgreementRole.objects.filter(agreement_id=request.agreement_id, role=Role.LENDER).filter(
        Q(holds_from__isnull=True) | Q(holds_from__lte=on), Q(holds_to__isnull=True) | Q(holds_to__gte=on)
    )
    ids = set(lenders.values_list("party_id", flat=True)) | set(holdings) | set(votes)
    names = dict(Party.objects.filter(pk__in=ids).values_list("pk", "legal_name"))
    affected = list(request.affected_lenders.values_list("pk", flat=True)) if request.pk else []
    share = share_of(
        holdings,
        [lender for lender, vote in votes.items() if vote.answer == Answer.CONSENT],
        defaulting=defaulting,
        vote=request.vote_needed,
        threshold=threshold,
        basis=threshold.basis,
        on=on,
        affected=affected or None,
    )
    lines = []
    for lender_id in sorted(ids, key=lambda pk: (-holdings.get(pk, Decimal(0)), names.get(pk, ""))):
        vote = votes.get(lender_id)
        holding = holdings.get(lender_id, Decimal(0))
        counted = lender_id not in defaulting and share.aggregate
        lines.append(
            LenderLine(
                lender_id=lender_id,
                name=names.get(lender_id, ""),
                holding=holding,
                percent=holding * 100 / share.aggregate if counted else None,
                defaulting=lender_id in defaulting,
                answer=vote.answer if vote else "",
                condition=vote.condition if vote else "",
                cast_by=(vote.cast_by.get_full_name() or vote.cast_by.get_username()) if vote else "",
                answered_at=vote.updated_at if vote else None,
            )
        )
    demo = threshold.demo or Commitment.objects.filter(facility__agreement_id=request.agreement_id, demo=True).exists()
    return Tally(request_id=request.pk, share=share, lines=tuple(lines), demo=demo)
