"""POST /api/v1/documents/: an agreement's text read into the importer's proposal, and stored
for the deal when it is named; the stored texts read by whoever sees the deal."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Document

SEED_TEXT = Path(__file__).resolve().parents[2] / "documents" / "seed_texts" / "002_092983384245b2ee.txt"
# The seed stores the text itself for the Loan Agreement: a copy with one more line break is new.
COPY = SEED_TEXT.read_bytes() + b"\n"
SEEDED = ("002_092983384245b2ee.txt", "000_d96de565f05db057.txt")
URL = "/api/v1/documents/"

pytestmark = pytest.mark.django_db


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile(SEED_TEXT.name, COPY, content_type="text/plain")


def test_the_agent_stores_the_text_once_and_gets_the_proposal(world):
    agent = world.client("agent")
    response = agent.post(URL, {"agreement": world.seed.agreement.pk, "file": upload()}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["proposal"]["instrument"]["title"] == "AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT"
    assert any(c["section"] == "7.01(b)" for c in body["proposal"]["covenants"])
    document = Document.objects.get(pk=body["document"]["id"])
    assert document.agreement == world.seed.agreement and document.kind == "amendment"
    again = agent.post(URL, {"agreement": world.seed.agreement.pk, "file": upload()}, format="multipart")
    assert again.status_code == 200 and again.json()["document"]["id"] == document.pk
    # Whoever sees the deal reads it and its proposal; the other deal's users do not.
    lender = world.client("lender")
    assert lender.get(f"{URL}{document.pk}/").json()["sha256"] == document.sha256
    assert lender.get(f"{URL}{document.pk}/proposal/").json()["instrument"]["title"].startswith("AMENDMENT NO. 4")
    assert world.client("harbor_agent").get(f"{URL}{document.pk}/").status_code == 404


def test_pasted_text_is_read_without_storing_for_those_with_an_agents_powers(world):
    text = SEED_TEXT.read_text(encoding="latin-1")
    response = world.client("agent").post(URL, {"text": text}, format="json")
    assert response.status_code == 200
    assert response.json()["document"] is None
    assert response.json()["proposal"]["instrument"]["title"].startswith("AMENDMENT NO. 4")
    assert not Document.objects.exclude(filename__in=SEEDED).exists()
    assert world.client("borrower").post(URL, {"text": text}, format="json").status_code == 403


def test_bad_input_is_named_and_nothing_is_stored(world):
    agent = world.client("agent")
    binary = agent.post(URL, {"agreement": world.seed.agreement.pk, "text": "\x00\x01\x02 not text"}, format="json")
    assert binary.status_code == 400 and "Null characters" in binary.json()["text"][0], binary.json()
    hostile = agent.post(URL, {"agreement": world.seed.agreement.pk, "text": "\x01\x02\x03" * 400}, format="json")
    assert hostile.status_code == 400 and list(hostile.json()) == ["text"], hostile.json()
    neither = agent.post(URL, {"agreement": world.seed.agreement.pk}, format="json")
    assert neither.status_code == 400
    refused = world.client("lender").post(URL, {"agreement": world.seed.agreement.pk, "text": "AMENDMENT NO. 7"})
    assert refused.status_code == 403
    assert not Document.objects.exclude(filename__in=SEEDED).exists()
