"""The syndicate's admin: every page opens for an administrator; an assignment the service would
refuse is refused on the form with the service's sentence; votes are read-only; thresholds record
who set them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from syndicate.choices import Answer, VoteNeeded
from syndicate.consents import consent_request_open, vote_cast
from syndicate.models import Assignment, Commitment, Vote, VotingThreshold
from tests.factories import administrator
from tests.syndicate.conftest import RECORD_DATE, in_a_week

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def request_with_a_vote(syndicate):
    request = consent_request_open(
        agreement_id=syndicate.agreement.pk, document_id=syndicate.document.pk, title="Amendment No. 1",
        vote_needed=VoteNeeded.REQUISITE, deadline=in_a_week(), opened_by=syndicate.deal.users["agent"],
        record_date=RECORD_DATE,
    )  # fmt: skip
    vote_cast(
        request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
        cast_by=syndicate.signatories["life"],
    )  # fmt: skip
    return request


def test_every_syndicate_admin_page_opens(client, request_with_a_vote):
    client.force_login(administrator())
    for model in (m for m in admin.site._registry if m._meta.app_label == "syndicate"):
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            assert client.get(admin_url(model, "change", row.pk)).status_code == 200, model
    # Votes are read-only, even for a superuser: a POST changes nothing.
    vote = Vote.objects.get()
    client.post(admin_url(Vote, "change", vote.pk), {"answer": "decline"})
    vote.refresh_from_db()
    assert vote.answer == Answer.CONSENT


def test_an_assignment_beyond_the_assignors_commitment_is_refused_on_the_form(client, syndicate):
    client.force_login(administrator())
    form = {
        "facility": syndicate.facility.pk, "assignor": syndicate.lenders["mutual"].pk,
        "assignee": syndicate.lenders["life"].pk, "effective_on": "2000-03-01",
    }  # fmt: skip
    page = client.post(admin_url(Assignment, "add"), {**form, "amount": "30000000"})
    assert page.status_code == 200
    assert "The assignor holds $25,000,000 of Term Loan on March 1, 2000" in page.content.decode()
    assert not Assignment.objects.exists()
    page = client.post(admin_url(Assignment, "add"), {**form, "amount": "5000000"})
    assert page.status_code == 302
    assert Assignment.objects.get().amount == Decimal(5_000_000)
    assert client.post(admin_url(Assignment, "delete", Assignment.objects.get().pk), {"post": "yes"}).status_code == 403
    assert Commitment.objects.count() == 3


def test_a_threshold_set_in_the_admin_records_who_set_it(client, syndicate):
    admin_user = administrator()
    client.force_login(admin_user)
    threshold = VotingThreshold.objects.get(vote=VoteNeeded.REQUISITE)
    page = client.post(
        admin_url(VotingThreshold, "change", threshold.pk),
        {"agreement": syndicate.agreement.pk, "vote": "requisite", "basis": "commitments", "percent": "66.6667",
         "more_than": "on", "as_printed": "Section 1.1, as amended"},
    )  # fmt: skip
    assert page.status_code == 302
    threshold.refresh_from_db()
    assert (threshold.percent, threshold.set_by) == (Decimal("66.6667"), admin_user)
    assert threshold.updated_at.date() >= dt.date(2026, 1, 1)


def test_a_defaulting_lender_in_the_admin_goes_through_the_service(client, syndicate):
    """Recorded with who recorded it in its history, an overlapping period refused on the form
    with the service's sentence, and a period ended rather than deleted."""
    from syndicate.models import DefaultingLender

    admin_user = administrator()
    client.force_login(admin_user)
    form = {"agreement": syndicate.agreement.pk, "lender": syndicate.lenders["life"].pk, "reason": "failed to fund"}
    page = client.post(admin_url(DefaultingLender, "add"), {**form, "from_date": "2000-01-10"})
    assert page.status_code == 302, page.content.decode()[:2000]
    row = DefaultingLender.objects.get()
    assert row.history.get().history_user == admin_user

    page = client.post(admin_url(DefaultingLender, "add"), {**form, "from_date": "2000-02-01"})
    assert page.status_code == 200
    assert "This Lender is already a Defaulting Lender from January 10, 2000" in page.content.decode()
    assert DefaultingLender.objects.count() == 1

    page = client.post(
        admin_url(DefaultingLender, "change", row.pk),
        {"from_date": "2000-01-10", "to_date": "2000-01-05", "reason": "failed to fund"},
    )
    assert page.status_code == 200 and "cannot stop defaulting before it starts" in page.content.decode()
    page = client.post(
        admin_url(DefaultingLender, "change", row.pk),
        {"from_date": "2000-01-10", "to_date": "2000-03-31", "reason": "cured"},
    )
    assert page.status_code == 302
    row.refresh_from_db()
    assert (row.to_date, row.reason, row.lender_id) == (dt.date(2000, 3, 31), "cured", syndicate.lenders["life"].pk)
    assert client.post(admin_url(DefaultingLender, "delete", row.pk), {"post": "yes"}).status_code == 403


def test_a_threshold_outside_the_percent_range_is_refused_on_the_admin_form(client, syndicate):
    client.force_login(administrator())
    threshold = VotingThreshold.objects.get(vote=VoteNeeded.REQUISITE)
    before = threshold.percent
    page = client.post(
        admin_url(VotingThreshold, "change", threshold.pk),
        {"agreement": syndicate.agreement.pk, "vote": "requisite", "basis": "commitments", "percent": "0",
         "more_than": "on", "as_printed": ""},
    )  # fmt: skip
    assert page.status_code == 200
    assert "A voting threshold is a percent above 0 and at most 100; 0 was given." in page.content.decode()
    threshold.refresh_from_db()
    assert threshold.percent == before
