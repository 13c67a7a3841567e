"""Helpers for tests on the seed Loan Agreement: its parties, and figures as files."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from covenants.choices import Role
from covenants.models import Agreement, Covenant
from parties.models import Party

BORROWER_TERMS = ("KMC", "KMC II", "KMC Virginia", "Leasing I", "Leasing II")


@dataclass
class SeedLoan:
    agreement: Agreement
    borrowers: dict[str, Party]  # by defined term
    covenants: dict[str, Covenant]  # by section


def seed_loan() -> SeedLoan:
    """Load the seed documents and return the Loan and Security Agreement's handles. The importer
    runs once per test process; later loads write the rows it left (see tests/seed_replay.py)."""
    from documents.seeds import load_seed_documents
    from tests.seed_replay import replayed

    replayed("seed documents", load_seed_documents)
    agreement = Agreement.objects.get(kind="loan_and_security_agreement")
    borrowers = {
        role.defined_term: role.party for role in agreement.roles.filter(role=Role.BORROWER).select_related("party")
    }
    covenants = {c.section: c for c in agreement.covenants.all()}
    return SeedLoan(agreement, borrowers, covenants)


def split(total: int | Decimal, parts: int = 5) -> list[Decimal]:
    """Split a combined figure across the Borrowers, exactly (the remainder on the first)."""
    total = Decimal(total)
    share = (total / parts).quantize(Decimal("1"), rounding="ROUND_FLOOR")
    shares = [share] * parts
    shares[0] += total - share * parts
    return shares


def combined_rows(
    loan: SeedLoan,
    period_end: dt.date,
    *,
    revenues: int | None = None,
    ebitda: int | None = None,
    skip: tuple[str, ...] = (),
) -> list[tuple[str, str, str, str]]:
    """Rows giving these combined figures for a quarter, spread over the Borrowers not skipped."""
    rows: list[tuple[str, str, str, str]] = []
    terms = [t for t in BORROWER_TERMS if t not in skip]
    for item, total in (("Revenues", revenues), ("EBITDA", ebitda)):
        if total is None:
            continue
        for term, amount in zip(terms, split(total, len(terms)), strict=True):
            rows.append((loan.borrowers[term].legal_name, period_end.isoformat(), item, f"{amount:,}"))
    return rows


def csv_bytes(
    rows: list[tuple[str, ...]], header: tuple[str, ...] = ("entity", "period_end", "line_item", "amount")
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()
