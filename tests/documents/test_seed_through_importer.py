"""The seed documents loaded through the importer and their recorded review give exactly what
the hand transcription loaded (tests/documents/seed_dump.json, taken from it before it was
retired), and the review keeps the traps as printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import Document, ImportReview, SourceSpan
from documents.seeds import load_seed_documents
from parties.models import Party, SignatureBlock
from tests.documents.seed_dump import compare, seed_dump

pytestmark = pytest.mark.django_db

EXPECTED = json.loads((Path(__file__).parent / "seed_dump.json").read_text())


def test_the_importer_path_loads_exactly_what_the_transcription_loaded():
    load_seed_documents()
    equal, total, differences = compare(EXPECTED, seed_dump())
    assert differences == []
    assert (equal, total) == (189, 189)


def test_each_seed_text_is_stored_reviewed_and_applied_once():
    load_seed_documents()
    load_seed_documents()
    assert Document.objects.count() == 2
    assert list(ImportReview.objects.values_list("status", flat=True)) == ["applied", "applied"]
    trap = ImportReview.objects.get(document__filename__startswith="002").items.get(
        key="relationship:KMC Telecom II, Inc.:sole_member_of:KMC Telecom Leasing I LLC"
    )
    assert trap.decision == "rejected" and "misprint" in trap.note
    assert trap.decisions.count() == 1


def test_the_traps_are_kept_as_printed_and_each_value_points_at_its_text():
    load_seed_documents()
    leasing_i = Party.objects.get(legal_name="KMC Telecom Leasing I LLC")
    second = SignatureBlock.objects.filter(party=leasing_i, through_party__legal_name="KMC Telecom II, Inc.").get()
    [span] = SourceSpan.objects.filter(object_id=second.pk, content_type__model="signatureblock")
    assert "KMC TELECOM LEASING I LLC" in span.excerpt and "KMC TELECOM II, INC." in span.excerpt
    union_bank = Party.objects.get(legal_name="Union Bank of California, N.A.")
    assert SourceSpan.objects.filter(object_id=union_bank.pk, content_type__model="party").get().excerpt == (
        "UNION BANK OF CALIFORNIA, N.A."
    )


# Queries of a first load and of a second (which changes nothing), measured (PostgreSQL reads
# one query fewer on the first). The load was 1,415 and 463 on SQLite; the conflicts of a review
# opened look each name up once, every earlier span of a document is read in one query (not one
# per value), and the stored decisions are recorded in bulk. What is left is mostly one row at a
# time through the models' checks and history.
SEED_LOAD_QUERIES = {"sqlite": (1168, 299), "postgresql": (1167, 299)}


def test_a_seed_load_takes_a_fixed_number_of_queries():
    ContentType.objects.clear_cache()  # counted as a fresh process loads: content types read once each
    with CaptureQueriesContext(connection) as first:
        load_seed_documents()
    with CaptureQueriesContext(connection) as again:
        assert not load_seed_documents().changed
    counts = (len(first.captured_queries), len(again.captured_queries))
    assert counts == SEED_LOAD_QUERIES[connection.vendor]
