"""
Demo figures for the seed Loan Agreement: seven quarters of statements for its five
Borrowers (September 30, 1999 through March 31, 2001), one file per quarter as a finance
team would send them, so that a newcomer's dashboard shows every kind of result.

The figures are invented but plausible for a telecom build-out: revenues rising past each
minimum, EBITDA losses narrowing to a profit. They are chosen so that:

- 7.01(b) is met with room to spare early on, comes within the warning band late in 2000,
  and is breached at March 31, 2001 (revenues $53,940,000 against a minimum of $54,678,000);
- Leasing II's statement for the quarter ending June 30, 2000 is missing, so the tests
  that need that quarter are incomplete and name it, and it shows as late;
- 7.01(c)(i) ends within the warning band at December 31, 2000, and 7.01(c)(ii) is met.

Files go through the same service as the upload page. A file already on record (same
SHA-256) is not sent again, so a second run changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from compliance.services import agreement_evaluate
from covenants.choices import Role
from covenants.models import Agreement
from documents.seed_names import KMC, KMC_II, KMC_VIRGINIA, LEASING_I, LEASING_II, LOAN_AGREEMENT
from statements.models import StatementUpload
from statements.services import statement_file_submit

D = dt.date

#: Each Borrower's share of the combined figures (KMC takes the rounding remainder).
SHARES: tuple[tuple[str, Decimal], ...] = (
    (KMC, Decimal("0.40")),
    (KMC_II, Decimal("0.30")),
    (KMC_VIRGINIA, Decimal("0.15")),
    (LEASING_I, Decimal("0.10")),
    (LEASING_II, Decimal("0.05")),
)

#: Combined figures by fiscal quarter: (revenues, EBITDA), in dollars.
COMBINED: dict[dt.date, tuple[int, int]] = {
    D(1999, 9, 30): (15_200_000, -24_100_000),
    D(1999, 12, 31): (19_850_000, -19_800_000),
    D(2000, 3, 31): (26_410_000, -14_200_000),
    D(2000, 6, 30): (33_960_000, -9_600_000),
    D(2000, 9, 30): (40_120_000, -3_100_000),
    D(2000, 12, 31): (47_905_000, -650_000),
    D(2001, 3, 31): (53_940_000, 2_900_000),
}

#: The quarter whose statement one Borrower has not sent.
MISSING: dict[dt.date, str] = {D(2000, 6, 30): LEASING_II}


def split(total: int) -> dict[str, Decimal]:
    """A combined figure split by the Borrowers' shares, in whole dollars, summing exactly."""
    amounts = {name: (Decimal(total) * share).quantize(Decimal(1), rounding=ROUND_FLOOR) for name, share in SHARES}
    amounts[KMC] += Decimal(total) - sum(amounts.values())
    return amounts


def quarter_file(quarter: dt.date) -> bytes:
    """The CSV a finance team would send for one quarter: every Borrower's revenues and EBITDA."""
    revenues, ebitda = COMBINED[quarter]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["entity", "period_end", "line_item", "amount"])
    for item, total in (("Revenues", revenues), ("EBITDA", ebitda)):
        for name, amount in split(total).items():
            if MISSING.get(quarter) == name:
                continue
            # Accounting negatives in parentheses, as the statements print them.
            shown = f"({abs(amount):,.0f})" if amount < 0 else f"{amount:,.0f}"
            writer.writerow([name, quarter.isoformat(), item, shown])
    return buffer.getvalue().encode("utf-8")


class Command(BaseCommand):
    """Submits the demo statements for the seed Loan Agreement and evaluates it."""

    help = (
        "Submit demo quarterly statements (1999-09-30 to 2001-03-31) for the seed Loan Agreement's Borrowers "
        "and evaluate its covenants. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "PORTAL_ALLOW_DEMO_ACCOUNTS", False):
            # Invented figures must never reach a deployment: the same switch as the demo accounts.
            raise CommandError("Demo figures are not allowed here: PORTAL_ALLOW_DEMO_ACCOUNTS is off.")
        agreement = Agreement.objects.filter(name=LOAN_AGREEMENT).first()
        if agreement is None:
            raise CommandError(f"The {LOAN_AGREEMENT} is not loaded. Run `manage.py load_seed_documents` first.")
        borrowers = set(agreement.roles.filter(role=Role.BORROWER).values_list("party__legal_name", flat=True))
        expected = {name for name, _ in SHARES}
        if borrowers != expected:
            raise CommandError(f"The {LOAN_AGREEMENT}'s Borrowers are not the seed's five; demo figures not loaded.")

        sent = 0
        for quarter in sorted(COMBINED):
            content = quarter_file(quarter)
            filename = f"kmc-financials-{quarter.isoformat()}.csv"
            digest = hashlib.sha256(content).hexdigest()
            if StatementUpload.objects.filter(agreement=agreement, sha256=digest).exists():
                continue
            outcome = statement_file_submit(
                agreement=agreement,
                user=None,
                filename=filename,
                content=content,
                content_type="text/csv",
                source="command",
            )
            if not outcome.ok:
                raise CommandError(f"{filename} was refused: " + "; ".join(str(e) for e in outcome.errors))
            sent += 1
            self.stdout.write(f"Submitted {filename}: {len(outcome.statements)} statement(s)")
        summary = agreement_evaluate(agreement_id=agreement.pk)
        if sent:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo figures loaded: {sent} file(s); {summary.results} results, {summary.changed} changed."
                )
            )
        else:
            self.stdout.write("Demo figures already loaded; nothing changed.")
