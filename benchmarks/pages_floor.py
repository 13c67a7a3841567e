"""
The floors of workload 3: for each page, one SQL statement that fetches the rows the page
shows, then ``json.dumps`` of them. What a page costs above its floor is the framework's
and the portal's own work: requests, sessions and the access rule, models, templates.

Each statement is a ``UNION ALL`` of parts, one per thing the page shows, all with the same
columns (a part leaves the columns it does not need empty):

    part, agreement_id, id, day, day2, name, section, label, status, n, value, threshold,
    headroom, headroom_percent, flag, doc

PostgreSQL only (the benchmark's database). The user's agreements are found by the access
rule inside the statement (a party of the user holds a role in them).

The dashboard's floor reads what the page reads: each agreement's stored standing
(``compliance_agreementstanding``, written by the evaluation and the daily refresh as of the
day), summed for the cards and listed for the agreements' first page; then the covenants
table's first page from the results of the agreements it spans, and the late financials'
first page by the late rule (below, in SQL) for the agreements it spans, as the page does. It
leaves out what the page checks before trusting a standing beyond its day and the agreement's
outstanding evaluation (that the agreement's calendar and deadline are those it was counted
under) and the live counting of agreements whose standing is not current: it assumes every
standing is, as the benchmark's are after the daily refresh. It no longer works out every
result and late statement of the portfolio, since the page does not either: that work is the
evaluation's and the daily refresh's, measured by workload 1.
"""

from __future__ import annotations

import datetime as dt
import json

from portal.pages.selectors import NEAR_BREACH, PAGE_SIZE

# Every part's columns, typed, so that the parts' NULLs line up.
_COLUMNS = (
    ("agreement_id", "bigint"),
    ("id", "bigint"),
    ("day", "date"),
    ("day2", "date"),
    ("name", "text"),
    ("section", "text"),
    ("label", "text"),
    ("status", "text"),
    ("n", "bigint"),
    ("value", "numeric"),
    ("threshold", "numeric"),
    ("headroom", "numeric"),
    ("headroom_percent", "numeric"),
    ("flag", "boolean"),
    ("doc", "jsonb"),
)


def _part(part: str, source: str, **columns: str) -> str:
    """``SELECT <part>, <columns...> <source>``: the named columns as given, the others NULL."""
    unknown = set(columns) - {c for c, _ in _COLUMNS}
    if unknown:
        raise ValueError(f"unknown columns {unknown}")
    chosen = ", ".join(f"CAST({columns[c]} AS {t})" if c in columns else f"NULL::{t}" for c, t in _COLUMNS)
    return f"SELECT * FROM (SELECT '{part}'::text AS part, {chosen} {source}) AS {part}_part"


# The late financials of the agreements of a CTE ``visible`` (id, name, reporting_deadline_days).
_LATE = """
-- Late financials, the rule of compliance.late_financials for these agreements' terms (one
-- version of each covenant's terms, tested at calendar quarter ends), worked out once per shape
-- of terms as the rule does (covenants drafted alike share one): every test date up to today
-- (each schedule row's date, and each quarter end after a row applying thereafter until the next
-- row, up to 40 of them), the quarters of each test's windows (both sides of a ratio, up to 12:
-- constant bounds, so that the planner knows how many rows a series makes); then per agreement
-- those past their deadline, the latest 8, and each Borrower holding the role on the quarter end
-- without a current statement for it.
terms_shape AS MATERIALIZED (
    SELECT c.agreement_id, t.metric_kind || ':' || t.window_periods || ':'
           || COALESCE(t.denominator_window_periods, t.window_periods) || ':'
           || string_agg(st.test_date::text || CASE WHEN st.applies_thereafter THEN '+' ELSE '' END, ','
                         ORDER BY st.test_date) AS shape
    FROM covenants_covenantterms t JOIN covenants_covenant c ON c.id = t.covenant_id
    JOIN covenants_thresholdstep st ON st.terms_id = t.id AND t.effective_from <= st.test_date
    WHERE c.agreement_id = ANY(ARRAY(SELECT id FROM visible)) AND t.action <> 'delete'
    GROUP BY t.id, c.agreement_id
),
steps AS (
    SELECT sh.shape, split_part(sh.shape, ':', 1) AS metric_kind, split_part(sh.shape, ':', 2)::int AS window_periods,
           split_part(sh.shape, ':', 3)::int AS den, rtrim(e, '+')::date AS test_date, e LIKE '%%+' AS thereafter,
           LEAD(rtrim(e, '+')::date) OVER (PARTITION BY sh.shape ORDER BY rtrim(e, '+')::date) AS next_date
    FROM (SELECT DISTINCT shape FROM terms_shape) sh, unnest(string_to_array(split_part(sh.shape, ':', 4), ',')) AS e
),
tests AS (
    SELECT shape, metric_kind, window_periods, den, test_date AS day FROM steps WHERE test_date <= %(today)s
    UNION
    SELECT s.shape, s.metric_kind, s.window_periods, s.den, q.day
    FROM steps s, LATERAL (
        SELECT (date_trunc('quarter', s.test_date) + make_interval(months => 3 * k + 3) - interval '1 day')::date AS day
        FROM generate_series(1, 40) AS k
    ) q
    WHERE s.thereafter AND q.day <= LEAST(COALESCE(s.next_date - 1, %(today)s), %(today)s)
),
shape_needs AS MATERIALIZED (
    SELECT DISTINCT t.shape, (date_trunc('quarter', t.day) - make_interval(months => 3 * k)
           + interval '3 months' - interval '1 day')::date AS period_end
    FROM tests t, generate_series(0, 11) AS k
    WHERE k < GREATEST(t.window_periods, CASE WHEN t.metric_kind = 'ratio' THEN t.den ELSE 1 END)
),
needed AS (
    SELECT DISTINCT ts.agreement_id, n.period_end FROM terms_shape ts JOIN shape_needs n ON n.shape = ts.shape
),
due AS (
    SELECT agreement_id, agreement_name, period_end, due_on FROM (
        SELECT n.agreement_id, v.name AS agreement_name, n.period_end,
               n.period_end + v.reporting_deadline_days AS due_on,
               ROW_NUMBER() OVER (PARTITION BY n.agreement_id ORDER BY n.period_end DESC) AS back
        FROM needed n JOIN visible v ON v.id = n.agreement_id
        WHERE n.period_end + v.reporting_deadline_days < %(today)s
    ) ranked WHERE back <= %(lookback)s
),
-- The current statements of the periods due, read once and matched by hash (as the rule's own
-- query does): cheaper than a probe of the unique index per Borrower and quarter owed.
filed AS MATERIALIZED (
    SELECT s.agreement_id, s.borrower_id, s.period_end FROM statements_financialstatement s
    WHERE s.agreement_id = ANY(ARRAY(SELECT id FROM visible)) AND s.status = 'current'
      AND s.period_end >= (SELECT MIN(period_end) FROM due)
),
late AS (
    SELECT d.agreement_id, d.agreement_name, d.period_end, d.due_on, p.legal_name
    FROM due d JOIN covenants_agreementrole r ON r.agreement_id = d.agreement_id AND r.role = 'borrower'
    JOIN parties_party p ON p.id = r.party_id
    LEFT JOIN filed f ON f.agreement_id = d.agreement_id AND f.borrower_id = r.party_id AND f.period_end = d.period_end
    WHERE (r.holds_from IS NULL OR r.holds_from <= d.period_end) AND (r.holds_to IS NULL OR d.period_end <= r.holds_to)
      AND f.agreement_id IS NULL
)
"""

# The dashboard's: the agreements the user may see with their stored standings (compliance.
# standings: the table's counts by status, the late statements, periods and certificates as of
# today), then the covenants table's first page worked out for the agreements it spans (those
# whose rows, laid end to end in the table's order, begin within the page) and the late
# financials' first page by the rule for the agreements it spans.
_STANDING_COUNTS = ("breach", "near_breach", "incomplete", "waived", "compliant", "not_tested", "no_result")
_STANDINGS = f"""
visible AS MATERIALIZED (
    SELECT a.id, a.name, a.kind, COALESCE(a.dated_as_of, a.effective_on) AS day, a.reporting_deadline_days,
           {", ".join(f"s.{c}" for c in _STANDING_COUNTS)},
           {" + ".join(f"s.{c}" for c in _STANDING_COUNTS)} AS tabled_rows,
           s.late_financials, s.late_quarters, (s.late_deliverables ->> 'certificates')::int AS late_certificates
    FROM covenants_agreement a JOIN compliance_agreementstanding s ON s.agreement_id = a.id
    WHERE a.id IN (
        SELECT r.agreement_id FROM covenants_agreementrole r
        JOIN parties_membership m ON m.party_id = r.party_id WHERE m.user_id = %(user)s
    ) AND s.as_of = %(today)s AND a.evaluation_requested_at IS NULL
),
spanned AS MATERIALIZED (
    SELECT id, tabled_rows, late_quarters, SUM(tabled_rows) OVER w - tabled_rows AS rows_before,
           SUM(late_quarters) OVER w - late_quarters AS late_before
    FROM visible WINDOW w AS (ORDER BY name, id ROWS UNBOUNDED PRECEDING)
),
latest AS (
    SELECT r.*, MAX(r.test_date) OVER (PARTITION BY r.covenant_id, COALESCE(r.borrower_id, 0)) AS latest_date
    FROM compliance_covenanttestresult r
    WHERE r.agreement_id = ANY(ARRAY(SELECT id FROM spanned WHERE rows_before < %(page)s AND tabled_rows > 0))
      AND r.is_current AND r.status <> 'not_tested'
),
tabled AS MATERIALIZED (
    SELECT c.agreement_id, c.id AS covenant_id, c.section, c.name AS covenant_name, l.id AS result_id, l.terms_id,
           l.test_date, l.borrower_id, l.value, l.threshold, l.headroom, l.headroom_percent, l.provisional,
           CASE WHEN l.id IS NULL THEN NULL
                WHEN l.status = 'compliant' AND l.near_breach THEN %(near)s
                ELSE l.status END AS shown_status
    FROM covenants_covenant c
    LEFT JOIN latest l ON l.covenant_id = c.id AND (l.test_date = l.latest_date OR l.status = 'breach')
    WHERE c.agreement_id = ANY(ARRAY(SELECT id FROM spanned WHERE rows_before < %(page)s AND tabled_rows > 0))
),
late_visible AS MATERIALIZED (
    SELECT v.id, v.name, v.reporting_deadline_days FROM visible v JOIN spanned s ON s.id = v.id
    WHERE s.late_before < %(page)s AND s.late_quarters > 0
)
"""

DASHBOARD_SQL = (
    "WITH "
    + _STANDINGS
    + ",\n"
    + _LATE.replace("FROM visible", "FROM late_visible").replace("JOIN visible v", "JOIN late_visible v")
    + "\nUNION ALL\n".join(
        [
            # The filter's choices: every agreement.
            _part("agreement", "FROM visible", agreement_id="id", name="name", label="kind", day="day"),
            # The cards: the whole portfolio's counts by status, late financials and certificates.
            _part(
                "count",
                "FROM visible",
                n="SUM(late_financials)",
                doc="jsonb_build_object("
                + ", ".join(f"'{c}', SUM({c})" for c in _STANDING_COUNTS)
                + ", 'late_certificates', SUM(late_certificates))",
            ),
            # The table's first page (and its number of rows, for the pages).
            _part(
                "row",
                """FROM tabled t JOIN visible a ON a.id = t.agreement_id
                LEFT JOIN parties_party p ON p.id = t.borrower_id
                LEFT JOIN covenants_covenantterms ct ON ct.id = t.terms_id
                ORDER BY a.name, a.id, t.section, t.covenant_id, t.test_date DESC, p.legal_name NULLS LAST, t.result_id
                LIMIT %(page)s""",
                agreement_id="t.agreement_id",
                id="t.result_id",
                day="t.test_date",
                name="a.name || ' / ' || t.covenant_name || COALESCE(' / ' || p.legal_name, '')",
                section="t.section",
                label="ct.metric_kind",
                status="t.shown_status",
                n="(SELECT SUM(tabled_rows) FROM visible)",
                value="t.value",
                threshold="t.threshold",
                headroom="t.headroom",
                headroom_percent="t.headroom_percent",
                flag="t.provisional",
                doc="jsonb_build_object('covenant', t.covenant_id)",
            ),
            # The agreements' first page, each with its counts and what is late.
            _part(
                "summary",
                "FROM visible ORDER BY name, id LIMIT %(page)s",
                agreement_id="id",
                n="late_financials",
                doc="jsonb_build_object("
                + ", ".join(f"'{c}', {c}" for c in _STANDING_COUNTS)
                + ", 'late_certificates', late_certificates)",
            ),
            # The late financials' first page, grouped by quarter (every one counted: the cards').
            _part(
                "late",
                """FROM late GROUP BY agreement_id, agreement_name, period_end, due_on
                ORDER BY agreement_name, agreement_id, period_end LIMIT %(page)s""",
                agreement_id="agreement_id",
                name="agreement_name",
                day="period_end",
                day2="due_on",
                label="string_agg(legal_name, '; ' ORDER BY legal_name)",
                n="(SELECT SUM(late_financials) FROM visible)",
            ),
        ]
    )
)

AGREEMENT_SQL = (
    """
WITH
agreement AS MATERIALIZED (
    SELECT a.* FROM covenants_agreement a WHERE a.id = %(agreement)s AND a.id IN (
        SELECT r.agreement_id FROM covenants_agreementrole r
        JOIN parties_membership m ON m.party_id = r.party_id WHERE m.user_id = %(user)s
    )
),
terms AS MATERIALIZED (
    -- The terms in force today of each covenant.
    SELECT DISTINCT ON (t.covenant_id) t.*, c.section, c.name AS covenant_name, c.warning_band_percent,
           am.title AS amendment_title
    FROM covenants_covenantterms t JOIN covenants_covenant c ON c.id = t.covenant_id
    LEFT JOIN covenants_amendment am ON am.id = t.amendment_id
    WHERE c.agreement_id = (SELECT id FROM agreement) AND t.effective_from <= %(today)s
    ORDER BY t.covenant_id, t.effective_from DESC, t.id DESC
),
visible AS MATERIALIZED (SELECT id, name, reporting_deadline_days FROM agreement),
"""
    + _LATE
    + "\n"
    + "\nUNION ALL\n".join(
        [
            _part(
                "agreement",
                "FROM agreement",
                id="id",
                name="name",
                section="contract_number",
                label="title || ' / ' || governing_law",
                day="dated_as_of",
                day2="effective_on",
            ),
            _part(
                "role",
                """FROM covenants_agreementrole r JOIN parties_party p ON p.id = r.party_id
                WHERE r.agreement_id = (SELECT id FROM agreement)""",
                id="r.id",
                name="p.legal_name",
                status="r.role",
                label="r.defined_term || ' / ' || r.capacity_as_printed",
                day="r.holds_from",
                day2="r.holds_to",
            ),
            _part(
                "amendment",
                """FROM covenants_amendment am
                LEFT JOIN covenants_conditionprecedent cp ON cp.amendment_id = am.id
                WHERE am.agreement_id = (SELECT id FROM agreement)""",
                id="am.id",
                name="am.title",
                status="am.status",
                label="cp.description",
                day="am.dated_as_of",
                day2="cp.deadline",
            ),
            _part(
                "terms",
                "FROM terms",
                id="covenant_id",
                section="section",
                name="covenant_name || ' / ' || COALESCE(amendment_title, '')",
                label="reading || ' / ' || text_as_printed",
                status="direction || ' / ' || metric_kind || ' / ' || basis",
                day="effective_from",
            ),
            _part(
                "step",
                "FROM covenants_thresholdstep st JOIN terms t ON t.id = st.terms_id",
                id="t.covenant_id",
                day="st.test_date",
                flag="st.applies_thereafter",
                threshold="st.threshold",
                label="st.amount_as_printed",
                status="st.threshold_state",
            ),
            _part(
                "result",
                """FROM compliance_covenanttestresult r JOIN covenants_covenant c ON c.id = r.covenant_id
                LEFT JOIN parties_party p ON p.id = r.borrower_id
                WHERE r.agreement_id = (SELECT id FROM agreement) AND r.is_current""",
                id="r.id",
                agreement_id="r.covenant_id",
                day="r.test_date",
                name="p.legal_name",
                label="r.explanation",
                status=("CASE WHEN r.status = 'compliant' AND r.near_breach THEN %(near)s ELSE r.status END"),
                value="r.value",
                threshold="r.threshold",
                headroom="r.headroom",
                headroom_percent="r.headroom_percent",
                flag="r.provisional",
                doc="r.inputs",
            ),
            # The files the figures came from (every statement of the agreement).
            _part(
                "source",
                """FROM statements_financialstatement s JOIN statements_statementupload u ON u.id = s.upload_id
                WHERE s.agreement_id = (SELECT id FROM agreement)""",
                id="s.id",
                name="u.filename",
                day="s.submitted_at",
            ),
            _part("late", "FROM late", name="legal_name", day="period_end", day2="due_on"),
        ]
    )
)


def _fetch_json(sql: str, params: dict) -> tuple[list[tuple], str]:
    """The rows, and their JSON. The ``doc`` column comes as JSON text through Django's
    connection (its JSON fields decode it themselves): it is decoded, as psycopg would, so that
    the JSON written holds it as an object, as the page holds the inputs it shows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [(*row[:-1], json.loads(row[-1]) if isinstance(row[-1], str) else row[-1]) for row in cursor.fetchall()]
    return rows, json.dumps(rows, default=str)


def dashboard_floor(user_id: int, *, today: dt.date) -> tuple[list[tuple], str]:
    """The dashboard's rows, fetched in one statement, and their JSON."""
    params = {"user": user_id, "today": today, "near": NEAR_BREACH, "page": PAGE_SIZE, "lookback": _lookback()}
    return _fetch_json(DASHBOARD_SQL, params)


def agreement_floor(user_id: int, agreement_id: int, *, today: dt.date) -> tuple[list[tuple], str]:
    """The agreement page's rows, fetched in one statement, and their JSON."""
    params = {"user": user_id, "agreement": agreement_id, "today": today, "near": NEAR_BREACH, "lookback": _lookback()}
    return _fetch_json(AGREEMENT_SQL, params)


def _lookback() -> int:
    from django.conf import settings

    return settings.ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS
