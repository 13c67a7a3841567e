"""Who hears a consent request's alerts: the live tally (the vote reached, the deadline near) goes
to the agreement's Lenders and Agents alone, through the alerts app's one recipient rule, so the
fan-out never makes a delivery for a Borrower (no delivery made, then withdrawn); the opening and
the outcome reach the Borrowers too. Each alert is delivered once, however often its task runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.choices import AlertChannel, AlertKind
from alerts.models import Alert, AlertDelivery
from alerts.recipients import recipients_for
from alerts.webhooks import webhook_subscription_create
from syndicate.choices import Answer
from syndicate.consents import consent_request_close, vote_cast
from syndicate.tasks import remind_consent_deadlines
from tests.syndicate.test_consents import open_request

pytestmark = pytest.mark.django_db

TALLY_KINDS = (AlertKind.CONSENT_THRESHOLD_REACHED, AlertKind.CONSENT_DEADLINE_APPROACHING)
EVERY_KIND = [
    AlertKind.CONSENT_REQUESTED,
    AlertKind.CONSENT_THRESHOLD_REACHED,
    AlertKind.CONSENT_DEADLINE_APPROACHING,
    AlertKind.CONSENT_CLOSED,
]


@pytest.fixture
def hooks(syndicate, settings):
    """A webhook of a Borrower and one of a Lender, each asking for every consent alert."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    deal = syndicate.deal
    return {
        "borrower": webhook_subscription_create(
            user=deal.users["borrower"], party=deal.borrowers[0], url="https://hooks.example.com/b", kinds=EVERY_KIND
        ),
        "lender": webhook_subscription_create(
            user=deal.users["lender"], party=deal.lender, url="https://hooks.example.com/l", kinds=EVERY_KIND
        ),
    }


def the_vote_reached_and_the_deadline_near(syndicate):
    """Two Lenders' consents (75% of the commitments) reach the Requisite vote; the deadline is
    a day away, so the hourly reminder runs (twice: a redelivered or doubled beat)."""
    request = open_request(syndicate, deadline=timezone.now() + dt.timedelta(hours=20))
    for lender in ("agent", "life"):
        vote_cast(
            request_id=request.pk, lender_id=syndicate.lenders[lender].pk, answer=Answer.CONSENT,
            cast_by=syndicate.signatories[lender],
        )  # fmt: skip
    assert remind_consent_deadlines() == 1
    assert remind_consent_deadlines() == 0
    return request


def inbox(alert: Alert) -> list[str]:
    rows = AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.IN_APP)
    return sorted(rows.values_list("user__username", flat=True))


def test_the_live_tally_reaches_the_lenders_and_agents_once_each_and_no_borrower(syndicate, hooks):
    with CaptureQueriesContext(connection) as queries:
        the_vote_reached_and_the_deadline_near(syndicate)
    delivery_table = AlertDelivery._meta.db_table
    assert not [q["sql"] for q in queries if q["sql"].startswith("DELETE") and delivery_table in q["sql"]]

    lender_side = sorted(
        ["vale.agent", "vale.collateral", "vale.lender", "vale.agent.signer", "vale.life.signer", "vale.life.second",
         "vale.mutual.signer"]
    )  # fmt: skip
    for kind in TALLY_KINDS:
        alert = Alert.objects.get(kind=kind)
        assert inbox(alert) == lender_side  # each once: a list, so a second delivery would show
        emails = AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.EMAIL)
        assert sorted(emails.values_list("user__username", flat=True)) == lender_side
        assert not AlertDelivery.objects.filter(alert=alert, user=syndicate.deal.users["borrower"]).exists()
        webhooks = AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.WEBHOOK)
        assert list(webhooks.values_list("subscription_id", flat=True)) == [hooks["lender"].pk]
        assert sorted(recipients_for(alert).values_list("username", flat=True)) == lender_side


def test_the_borrowers_hear_the_opening_and_the_outcome(syndicate, hooks):
    request = the_vote_reached_and_the_deadline_near(syndicate)
    consent_request_close(request_id=request.pk, closed_by=syndicate.deal.users["agent"])
    borrower = syndicate.deal.users["borrower"]
    told = AlertDelivery.objects.filter(user=borrower, channel=AlertChannel.IN_APP)
    assert sorted(told.values_list("alert__kind", flat=True)) == [AlertKind.CONSENT_CLOSED, AlertKind.CONSENT_REQUESTED]
    borrower_hook = AlertDelivery.objects.filter(subscription=hooks["borrower"])
    assert sorted(borrower_hook.values_list("alert__kind", flat=True)) == [
        AlertKind.CONSENT_CLOSED,
        AlertKind.CONSENT_REQUESTED,
    ]
    closed = Alert.objects.get(kind=AlertKind.CONSENT_CLOSED)
    assert "vale.borrower" in inbox(closed)
    assert AlertDelivery.objects.filter(subscription=hooks["lender"]).count() == len(EVERY_KIND)
