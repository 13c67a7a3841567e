"""Agreements' texts stored as filed (once, immutable, per deal) and read by the command."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from covenants.choices import Role
from documents.importer import DocumentRefused
from documents.models import Document
from documents.services import document_store
from parties.choices import MembershipRole
from tests.covenants.helpers import seed_loan
from tests.factories import administrator, member

SEEDS = Path(__file__).resolve().parents[2] / "documents" / "seed_texts"
AMENDMENT_NO_4 = SEEDS / "002_092983384245b2ee.txt"
# The seed stores the text itself for the Loan Agreement (and Amendment Four's for the General
# Agreement); these tests store a copy with one more line break, a text not stored yet.
COPY = AMENDMENT_NO_4.read_bytes() + b"\n"
SEEDED = 2

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan():
    return seed_loan()


def role_party(loan, role):
    return loan.agreement.roles.filter(role=role).select_related("party").first().party


def test_an_agent_stores_the_text_once_with_its_sha256_and_the_proposal(loan):
    agent = member("firstunion.ops", MembershipRole.AGENT, role_party(loan, Role.AGENT))
    content = COPY
    stored = document_store(user=agent, agreement=loan.agreement, content=content, filename=AMENDMENT_NO_4.name)
    assert stored.created
    document = stored.document
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert bytes(document.original) == content
    assert document.kind == Document.Kind.AMENDMENT
    assert document.title == "AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT"
    # Every span the proposal cites points into the stored text.
    covenant = stored.proposal.covenants[0]
    start, end = covenant.span
    assert document.text[start:end] == stored.proposal.text[start:end]
    again = document_store(user=agent, agreement=loan.agreement, content=content, filename="again.txt")
    assert not again.created and again.document.pk == document.pk
    assert Document.objects.count() == SEEDED + 1


def test_a_stored_text_cannot_be_changed(loan):
    stored = document_store(user=administrator(), agreement=loan.agreement, content=COPY, filename="a4.txt")
    stored.document.text = "something else"
    with pytest.raises(ValidationError, match="cannot be changed"):
        stored.document.save()


def test_a_lender_may_not_store_a_deals_documents(loan):
    lender = member("cibc.credit", MembershipRole.LENDER, role_party(loan, Role.LENDER))
    with pytest.raises(PermissionDenied):
        document_store(user=lender, agreement=loan.agreement, content=COPY, filename="a4.txt")
    assert Document.objects.count() == SEEDED


def test_a_refused_text_stores_nothing(loan):
    with pytest.raises(DocumentRefused):
        document_store(user=administrator(), agreement=loan.agreement, content=b"\x00\x01binary", filename="x.txt")
    assert Document.objects.count() == SEEDED


def test_the_command_prints_the_proposal_and_stores_it_for_an_agreement(loan, tmp_path):
    administrator()
    out, err = StringIO(), StringIO()
    call_command("import_agreement_text", str(AMENDMENT_NO_4), stdout=out, stderr=err)
    text = out.getvalue()
    assert text.startswith("AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT")
    assert "7.01(b)" in text and "not read:" in text
    assert Document.objects.count() == SEEDED

    out = StringIO()
    copy = tmp_path / "a4.txt"
    copy.write_bytes(COPY)
    call_command(
        "import_agreement_text",
        str(copy),
        "--agreement",
        loan.agreement.name,
        "--json",
        stdout=out,
        stderr=err,
    )
    proposal = json.loads(out.getvalue())
    assert proposal["instrument"]["title"] == "AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT"
    assert Document.objects.get(filename="a4.txt").agreement == loan.agreement
    assert "stored as document" in err.getvalue()

    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x00")
    with pytest.raises(CommandError, match="image.txt was not read"):
        call_command("import_agreement_text", str(binary), stdout=StringIO())
