"""A deal with no parties yet and Amendment No. 4's text stored for it, to review from nothing."""

from __future__ import annotations

from pathlib import Path

from covenants.choices import AgreementKind
from covenants.models import Agreement
from documents.models import Document, ImportReview
from documents.review import open_review
from documents.services import document_store

SEEDS = Path(__file__).resolve().parents[2] / "documents" / "seed_texts"
AMENDMENT_NO_4 = SEEDS / "002_092983384245b2ee.txt"
LOAN = "Harbor Loan and Security Agreement"


def empty_deal() -> Agreement:
    return Agreement.objects.create(
        name=LOAN, kind=AgreementKind.LOAN_AND_SECURITY_AGREEMENT, title="Loan and Security Agreement"
    )


def stored(user, agreement: Agreement) -> Document:
    content = AMENDMENT_NO_4.read_bytes()
    return document_store(user=user, agreement=agreement, content=content, filename=AMENDMENT_NO_4.name).document


def opened(user, agreement: Agreement | None = None) -> ImportReview:
    """A review of Amendment No. 4 opened by ``user`` for a new deal (or the one given)."""
    agreement = agreement or empty_deal()
    return open_review(user, stored(user, agreement))
