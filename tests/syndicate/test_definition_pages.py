"""An agreement's page of votes: its Agent sets a threshold and marks and ends a Defaulting Lender
(with htmx, the section comes back as it now stands; without, a redirect or the form with its
errors); the open request's tally on the page is the new one; a Lender sees the Defaulting
Lenders, a Borrower the thresholds only, an Agent of another agreement nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from syndicate.choices import Answer
from syndicate.consents import vote_cast
from syndicate.models import DefaultingLender, VotingThreshold
from tests.factories import second_facility
from tests.syndicate.test_consents import open_request

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_agent_marks_a_defaulting_lender_and_the_tally_on_the_page_moves(client, syndicate):
    request = open_request(syndicate)
    vote_cast(request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
              cast_by=syndicate.signatories["life"])  # fmt: skip
    page = reverse("syndicate:agreement", args=[syndicate.agreement.pk])
    client.force_login(syndicate.deal.users["agent"])
    before = client.get(page).content.decode()
    assert 'data-outcome="not_reached"' in before and "Mark a Defaulting Lender" in before
    marked = client.post(
        reverse("syndicate:defaulting_mark", args=[syndicate.agreement.pk]),
        {"lender": syndicate.lenders["agent"].pk, "from_date": "2000-01-01", "reason": "Failed to fund"},
        **HTMX,
    )
    section = marked.content.decode()
    assert marked.status_code == 200 and '<div id="syndicate-definitions">' in section and "<html" not in section
    assert "Marked a Defaulting Lender from January 1, 2000" in section
    assert 'data-outcome="reached"' in section  # the request's tally, counted again
    # An overlapping period is refused on the form, in the service's words, and nothing is saved.
    again = client.post(
        reverse("syndicate:defaulting_mark", args=[syndicate.agreement.pk]),
        {"lender": syndicate.lenders["agent"].pk, "from_date": "2000-02-01"},
        **HTMX,
    )
    assert "periods of one Lender cannot overlap" in again.content.decode()
    assert DefaultingLender.objects.count() == 1
    # Without htmx: ended by a plain form, back to the page, where the tally is as before.
    row = DefaultingLender.objects.get()
    ended = client.post(reverse("syndicate:defaulting_end", args=[row.pk]), {"to_date": "2000-01-05"})
    assert ended.status_code == 302 and ended["Location"] == page
    after = client.get(page).content.decode()
    assert "its last day was January 5, 2000" in after and 'data-outcome="not_reached"' in after


def test_the_agent_sets_a_threshold_with_or_without_htmx(client, syndicate):
    client.force_login(syndicate.deal.users["agent"])
    url = reverse("syndicate:threshold_set", args=[syndicate.agreement.pk])
    refused = client.post(url, {"vote": "supermajority", "basis": "commitments", "percent": "120"})
    assert refused.status_code == 400
    assert "A voting threshold is a percent above 0 and at most 100" in refused.content.decode()
    assert not VotingThreshold.objects.filter(vote="supermajority").exists()
    done = client.post(url, {"vote": "supermajority", "basis": "commitments", "percent": "66.6667", "more_than": "on"})
    assert done.status_code == 302
    assert VotingThreshold.objects.get(vote="supermajority").set_by == syndicate.deal.users["agent"]
    unknown = client.post(url, {"vote": "requisite", "basis": "commitments", "percent": ""}, **HTMX)
    assert 'data-percent="unknown"' in unknown.content.decode()
    # The fixture's row, then the change through the service: both in its history.
    assert [h.percent for h in VotingThreshold.objects.get(vote="requisite").history.order_by("history_id")] == [
        50,
        None,
    ]


def test_who_sees_what_on_the_page(client, syndicate):
    DefaultingLender.objects.create(agreement=syndicate.agreement, lender=syndicate.lenders["mutual"],
                                    from_date="2000-01-01", reason="Failed to fund")  # fmt: skip
    page = reverse("syndicate:agreement", args=[syndicate.agreement.pk])
    client.force_login(syndicate.deal.users["lender"])
    text = client.get(page).content.decode()
    assert "Vale Mutual Bank" in text and "Failed to fund" in text and "Mark a Defaulting Lender" not in text
    threshold_url = reverse("syndicate:threshold_set", args=[syndicate.agreement.pk])
    assert client.post(threshold_url, {"vote": "requisite", "percent": "10"}).status_code == 403
    client.force_login(syndicate.deal.users["borrower"])
    text = client.get(page).content.decode()
    assert "Requisite" in text and "Defaulting Lenders" not in text and "Failed to fund" not in text
    end_url = reverse("syndicate:defaulting_end", args=[DefaultingLender.objects.get().pk])
    assert client.post(end_url, {"to_date": "2000-02-01"}).status_code == 404
    client.force_login(second_facility("Elsewhere").users["agent"])
    assert client.get(page).status_code == 404
    assert client.post(threshold_url, {"vote": "requisite", "percent": "10"}).status_code == 404
    assert client.post(end_url, {"to_date": "2000-02-01"}).status_code == 404
    assert DefaultingLender.objects.get().to_date is None
