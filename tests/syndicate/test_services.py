"""Commitments and assignments through the services: only the Agents record them, an assignment
never takes a Lender below nothing (on its date or any later one), and thresholds are set by
the agreement's Agents and administrators; each refusal names what is wrong and saves nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from parties.models import Party
from syndicate.choices import VoteNeeded
from syndicate.definitions import defaulting_lender_record, threshold_set
from syndicate.holdings import commitments_on
from syndicate.models import Assignment, Commitment, VotingThreshold
from syndicate.services import SyndicateRefused, assignment_record, commitment_record
from tests.factories import administrator

pytestmark = pytest.mark.django_db
M = Decimal(1_000_000)


def assign(syndicate, assignor, assignee, millions, on, user=None):
    return assignment_record(
        facility_id=syndicate.facility.pk, assignor_id=syndicate.lenders[assignor].pk,
        assignee_id=syndicate.lenders[assignee].pk, amount=Decimal(millions) * M, effective_on=on,
        recorded_by=user or syndicate.deal.users["agent"],
    )  # fmt: skip


def test_an_assignment_moves_a_commitment_from_its_date(syndicate):
    assign(syndicate, "life", "mutual", 10, dt.date(2000, 3, 1))
    held = commitments_on(syndicate.agreement, dt.date(2000, 3, 1))
    assert held[syndicate.lenders["life"].pk] == 25 * M and held[syndicate.lenders["mutual"].pk] == 35 * M
    assert commitments_on(syndicate.agreement, dt.date(2000, 2, 29))[syndicate.lenders["life"].pk] == 35 * M


def test_the_assignor_must_hold_the_amount_then_and_later(syndicate):
    with pytest.raises(SyndicateRefused, match=r"holds \$35,000,000 of Term Loan on March 1, 2000, less than"):
        assign(syndicate, "life", "mutual", 36, dt.date(2000, 3, 1))
    assign(syndicate, "life", "mutual", 30, dt.date(2000, 6, 1))
    # 20 on March 1 would leave 15 by June 1, when the 30 already assigned goes: negative.
    with pytest.raises(SyndicateRefused, match="cannot go negative"):
        assign(syndicate, "life", "agent", 20, dt.date(2000, 3, 1))
    with pytest.raises(SyndicateRefused, match="cannot assign to itself"):
        assign(syndicate, "life", "life", 1, dt.date(2000, 3, 1))
    assert Assignment.objects.count() == 1


def test_only_agents_record_and_only_lenders_hold_commitments(syndicate):
    with pytest.raises(PermissionDenied):
        assign(syndicate, "life", "mutual", 1, dt.date(2000, 3, 1), user=syndicate.deal.users["lender"])
    outsider = Party.objects.create(legal_name="Not A Lender LLC")
    with pytest.raises(SyndicateRefused, match="not a Lender under Vale Credit Agreement"):
        commitment_record(
            facility_id=syndicate.facility.pk, lender_id=outsider.pk, amount=M, effective_on=dt.date(2000, 1, 1),
            recorded_by=syndicate.deal.users["agent"],
        )  # fmt: skip
    with pytest.raises(SyndicateRefused, match="positive amount"):
        commitment_record(
            facility_id=syndicate.facility.pk, lender_id=syndicate.lenders["life"].pk, amount=Decimal(-5),
            effective_on=dt.date(2000, 2, 1), recorded_by=syndicate.deal.users["agent"],
        )  # fmt: skip
    assert Commitment.objects.count() == 3
    with pytest.raises(SyndicateRefused, match="stop defaulting before it starts"):
        defaulting_lender_record(
            agreement_id=syndicate.agreement.pk, lender_id=syndicate.lenders["life"].pk, from_date=dt.date(2000, 5, 1),
            to_date=dt.date(2000, 4, 1), recorded_by=syndicate.deal.users["agent"],
        )  # fmt: skip


def test_thresholds_are_set_by_the_agreements_agents_and_administrators(syndicate):
    with pytest.raises(PermissionDenied):
        threshold_set(
            agreement_id=syndicate.agreement.pk, vote=VoteNeeded.SUPERMAJORITY, percent=Decimal("66.67"),
            set_by=syndicate.deal.users["lender"],
        )  # fmt: skip
    with pytest.raises(SyndicateRefused, match="at most 100"):
        threshold_set(
            agreement_id=syndicate.agreement.pk, vote=VoteNeeded.SUPERMAJORITY, percent=Decimal(101),
            set_by=administrator(),
        )  # fmt: skip
    threshold_set(
        agreement_id=syndicate.agreement.pk, vote=VoteNeeded.SUPERMAJORITY, percent=Decimal("66.67"),
        set_by=administrator("second.admin"),
    )  # fmt: skip
    assert VotingThreshold.objects.get(vote=VoteNeeded.SUPERMAJORITY).percent == Decimal("66.67")
    threshold_set(
        agreement_id=syndicate.agreement.pk, vote=VoteNeeded.SUPERMAJORITY, percent=Decimal("75"),
        set_by=syndicate.deal.users["agent"],
    )  # fmt: skip
    assert VotingThreshold.objects.get(vote=VoteNeeded.SUPERMAJORITY).percent == Decimal("75")
