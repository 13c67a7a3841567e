"""An edited value is checked against the review's other items when the edit is taken: a row's
date that another row of the covenant already has, or that falls before its terms take effect;
a level whose sign the covenant contradicts; a party renamed to another proposed party's name.
The reviewer sees the problem beside the field at once: on the page (with htmx and without)
and from the API's decision endpoint (400, keyed by the field). Nothing is recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from documents.models import ItemDecision, ReviewItem
from documents.review import decide, open_review
from documents.services import document_store
from tests.documents.review_helpers import opened
from tests.factories import administrator
from tests.portal.harborline import SECOND_AMENDMENT, harborline_agreement

pytestmark = pytest.mark.django_db

DECEMBER = "covenant:7.11(a):row:2004-12-31"
SEPTEMBER = "covenant:7.11(a):row:2004-09-30"


@pytest.fixture
def harborline():
    agreement, users = harborline_agreement()
    stored = document_store(
        user=users["agent"], agreement=agreement, content=SECOND_AMENDMENT.read_bytes(), filename="ex10.txt"
    )
    return agreement, users, open_review(users["agent"], stored.document)


def refused(user, item: ReviewItem, **changes) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        decide(user, item, "edited", {**item.value, **changes})
    item.refresh_from_db()
    assert item.decision == "pending" and not ItemDecision.objects.filter(item=item).exists()
    return caught.value.message_dict


def test_a_row_date_another_row_of_the_covenant_has_is_refused_unless_that_row_is_rejected(harborline):
    _, users, review = harborline
    agent, december = users["agent"], review.items.get(key=DECEMBER)
    problems = refused(agent, december, test_date="2004-09-30")
    assert problems == {
        "test_date": [
            "2004-09-30 is already the date of another row of 7.11(a) (7.11(a) maximum for September 30, 2004): "
            "a schedule has one row per test date; edit or reject that row instead."
        ]
    }
    # Once the other row is rejected, the date is free.
    decide(agent, review.items.get(key=SEPTEMBER), "rejected")
    decide(agent, december, "edited", {**december.value, "test_date": "2004-09-30"})
    december.refresh_from_db()
    assert december.decision == "edited" and december.edited["test_date"] == "2004-09-30"


def test_a_row_date_before_the_terms_take_effect_or_not_a_date_is_refused(harborline):
    _, users, review = harborline
    december = review.items.get(key=DECEMBER)
    assert refused(users["agent"], december, test_date="2003-12-31") == {
        "test_date": [
            "2003-12-31 is before the terms of 7.11(a) this document gives take effect (2004-03-12): a row of "
            "these terms falls on or after that date."
        ]
    }
    assert refused(users["agent"], december, test_date="December 2004") == {
        "test_date": ["“December 2004” is not a date (YYYY-MM-DD)."]
    }


def test_a_ratios_level_must_be_above_zero(harborline):
    _, users, review = harborline
    assert refused(users["agent"], review.items.get(key=DECEMBER), threshold="-4.50") == {
        "threshold": ["7.11(a) tests a ratio, whose level is above zero: -4.50 is not."]
    }


def test_a_level_whose_sign_contradicts_the_printed_amount_is_refused():
    admin = administrator()
    review = opened(admin)
    negative = next(
        i for i in review.items.filter(key__contains=":row:") if str(i.proposed["amount_as_printed"]).startswith("(")
    )
    printed = negative.proposed["amount_as_printed"]
    flipped = negative.proposed["threshold"].lstrip("-")
    (message,) = refused(admin, negative, threshold=flipped)["threshold"]
    assert message.startswith(f"{flipped} is zero or more, but the level is printed “{printed}”, a negative amount")
    assert "keep the printed sign" in message
    # The amount as printed corrected with it is a consistent edit.
    decide(admin, negative, "edited", {**negative.value, "threshold": flipped, "amount_as_printed": printed[1:-1]})


def test_a_party_renamed_to_another_proposed_partys_name_is_refused(harborline):
    _, users, review = harborline
    bank = review.items.get(key="party:MERIDIAN TRUST BANK, N.A.")
    (message,) = refused(users["agent"], bank, legal_name="Harborline Logistics, Inc")["legal_name"]
    assert message.startswith("“Harborline Logistics, Inc” is the name of another party this document proposes")


def test_the_page_shows_the_problem_beside_the_field_with_and_without_script(client, harborline):
    agreement, users, review = harborline
    client.force_login(users["agent"])
    december = review.items.get(key=DECEMBER)
    url = reverse("covenants:item_edit", args=[agreement.pk, review.pk, december.pk])
    fields = {f"v_{name}": value for name, value in december.proposed.items() if not isinstance(value, list)}
    posted = {**fields, "v_test_date": "2004-09-30", "v_applies_thereafter": "false"}
    expected = "test date: 2004-09-30 is already the date of another row of 7.11(a)"
    response = client.post(url, posted)
    assert response.status_code == 400
    page = response.content.decode()
    error = page.split('id="id_v_test_date"', 1)[1].split("</p>", 1)[0]
    assert 'class="field-error"' in error and expected in error
    response = client.post(url, posted, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and expected in response.content.decode()
    assert response.content.decode().lstrip().startswith(f'<form id="edit-{december.pk}"')
    december.refresh_from_db()
    assert december.decision == "pending"


def test_the_api_answers_400_naming_the_field(client, harborline):
    _, users, review = harborline
    client.force_login(users["agent"])
    december = review.items.get(key=DECEMBER)
    url = reverse("api:document-review-decision", kwargs={"pk": review.document.pk, "key": DECEMBER})
    body = {"decision": "edited", "value": {**december.proposed, "test_date": "2004-09-30"}}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    (message,) = response.json()["test_date"]
    assert message.startswith("2004-09-30 is already the date of another row of 7.11(a)")
    body["value"]["test_date"] = "2004-12-31"
    body["value"]["threshold"] = "4.40"
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["value"]["threshold"] == "4.40"
