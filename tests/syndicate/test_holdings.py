"""The effective-dated shape commitments and loans outstanding share: which rows are in force on a
date (allotments add up; loans outstanding, the latest per facility replaces the earlier) and the
validation both run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from parties.models import Party
from syndicate.holdings import commitments_on, loans_outstanding_on
from syndicate.models import Commitment, Facility, LoansOutstanding

M = Decimal(1_000_000)


def test_allotted_commitments_add_up_from_their_dates(syndicate):
    life = syndicate.lenders["life"]
    Commitment.objects.create(facility=syndicate.facility, lender=life, amount=5 * M, effective_on=dt.date(2000, 6, 1))
    in_force = Commitment.objects.in_force_on(dt.date(2000, 6, 1)).filter(lender=life)
    assert sorted(row.amount for row in in_force) == [5 * M, 35 * M]
    assert Commitment.objects.in_force_on(dt.date(2000, 5, 31)).filter(lender=life).count() == 1
    assert not Commitment.objects.in_force_on(dt.date(1999, 12, 31)).exists()
    assert commitments_on(syndicate.agreement, dt.date(2000, 6, 1))[life.pk] == 40 * M


def test_the_latest_loans_outstanding_per_facility_replace_the_earlier(syndicate):
    life, mutual = syndicate.lenders["life"], syndicate.lenders["mutual"]
    revolver = Facility.objects.create(agreement=syndicate.agreement, name="Revolving Loans")
    for facility, lender, amount, day in (
        (syndicate.facility, life, 30, dt.date(2000, 1, 1)),
        (syndicate.facility, life, 20, dt.date(2000, 3, 1)),  # repaid down: replaces the 30
        (syndicate.facility, life, 10, dt.date(2000, 9, 1)),  # after the date asked: not yet
        (revolver, life, 7, dt.date(2000, 2, 1)),  # another facility: adds up
        (syndicate.facility, mutual, 0, dt.date(2000, 2, 1)),  # all repaid: counts as zero
    ):
        LoansOutstanding.objects.create(facility=facility, lender=lender, amount=amount * M, as_of=day)
    on = dt.date(2000, 6, 30)
    rows = LoansOutstanding.objects.in_force_on(on).filter(lender=life)
    assert sorted((row.facility.name, row.amount) for row in rows) == [
        ("Revolving Loans", 7 * M),
        ("Term Loan", 20 * M),
    ]
    assert loans_outstanding_on(syndicate.agreement, on) == {life.pk: 27 * M, mutual.pk: 0}
    assert loans_outstanding_on(syndicate.agreement, dt.date(2000, 1, 31)) == {life.pk: 30 * M}


@pytest.mark.parametrize(
    ("model", "dated", "amount", "field", "message"),
    [
        (Commitment, "effective_on", Decimal(0), "amount", "The amount must be positive."),
        (LoansOutstanding, "as_of", Decimal(-1), "amount", "The amount must be zero or more."),
    ],
)
def test_both_refuse_an_amount_of_the_wrong_sign(syndicate, model, dated, amount, field, message):
    row = model(
        facility=syndicate.facility, lender=syndicate.lenders["life"], amount=amount, **{dated: dt.date(2000, 1, 2)}
    )
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert refused.value.message_dict[field] == [message]


@pytest.mark.parametrize(("model", "dated"), [(Commitment, "effective_on"), (LoansOutstanding, "as_of")])
def test_both_refuse_a_party_that_is_not_a_lender_of_the_agreement(syndicate, model, dated):
    stranger = Party.objects.create(legal_name="Stranger Bank")
    row = model(facility=syndicate.facility, lender=stranger, amount=M, **{dated: dt.date(2000, 1, 2)})
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert refused.value.message_dict["lender"] == [f"This party is not a Lender under {syndicate.agreement.name}."]
    # A Lender of the agreement passes the same validation.
    model(
        facility=syndicate.facility, lender=syndicate.lenders["life"], amount=M, **{dated: dt.date(2000, 1, 2)}
    ).full_clean()
