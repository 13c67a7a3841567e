"""
A synthetic portfolio in the benchmark's PostgreSQL database, written with COPY.

N credit agreements, each with five Borrowers, an Agent and a Lender, and the seed's three
kinds of covenant:

- 1 minimum revenues for the fiscal quarter ending on the test date, with a schedule of
  six stepping minimums (7.01(b) in the seed);
- 2 EBITDA for the two fiscal quarters ending on the test date at least a negative amount,
  "EBITDA losses may not exceed ($X)", with a schedule of five caps (7.01(c)(i));
- 3 total debt to four-quarter EBITDA at most 5.75 to 1.00 from the fourth quarter on
  (a ratio "thereafter"),

and eight fiscal quarters of statements (revenues, EBITDA, total debt) from every Borrower.
Some agreements have what real books have: a Borrower's last quarter not yet received,
a statement without its total debt line, a restated quarter (the first version kept,
superseded), amounts in cents. Outcomes are a mix of compliant, near breach, breach,
undefined ratios (four-quarter EBITDA not positive), incomplete and not tested.

Every row satisfies the models' constraints, which stay enabled while it is written.
Agreement ``i`` is always the same whatever the order it is made in, so a portfolio of
1,000 grown to 10,000 holds the same first 1,000 agreements as one made at 10,000.
History tables (django-simple-history) are not written: nothing here reads them.

    python -m benchmarks.generate --agreements 10000 [--fresh]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

D = dt.date
# The eight fiscal quarters of figures, and the evaluation date the benchmark uses: 45 days
# after the last quarter, when its financials are due. A fixed date keeps runs comparable.
QUARTERS: tuple[dt.date, ...] = (
    D(2023, 3, 31),
    D(2023, 6, 30),
    D(2023, 9, 30),
    D(2023, 12, 31),
    D(2024, 3, 31),
    D(2024, 6, 30),
    D(2024, 9, 30),
    D(2024, 12, 31),
)
AS_OF = D(2025, 2, 14)
BORROWERS_PER_AGREEMENT = 5
NAME_PREFIX = "Synthetic Credit Agreement"
LENDERS = 10  # lender i % 10 is in one agreement in ten: 1,000 of a 10,000 portfolio
AGENTS = 5
SEED = 20000215
LINE_ITEMS = (("revenues", "Revenues"), ("ebitda", "EBITDA"), ("total_debt", "Total debt"))
CENT = Decimal("0.01")


@dataclass
class GenerationReport:
    """What one call wrote, and how long it took."""

    agreements: int = 0
    parties: int = 0
    roles: int = 0
    covenants: int = 0
    terms: int = 0
    schedule_rows: int = 0
    statements: int = 0
    lines: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.agreements:,} agreements, {self.parties:,} parties, {self.roles:,} roles, "
            f"{self.covenants:,} covenants with {self.schedule_rows:,} schedule rows, "
            f"{self.statements:,} statements with {self.lines:,} lines in {self.seconds:.1f} s"
        )


@dataclass
class _AgreementPlan:
    """One agreement's figures and schedules, combined and per Borrower, before ids are given."""

    index: int
    revenue_minimums: list[tuple[dt.date, int]]
    ebitda_caps: list[tuple[dt.date, int]]
    # statements[(borrower_no, quarter_no)] = list of (version, {code: amount}); the last is current
    statements: dict[tuple[int, int], list[dict[str, Decimal | int]]]


def _split(total: int, weights: list[float], cents: bool) -> list[Decimal | int]:
    """Split a combined amount over the Borrowers, exactly (the remainder on the first)."""
    if cents:
        shares: list[Decimal | int] = [(Decimal(total) * Decimal(repr(w))).quantize(CENT) for w in weights[1:]]
        first = Decimal(total) - sum(shares, Decimal(0))
        return [first, *shares]
    ints = [int(total * w) for w in weights[1:]]
    return [total - sum(ints), *ints]


def plan_agreement(index: int) -> _AgreementPlan:
    """Agreement ``index``'s figures and schedules, from its own random stream."""
    rng = random.Random(SEED * 1_000_003 + index)
    base = rng.randint(8, 60) * 1_000_000  # combined quarterly revenues, first quarter
    growth = rng.uniform(-0.01, 0.06)
    margin0 = rng.uniform(-0.35, 0.05)  # EBITDA margin: losses turning to profits, or not
    margin_step = rng.uniform(0.0, 0.06)
    leverage = rng.uniform(0.6, 3.2)  # total debt, in quarters of first-quarter revenues
    cents = rng.random() < 0.10

    revenues, ebitda, debt = [], [], []
    for q in range(len(QUARTERS)):
        expected = base * (1 + growth) ** q
        revenues.append(int(expected * rng.uniform(0.96, 1.04)))
        ebitda.append(int(expected * (margin0 + margin_step * q + rng.uniform(-0.03, 0.03))))
        debt.append(int(base * leverage * (1 - 0.02 * q)))

    # Minimum revenues from the third quarter: the plan's figure, set somewhat below or above.
    revenue_minimums = [
        (QUARTERS[q], int(base * (1 + growth) ** q * rng.uniform(0.86, 1.03)) // 1000 * 1000) for q in range(2, 8)
    ]
    # Two-quarter EBITDA losses capped from the second quarter to the sixth, as in 7.01(c)(i).
    ebitda_caps = []
    for q in range(1, 6):
        expected_two = (ebitda[q] + ebitda[q - 1]) * rng.uniform(0.8, 1.25)
        loss_cap = max(int(-expected_two), int(base * 0.02)) // 1000 * 1000
        ebitda_caps.append((QUARTERS[q], -loss_cap))

    weights = [rng.uniform(0.5, 1.5) for _ in range(BORROWERS_PER_AGREEMENT)]
    total_weight = sum(weights)
    weights = [w / total_weight for w in weights]
    statements: dict[tuple[int, int], list[dict[str, Decimal | int]]] = {}
    for q in range(len(QUARTERS)):
        splits = {
            "revenues": _split(revenues[q], weights, cents),
            "ebitda": _split(ebitda[q], weights, cents),
            "total_debt": _split(debt[q], weights, cents),
        }
        for b in range(BORROWERS_PER_AGREEMENT):
            statements[(b, q)] = [{code: amounts[b] for code, amounts in splits.items()}]

    roll = rng.random()
    if roll < 0.03:
        # The last quarter of one Borrower not yet received: incomplete.
        del statements[(BORROWERS_PER_AGREEMENT - 1, len(QUARTERS) - 1)]
    elif roll < 0.04:
        # A statement without its total debt line: the ratio is incomplete that quarter.
        del statements[(2, 5)][0]["total_debt"]
    elif roll < 0.06:
        # A restated quarter: version 1 kept, superseded by version 2 with other figures.
        first = statements[(0, 5)][0]
        statements[(0, 5)] = [
            {code: amount + (-7_000_000 if code == "ebitda" else 1_000_000) for code, amount in first.items()},
            first,
        ]
    return _AgreementPlan(index, revenue_minimums, ebitda_caps, statements)


def _money_printed(amount: int) -> str:
    return f"(${-amount:,})" if amount < 0 else f"${amount:,}"


class _Ids:
    """Next free primary key per table: rows are written with their ids, sequences reset after."""

    def __init__(self, cursor, tables: list[str]) -> None:
        self.next: dict[str, int] = {}
        for table in tables:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            self.next[table] = cursor.fetchone()[0] + 1

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def portfolio_size() -> int:
    """How many synthetic agreements the database holds."""
    from covenants.models import Agreement

    return Agreement.objects.filter(name__startswith=NAME_PREFIX).count()


def agreement_name(index: int) -> str:
    return f"{NAME_PREFIX} {index:06d}"


def portfolio_grow(to: int, *, batch: int = 2000, log=print) -> GenerationReport:
    """Add synthetic agreements until the portfolio holds ``to`` (never removes any)."""
    from django.db import connection, transaction

    start = portfolio_size()
    report = GenerationReport()
    began = time.perf_counter()
    for first in range(start, to, batch):
        last = min(first + batch, to)
        with transaction.atomic():
            _write_batch(connection, range(first, last), report)
        log(f"  generated agreements {first:,} to {last - 1:,}")
    vacuum_analyze()
    report.seconds = time.perf_counter() - began
    return report


def vacuum_analyze() -> None:
    """What autovacuum would have done by now on a server in service (it is off on this
    machine's): visibility maps set, so counts and index-only scans need not visit the table,
    and planner statistics fresh. Outside a transaction, as VACUUM must be."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _tables():
    from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, LineItem, ThresholdStep
    from parties.models import Party
    from statements.models import FinancialStatement, StatementLine, StatementUpload

    return {
        "party": Party._meta.db_table,
        "agreement": Agreement._meta.db_table,
        "required": Agreement.required_line_items.through._meta.db_table,
        "role": AgreementRole._meta.db_table,
        "covenant": Covenant._meta.db_table,
        "terms": CovenantTerms._meta.db_table,
        "step": ThresholdStep._meta.db_table,
        "upload": StatementUpload._meta.db_table,
        "statement": FinancialStatement._meta.db_table,
        "line": StatementLine._meta.db_table,
        "line_item": LineItem._meta.db_table,
    }


def _line_items() -> dict[str, int]:
    from covenants.models import LineItem

    ids = {}
    for code, name in LINE_ITEMS:
        item, _ = LineItem.objects.get_or_create(code=code, defaults={"name": name})
        ids[code] = item.pk
    return ids


def _bank_parties(cursor, tables: dict[str, str], ids: _Ids, now: dt.datetime) -> tuple[list[int], list[int]]:
    """The Lenders and Agents the synthetic agreements share (made once)."""
    from parties.models import Party

    wanted = [f"Synthetic Lender Bank {k:02d}" for k in range(LENDERS)] + [
        f"Synthetic Agent Bank {k:02d}" for k in range(AGENTS)
    ]
    existing = dict(Party.objects.filter(legal_name__in=wanted).values_list("legal_name", "pk"))
    missing = [name for name in wanted if name not in existing]
    if missing:
        with cursor.copy(
            f'COPY "{tables["party"]}" (id, legal_name, kind, jurisdiction, created_at, updated_at) FROM STDIN'
        ) as copy:
            for name in missing:
                existing[name] = ids.take(tables["party"])
                copy.write_row((existing[name], name, "bank", "New York", now, now))
    return [existing[name] for name in wanted[:LENDERS]], [existing[name] for name in wanted[LENDERS:]]


def _write_batch(connection, indexes: range, report: GenerationReport) -> None:
    from django.utils import timezone

    tables = _tables()
    codes = _line_items()
    now = timezone.now()
    plans = [plan_agreement(i) for i in indexes]
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # the psycopg cursor, for COPY
        ids = _Ids(cursor, [t for key, t in tables.items() if key != "line_item"])
        lenders, agents = _bank_parties(cursor, tables, ids, now)

        agreement_ids = {p.index: ids.take(tables["agreement"]) for p in plans}
        borrower_ids = {(p.index, b): ids.take(tables["party"]) for p in plans for b in range(BORROWERS_PER_AGREEMENT)}

        def copy(table: str, columns: str, rows: Iterator[tuple]) -> int:
            count = 0
            with cursor.copy(f'COPY "{tables[table]}" ({columns}) FROM STDIN') as out:
                for row in rows:
                    out.write_row(row)
                    count += 1
            return count

        report.parties += copy(
            "party",
            "id, legal_name, kind, jurisdiction, created_at, updated_at",
            (
                (
                    borrower_ids[(p.index, b)],
                    f"Synthetic Borrower {p.index:06d}-{b + 1}",
                    "corporation",
                    "Delaware",
                    now,
                    now,
                )
                for p in plans
                for b in range(BORROWERS_PER_AGREEMENT)
            ),
        )
        report.agreements += copy(
            "agreement",
            "id, kind, title, name, defined_term, contract_number, dated_as_of, effective_on, governing_law, "
            "guaranteed_agreement_id, currency, fiscal_year_end_month, fiscal_calendar, reporting_frequency, "
            "reporting_deadline_days, evaluation_requested_at, created_at, updated_at",
            (
                (
                    agreement_ids[p.index], "credit_agreement", "Credit Agreement", agreement_name(p.index),
                    "Credit Agreement", f"SYN-{p.index:06d}", D(2022, 12, 15), D(2022, 12, 15), "New York",
                    None, "USD", 12, "{}", "quarter", 45, None, now, now,
                )
                for p in plans
            ),
        )  # fmt: skip
        copy(
            "required",
            "id, agreement_id, lineitem_id",
            (
                (ids.take(tables["required"]), agreement_ids[p.index], codes[code])
                for p in plans
                for code, _ in LINE_ITEMS
            ),
        )

        def roles() -> Iterator[tuple]:
            for p in plans:
                a = agreement_ids[p.index]
                for b in range(BORROWERS_PER_AGREEMENT):
                    yield (ids.take(tables["role"]), a, borrower_ids[(p.index, b)], "borrower", f"Borrower {b + 1}")
                yield (ids.take(tables["role"]), a, agents[p.index % AGENTS], "agent", "Agent")
                yield (ids.take(tables["role"]), a, lenders[p.index % LENDERS], "lender", "Lender")

        report.roles += copy(
            "role",
            "id, agreement_id, party_id, role, defined_term, capacity_as_printed, holds_from, holds_to, "
            "added_by_id, created_at, updated_at",
            ((*row, "", None, None, None, now, now) for row in roles()),
        )

        # Covenants, their terms (one version each, from the agreement's date) and schedules.
        covenant_rows, terms_rows, step_rows = [], [], []
        for p in plans:
            a = agreement_ids[p.index]
            specs = [
                ("7.01(b)", "Minimum revenues", "sum", "revenues", 1, None, None, "at_least",
                 [(d, Decimal(t), f"${t:,}", False) for d, t in p.revenue_minimums]),
                ("7.01(c)(i)", "Maximum EBITDA losses", "sum", "ebitda", 2, None, None, "at_least",
                 [(d, Decimal(t), _money_printed(t), False) for d, t in p.ebitda_caps]),
                ("7.01(d)", "Maximum leverage ratio", "ratio", "total_debt", 1, "ebitda", 4, "at_most",
                 [(QUARTERS[3], Decimal("5.75"), "5.75 to 1.00", True)]),
            ]  # fmt: skip
            for section, name, kind, item, window, denominator, denominator_window, direction, schedule in specs:
                covenant_id = ids.take(tables["covenant"])
                terms_id = ids.take(tables["terms"])
                covenant_rows.append((covenant_id, a, section, name, Decimal("10.00"), now, now))
                terms_rows.append(
                    (
                        terms_id, covenant_id, None, "add", D(2022, 12, 15), "", "", kind, codes[item], window,
                        "trailing", codes[denominator] if denominator else None, denominator_window,
                        "trailing" if denominator else "", direction, "combined", now, now,
                    )
                )  # fmt: skip
                for test_date, threshold, printed, thereafter in schedule:
                    step_rows.append(
                        (ids.take(tables["step"]), terms_id, test_date, thereafter, threshold, "set", printed)
                    )
        report.covenants += copy(
            "covenant",
            "id, agreement_id, section, name, warning_band_percent, created_at, updated_at",
            iter(covenant_rows),
        )
        report.terms += copy(
            "terms",
            "id, covenant_id, amendment_id, action, effective_from, text_as_printed, reading, metric_kind, "
            "line_item_id, window_periods, window_kind, denominator_line_item_id, denominator_window_periods, "
            "denominator_window_kind, direction, basis, created_at, updated_at, frequency, effective_from_as_printed",
            ((*row, "quarter", False) for row in terms_rows),
        )
        report.schedule_rows += copy(
            "step",
            "id, terms_id, test_date, applies_thereafter, threshold, threshold_state, amount_as_printed, "
            "date_as_printed, date_reading",
            ((*row, "", "") for row in step_rows),
        )

        # One upload per agreement carries its statements (the original file is not the point here).
        content = b"entity,period_end,line_item,amount\n"
        sha = hashlib.sha256(content).hexdigest()
        upload_ids = {p.index: ids.take(tables["upload"]) for p in plans}
        copy(
            "upload",
            "id, agreement_id, uploaded_by_id, uploaded_at, filename, content_type, format, size, sha256, "
            "content, source",
            (
                (upload_ids[p.index], agreement_ids[p.index], None, now, "synthetic.csv", "text/csv", "csv",
                 len(content), sha, content, "command")
                for p in plans
            ),
        )  # fmt: skip

        statement_rows, line_rows = [], []
        for p in plans:
            a = agreement_ids[p.index]
            for (b, q), versions in sorted(p.statements.items()):
                previous = None
                for number, amounts in enumerate(versions, start=1):
                    statement_id = ids.take(tables["statement"])
                    status = "current" if number == len(versions) else "superseded"
                    statement_rows.append(
                        (statement_id, a, borrower_ids[(p.index, b)], QUARTERS[q], "USD", number, status, previous,
                         upload_ids[p.index], None, now)
                    )  # fmt: skip
                    for code, amount in amounts.items():
                        line_rows.append((ids.take(tables["line"]), statement_id, codes[code], amount))
                    previous = statement_id
        report.statements += copy(
            "statement",
            "id, agreement_id, borrower_id, period_end, currency, version, status, supersedes_id, upload_id, "
            "submitted_by_id, submitted_at",
            iter(statement_rows),
        )
        report.lines += copy("line", "id, statement_id, line_item_id, amount", iter(line_rows))

        for table in tables.values():
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="Make a synthetic portfolio in the benchmark's database.")
    parser.add_argument("--agreements", type=int, default=10_000)
    parser.add_argument("--fresh", action="store_true", help="drop, recreate and migrate the database first")
    args = parser.parse_args()

    from benchmarks import database

    database.check_services()
    if args.fresh:
        database.recreate_database()
    database.configure_process()
    report = portfolio_grow(args.agreements)
    print(report.summary())


if __name__ == "__main__":
    main()
