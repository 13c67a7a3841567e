"""
What workload 3 (the dashboard and the agreement page) needs beside the COPY portfolio,
made through the ORM and idempotent, so that a rerun with ``--keep-database`` finds it made:

- the users who request the pages, each a member (role Lender) of a Lender party;
- a Lender in ten agreements (the portfolio's Lender 00 is in one agreement in ten of it);
- two agreements with the portfolio's three kinds of covenant, one with 40 fiscal quarters
  of statements and one with 4, evaluated through ``services.agreements_evaluate``;
- current results for every agreement the pages show (workload 1 leaves them; a run of
  workload 3 alone evaluates them first, in the nightly task's chunks, untimed), then
  ``VACUUM ANALYZE`` as workload 1 does after its writes.

The users ask for no alert deliveries (a preference with no channel for every kind), so
that their being in the portfolio's agreements changes nothing workload 1 writes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from benchmarks.generate import AS_OF, BORROWERS_PER_AGREEMENT, LINE_ITEMS, NAME_PREFIX

# Users and parties of the pages' benchmark (names that say so).
BIG_LENDER_USER = "bench.lender.portfolio"
SMALL_LENDER_USER = "bench.lender.ten"
PAGES_LENDER_USER = "bench.lender.quarters"
BIG_LENDER_PARTY = "Synthetic Lender Bank 00"  # benchmarks.generate's Lender 0
SMALL_LENDER_PARTY = "Benchmark Lender in Ten Agreements"
PAGES_LENDER_PARTY = "Benchmark Lender of the Quarters Agreements"
SMALL_LENDER_AGREEMENTS = 10
# The agreement page's two sizes: fiscal quarters of statements, the last ending on the
# portfolio's last quarter (evaluated as of benchmarks.generate.AS_OF, like the portfolio).
LONG_QUARTERS = 40
SHORT_QUARTERS = 4
LAST_QUARTER = dt.date(2024, 12, 31)
QUARTERS_AGREEMENT_NAME = "Benchmark Quarters Agreement, {quarters} quarters"
# The pages' "today": as on the real date, long after the evaluation date with no statement
# since, so every Borrower owes the eight latest quarters the covenants need (the look-back).
PAGES_TODAY = dt.date(2026, 12, 1)
QUARTERS_SEED = 20250214


@dataclass(frozen=True)
class Lender:
    """A user who belongs to a Lender party, and the agreements that party lends under."""

    username: str
    party_id: int
    agreement_ids: list[int]


def _user(username: str, party_id: int):
    """The benchmark's user, a member (Lender) of the party, wanting no alert deliveries."""
    from django.contrib.auth import get_user_model

    from alerts.choices import AlertKind
    from alerts.models import NotificationPreference
    from parties.choices import MembershipRole
    from parties.models import Membership

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": "Benchmark", "last_name": "Lender", "email": ""}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, party_id=party_id, role=MembershipRole.LENDER)
    for kind in AlertKind.values:
        NotificationPreference.objects.get_or_create(user=user, kind=kind, defaults={"channels": []})
    return user


def _bank(name: str) -> int:
    from parties.models import Party

    party, _ = Party.objects.get_or_create(legal_name=name, defaults={"kind": "bank", "jurisdiction": "New York"})
    return party.pk


def _lender_roles(party_id: int, agreement_ids: Sequence[int]) -> None:
    from covenants.choices import Role
    from covenants.models import AgreementRole

    held = set(
        AgreementRole.objects.filter(party_id=party_id, role=Role.LENDER, agreement_id__in=agreement_ids).values_list(
            "agreement_id", flat=True
        )
    )
    AgreementRole.objects.bulk_create(
        AgreementRole(agreement_id=a, party_id=party_id, role=Role.LENDER, defined_term="Lender")
        for a in agreement_ids
        if a not in held
    )


def lenders() -> tuple[Lender, Lender]:
    """The portfolio's Lender 00 (one agreement in ten) and a Lender in ten of its agreements."""
    from django.db import transaction

    from covenants.choices import Role
    from covenants.models import Agreement

    with transaction.atomic():
        big_party = _bank(BIG_LENDER_PARTY)
        big_ids = list(
            Agreement.objects.filter(name__startswith=NAME_PREFIX, roles__party_id=big_party, roles__role=Role.LENDER)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        small_party = _bank(SMALL_LENDER_PARTY)
        small_ids = big_ids[:SMALL_LENDER_AGREEMENTS]
        _lender_roles(small_party, small_ids)
        _user(BIG_LENDER_USER, big_party)
        _user(SMALL_LENDER_USER, small_party)
    return Lender(BIG_LENDER_USER, big_party, big_ids), Lender(SMALL_LENDER_USER, small_party, small_ids)


# --- The agreements with 40 and 4 quarters ------------------------------------------------------


def _quarter_ends(count: int) -> list[dt.date]:
    """``count`` calendar quarter ends, the last LAST_QUARTER, oldest first."""
    ends = []
    year, month = LAST_QUARTER.year, LAST_QUARTER.month
    for _ in range(count):
        ends.append(dt.date(year, month, 31 if month in (3, 12) else 30))
        month -= 3
        if month <= 0:
            month += 12
            year -= 1
    return ends[::-1]


def _money_printed(amount: int) -> str:
    return f"(${-amount:,})" if amount < 0 else f"${amount:,}"


def _quarters_agreement(quarters: int, lender_party: int, agent_party: int) -> int:
    """An agreement with the portfolio's three covenants and ``quarters`` quarters of statements
    from five Borrowers; its schedules run over every quarter, so every quarter is tested:

    - 7.01(b) minimum revenues, stepping up each fiscal year, each step "and each fiscal
      quarter thereafter";
    - 7.01(c)(i) two-quarter EBITDA losses capped quarter by quarter (the last cap thereafter);
    - 7.01(d) total debt to four-quarter EBITDA at most 5.75 to 1.00 from the fourth quarter on.

    One Borrower's statement of a middle quarter is missing (a test incomplete, financials late)."""
    from django.utils import timezone

    from covenants.choices import Role
    from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, LineItem, ThresholdStep
    from parties.models import Party
    from statements.models import FinancialStatement, StatementLine, StatementUpload

    name = QUARTERS_AGREEMENT_NAME.format(quarters=quarters)
    ends = _quarter_ends(quarters)
    rng = random.Random(QUARTERS_SEED + quarters)
    codes = {}
    for code, label in LINE_ITEMS:
        codes[code], _ = LineItem.objects.get_or_create(code=code, defaults={"name": label})
    signed = ends[0] - dt.timedelta(days=90)
    agreement = Agreement.objects.create(
        kind="credit_agreement",
        title="Credit Agreement",
        name=name,
        defined_term="Credit Agreement",
        contract_number=f"BENCH-Q{quarters}",
        dated_as_of=signed,
        effective_on=signed,
        governing_law="New York",
        currency="USD",
        fiscal_year_end_month=12,
        reporting_deadline_days=45,
    )
    agreement.required_line_items.set(codes.values())
    borrowers = [
        Party.objects.create(legal_name=f"{name}, Borrower {b + 1}", kind="corporation", jurisdiction="Delaware")
        for b in range(BORROWERS_PER_AGREEMENT)
    ]
    roles = [
        AgreementRole(agreement=agreement, party=p, role=Role.BORROWER, defined_term=f"Borrower {b + 1}")
        for b, p in enumerate(borrowers)
    ]
    roles += [
        AgreementRole(agreement=agreement, party_id=agent_party, role=Role.AGENT, defined_term="Agent"),
        AgreementRole(agreement=agreement, party_id=lender_party, role=Role.LENDER, defined_term="Lender"),
    ]
    AgreementRole.objects.bulk_create(roles)

    # Combined figures: revenues growing, EBITDA from losses to profits with noise, debt paid down.
    base = 30_000_000
    revenues, ebitda, debt = [], [], []
    for q in range(quarters):
        expected = base * 1.012**q
        revenues.append(int(expected * rng.uniform(0.95, 1.05)))
        ebitda.append(int(expected * (-0.12 + 0.25 * q / max(quarters - 1, 1) + rng.uniform(-0.05, 0.05))))
        debt.append(int(base * 2.5 * (1 - 0.4 * q / max(quarters, 1))))

    def covenant(section, title, kind, item, window, denominator, denominator_window, direction, steps):
        row = Covenant.objects.create(agreement=agreement, section=section, name=title)
        terms = CovenantTerms.objects.create(
            covenant=row,
            effective_from=signed,
            metric_kind=kind,
            line_item=codes[item],
            window_periods=window,
            denominator_line_item=codes[denominator] if denominator else None,
            denominator_window_periods=denominator_window,
            direction=direction,
        )
        ThresholdStep.objects.bulk_create(
            ThresholdStep(terms=terms, test_date=d, applies_thereafter=t, threshold=v, amount_as_printed=p)
            for d, v, p, t in steps
        )

    minimums = [
        (ends[q], Decimal(m), f"${m:,}", True)
        for q in range(0, quarters, 4)
        for m in [int(base * 1.012**q * rng.uniform(0.88, 1.0)) // 1000 * 1000]
    ]
    caps = []
    for q in range(1, quarters):
        cap = max(int(-(ebitda[q] + ebitda[q - 1]) * rng.uniform(0.8, 1.25)), int(base * 0.02)) // 1000 * 1000
        caps.append((ends[q], Decimal(-cap), _money_printed(-cap), q == quarters - 1))
    ratio = [(ends[min(3, quarters - 1)], Decimal("5.75"), "5.75 to 1.00", True)]
    covenant("7.01(b)", "Minimum revenues", "sum", "revenues", 1, None, None, "at_least", minimums)
    covenant("7.01(c)(i)", "Maximum EBITDA losses", "sum", "ebitda", 2, None, None, "at_least", caps)
    covenant("7.01(d)", "Maximum leverage ratio", "ratio", "total_debt", 1, "ebitda", 4, "at_most", ratio)

    content = b"entity,period_end,line_item,amount\n"
    upload = StatementUpload.objects.create(
        agreement=agreement,
        filename="benchmark-figures.csv",
        content_type="text/csv",
        format="csv",
        size=len(content),
        sha256="0" * 64,
        content=content,
        source="command",
    )
    weights = [rng.uniform(0.5, 1.5) for _ in borrowers]
    weights = [w / sum(weights) for w in weights]
    missing = (BORROWERS_PER_AGREEMENT - 1, quarters // 2)
    statements, amounts = [], []
    for q, end in enumerate(ends):
        for b, borrower in enumerate(borrowers):
            if (b, q) == missing:
                continue
            statements.append(FinancialStatement(agreement=agreement, borrower=borrower, period_end=end, upload=upload))
            amounts.append({"revenues": revenues[q], "ebitda": ebitda[q], "total_debt": debt[q]})
            amounts[-1] = {code: int(total * weights[b]) for code, total in amounts[-1].items()}
    FinancialStatement.objects.bulk_create(statements)
    StatementLine.objects.bulk_create(
        StatementLine(statement=s, line_item=codes[code], amount=Decimal(amount))
        for s, lines in zip(statements, amounts, strict=True)
        for code, amount in lines.items()
    )
    Agreement.objects.filter(pk=agreement.pk).update(updated_at=timezone.now())
    return agreement.pk


def quarters_agreements() -> tuple[str, int, int]:
    """The agreement page's user and the agreements with 40 and 4 quarters (made once)."""
    from django.db import transaction

    from covenants.models import Agreement

    with transaction.atomic():
        lender = _bank(PAGES_LENDER_PARTY)
        agent = _bank("Benchmark Agent of the Quarters Agreements")
        ids = []
        for quarters in (LONG_QUARTERS, SHORT_QUARTERS):
            found = Agreement.objects.filter(name=QUARTERS_AGREEMENT_NAME.format(quarters=quarters)).first()
            ids.append(found.pk if found else _quarters_agreement(quarters, lender, agent))
        _user(PAGES_LENDER_USER, lender)
    return PAGES_LENDER_USER, ids[0], ids[1]


# --- Results -----------------------------------------------------------------------------------


def ensure_results(agreement_ids: Sequence[int], *, log: Callable[[str], None] = print) -> int:
    """Evaluate, as of the portfolio's date and in the nightly task's chunks, the agreements
    that have no current result (workload 1 leaves them all evaluated). Returns how many."""
    from compliance import services
    from compliance.models import CovenantTestResult
    from compliance.tasks import CHUNK_SIZE

    evaluated = set(
        CovenantTestResult.objects.filter(agreement_id__in=list(agreement_ids), is_current=True)
        .order_by()
        .values_list("agreement_id", flat=True)
        .distinct()
    )
    missing = [a for a in agreement_ids if a not in evaluated]
    if missing:
        log(f"evaluating {len(missing):,} agreements that have no results yet (not timed)")
    for start in range(0, len(missing), CHUNK_SIZE):
        services.agreements_evaluate(agreement_ids=missing[start : start + CHUNK_SIZE], as_of=AS_OF)
    if missing:
        vacuum_analyze()
    return len(missing)


def standings_as_of(usernames: Sequence[str], day: dt.date, *, log: Callable[[str], None] = print) -> int:
    """The stored standings (compliance.standings) of every agreement these users' dashboards
    show, as of ``day``: what the daily refresh (execution.tasks.refresh_standings) leaves on
    that day, shortly after midnight. Untimed. Returns how many were written."""
    from django.contrib.auth import get_user_model

    from compliance.standings import standings_refresh
    from portal.pages.selectors import portfolio_agreements

    ids = sorted(
        {a.pk for user in get_user_model().objects.filter(username__in=usernames) for a in portfolio_agreements(user)}
    )
    log(f"the daily refresh of {len(ids):,} agreements' standings as of {day:%Y-%m-%d} (not timed)")
    return standings_refresh(as_of=day, agreement_ids=ids)


def vacuum_analyze() -> None:
    """What autovacuum would have done after these writes on a server in service (it is off on
    the benchmark's): visibility maps set and planner statistics fresh, as workload 1 leaves the
    database after its own writes. Outside a transaction, as VACUUM must be."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
