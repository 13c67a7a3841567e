"""Consent requests: opened by an Agent, one vote per Lender whichever signatory casts it,
changeable until the deadline or the close, tallied by commitment, alerted exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.models import Alert
from syndicate.choices import Answer, Outcome, VoteNeeded
from syndicate.consents import (
    consent_deadlines_remind,
    consent_request_close,
    consent_request_open,
    consent_requests_close_due,
    vote_cast,
)
from syndicate.models import DefaultingLender, Vote, VotingThreshold
from syndicate.services import SyndicateRefused
from tests.syndicate.conftest import RECORD_DATE, in_a_week

pytestmark = pytest.mark.django_db


def open_request(syndicate, **changes):
    fields = {
        "agreement_id": syndicate.agreement.pk,
        "document_id": syndicate.document.pk,
        "title": "Amendment No. 1",
        "vote_needed": VoteNeeded.REQUISITE,
        "deadline": in_a_week(),
        "opened_by": syndicate.deal.users["agent"],
        "record_date": RECORD_DATE,
    }
    return consent_request_open(**(fields | changes))


def kinds():
    return sorted(Alert.objects.values_list("kind", flat=True))


def test_only_an_agent_of_the_agreement_opens_a_request(syndicate):
    with pytest.raises(PermissionDenied):
        open_request(syndicate, opened_by=syndicate.deal.users["lender"])
    with pytest.raises(SyndicateRefused, match="deadline must be in the future"):
        open_request(syndicate, deadline=timezone.now() - dt.timedelta(minutes=1))
    open_request(syndicate, consent_fee=Decimal("25000"))
    assert kinds() == [AlertKind.CONSENT_REQUESTED]
    assert "$25,000" in Alert.objects.get().message


def test_the_tally_weighs_commitments_and_reaches_the_threshold_once(syndicate):
    request = open_request(syndicate)
    signers, lenders = syndicate.signatories, syndicate.lenders
    _, tally = vote_cast(
        request_id=request.pk, lender_id=lenders["life"].pk, answer=Answer.CONSENT, cast_by=signers["life"]
    )
    assert (tally.share.percent, tally.share.reached) == (Decimal(35), False)
    assert [line.name for line in tally.not_answered] == ["Vale National Bank", "Vale Mutual Bank"]
    _, tally = vote_cast(
        request_id=request.pk, lender_id=lenders["mutual"].pk, answer=Answer.CONSENT, cast_by=signers["mutual"],
        condition="Provided the fee is paid",
    )  # fmt: skip
    assert (tally.share.percent, tally.share.reached) == (Decimal(60), True)
    # Changing one answer and back does not raise the alert again.
    vote_cast(request_id=request.pk, lender_id=lenders["mutual"].pk, answer=Answer.ABSTAIN, cast_by=signers["mutual"])
    vote_cast(request_id=request.pk, lender_id=lenders["mutual"].pk, answer=Answer.CONSENT, cast_by=signers["mutual"])
    assert kinds().count(AlertKind.CONSENT_THRESHOLD_REACHED) == 1
    request.refresh_from_db()
    assert request.threshold_reached_at is not None


def test_a_lender_votes_once_whichever_signatory_casts_it(syndicate):
    request = open_request(syndicate)
    life = syndicate.lenders["life"].pk
    vote_cast(request_id=request.pk, lender_id=life, answer=Answer.CONSENT, cast_by=syndicate.signatories["life"])
    vote, tally = vote_cast(
        request_id=request.pk, lender_id=life, answer=Answer.DECLINE, cast_by=syndicate.signatories["life2"]
    )
    assert Vote.objects.filter(request=request).count() == 1
    assert vote.answer == Answer.DECLINE and vote.history.count() == 2
    assert tally.weight_of(Answer.DECLINE) == Decimal(35_000_000)


def test_a_signatory_votes_only_for_its_own_lender(syndicate):
    request = open_request(syndicate)
    with pytest.raises(PermissionDenied):
        vote_cast(
            request_id=request.pk, lender_id=syndicate.lenders["mutual"].pk, answer=Answer.CONSENT,
            cast_by=syndicate.signatories["life"],
        )  # fmt: skip
    with pytest.raises(PermissionDenied):  # an Agent's user who is no signatory
        vote_cast(
            request_id=request.pk, lender_id=syndicate.lenders["agent"].pk, answer=Answer.CONSENT,
            cast_by=syndicate.deal.users["agent"],
        )  # fmt: skip
    assert not Vote.objects.exists()


def test_a_vote_after_the_deadline_or_the_close_is_refused(syndicate):
    request = open_request(syndicate)
    life, signer = syndicate.lenders["life"].pk, syndicate.signatories["life"]
    with pytest.raises(SyndicateRefused, match="deadline for votes passed"):
        vote_cast(request_id=request.pk, lender_id=life, answer=Answer.CONSENT, cast_by=signer,
                  now=request.deadline + dt.timedelta(seconds=1))  # fmt: skip
    consent_request_close(request_id=request.pk, closed_by=syndicate.deal.users["agent"])
    with pytest.raises(SyndicateRefused, match="closed"):
        vote_cast(request_id=request.pk, lender_id=life, answer=Answer.CONSENT, cast_by=signer)
    request.refresh_from_db()
    assert request.outcome == Outcome.NOT_REACHED
    assert kinds() == [AlertKind.CONSENT_CLOSED, AlertKind.CONSENT_REQUESTED]


def test_a_defaulting_lender_is_left_out_of_the_tally(syndicate):
    DefaultingLender.objects.create(
        agreement=syndicate.agreement, lender=syndicate.lenders["agent"], from_date=RECORD_DATE
    )
    request = open_request(syndicate)
    _, tally = vote_cast(
        request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
        cast_by=syndicate.signatories["life"],
    )  # fmt: skip
    # 35 of the 60 million held by Lenders not defaulting.
    assert (tally.share.aggregate, tally.share.reached) == (Decimal(60_000_000), True)
    assert [line.name for line in tally.not_answered] == ["Vale Mutual Bank"]


def test_an_unknown_threshold_closes_as_unknown(syndicate):
    VotingThreshold.objects.filter(agreement=syndicate.agreement).update(percent=None)
    request = open_request(syndicate)
    _, tally = vote_cast(
        request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
        cast_by=syndicate.signatories["life"],
    )  # fmt: skip
    assert tally.share.outcome == Outcome.UNKNOWN
    assert "threshold is not set" in tally.share.describe()
    consent_requests_close_due(now=request.deadline + dt.timedelta(minutes=1))
    request.refresh_from_db()
    assert request.outcome == Outcome.UNKNOWN
    assert "unknown" in Alert.objects.get(kind=AlertKind.CONSENT_CLOSED).message


def test_the_deadline_reminder_is_raised_once(syndicate):
    request = open_request(syndicate, deadline=timezone.now() + dt.timedelta(hours=30))
    assert consent_deadlines_remind() == 1
    assert consent_deadlines_remind() == 0
    assert kinds().count(AlertKind.CONSENT_DEADLINE_APPROACHING) == 1
    assert Alert.objects.get(kind=AlertKind.CONSENT_DEADLINE_APPROACHING).link_path.endswith(f"/{request.pk}/")


def test_each_alert_reaches_each_user_of_the_agreement_once(syndicate):
    from alerts.choices import AlertChannel
    from alerts.models import AlertDelivery
    from syndicate.alerts import consent_alert_opened

    request = open_request(syndicate)
    assert consent_alert_opened(request) is None  # raised again: nothing new
    alert = Alert.objects.get(kind=AlertKind.CONSENT_REQUESTED)
    inbox = AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.IN_APP)
    users = set(inbox.values_list("user__username", flat=True))
    assert {"vale.agent", "vale.lender", "vale.borrower", "vale.life.signer", "vale.mutual.signer"} <= users
    assert inbox.count() == len(users)
    assert AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.EMAIL).count() == len(users)


def test_borrowers_are_told_of_the_opening_and_the_outcome_not_the_live_vote(syndicate):
    from alerts.models import AlertDelivery

    request = open_request(syndicate, deadline=timezone.now() + dt.timedelta(hours=30))
    for lender in ("life", "mutual"):
        vote_cast(
            request_id=request.pk, lender_id=syndicate.lenders[lender].pk, answer=Answer.CONSENT,
            cast_by=syndicate.signatories[lender],
        )  # fmt: skip
    consent_deadlines_remind()
    consent_request_close(request_id=request.pk, closed_by=syndicate.deal.users["agent"])

    def told(username):
        rows = AlertDelivery.objects.filter(user__username=username, channel="in_app")
        return sorted(rows.values_list("alert__kind", flat=True))

    assert told("vale.borrower") == [AlertKind.CONSENT_CLOSED, AlertKind.CONSENT_REQUESTED]
    assert told("vale.lender") == sorted(
        [AlertKind.CONSENT_CLOSED, AlertKind.CONSENT_DEADLINE_APPROACHING, AlertKind.CONSENT_REQUESTED,
         AlertKind.CONSENT_THRESHOLD_REACHED]
    )  # fmt: skip
