"""Defaulting Lenders and voting thresholds through the API, beyond the access matrix: bad input is
a 400 naming the field, nothing is saved, and a change shows at once in the open request's tally."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from parties.models import Party
from syndicate.choices import Answer
from syndicate.consents import vote_cast
from syndicate.models import DefaultingLender, VotingThreshold
from tests.factories import second_facility
from tests.syndicate.test_consents import open_request

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_bad_input_is_refused_naming_the_field(syndicate):
    agent = as_user(syndicate.deal.users["agent"])
    url = reverse("api:defaultinglender-list")
    life = syndicate.lenders["life"].pk
    first = {"agreement": syndicate.agreement.pk, "lender": life, "from_date": "2000-02-01", "to_date": "2000-03-31"}
    assert agent.post(url, first, format="json").status_code == 201
    stranger = Party.objects.create(legal_name="Stranger Bank")
    cases = [
        ({**first, "from_date": "2000-03-01", "to_date": None}, "from_date", "periods of one Lender cannot overlap"),
        ({**first, "from_date": "2000-05-01", "to_date": "2000-04-01"}, "to_date", "cannot stop defaulting"),
        ({**first, "lender": stranger.pk, "from_date": "2001-01-01"}, "lender", "does not exist"),  # not seen
    ]
    for body, field, words in cases:
        answer = agent.post(url, body, format="json")
        assert answer.status_code == 400, answer.json()
        assert list(answer.json()) == [field] and words in answer.json()[field][0]
    assert DefaultingLender.objects.count() == 1
    thresholds = reverse("api:votingthreshold-list")
    for percent in ("0", "100.5", "-1"):
        body = {"agreement": syndicate.agreement.pk, "vote": "supermajority", "percent": percent}
        answer = agent.post(thresholds, body, format="json")
        assert answer.status_code == 400 and "above 0 and at most 100" in answer.json()["percent"][0]
    answer = agent.post(
        thresholds, {"agreement": syndicate.agreement.pk, "vote": "most", "percent": "60"}, format="json"
    )
    assert answer.status_code == 400 and list(answer.json()) == ["vote"]
    assert VotingThreshold.objects.count() == 1


def test_a_change_shows_in_the_open_requests_tally(syndicate):
    request = open_request(syndicate)
    vote_cast(request_id=request.pk, lender_id=syndicate.lenders["life"].pk, answer=Answer.CONSENT,
              cast_by=syndicate.signatories["life"])  # fmt: skip
    agent, lender = as_user(syndicate.deal.users["agent"]), as_user(syndicate.deal.users["lender"])
    tally = reverse("api:consentrequest-tally", kwargs={"pk": request.pk})
    assert lender.get(tally).json()["outcome"] == "not_reached"
    marked = agent.post(
        reverse("api:defaultinglender-list"),
        {"agreement": syndicate.agreement.pk, "lender": syndicate.lenders["agent"].pk, "from_date": "2000-01-01"},
        format="json",
    )
    assert marked.status_code == 201, marked.json()
    assert lender.get(tally).json()["outcome"] == "reached"
    ended = agent.post(
        reverse("api:defaultinglender-end", kwargs={"pk": marked.json()["id"]}),
        {"to_date": "2000-01-05"},
        format="json",
    )
    assert ended.status_code == 200 and ended.json()["to_date"] == "2000-01-05"
    assert lender.get(tally).json()["outcome"] == "not_reached"
    threshold = VotingThreshold.objects.get(agreement=syndicate.agreement)
    changed = agent.patch(
        reverse("api:votingthreshold-detail", kwargs={"pk": threshold.pk}), {"percent": None}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["percent"] is None
    assert lender.get(tally).json()["outcome"] == "unknown"
    # A Lender sees the thresholds and the Defaulting Lenders but changes neither; a Borrower does
    # not see the Defaulting Lenders; another deal's Agent sees nothing of this agreement.
    detail = reverse("api:defaultinglender-detail", kwargs={"pk": marked.json()["id"]})
    assert lender.patch(detail, {"reason": "x"}, format="json").status_code == 403
    assert as_user(syndicate.deal.users["borrower"]).get(detail).status_code == 404
    assert as_user(syndicate.deal.users["borrower"]).get(reverse("api:defaultinglender-list")).json()["count"] == 0
    outsider = as_user(second_facility("Elsewhere").users["agent"])
    assert outsider.get(detail).status_code == 404
    assert outsider.get(reverse("api:votingthreshold-detail", kwargs={"pk": threshold.pk})).status_code == 404
    assert outsider.patch(detail, {"reason": "x"}, format="json").status_code == 404
