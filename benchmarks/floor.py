"""
The floor of covenant evaluation: the least work that gives the status and value of every
combined covenant test of a set of agreements, as the portal decides them.

PostgreSQL does the one thing it is fastest at: a hash aggregate of the current figures, one
row per agreement, line item, quarter and span of Borrowers holding (1.2 million statement
lines become some 240,000 sums at 10,000 agreements). Four small queries read the terms,
schedules, Borrowers and waivers. Every row comes through psycopg's binary protocol as plain
integers (amounts in cents, thresholds in millionths), and the decisions are made in plain
Python over integers: no model, no Decimal until the value returned.

It applies the engine's readings (compliance/engine) to what the benchmark's portfolio holds
and more: terms in force by effective date (a deletion leaves nothing in force), schedule rows
for a date or "thereafter" until the next row or version, test dates from the schedules and
from every quarter with figures, combined sums over trailing or fiscal year-to-date windows of
the Borrowers holding on the test date, missing figures (incomplete), thresholds not set
(incomplete), ratios rounded to six places against compliance, a denominator that is not
positive, equality passing, waivers of the combined test. It reads calendar-month fiscal
quarters only, and combined tests only: the portfolio has no other calendar, no monthly
terms, no each-Borrower or consolidated test and no defined term (formulas). It writes
nothing, and makes neither the explanation nor the inputs the portal stores with a result.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

# Current figures summed per agreement, line item, quarter and span of Borrowers holding; a
# party that is no Borrower (holder = false) only dates a test. Quarters as month numbers
# (year * 12 + month - 1) of month ends: no other date is a quarter end or in a window. Amounts
# in cents: exact, as amounts have two places.
FIGURES_SQL = """
SELECT f.agreement_id, l.line_item_id,
       (EXTRACT(YEAR FROM f.period_end) * 12 + EXTRACT(MONTH FROM f.period_end))::int - 1 AS month,
       b.id IS NOT NULL AS holder, b.holds_from, b.holds_to, (SUM(l.amount) * 100)::bigint AS cents, COUNT(*)::int
FROM statements_financialstatement f
JOIN statements_statementline l ON l.statement_id = f.id
LEFT JOIN covenants_agreementrole b
  ON b.agreement_id = f.agreement_id AND b.party_id = f.borrower_id AND b.role = 'borrower'
WHERE f.agreement_id = ANY(%(ids)s) AND f.status = 'current' AND EXTRACT(DAY FROM f.period_end + 1) = 1
GROUP BY 1, 2, 3, 4, 5, 6
"""
COVENANTS_SQL = """
SELECT c.agreement_id, a.fiscal_year_end_month, c.id, t.id, t.effective_from, t.action, t.metric_kind,
       t.line_item_id, t.window_periods, t.window_kind, t.denominator_line_item_id,
       COALESCE(t.denominator_window_periods, t.window_periods),
       COALESCE(NULLIF(t.denominator_window_kind, ''), 'trailing'), t.direction
FROM covenants_covenant c
JOIN covenants_agreement a ON a.id = c.agreement_id
LEFT JOIN covenants_covenantterms t ON t.covenant_id = c.id
WHERE c.agreement_id = ANY(%(ids)s)
ORDER BY c.id, t.effective_from, t.id
"""
STEPS_SQL = """
SELECT s.terms_id, s.test_date, s.applies_thereafter, (s.threshold * 1000000)::bigint, s.threshold_state = 'set'
FROM covenants_thresholdstep s
JOIN covenants_covenantterms t ON t.id = s.terms_id
JOIN covenants_covenant c ON c.id = t.covenant_id
WHERE c.agreement_id = ANY(%(ids)s)
ORDER BY s.terms_id, s.test_date
"""
BORROWERS_SQL = """
SELECT agreement_id, holds_from, holds_to, COUNT(*)::int FROM covenants_agreementrole
WHERE agreement_id = ANY(%(ids)s) AND role = 'borrower' GROUP BY 1, 2, 3
"""
WAIVERS_SQL = """
SELECT covenant_id, test_date FROM covenants_waiver WHERE agreement_id = ANY(%(ids)s) AND borrower_id IS NULL
"""

Row = tuple[int, dt.date, str, Decimal | None]
_SIX = 1_000_000


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_end(month: int) -> dt.date:
    year, index = divmod(month + 1, 12)
    return dt.date(year, index + 1, 1) - dt.timedelta(days=1)


def _is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def _holds(span_from: dt.date | None, span_to: dt.date | None, day: dt.date) -> bool:
    return (span_from is None or span_from <= day) and (span_to is None or day <= span_to)


def floor_results(agreement_ids: Sequence[int], *, as_of: dt.date) -> list[Row]:
    """(covenant id, test date, status, value) of every combined test of these agreements."""
    import psycopg
    from django.db import connection, transaction

    ids = list(agreement_ids)
    with transaction.atomic():
        connection.ensure_connection()
        # A server-binding cursor (Django's are client-side, which cannot ask for binary rows).
        with psycopg.Cursor(connection.connection) as cursor:
            # For this transaction: no just-in-time compilation (slower for a statement run
            # once), and memory to hash in.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            fetched = {}
            for name, sql in (
                ("figures", FIGURES_SQL),
                ("covenants", COVENANTS_SQL),
                ("steps", STEPS_SQL),
                ("borrowers", BORROWERS_SQL),
                ("waivers", WAIVERS_SQL),
            ):
                cursor.execute(sql, {"ids": ids}, binary=True)
                fetched[name] = cursor.fetchall()
    return _decide(fetched, as_of)


def _decide(fetched: dict[str, list[tuple]], as_of: dt.date) -> list[Row]:
    """The decisions, in plain Python over the rows fetched."""
    # (agreement, line item, month) -> (cents, figures) of Borrowers holding throughout, and
    # -> [(from, to, cents, figures)] of Borrowers holding for a span.
    sums: dict[tuple, tuple[int, int]] = {}
    dated: dict[tuple, list] = defaultdict(list)
    figure_months: dict[int, set[int]] = defaultdict(set)
    for agreement_id, line_item_id, month, holder, holds_from, holds_to, cents, count in fetched["figures"]:
        figure_months[agreement_id].add(month)
        if holder and holds_from is None and holds_to is None:
            sums[(agreement_id, line_item_id, month)] = (cents, count)
        elif holder:
            dated[(agreement_id, line_item_id, month)].append((holds_from, holds_to, cents, count))
    spans: dict[int, list[tuple]] = defaultdict(list)
    for agreement_id, holds_from, holds_to, count in fetched["borrowers"]:
        spans[agreement_id].append((holds_from, holds_to, count))
    steps: dict[int, list[tuple]] = defaultdict(list)
    for terms_id, test_date, thereafter, threshold, is_set in fetched["steps"]:
        steps[terms_id].append((test_date, thereafter, threshold, is_set))
    covenants: dict[int, tuple[int, int, list[tuple]]] = {}
    for agreement_id, fyem, covenant_id, *terms in fetched["covenants"]:
        entry = covenants.setdefault(covenant_id, (agreement_id, fyem, []))
        if terms[0] is not None:
            entry[2].append(tuple(terms))
    last_month = _month(as_of) if _is_month_end(as_of) else _month(as_of) - 1
    context = _Context(sums, dated, spans, steps, set(fetched["waivers"]), last_month)
    rows: list[Row] = []
    for covenant_id, (agreement_id, fyem, versions) in covenants.items():
        rows += context.covenant(covenant_id, agreement_id, fyem, versions, figure_months.get(agreement_id, ()))
    return rows


class _Context:
    """A batch's figures, spans, schedules and waivers; the decisions for one covenant at a time."""

    def __init__(self, sums: dict, dated: dict, spans: dict, steps: dict, waived: set, last_month: int) -> None:
        self.sums, self.dated, self.spans, self.steps, self.waived = sums, dated, spans, steps, waived
        self.last_month = last_month  # the latest month end on or before the evaluation date
        self.step_dates = {terms_id: [r[0] for r in rows] for terms_id, rows in steps.items()}
        self.month_ends: dict[int, dt.date] = {}

    def test_months(self, fyem: int, versions: list[tuple], figure_months) -> list[int]:
        """The quarter ends tested, as month numbers: the schedules' dates, each later quarter
        for a row that applies thereafter, and every quarter with figures."""
        phase = fyem % 3
        found = {m for m in figure_months if m % 3 == (phase - 1) % 3}
        for index, version in enumerate(versions):
            terms_id, effective_from, action = version[0], version[1], version[2]
            next_from = versions[index + 1][1] if index + 1 < len(versions) else None
            rows = self.steps.get(terms_id, ())
            for position, (test_date, thereafter, _, _) in enumerate(rows):
                if _is_month_end(test_date) and (test_date.month - fyem) % 3 == 0:
                    month = _month(test_date)
                    if month <= self.last_month:
                        found.add(month)
                if not thereafter or action == "delete":
                    continue
                stop = rows[position + 1][0] if position + 1 < len(rows) else None
                if next_from is not None and (stop is None or next_from < stop):
                    stop = next_from
                # The quarter end on or after the row's date (or the version's, if later); the
                # quarters tested run while their end is before the stop.
                start = max(test_date, effective_from)
                month = _month(start) + (fyem - start.month) % 3
                stop_month = None if stop is None else _month(stop)
                while month <= self.last_month and (stop_month is None or month < stop_month):
                    found.add(month)
                    month += 3
        return sorted(found)

    def covenant(self, covenant_id: int, agreement_id: int, fyem: int, versions: list[tuple], figure_months) -> list:
        rows = []
        spans = self.spans.get(agreement_id, ())
        for month in self.test_months(fyem, versions, figure_months):
            day = self.month_ends.get(month)
            if day is None:
                day = self.month_ends[month] = _month_end(month)
            terms = None
            for version in versions:  # oldest first: the last effective on or before the day
                if version[1] <= day:
                    terms = version
            row = None
            if terms is not None and terms[2] != "delete":
                schedule = self.steps.get(terms[0], ())
                position = bisect_right(self.step_dates[terms[0]], day) - 1 if schedule else -1
                if position >= 0 and (schedule[position][0] == day or schedule[position][1]):
                    row = schedule[position]
            if row is None:
                rows.append((covenant_id, day, "not_tested", None))
                continue
            rows.append(
                (covenant_id, day, *self.decide(covenant_id, agreement_id, fyem, terms, row, month, day, spans))
            )
        return rows

    def window(self, agreement_id: int, line_item_id: int, month: int, quarters: int, day: dt.date):
        total = found = 0
        for k in range(quarters):
            key = (agreement_id, line_item_id, month - 3 * k)
            cents, count = self.sums.get(key, (0, 0))
            total += cents
            found += count
            if self.dated:
                for holds_from, holds_to, cents, count in self.dated.get(key, ()):
                    if _holds(holds_from, holds_to, day):
                        total += cents
                        found += count
        return total, found

    def decide(self, covenant_id, agreement_id, fyem, terms, row, month, day, spans) -> tuple[str, Decimal | None]:
        (_, _, _, kind, line_item, periods, window_kind, den_item, den_periods, den_kind, direction) = terms
        borrowers = spans[0][2] if len(spans) == 1 and spans[0][:2] == (None, None) else None
        if borrowers is None:
            borrowers = sum(n for f, t, n in spans if _holds(f, t, day))
        if not borrowers:
            return "incomplete", None
        ytd = 4 - ((fyem - day.month) % 12) // 3
        quarters = ytd if window_kind == "fiscal_ytd" else periods
        num, found = self.window(agreement_id, line_item, month, quarters, day)
        if found < quarters * borrowers:
            return "incomplete", None
        metric: int | None
        if kind == "ratio":
            quarters = ytd if den_kind == "fiscal_ytd" else den_periods
            den, found = self.window(agreement_id, den_item, month, quarters, day)
            if found < quarters * borrowers:
                return "incomplete", None
            # Six places, rounded against compliance: up for a maximum, down for a minimum.
            metric = (-((-num * _SIX) // den) if direction == "at_most" else num * _SIX // den) if den > 0 else None
            value = None if metric is None else Decimal(metric).scaleb(-6)
            scaled = metric
        else:
            value, scaled = Decimal(num).scaleb(-2), num * 10_000  # cents to millionths
        _, _, threshold, is_set = row
        if not is_set:
            return "incomplete", value
        if scaled is None:
            if direction == "at_least" and den == 0 and num > 0:
                return "compliant", value
        elif scaled <= threshold if direction == "at_most" else scaled >= threshold:
            return "compliant", value
        return ("waived" if (covenant_id, day) in self.waived else "breach"), value
