"""Voting shares: the share in favour over the aggregate, Defaulting Lenders out of both sides,
thresholds compared exactly, and an unknown threshold said to be unknown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from syndicate.choices import Outcome, ShareBasis, VoteNeeded
from syndicate.shares import Threshold, share_of

DAY = dt.date(2000, 1, 15)
HOLDINGS = {1: Decimal("50"), 2: Decimal("30"), 3: Decimal("20")}
MAJORITY = Threshold(vote=VoteNeeded.REQUISITE, percent=Decimal("50"))


def test_more_than_half_is_needed_and_exactly_half_is_not_enough():
    half = share_of(HOLDINGS, [1], vote=VoteNeeded.REQUISITE, threshold=MAJORITY, on=DAY)
    assert (half.held, half.aggregate, half.percent) == (Decimal("50"), Decimal("100"), Decimal("50"))
    assert half.reached is False
    assert share_of(HOLDINGS, [1, 3], threshold=MAJORITY, on=DAY).reached is True
    at_least = Threshold(vote=VoteNeeded.REQUISITE, percent=Decimal("50"), more_than=False)
    assert share_of(HOLDINGS, [1], threshold=at_least, on=DAY).reached is True


def test_a_defaulting_lender_counts_on_neither_side():
    # Without Lender 1, Lender 2's 30 is 60% of 50: a majority it would not be with 1 counted.
    share = share_of(HOLDINGS, [2], defaulting=[1], threshold=MAJORITY, on=DAY)
    assert (share.held, share.aggregate, share.percent) == (Decimal("30"), Decimal("50"), Decimal("60"))
    assert share.reached is True
    assert share_of(HOLDINGS, [2], threshold=MAJORITY, on=DAY).reached is False
    assert share.excluded == frozenset({1})
    # Its own consent adds nothing.
    assert share_of(HOLDINGS, [1, 2], defaulting=[1], threshold=MAJORITY, on=DAY).held == Decimal("30")


def test_an_unknown_threshold_says_so_rather_than_guessing():
    share = share_of(HOLDINGS, [1, 2, 3], threshold=Threshold(vote=VoteNeeded.REQUISITE), on=DAY)
    assert share.reached is None
    assert share.outcome == Outcome.UNKNOWN
    assert "threshold is not set" in share.describe()
    assert share.percent == Decimal("100")


def test_all_lenders_and_all_affected_lenders_name_who_is_missing():
    every = Threshold(vote=VoteNeeded.ALL_LENDERS)
    share = share_of(HOLDINGS, [1, 2], vote=VoteNeeded.ALL_LENDERS, threshold=every, on=DAY)
    assert share.reached is False and share.outstanding == frozenset({3})
    assert share_of(HOLDINGS, [1, 2], defaulting=[3], vote=VoteNeeded.ALL_LENDERS, threshold=every, on=DAY).reached

    affected = Threshold(vote=VoteNeeded.ALL_AFFECTED)
    share = share_of(HOLDINGS, [2], vote=VoteNeeded.ALL_AFFECTED, threshold=affected, on=DAY, affected=[2, 3])
    assert share.reached is False and share.outstanding == frozenset({3})
    unnamed = share_of(HOLDINGS, [1, 2, 3], vote=VoteNeeded.ALL_AFFECTED, threshold=affected, on=DAY)
    assert unnamed.reached is None


def test_no_commitments_decides_nothing():
    assert share_of({}, [1], threshold=MAJORITY, on=DAY).reached is None


@pytest.mark.parametrize("held", ["41.3", "50", "50.0001"])
def test_the_sentence_names_the_share_and_what_is_needed(held):
    holdings = {1: Decimal(held), 2: Decimal(100) - Decimal(held)}
    share = share_of(holdings, [1], threshold=MAJORITY, basis=ShareBasis.COMMITMENTS, on=DAY)
    assert share.describe().startswith(f"Requisite Lenders: {Decimal(held):.1f}% of aggregate Commitments in favour")
    assert "more than 50% of aggregate Commitments needed" in share.describe()
