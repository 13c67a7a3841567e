"""A stored text's review through the API: the agreement's Agents and administrators open it,
decide items by key (an edit the models refuse is a 400 naming the item and field, and
nothing is written) and apply it; whoever else sees the document sees no review."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from covenants.models import ThresholdStep
from documents.models import ImportReview, ItemDecision
from tests.api.test_documents_api import COPY, SEED_TEXT

URL = "/api/v1/documents/"
ROW = "covenant:7.01(b):row:2000-03-31"

pytestmark = pytest.mark.django_db


def stored(world) -> int:
    upload = SimpleUploadedFile(SEED_TEXT.name, COPY, content_type="text/plain")
    response = world.client("agent").post(
        URL, {"agreement": world.seed.agreement.pk, "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    return response.json()["document"]["id"]


def test_an_agent_reviews_decides_by_key_and_applies(world):
    agent = world.client("agent")
    document = stored(world)
    opened = agent.post(f"{URL}{document}/review/", {}, format="json")
    assert opened.status_code == 201, opened.json()
    items = {item["key"]: item for item in opened.json()["items"]}
    assert items[ROW]["proposed"]["amount_as_printed"] == "$23,821,000"
    assert agent.get(f"{URL}{document}/review/").json()["review"]["status"] == "open"

    sections = agent.post(f"{URL}{document}/review/sections/covenants/decision/", {"decision": "accepted"})
    assert sections.json() == {"decided": 15}
    decision = f"{URL}{document}/review/items/{quote(ROW)}/decision/"
    edited = {**items[ROW]["proposed"], "threshold": "not a number"}
    # A wrong value is refused when the edit is taken, naming the field; nothing is recorded.
    refused = agent.post(decision, {"decision": "edited", "value": edited, "note": "typo test"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"threshold": ["“not a number” is not a number."]}
    edited["threshold"] = "23822000"
    response = agent.post(decision, {"decision": "edited", "value": edited, "note": "typo test"}, format="json")
    assert response.status_code == 200 and response.json()["decision"] == "edited"
    assert ImportReview.objects.get(pk=opened.json()["review"]["id"]).status == "open"

    response = agent.post(decision, {"decision": "accepted"}, format="json")
    assert response.status_code == 200
    assert ItemDecision.objects.filter(item__key=ROW, item__review_id=opened.json()["review"]["id"]).count() == 3
    applied = agent.post(f"{URL}{document}/review/apply/")
    assert applied.status_code == 200, applied.json()
    assert applied.json()["review"]["status"] == "applied"
    assert ThresholdStep.objects.filter(terms__covenant__section="7.01(b)").count() == 6


def test_whoever_else_sees_the_document_sees_no_review(world):
    document = stored(world)
    assert world.client("agent").post(f"{URL}{document}/review/", {}, format="json").status_code == 201
    lender = world.client("lender")
    assert lender.get(f"{URL}{document}/").status_code == 200
    assert lender.get(f"{URL}{document}/review/").status_code == 404
    assert lender.post(f"{URL}{document}/review/", {}, format="json").status_code == 403
    assert lender.post(f"{URL}{document}/review/apply/").status_code == 404
    assert world.client("harbor_agent").get(f"{URL}{document}/review/").status_code == 404
    assert ImportReview.objects.filter(document_id=document).count() == 1


def test_an_unknown_key_is_404_and_a_bad_decision_400(world):
    agent = world.client("agent")
    document = stored(world)
    agent.post(f"{URL}{document}/review/", {}, format="json")
    missing = agent.post(f"{URL}{document}/review/items/{quote('party:Nobody')}/decision/", {"decision": "accepted"})
    assert missing.status_code == 404
    bad = agent.post(f"{URL}{document}/review/items/{quote(ROW)}/decision/", {"decision": "maybe"})
    assert bad.status_code == 400 and "decision" in bad.json()
