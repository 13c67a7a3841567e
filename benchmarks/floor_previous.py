"""
The previous floor of covenant evaluation (benchmarks/floor.py is the floor now), kept to be
measured beside it: one set-based SQL statement that computes, in PostgreSQL, the status and
value of every covenant test of a set of agreements.

It applies the engine's readings (covenants/engine.py) to what the benchmark's portfolio
holds and more: terms in force by effective date (a deletion leaves nothing in force),
schedule rows for a date or "thereafter" until the next row or version, test dates from the
schedules and from every quarter with figures, combined sums over trailing or fiscal
year-to-date windows of the Borrowers holding on the test date, missing figures (incomplete),
thresholds not set (incomplete), ratios rounded to six places against compliance, a
denominator that is not positive, equality passing, waivers of the combined test.
Not covered, because the portfolio has none: each-Borrower tests (it reports combined
tests only).

The statement computes what the engine decides, not the explanation and inputs the portal
also stores: it is the least work that gives the same statuses and values, which is what
a floor is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

# A date is a month end when the next day is the 1st; month arithmetic on month ends goes through the
# first of the month (date_trunc), adds months and steps back a day.
FLOOR_SQL = """
WITH
ag AS MATERIALIZED (
    SELECT id AS agreement_id, fiscal_year_end_month AS fyem
    FROM covenants_agreement WHERE id = ANY(%(ids)s)
),
versions AS MATERIALIZED (
    SELECT t.id AS terms_id, t.covenant_id, c.agreement_id, ag.fyem, t.effective_from, t.action,
           LEAD(t.effective_from) OVER (PARTITION BY t.covenant_id ORDER BY t.effective_from, t.id) AS next_from
    FROM covenants_covenantterms t
    JOIN covenants_covenant c ON c.id = t.covenant_id
    JOIN ag ON ag.agreement_id = c.agreement_id
),
steps AS MATERIALIZED (
    SELECT v.covenant_id, v.agreement_id, v.fyem, v.effective_from, v.action, v.next_from,
           s.test_date, s.applies_thereafter,
           LEAD(s.test_date) OVER (PARTITION BY s.terms_id ORDER BY s.test_date) AS next_row_date
    FROM covenants_thresholdstep s JOIN versions v ON v.terms_id = s.terms_id
),
quarter_sums AS MATERIALIZED (
    -- Current figures summed per agreement, line item and quarter, for each span of Borrowers
    -- holding (the figures of a party that is not a Borrower kept apart: they only date a test).
    SELECT f.agreement_id, l.line_item_id, f.period_end, b.id IS NOT NULL AS of_borrower, b.holds_from, b.holds_to,
           SUM(l.amount) AS total, COUNT(*) AS figures
    FROM statements_financialstatement f
    JOIN ag ON ag.agreement_id = f.agreement_id
    JOIN statements_statementline l ON l.statement_id = f.id
    LEFT JOIN covenants_agreementrole b
      ON b.agreement_id = f.agreement_id AND b.party_id = f.borrower_id AND b.role = 'borrower'
    WHERE f.status = 'current'
    GROUP BY 1, 2, 3, 4, 5, 6
),
spans AS MATERIALIZED (
    -- Borrowers per agreement and span of dates (one span when no role is dated).
    SELECT b.agreement_id, b.holds_from, b.holds_to, COUNT(*) AS parties
    FROM covenants_agreementrole b JOIN ag ON ag.agreement_id = b.agreement_id
    WHERE b.role = 'borrower'
    GROUP BY 1, 2, 3
),
test_dates AS MATERIALIZED (
    -- The schedules' own dates up to the evaluation date, when they are fiscal quarter ends.
    SELECT s.covenant_id, s.agreement_id, s.fyem, s.test_date
    FROM steps s
    WHERE s.test_date <= %(as_of)s
      AND EXTRACT(DAY FROM s.test_date + 1) = 1
      AND ((EXTRACT(MONTH FROM s.test_date)::int - s.fyem) %% 3 + 3) %% 3 = 0
    UNION
    -- Each later quarter end for a row that applies thereafter, until the next row or version.
    SELECT s.covenant_id, s.agreement_id, s.fyem, q.day
    FROM steps s
    CROSS JOIN LATERAL (
        SELECT (date_trunc('month', GREATEST(s.test_date, s.effective_from)::timestamp)
                + make_interval(months => ((s.fyem - EXTRACT(MONTH FROM GREATEST(s.test_date, s.effective_from))::int)
                                           %% 3 + 3) %% 3 + 1) - interval '1 day')::date AS first_day
    ) f
    CROSS JOIN LATERAL (
        SELECT (date_trunc('month', f.first_day::timestamp) + make_interval(months => 3 * k + 1)
                - interval '1 day')::date AS day
        FROM generate_series(0, GREATEST(0, ((%(as_of)s::date - f.first_day) / 89) + 1)) k
    ) q
    WHERE s.applies_thereafter AND s.action <> 'delete'
      AND q.day <= %(as_of)s
      AND (s.next_row_date IS NULL OR q.day < s.next_row_date)
      AND (s.next_from IS NULL OR q.day < s.next_from)
    UNION
    -- Every quarter with figures, so that figures with no threshold show as not tested.
    SELECT c.id, c.agreement_id, d.fyem, d.period_end
    FROM (SELECT DISTINCT q.agreement_id, ag.fyem, q.period_end FROM quarter_sums q JOIN ag USING (agreement_id)) d
    JOIN covenants_covenant c ON c.agreement_id = d.agreement_id
    WHERE EXTRACT(DAY FROM d.period_end + 1) = 1
      AND ((EXTRACT(MONTH FROM d.period_end)::int - d.fyem) %% 3 + 3) %% 3 = 0
),
tests AS MATERIALIZED (
    -- The terms in force (the latest version effective on or before the date; a deletion
    -- leaves none) and their schedule row (that date's, or the latest earlier one that
    -- applies thereafter).
    SELECT td.covenant_id, td.agreement_id, td.fyem, td.test_date, v.*,
           r.threshold, r.threshold_state, r.test_date IS NOT NULL AS has_row
    FROM test_dates td
    LEFT JOIN LATERAL (
        SELECT t.id AS terms_id, t.action, t.metric_kind, t.line_item_id, t.window_periods, t.window_kind,
               t.denominator_line_item_id, COALESCE(t.denominator_window_periods, t.window_periods) AS den_quarters,
               COALESCE(NULLIF(t.denominator_window_kind, ''), 'trailing') AS den_kind, t.direction
        FROM covenants_covenantterms t
        WHERE t.covenant_id = td.covenant_id AND t.effective_from <= td.test_date
        ORDER BY t.effective_from DESC, t.id DESC LIMIT 1
    ) v ON v.action <> 'delete'
    LEFT JOIN LATERAL (
        SELECT s.test_date, s.applies_thereafter, s.threshold, s.threshold_state
        FROM covenants_thresholdstep s
        WHERE s.terms_id = v.terms_id AND s.test_date <= td.test_date
        ORDER BY s.test_date DESC LIMIT 1
    ) r ON r.test_date = td.test_date OR r.applies_thereafter
),
holder_counts AS (
    -- How many Borrowers hold on each test date.
    SELECT t.covenant_id, t.test_date, SUM(p.parties) AS borrowers
    FROM tests t
    JOIN spans p ON p.agreement_id = t.agreement_id
     AND (p.holds_from IS NULL OR p.holds_from <= t.test_date) AND (p.holds_to IS NULL OR t.test_date <= p.holds_to)
    WHERE t.has_row
    GROUP BY 1, 2
),
windows AS MATERIALIZED (
    -- Each test's numerator and denominator windows: (part, line item, quarter end), with their length.
    SELECT t.covenant_id, t.test_date, t.agreement_id, w.part, w.line_item_id, w.quarters, q.quarter
    FROM tests t
    CROSS JOIN LATERAL (
        VALUES ('n', t.line_item_id, t.window_periods, t.window_kind),
               ('d', t.denominator_line_item_id, t.den_quarters, t.den_kind)
    ) w0(part, line_item_id, n, kind)
    CROSS JOIN LATERAL (
        SELECT w0.part, w0.line_item_id,
               CASE WHEN w0.kind = 'fiscal_ytd'
                    THEN 4 - ((t.fyem - EXTRACT(MONTH FROM t.test_date)::int) %% 12 + 12) %% 12 / 3
                    ELSE w0.n END AS quarters
    ) w
    CROSS JOIN LATERAL (
        SELECT (date_trunc('month', t.test_date::timestamp) - make_interval(months => 3 * k)
                + interval '1 month - 1 day')::date
        FROM generate_series(0, w.quarters - 1) k
    ) q(quarter)
    WHERE t.has_row AND (w.part = 'n' OR t.metric_kind = 'ratio')
),
sums AS (
    -- Combined over the Borrowers holding on the test date; every figure not found is missing.
    SELECT w.covenant_id, w.test_date, w.part, MIN(w.quarters) AS quarters,
           SUM(q.total) AS total, COALESCE(SUM(q.figures), 0) AS found
    FROM windows w
    LEFT JOIN quarter_sums q
      ON q.agreement_id = w.agreement_id AND q.line_item_id = w.line_item_id AND q.period_end = w.quarter
     AND q.of_borrower
     AND (q.holds_from IS NULL OR q.holds_from <= w.test_date) AND (q.holds_to IS NULL OR w.test_date <= q.holds_to)
    GROUP BY w.covenant_id, w.test_date, w.part
),
valued AS (
    SELECT t.covenant_id, t.test_date, t.has_row, COALESCE(c.borrowers, 0) AS borrowers, t.direction,
           t.threshold_state, t.threshold, n.total AS num, d.total AS den,
           (n.found < n.quarters * c.borrowers OR COALESCE(d.found < d.quarters * c.borrowers, FALSE)) AS missing,
           CASE
               WHEN t.metric_kind <> 'ratio' THEN COALESCE(n.total, 0)
               -- Six places, rounded against compliance: up for a maximum, down for a minimum.
               WHEN d.total > 0 AND t.direction = 'at_most' THEN
                   (DIV(n.total * 1000000, d.total)
                    + CASE WHEN MOD(n.total * 1000000, d.total) > 0 THEN 1 ELSE 0 END) / 1000000.0
               WHEN d.total > 0 THEN
                   (DIV(n.total * 1000000, d.total)
                    - CASE WHEN MOD(n.total * 1000000, d.total) < 0 THEN 1 ELSE 0 END) / 1000000.0
           END AS metric
    FROM tests t
    LEFT JOIN holder_counts c ON c.covenant_id = t.covenant_id AND c.test_date = t.test_date
    LEFT JOIN sums n ON n.covenant_id = t.covenant_id AND n.test_date = t.test_date AND n.part = 'n'
    LEFT JOIN sums d ON d.covenant_id = t.covenant_id AND d.test_date = t.test_date AND d.part = 'd'
)
SELECT v.covenant_id, v.test_date,
       CASE
           WHEN NOT v.has_row THEN 'not_tested'
           WHEN v.borrowers = 0 OR v.missing OR v.threshold_state <> 'set' THEN 'incomplete'
           WHEN v.metric IS NULL AND v.direction = 'at_least' AND v.den = 0 AND v.num > 0 THEN 'compliant'
           WHEN v.metric IS NOT NULL AND ((v.direction = 'at_most' AND v.metric <= v.threshold)
                                          OR (v.direction = 'at_least' AND v.metric >= v.threshold)) THEN 'compliant'
           -- A breach, unless waived; a ratio whose denominator is not positive is one too.
           WHEN EXISTS (SELECT 1 FROM covenants_waiver x WHERE x.covenant_id = v.covenant_id
                        AND x.test_date = v.test_date AND x.borrower_id IS NULL) THEN 'waived'
           ELSE 'breach'
       END AS status,
       CASE WHEN v.has_row AND v.borrowers > 0 AND NOT v.missing THEN v.metric END AS value
FROM valued v
"""


def floor_results(agreement_ids: Sequence[int], *, as_of: dt.date) -> list[tuple[int, dt.date, str, Decimal | None]]:
    """(covenant id, test date, status, value) of every combined test, computed by PostgreSQL in one statement."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        # For this transaction only: no just-in-time compilation (seconds of it, for a statement
        # run once), and memory to hash and sort in. The floor is the best this machine does.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(FLOOR_SQL, {"ids": list(agreement_ids), "as_of": as_of})
        return cursor.fetchall()
