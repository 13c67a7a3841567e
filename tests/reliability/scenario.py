"""
Commands the fault tests run inside the portal, as separate processes against the private
stack (``python -m tests.reliability.scenario <command>`` with DATABASE_URL and REDIS_URL
pointing at it). Each prints JSON on its last line.

- ``build N``: a portfolio of N credit agreements with eight fiscal quarters of figures
  from five Borrowers each, and no results yet; a Lender with a user on the first few, so
  that their alerts are delivered (inbox and e-mail).
- ``queue-chunk [FIRST COUNT]``: queue one nightly chunk (``evaluate_agreements``).
- ``queue-chunks SIZE``: queue the whole portfolio as chunks of SIZE, as the nightly run does.
- ``check [AGREEMENT...]``: compare every current result with a fresh evaluation of the
  latest figures.
- ``upload-page AGREEMENT FILE USERNAME``: send a file through the upload page and confirm it.
- ``upload-api AGREEMENT FILE USERNAME``: post a file to the API with a token.
- ``serve-uploads``: a long-lived process making page uploads read from stdin.
- ``manage COMMAND [ARG...]``: a management command, as ``manage.py`` runs it.

Uploads and ``manage`` also say how many connections to Redis (broker, result backend, cache)
the process opened or tried to open meanwhile: with Redis down, that is how long it kept trying.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

QUARTERS: tuple[dt.date, ...] = (
    dt.date(2023, 3, 31),
    dt.date(2023, 6, 30),
    dt.date(2023, 9, 30),
    dt.date(2023, 12, 31),
    dt.date(2024, 3, 31),
    dt.date(2024, 6, 30),
    dt.date(2024, 9, 30),
    dt.date(2024, 12, 31),
)
BORROWERS: tuple[str, ...] = tuple(f"Reliability Borrower {letter} Inc." for letter in "ABCDE")
LENDER = "Reliability Lender Bank"
LENDER_USER = "reliability.lender"
BORROWER_USER = "reliability.borrower"
NAME = "Reliability Credit Agreement {:04d}"
#: Agreements whose Lender has a user: their alerts are delivered by e-mail as well.
WATCHED = 3
EBITDA_LOSS_CAP = Decimal("-2000000")
PRINTED_CAP = "(2,000,000)"


def minimum_revenues(quarter_index: int) -> Decimal:
    """Section 6.1's schedule: the minimum steps up each fiscal quarter."""
    return Decimal(10_000_000 + 500_000 * quarter_index)


def combined_figures(index: int, quarter_index: int) -> tuple[Decimal, Decimal]:
    """Combined revenues and EBITDA of agreement ``index`` for a quarter: a mix of breaches,
    near breaches (under the 10% warning band) and comfortable compliance."""
    factor = Decimal(95 + (index * 13 + quarter_index * 7) % 20) / 100
    revenues = (minimum_revenues(quarter_index) * factor).quantize(Decimal("1"))
    ebitda = Decimal(-1_000_000 + ((index * 5 + quarter_index * 3) % 9 - 4) * 300_000)
    return revenues, ebitda


def split(total: Decimal, parts: int = len(BORROWERS)) -> list[Decimal]:
    """Split a combined figure across the Borrowers exactly (the remainder on the first)."""
    share = (total / parts).quantize(Decimal("1"), rounding="ROUND_FLOOR")
    shares = [share] * parts
    shares[0] += total - share * parts
    return shares


def csv_for(quarter: dt.date, revenues: Decimal, ebitda: Decimal) -> str:
    """A statement file giving these combined figures for one quarter."""
    lines = ["entity,period_end,line_item,amount"]
    for item, total in (("Revenues", revenues), ("EBITDA", ebitda)):
        for name, amount in zip(BORROWERS, split(Decimal(total)), strict=True):
            lines.append(f'{name},{quarter.isoformat()},{item},"{amount:,}"')
    return "\n".join(lines) + "\n"


class RedisConnections:
    """Counts the connections to Redis this process opens or tries to open (each attempt of
    every retry, by the broker, the result backend or the cache)."""

    opened = 0

    @classmethod
    def install(cls) -> None:
        from redis.connection import Connection

        connect = Connection._connect

        def counted(self, *args, **kwargs):
            cls.opened += 1
            return connect(self, *args, **kwargs)

        Connection._connect = counted


def _setup() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    django.setup()
    RedisConnections.install()


def build(count: int) -> dict:
    """Write the portfolio with bulk inserts (no signals: nothing is queued, nothing evaluated)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from covenants.choices import AgreementKind, Basis, Direction, Role, TermsAction
    from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, LineItem, ThresholdStep
    from parties.choices import EntityKind, MembershipRole
    from parties.models import Membership, Party
    from statements.models import FinancialStatement, StatementLine, StatementUpload

    with transaction.atomic():
        revenues, _ = LineItem.objects.get_or_create(code="revenues", defaults={"name": "Revenues"})
        ebitda, _ = LineItem.objects.get_or_create(code="ebitda", defaults={"name": "EBITDA"})
        borrowers = Party.objects.bulk_create(
            Party(legal_name=name, kind=EntityKind.CORPORATION, jurisdiction="Delaware") for name in BORROWERS
        )
        lender = Party.objects.create(legal_name=LENDER, kind=EntityKind.BANK)
        users = get_user_model().objects
        lender_user = users.create_user(LENDER_USER, email="lender@reliability.example", password="x-reliability-1")
        Membership.objects.create(user=lender_user, party=lender, role=MembershipRole.LENDER)
        borrower_user = users.create_user(BORROWER_USER, email="", password="x-reliability-1")
        Membership.objects.bulk_create(
            Membership(user=borrower_user, party=party, role=MembershipRole.BORROWER) for party in borrowers
        )

        agreements = Agreement.objects.bulk_create(
            Agreement(
                kind=AgreementKind.CREDIT_AGREEMENT,
                title="Credit Agreement",
                name=NAME.format(index),
                defined_term="Credit Agreement",
                dated_as_of=dt.date(2022, 12, 15),
                governing_law="New York",
            )
            for index in range(count)
        )
        Through = Agreement.required_line_items.through
        Through.objects.bulk_create(
            Through(agreement_id=a.pk, lineitem_id=item.pk) for a in agreements for item in (revenues, ebitda)
        )
        roles = [
            AgreementRole(agreement=a, party=party, role=Role.BORROWER, defined_term=f"Borrower {n + 1}")
            for a in agreements
            for n, party in enumerate(borrowers)
        ]
        roles += [
            AgreementRole(agreement=a, party=lender, role=Role.LENDER, defined_term="Lenders")
            for a in agreements[:WATCHED]
        ]
        AgreementRole.objects.bulk_create(roles)

        covenants = Covenant.objects.bulk_create(
            Covenant(agreement=a, section=section, name=name)
            for a in agreements
            for section, name in (("6.1", "Minimum revenues"), ("6.2", "Maximum EBITDA losses"))
        )
        terms = CovenantTerms.objects.bulk_create(
            CovenantTerms(
                covenant=covenant,
                action=TermsAction.ADD,
                effective_from=dt.date(2022, 12, 15),
                line_item=revenues if covenant.section == "6.1" else ebitda,
                window_periods=1 if covenant.section == "6.1" else 2,
                direction=Direction.AT_LEAST,
                basis=Basis.COMBINED,
            )
            for covenant in covenants
        )
        steps = []
        for version in terms:
            if version.window_periods == 1:
                steps += [
                    ThresholdStep(terms=version, test_date=q, threshold=minimum_revenues(n))
                    for n, q in enumerate(QUARTERS)
                ]
            else:
                steps += [
                    ThresholdStep(terms=version, test_date=q, threshold=EBITDA_LOSS_CAP, amount_as_printed=PRINTED_CAP)
                    for q in QUARTERS[1:]
                ]
        ThresholdStep.objects.bulk_create(steps, batch_size=5000)

        uploads = StatementUpload.objects.bulk_create(
            StatementUpload(
                agreement=a,
                filename="history.csv",
                format="csv",
                size=0,
                sha256="0" * 64,
                content=b"",
                source="command",
            )
            for a in agreements
        )
        statements = []
        amounts = []
        for index, (agreement, upload) in enumerate(zip(agreements, uploads, strict=True)):
            for n, quarter in enumerate(QUARTERS):
                total_revenues, total_ebitda = combined_figures(index, n)
                for party, rev, ebi in zip(borrowers, split(total_revenues), split(total_ebitda), strict=True):
                    statements.append(
                        FinancialStatement(agreement=agreement, borrower=party, period_end=quarter, upload=upload)
                    )
                    amounts.append((rev, ebi))
        statements = FinancialStatement.objects.bulk_create(statements, batch_size=5000)
        StatementLine.objects.bulk_create(
            (
                StatementLine(statement=statement, line_item=item, amount=amount)
                for statement, pair in zip(statements, amounts, strict=True)
                for item, amount in zip((revenues, ebitda), pair, strict=True)
            ),
            batch_size=5000,
        )
    return {"agreements": len(agreements), "statements": len(statements)}


def portfolio_ids() -> list[int]:
    from covenants.models import Agreement

    return list(Agreement.objects.filter(name__startswith="Reliability").order_by("pk").values_list("pk", flat=True))


def queue_chunk(first: int = 0, count: int | None = None) -> dict:
    from compliance.tasks import evaluate_agreements

    ids = portfolio_ids()[first : None if count is None else first + count]
    result = evaluate_agreements.delay(ids)
    return {"task": result.id, "agreements": len(ids)}


def queue_chunks(size: int) -> dict:
    from compliance.tasks import evaluate_agreements

    ids = portfolio_ids()
    tasks = [evaluate_agreements.delay(ids[start : start + size]).id for start in range(0, len(ids), size)]
    return {"tasks": tasks}


def check(*names: str) -> dict:
    """Every current result against a fresh evaluation of the latest figures, two ways: the
    engine's own results compared field by field, and the evaluation service run in a
    transaction that is rolled back (it must find nothing to change)."""
    from django.db import transaction
    from django.utils import timezone

    from compliance import engine, selectors
    from compliance.models import CovenantTestResult
    from compliance.services import agreements_evaluate
    from covenants.models import Agreement

    agreements = Agreement.objects.filter(name__in=names) if names else Agreement.objects.all()
    ids = list(agreements.order_by("pk").values_list("pk", flat=True))
    today = timezone.localdate()
    inputs = selectors.evaluation_inputs(ids, as_of=today)
    expected = {}
    for agreement_id in ids:
        for result in engine.evaluate_agreement(inputs[agreement_id]):
            expected[(result.covenant_id, result.test_date, result.party_id)] = result
    current = {
        (r.covenant_id, r.test_date, r.borrower_id): r
        for r in CovenantTestResult.objects.filter(is_current=True, agreement_id__in=ids)
    }
    mismatches = []
    for key in sorted(set(expected) | set(current), key=lambda k: (k[0], k[1], k[2] or 0)):
        want, have = expected.get(key), current.get(key)
        if want is None or have is None:
            mismatches.append({"test": str(key), "expected": bool(want), "stored": bool(have)})
            continue
        for field in ("status", "value", "threshold", "headroom"):
            if getattr(want, field) != getattr(have, field):
                wanted, stored = str(getattr(want, field)), str(getattr(have, field))
                mismatches.append({"test": str(key), "field": field, "expected": wanted, "stored": stored})
    with transaction.atomic():
        # Every agreement evaluated, none skipped as unchanged: the stored results are checked.
        summary = agreements_evaluate(agreement_ids=ids, as_of=today, skip_unchanged=False)
        transaction.set_rollback(True)
    return {
        "agreements": len(ids),
        "results": len(current),
        "mismatches": mismatches[:20],
        "mismatch_count": len(mismatches),
        "fresh_evaluation_changed": summary.changed,
        "fresh_evaluation_events": len(summary.events),
    }


def upload_page(agreement_name: str, path: str, username: str) -> dict:
    """The borrower's journey on the page: send the file, see it checked, confirm it."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from covenants.models import Agreement

    agreement = Agreement.objects.get(name=agreement_name)
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    started = time.monotonic()
    connections = RedisConnections.opened
    content = Path(path).read_bytes()
    upload = SimpleUploadedFile(Path(path).name, content, content_type="text/csv")
    checked = client.post(reverse("covenants:statement_upload", args=[agreement.pk]), {"file": upload})
    digest = re.search(rb'name="sha256" value="([0-9a-f]{64})"', checked.content)
    confirmed = client.post(
        reverse("covenants:statement_confirm", args=[agreement.pk]),
        {"sha256": digest.group(1).decode() if digest else "", "action": "confirm"},
    )
    return {
        "checked": checked.status_code,
        "confirmed": confirmed.status_code,
        "location": confirmed.get("Location", ""),
        "seconds": round(time.monotonic() - started, 3),
        "redis_connections": RedisConnections.opened - connections,
    }


def upload_api(agreement_name: str, path: str, username: str) -> dict:
    """An integration's upload: a token, then the file posted to the statements endpoint."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from knox.models import AuthToken

    from covenants.models import Agreement

    agreement = Agreement.objects.get(name=agreement_name)
    _, token = AuthToken.objects.create(get_user_model().objects.get(username=username))
    started = time.monotonic()
    upload = SimpleUploadedFile(Path(path).name, Path(path).read_bytes(), content_type="text/csv")
    response = Client(raise_request_exception=False).post(
        "/api/v1/financial-statements/",
        {"agreement": agreement.pk, "file": upload},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    return {"status": response.status_code, "seconds": round(time.monotonic() - started, 3)}


def manage(*args: str) -> dict:
    """A management command (its output as it prints it), then the connections it made to Redis."""
    from django.core.management import execute_from_command_line

    connections = RedisConnections.opened
    execute_from_command_line(["manage.py", *args])
    sys.stdout.flush()
    return {"redis_connections": RedisConnections.opened - connections}


def serve_uploads() -> None:
    """A long-lived process, as a web server's is: one page upload per line of JSON read
    ({"agreement", "file", "user"}), one line of JSON written back for each."""
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        print(json.dumps(upload_page(request["agreement"], request["file"], request["user"])), flush=True)


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    _setup()
    if command == "build":
        out = build(int(args[0]))
    elif command == "queue-chunk":
        out = queue_chunk(*(int(a) for a in args))
    elif command == "queue-chunks":
        out = queue_chunks(int(args[0]))
    elif command == "check":
        out = check(*args)
    elif command == "serve-uploads":
        serve_uploads()
        return
    elif command == "upload-page":
        out = upload_page(*args)
    elif command == "upload-api":
        out = upload_api(*args)
    elif command == "manage":
        out = manage(*args)
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
