"""The consent pages: the Agent opens a request and follows the tally; a Lender's signatory
votes from its page (once for its Lender, changeable); a Borrower sees the outcome only, never
a Lender's vote; an Agent of another agreement gets nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from syndicate.choices import Answer
from syndicate.models import ConsentRequest, Vote
from tests.factories import second_facility

pytestmark = pytest.mark.django_db


def open_on_the_page(client, syndicate) -> ConsentRequest:
    client.force_login(syndicate.deal.users["agent"])
    opening = reverse("syndicate:request_open", args=[syndicate.agreement.pk])
    assert opening in client.get(reverse("syndicate:inbox")).content.decode()
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("syndicate:request_open", args=[syndicate.agreement.pk]),
        {"document": syndicate.document.pk, "title": "Amendment No. 1", "kind": "amendment",
         "vote_needed": "requisite", "deadline": deadline, "record_date": "2000-01-10", "consent_fee": "25000"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    return ConsentRequest.objects.get()


def test_from_opening_to_the_outcome(client, syndicate):
    request = open_on_the_page(client, syndicate)
    page = reverse("syndicate:request", args=[request.pk])
    # The second signatory of the "life" Lender votes, then changes the vote; the first sees it.
    client.force_login(syndicate.signatories["life2"])
    assert "Amendment No. 1" in client.get(reverse("syndicate:inbox")).content.decode()
    assert client.post(reverse("syndicate:vote", args=[request.pk]), {"answer": "decline"}).status_code == 302
    client.force_login(syndicate.signatories["life"])
    assert (
        client.post(
            reverse("syndicate:vote", args=[request.pk]), {"answer": "consent", "condition": "Fee paid first"}
        ).status_code
        == 302
    )
    assert Vote.objects.get().answer == Answer.CONSENT
    client.force_login(syndicate.signatories["mutual"])
    client.post(reverse("syndicate:vote", args=[request.pk]), {"answer": "consent"})
    # The Agent's page: the tally by commitment, 60% in favour, reached, with who has not answered.
    client.force_login(syndicate.deal.users["agent"])
    text = client.get(page).content.decode()
    assert "Requisite Lenders: 60.0% of aggregate Commitments in favour" in text
    assert 'data-outcome="reached"' in text and "Fee paid first" in text
    assert 'data-lender="Vale National Bank" data-answer="none"' in text
    # A Borrower: the request, no tally, no vote, until closed; then the outcome.
    client.force_login(syndicate.deal.users["borrower"])
    text = client.get(page).content.decode()
    assert "Fee paid first" not in text and "Vale Mutual Bank" not in text and 'data-outcome="open"' in text
    assert client.get(reverse("syndicate:tally", args=[request.pk])).status_code == 403
    client.force_login(syndicate.deal.users["agent"])
    assert client.post(reverse("syndicate:close", args=[request.pk])).status_code == 302
    client.force_login(syndicate.deal.users["borrower"])
    assert 'data-outcome="reached"' in client.get(page).content.decode()
    # After the close, a vote is refused with the reason.
    client.force_login(syndicate.signatories["life"])
    refused = client.post(reverse("syndicate:vote", args=[request.pk]), {"answer": "decline"})
    assert refused.status_code in (400, 403)
    assert Vote.objects.get(lender=syndicate.lenders["life"]).answer == Answer.CONSENT


def test_an_agent_of_another_agreement_sees_nothing(client, syndicate):
    request = open_on_the_page(client, syndicate)
    other = second_facility("Remote")
    client.force_login(other.users["agent"])
    for name in ("syndicate:request", "syndicate:tally", "syndicate:document"):
        assert client.get(reverse(name, args=[request.pk])).status_code == 404, name
    assert client.post(reverse("syndicate:close", args=[request.pk])).status_code == 404
    assert "Amendment No. 1" not in client.get(reverse("syndicate:inbox")).content.decode()


def test_a_vote_of_all_affected_lenders_names_them_on_the_form(client, syndicate):
    client.force_login(syndicate.deal.users["agent"])
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    form = {"document": syndicate.document.pk, "title": "Waiver No. 2", "kind": "waiver",
            "vote_needed": "all_affected", "deadline": deadline}  # fmt: skip
    refused = client.post(reverse("syndicate:request_open", args=[syndicate.agreement.pk]), form)
    assert refused.status_code == 400
    assert "must name the Lenders affected" in refused.content.decode()
    affected = [syndicate.lenders["life"].pk, syndicate.lenders["mutual"].pk]
    opened = client.post(
        reverse("syndicate:request_open", args=[syndicate.agreement.pk]), {**form, "affected_lenders": affected}
    )
    assert opened.status_code == 302
    request = ConsentRequest.objects.get()
    assert sorted(request.affected_lenders.values_list("pk", flat=True)) == sorted(affected)
    client.force_login(syndicate.signatories["life"])
    client.post(reverse("syndicate:vote", args=[request.pk]), {"answer": "consent"})
    client.force_login(syndicate.deal.users["agent"])
    text = client.get(reverse("syndicate:request", args=[request.pk])).content.decode()
    assert "All affected Lenders" in text and 'data-outcome="not_reached"' in text


def test_the_inbox_offers_an_agent_each_agreement_to_ask_under_once_and_keeps_its_title(client, syndicate):
    client.force_login(syndicate.deal.users["agent"])
    shown = client.get(reverse("syndicate:inbox")).content.decode()
    title = shown.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == "Consent requests · Lender portal"
    assert shown.count(reverse("syndicate:request_open", args=[syndicate.agreement.pk])) == 1
    client.force_login(syndicate.signatories["mutual"])  # a Lender's signatory opens no request
    assert 'class="open-request"' not in client.get(reverse("syndicate:inbox")).content.decode()
