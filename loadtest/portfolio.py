"""
The load test's data, and its check once the load has passed. Run by ``loadtest/run.sh``
against the load test's own database:

    python loadtest/portfolio.py seed USERS_JSON   # the seed documents and 25 credit facilities
    python loadtest/portfolio.py verify            # wait for the workers, then check every upload

Each facility has two Borrowers with a finance user of their own (who uploads), an Agent,
and Lenders whose users read the dashboards and the API. Eight fiscal quarters of figures
are on file, evaluated, before the load starts. ``seed`` writes the accounts the locustfile
signs in with to USERS_JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FACILITIES = 25
LENDERS = 5
LENDER_USERS = 10
PASSWORD = "load-test-only-password-2000"
QUARTERS: tuple[dt.date, ...] = tuple(
    dt.date(year, month, 30 if month in (6, 9) else 31) for year in (2023, 2024) for month in (3, 6, 9, 12)
)


def minimum_revenues(quarter_index: int) -> Decimal:
    """Section 6.1's schedule: the minimum steps up each fiscal quarter."""
    return Decimal(10_000_000 + 500_000 * quarter_index)


def seed(users_path: str) -> None:
    """Load the seed documents, then the facilities in bulk, evaluate everything, and write
    the accounts for the locustfile."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from compliance.services import agreements_evaluate
    from covenants.choices import AgreementKind, Basis, Direction, Role, TermsAction
    from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, LineItem, ThresholdStep
    from parties.choices import EntityKind, MembershipRole
    from parties.models import Membership, Party
    from statements.models import FinancialStatement, StatementLine, StatementUpload

    call_command("load_seed_documents", verbosity=0)
    User = get_user_model()
    # One hash for every account: seeding stays quick; signing in still checks it in full.
    password = make_password(PASSWORD)
    with transaction.atomic():
        revenues, _ = LineItem.objects.get_or_create(code="revenues", defaults={"name": "Revenues"})
        ebitda, _ = LineItem.objects.get_or_create(code="ebitda", defaults={"name": "EBITDA"})
        agent = Party.objects.create(legal_name="Load Test Agent Bank, N.A.", kind=EntityKind.NATIONAL_BANK)
        lenders = Party.objects.bulk_create(
            Party(legal_name=f"Load Test Lender {n + 1} LLC", kind=EntityKind.LIMITED_LIABILITY_COMPANY)
            for n in range(LENDERS)
        )
        agreements = Agreement.objects.bulk_create(
            Agreement(
                kind=AgreementKind.CREDIT_AGREEMENT,
                title="Credit Agreement",
                name=f"Load Test Credit Agreement {n + 1:02d}",
                defined_term="Credit Agreement",
                dated_as_of=dt.date(2022, 12, 15),
                governing_law="New York",
            )
            for n in range(FACILITIES)
        )
        Through = Agreement.required_line_items.through
        Through.objects.bulk_create(
            Through(agreement_id=a.pk, lineitem_id=item.pk) for a in agreements for item in (revenues, ebitda)
        )
        borrowers = {
            a.pk: Party.objects.bulk_create(
                [
                    Party(legal_name=f"Load Test Borrower {n + 1:02d} Inc.", kind=EntityKind.CORPORATION),
                    Party(legal_name=f"Load Test Borrower {n + 1:02d} Leasing LLC", kind=EntityKind.CORPORATION),
                ]
            )
            for n, a in enumerate(agreements)
        }
        roles = [AgreementRole(agreement=a, party=agent, role=Role.AGENT, defined_term="Agent") for a in agreements]
        roles += [
            AgreementRole(agreement=a, party=lender, role=Role.LENDER, defined_term="Lenders")
            for a in agreements
            for lender in lenders
        ]
        roles += [
            AgreementRole(agreement=a, party=party, role=Role.BORROWER, defined_term=f"Borrower {k + 1}")
            for a in agreements
            for k, party in enumerate(borrowers[a.pk])
        ]
        AgreementRole.objects.bulk_create(roles)
        covenants = Covenant.objects.bulk_create(
            Covenant(agreement=a, section=section, name=name)
            for a in agreements
            for section, name in (("6.1", "Minimum revenues"), ("6.2", "Maximum EBITDA losses"))
        )
        terms = CovenantTerms.objects.bulk_create(
            CovenantTerms(
                covenant=c,
                action=TermsAction.ADD,
                effective_from=dt.date(2022, 12, 15),
                line_item=revenues if c.section == "6.1" else ebitda,
                window_periods=1 if c.section == "6.1" else 2,
                direction=Direction.AT_LEAST,
                basis=Basis.COMBINED,
            )
            for c in covenants
        )
        steps = []
        for version in terms:
            if version.window_periods == 1:
                steps += [
                    ThresholdStep(terms=version, test_date=q, threshold=minimum_revenues(n))
                    for n, q in enumerate(QUARTERS)
                ]
            else:
                cap = Decimal(-2_000_000)  # EBITDA losses for two fiscal quarters may not exceed (2,000,000)
                steps += [ThresholdStep(terms=version, test_date=q, threshold=cap) for q in QUARTERS[1:]]
        ThresholdStep.objects.bulk_create(steps)
        uploads = StatementUpload.objects.bulk_create(
            StatementUpload(
                agreement=a, filename="history.csv", format="csv", size=0, sha256="0" * 64, content=b"", source="seed"
            )
            for a in agreements
        )
        statements, amounts = [], []
        for n, (a, upload) in enumerate(zip(agreements, uploads, strict=True)):
            for q, quarter in enumerate(QUARTERS):
                combined = minimum_revenues(q) * Decimal(100 + (n * 7 + q * 3) % 15) / 100
                for k, party in enumerate(borrowers[a.pk]):
                    statement = FinancialStatement(agreement=a, borrower=party, period_end=quarter, upload=upload)
                    statements.append(statement)
                    share = (combined * Decimal("0.6" if k == 0 else "0.4")).quantize(Decimal("1"))
                    amounts.append((share, Decimal(-400_000 if k == 0 else -200_000)))
        statements = FinancialStatement.objects.bulk_create(statements)
        StatementLine.objects.bulk_create(
            StatementLine(statement=s, line_item=item, amount=amount)
            for s, pair in zip(statements, amounts, strict=True)
            for item, amount in zip((revenues, ebitda), pair, strict=True)
        )

        accounts: dict[str, list[dict]] = {"borrowers": [], "lenders": []}
        for n, a in enumerate(agreements):
            user = User.objects.create(username=f"load.borrower.{n + 1:02d}", password=password)
            Membership.objects.bulk_create(
                Membership(user=user, party=party, role=MembershipRole.BORROWER) for party in borrowers[a.pk]
            )
            accounts["borrowers"].append(
                {"username": user.username, "agreement": a.pk, "entities": [p.legal_name for p in borrowers[a.pk]]}
            )
        for n in range(LENDER_USERS):
            user = User.objects.create(
                username=f"load.lender.{n + 1:02d}", email=f"lender{n + 1}@load.example", password=password
            )
            Membership.objects.create(user=user, party=lenders[n % LENDERS], role=MembershipRole.LENDER)
            accounts["lenders"].append({"username": user.username, "agreements": [a.pk for a in agreements]})
    agreements_evaluate(agreement_ids=list(Agreement.objects.values_list("pk", flat=True)))
    accounts["password"] = PASSWORD
    accounts["quarters"] = [q.isoformat() for q in QUARTERS]
    accounts["minimums"] = [str(minimum_revenues(n)) for n in range(len(QUARTERS))]
    Path(users_path).write_text(json.dumps(accounts, indent=1))
    print(f"Seeded {FACILITIES} facilities, {len(statements)} statements, {LENDER_USERS + FACILITIES} users.")


def verify(timeout: float = 300) -> int:
    """Wait until no agreement awaits its evaluation, then check that every stored result is
    what a fresh evaluation of the latest figures gives (run in a transaction rolled back).
    Prints the figures as JSON; exits non-zero if an upload was not evaluated."""
    from django.db import transaction

    from compliance.services import agreements_evaluate
    from covenants.models import Agreement
    from statements.models import StatementUpload

    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while Agreement.objects.filter(evaluation_requested_at__isnull=False).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    waited = time.monotonic() - started
    pending = Agreement.objects.filter(evaluation_requested_at__isnull=False).count()
    ids = list(Agreement.objects.values_list("pk", flat=True))
    with transaction.atomic():
        summary = agreements_evaluate(agreement_ids=ids)
        transaction.set_rollback(True)
    uploads = StatementUpload.objects.filter(source="page")
    outcome = {
        "uploads_recorded": uploads.count(),
        "statements_recorded": sum(u.statements.count() for u in uploads),
        "agreements_awaiting_evaluation": pending,
        "seconds_waited_for_the_workers": round(waited, 1),
        "results_a_fresh_evaluation_would_change": summary.changed,
    }
    print(json.dumps(outcome))
    return 0 if pending == 0 and summary.changed == 0 else 1


def main() -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    django.setup()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "seed":
        seed(sys.argv[2])
        return 0
    if command == "verify":
        return verify()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
