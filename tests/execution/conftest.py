"""
The seed Loan Agreement ready for Amendment No. 4 to be executed in the portal: its text
stored (the version signatures bind to), the Borrowers' figures for the quarter ending
December 31, 1999 evaluated under its pending terms (provisional), commitments and a
Requisite threshold, and a signing user for each block's signatory of record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from compliance.services import agreement_evaluate
from covenants.models import Agreement, Amendment
from documents.models import Document
from execution.evidence import signed_version
from execution.services import Reauthentication
from parties.choices import MembershipRole
from parties.models import Membership, Party, SignatureBlock
from statements.services import statement_records_submit
from syndicate.demo import load_demo_commitments
from syndicate.models import AuthorisedSignatory
from tests.covenants.helpers import combined_rows, seed_loan
from tests.factories import PASSWORD, administrator, member

SEED_TEXT = Path(__file__).resolve().parents[2] / "documents" / "seed_texts" / "002_092983384245b2ee.txt"
AS_OF = dt.date(2026, 11, 23)


@dataclass
class Deal:
    agreement: Agreement
    amendment: Amendment
    document: Document
    admin: Any
    agent: Any
    blocks: list[SignatureBlock]
    signers: dict[int, Any] = field(default_factory=dict)  # person id -> user
    loan: Any = None

    def signer_of(self, block: SignatureBlock) -> Any:
        line = block.signatures.filter(person__isnull=False).first()
        return self.signers[line.person_id]

    def block_of(self, heading: str, occurrence: int = 0) -> SignatureBlock:
        return [b for b in self.blocks if b.party_name_as_printed == heading][occurrence]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Signing checks the password again; a fast hasher keeps the many signatures quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def reauthentication(code: str = "") -> Reauthentication:
    return Reauthentication(password=PASSWORD, code=code, ip_address="192.0.2.10")


def _figures(loan: Any) -> None:
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_500_000, ebitda=-20_000_000)
    records = [dict(zip(("entity", "period_end", "line_item", "amount"), row, strict=True)) for row in rows]
    outcome = statement_records_submit(agreement=loan.agreement, user=None, records=records, source="command")
    assert outcome.ok, outcome.errors
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)


def _signers(blocks: list[SignatureBlock]) -> dict[int, Any]:
    """One user per person of record, authorised for each party whose block names them."""
    signers: dict[int, Any] = {}
    for block in blocks:
        for line in block.signatures.filter(person__isnull=False).select_related("person"):
            user = signers.get(line.person_id)
            if user is None:
                username = line.person.full_name.lower().replace(" ", ".").replace(",", "")
                user = signers[line.person_id] = member(username, MembershipRole.LENDER)
            for party in {block.party, block.through_party} - {None}:
                Membership.objects.get_or_create(user=user, party=party, role=MembershipRole.LENDER)
                AuthorisedSignatory.objects.get_or_create(
                    party=party,
                    user=user,
                    defaults={"person": line.person, "signature": line, "title": line.title, "authority": "Of record"},
                )
    return signers


def _stored_text(amendment: Amendment) -> Document:
    """The amendment's text as filed: the seed's loader stores it for the agreement."""
    document = signed_version(amendment)
    assert document is not None and document.sha256 == hashlib.sha256(SEED_TEXT.read_bytes()).hexdigest()
    return document


@pytest.fixture
def deal(db) -> Deal:
    loan = seed_loan()
    admin = administrator("execution.admin")
    agreement = loan.agreement
    amendment = agreement.amendments.get(number=4)
    document = _stored_text(amendment)
    _figures(loan)
    load_demo_commitments()  # the demo commitments, assignment, Defaulting Lender and threshold
    blocks = list(
        SignatureBlock.objects.filter(
            document_type=ContentType.objects.get_for_model(Amendment), document_id=amendment.pk
        ).order_by("position")
    )
    agent = member(
        "firstunion.officer", MembershipRole.AGENT, Party.objects.get(legal_name="First Union National Bank")
    )
    return Deal(agreement, amendment, document, admin, agent, blocks, _signers(blocks), loan)


@pytest.fixture
def officer(deal):
    """KMC Telecom Inc.'s Chief Financial Officer, a Responsible Officer (authority recorded)."""
    kmc = Party.objects.get(legal_name="KMC Telecom Inc.")
    user = member("kmc.cfo", MembershipRole.BORROWER, kmc)
    AuthorisedSignatory.objects.create(
        party=kmc, user=user, title="Chief Financial Officer", authority="Responsible Officer under Section 1.1"
    )
    return user
