"""Voting thresholds and Defaulting Lenders set through the services: the agreement's Agents and
administrators only, refusals naming the field, every change kept in history, and each change
counting the open consent requests again (a request it carries over its threshold is stamped
and alerted once, as a vote would)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from alerts.choices import AlertKind
from alerts.models import Alert
from parties.models import Party
from syndicate.choices import Answer, VoteNeeded
from syndicate.consents import vote_cast
from syndicate.definitions import (
    defaulting_lender_change,
    defaulting_lender_end,
    defaulting_lender_record,
    threshold_set,
)
from syndicate.models import DefaultingLender, VotingThreshold
from syndicate.services import SyndicateRefused
from syndicate.tally import tally_of
from tests.factories import second_facility
from tests.syndicate.test_consents import open_request

pytestmark = pytest.mark.django_db


def mark(syndicate, key, start, end=None, user=None):
    return defaulting_lender_record(
        agreement_id=syndicate.agreement.pk, lender_id=syndicate.lenders[key].pk, from_date=start, to_date=end,
        recorded_by=user or syndicate.deal.users["agent"], reason="Failed to fund",
    )  # fmt: skip


def reached_alerts() -> int:
    return Alert.objects.filter(kind=AlertKind.CONSENT_THRESHOLD_REACHED).count()


def test_marking_a_defaulting_lender_retallies_the_open_request_and_alerts_once(syndicate):
    request = open_request(syndicate)
    vote_cast(request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
              cast_by=syndicate.signatories["life"])  # fmt: skip
    assert tally_of(request).share.percent == Decimal(35)  # 35 of 100: not more than half
    assert reached_alerts() == 0
    mark(syndicate, "agent", dt.date(2000, 1, 5))  # the Agent's 40 leaves both sides: 35 of 60
    request.refresh_from_db()
    assert request.threshold_reached_at is not None
    assert reached_alerts() == 1
    tally = tally_of(request)
    assert tally.share.reached and tally.share.aggregate == 60_000_000
    assert [line.defaulting for line in tally.lines if line.lender_id == syndicate.lenders["agent"].pk] == [True]
    # Ended after the record date, the Agent still counts on neither side.
    defaulting_lender_end(
        defaulting_id=DefaultingLender.objects.get().pk, to_date=dt.date(2000, 1, 12),
        ended_by=syndicate.deal.users["agent"],
    )  # fmt: skip
    assert tally_of(request).share.reached is True  # still defaulting on the record date (January 10)
    # Corrected to end before the record date, the Agent is back: not reached, and no second alert.
    defaulting_lender_change(
        defaulting_id=DefaultingLender.objects.get().pk, from_date=dt.date(2000, 1, 5), to_date=dt.date(2000, 1, 8),
        reason="Cured", changed_by=syndicate.deal.users["agent"],
    )  # fmt: skip
    assert tally_of(request).share.reached is False
    assert reached_alerts() == 1


def test_setting_a_threshold_retallies_and_an_unknown_one_says_so(syndicate):
    request = open_request(syndicate)
    vote_cast(request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
              cast_by=syndicate.signatories["life"])  # fmt: skip
    threshold_set(agreement_id=syndicate.agreement.pk, vote=VoteNeeded.REQUISITE, percent=None,
                  set_by=syndicate.deal.users["agent"])  # fmt: skip
    assert tally_of(request).share.outcome == "unknown"
    threshold_set(agreement_id=syndicate.agreement.pk, vote=VoteNeeded.REQUISITE, percent=Decimal(30),
                  set_by=syndicate.deal.users["agent"])  # fmt: skip
    request.refresh_from_db()
    assert request.threshold_reached_at is not None and reached_alerts() == 1
    threshold = VotingThreshold.objects.get(vote=VoteNeeded.REQUISITE)
    changes = list(threshold.history.order_by("history_id"))[-2:]  # after the fixture's own row
    assert [(h.percent, h.history_user.username) for h in changes] == [
        (None, "vale.agent"),
        (Decimal(30), "vale.agent"),
    ]


def test_defaulting_periods_refuse_bad_input_naming_the_field(syndicate):
    mark(syndicate, "life", dt.date(2000, 2, 1), dt.date(2000, 3, 31))
    cases = [
        (
            {"key": "life", "start": dt.date(2000, 3, 1)},
            "from_date",
            "already a Defaulting Lender from February 1, 2000",
        ),
        ({"key": "life", "start": dt.date(2000, 1, 1), "end": dt.date(2000, 2, 1)}, "from_date", "cannot overlap"),
        ({"key": "mutual", "start": dt.date(2000, 5, 1), "end": dt.date(2000, 4, 1)}, "to_date", "before it starts"),
    ]
    for arguments, field, words in cases:
        with pytest.raises(SyndicateRefused, match=words) as refused:
            mark(syndicate, **arguments)
        assert refused.value.field == field
    stranger = Party.objects.create(legal_name="Stranger Bank")
    with pytest.raises(SyndicateRefused, match="not a Lender under Vale Credit Agreement") as refused:
        defaulting_lender_record(agreement_id=syndicate.agreement.pk, lender_id=stranger.pk,
                                 from_date=dt.date(2000, 1, 1), recorded_by=syndicate.deal.users["agent"])  # fmt: skip
    assert refused.value.field == "lender"
    # Adjacent periods do not overlap; an ended period cannot be ended again.
    mark(syndicate, "life", dt.date(2000, 4, 1))
    with pytest.raises(SyndicateRefused, match="already ended") as refused:
        defaulting_lender_end(defaulting_id=DefaultingLender.objects.order_by("from_date").first().pk,
                              to_date=dt.date(2000, 4, 1), ended_by=syndicate.deal.users["agent"])  # fmt: skip
    assert DefaultingLender.objects.count() == 2
    for percent in (Decimal(0), Decimal("100.01"), Decimal(-5)):
        with pytest.raises(SyndicateRefused, match="above 0 and at most 100") as refused:
            threshold_set(agreement_id=syndicate.agreement.pk, vote=VoteNeeded.SUPERMAJORITY, percent=percent,
                          set_by=syndicate.deal.users["agent"])  # fmt: skip
        assert refused.value.field == "percent"


def test_only_the_agreements_own_agents_and_administrators_change_them(syndicate):
    other = second_facility("Elsewhere")
    for user in (syndicate.deal.users["lender"], syndicate.deal.users["borrower"], other.users["agent"]):
        with pytest.raises(PermissionDenied):
            mark(syndicate, "life", dt.date(2000, 1, 1), user=user)
        with pytest.raises(PermissionDenied):
            threshold_set(agreement_id=syndicate.agreement.pk, vote=VoteNeeded.REQUISITE, percent=Decimal(10),
                          set_by=user)  # fmt: skip
    assert not DefaultingLender.objects.exists()
    assert VotingThreshold.objects.get(vote=VoteNeeded.REQUISITE).percent == Decimal(50)
