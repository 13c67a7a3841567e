"""voting_share over the records: commitments in force on the date, assignments moving them,
Defaulting Lenders on that date, and the agreement's threshold (unknown until set)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from parties.models import Party
from syndicate.choices import Outcome, ShareBasis, VoteNeeded
from syndicate.models import Assignment, Commitment, DefaultingLender, Facility, LoansOutstanding, VotingThreshold
from syndicate.voting import voting_share
from tests.factories import second_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal():
    deal = second_facility("Quorum")
    term = Facility.objects.create(agreement=deal.agreement, name="Term Loan")
    deal.other = Party.objects.create(legal_name="Quorum Mutual Bank")
    for lender, amount in ((deal.agent, "60"), (deal.lender, "30"), (deal.other, "10")):
        Commitment.objects.create(
            facility=term, lender=lender, amount=Decimal(amount), effective_on=dt.date(2000, 1, 1)
        )
    deal.term = term
    return deal


def test_unknown_until_an_admin_sets_the_threshold(deal):
    share = voting_share(deal.agreement, [deal.agent.pk], dt.date(2000, 2, 1))
    assert share.outcome == Outcome.UNKNOWN and share.percent == Decimal(60)
    VotingThreshold.objects.create(agreement=deal.agreement, vote=VoteNeeded.REQUISITE, percent=Decimal("66.6667"))
    assert voting_share(deal.agreement, [deal.agent.pk], dt.date(2000, 2, 1)).outcome == Outcome.NOT_REACHED


def test_assignments_and_defaulting_lenders_count_from_their_dates(deal):
    VotingThreshold.objects.create(agreement=deal.agreement, vote=VoteNeeded.REQUISITE, percent=Decimal(50))
    Assignment.objects.create(
        facility=deal.term,
        assignor=deal.agent,
        assignee=deal.lender,
        amount=Decimal(25),
        effective_on=dt.date(2000, 3, 1),
    )
    before = voting_share(deal.agreement, [deal.lender.pk], dt.date(2000, 2, 29))
    after = voting_share(deal.agreement, [deal.lender.pk], dt.date(2000, 3, 1))
    assert (before.held, before.reached) == (Decimal(30), False)
    assert (after.held, after.reached) == (Decimal(55), True)
    DefaultingLender.objects.create(agreement=deal.agreement, lender=deal.agent, from_date=dt.date(2000, 4, 1))
    # 35 of the agent's 60 left; without it, the lender's 55 of 65.
    share = voting_share(deal.agreement, [deal.lender.pk], dt.date(2000, 4, 1))
    assert (share.held, share.aggregate, share.excluded) == (Decimal(55), Decimal(65), frozenset({deal.agent.pk}))


def test_loans_outstanding_weigh_a_vote_so_defined(deal):
    VotingThreshold.objects.create(
        agreement=deal.agreement, vote=VoteNeeded.REQUISITE, basis=ShareBasis.LOANS_OUTSTANDING, percent=Decimal(50)
    )
    LoansOutstanding.objects.create(
        facility=deal.term, lender=deal.agent, amount=Decimal(10), as_of=dt.date(2000, 1, 1)
    )
    LoansOutstanding.objects.create(
        facility=deal.term, lender=deal.lender, amount=Decimal(5), as_of=dt.date(2000, 1, 1)
    )
    LoansOutstanding.objects.create(
        facility=deal.term, lender=deal.lender, amount=Decimal(20), as_of=dt.date(2000, 2, 1)
    )
    assert voting_share(deal.agreement, [deal.lender.pk], dt.date(2000, 1, 31)).reached is False
    share = voting_share(deal.agreement, [deal.lender.pk], dt.date(2000, 2, 1))
    assert (share.basis, share.held, share.aggregate, share.reached) == (ShareBasis.LOANS_OUTSTANDING, 20, 30, True)
