"""The portfolio dashboard of Lenders, Agents and administrators: counts over every agreement
the user may see and one page of each of its tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.choices import ResultStatus
from compliance.late_financials import LateFinancial, late_financials_page
from compliance.models import CovenantTestResult
from compliance.statuses import NEAR_BREACH, STATUS_LABELS
from covenants import access
from covenants.choices import AgreementKind
from covenants.models import Agreement, Covenant
from execution.certificate_deadlines import CERTIFICATES
from parties.models import Party
from portal.pages.selectors.common import LateQuarter, ResultView, User, _late_by_quarter, status_key
from portal.pages.selectors.home import DashboardRow, _Cards

# --- The portfolio dashboard of Lenders, Agents and administrators ------------------------------

#: Rows per page of the dashboard's tables. A Lender in a thousand agreements has thousands of
#: covenant results to look at: the counts cover them all, the tables show them a page at a time.
PAGE_SIZE = 50


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything but a positive whole number is the first page."""
    try:
        return max(int(raw or 1), 1)
    except ValueError:
        return 1


@dataclass(frozen=True)
class PageOf:
    """One page of a long table: which page it is, of how many, and which rows it shows."""

    number: int
    size: int
    total: int
    param: str  # the query parameter naming the page, for the page's links

    @classmethod
    def of(cls, requested: int, *, total: int, param: str, size: int | None = None) -> PageOf:
        """The requested page, or the last one when it asks beyond it (of PAGE_SIZE rows by default)."""
        size = size or PAGE_SIZE
        pages = max(1, -(-total // size))
        return cls(min(max(requested, 1), pages), size, total, param)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def start(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def end(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def is_paginated(self) -> bool:
        return self.pages > 1


@dataclass(frozen=True)
class PortfolioAgreement:
    """An agreement as the dashboard lists it, read as a row: a portfolio has thousands."""

    pk: int
    name: str
    kind: str
    dated_as_of: dt.date | None
    effective_on: dt.date | None
    fiscal_year_end_month: int
    reporting_deadline_days: int

    @property
    def date(self) -> dt.date | None:
        return self.dated_as_of or self.effective_on

    def get_kind_display(self) -> str:
        return AgreementKind(self.kind).label if self.kind in AgreementKind.values else self.kind


def portfolio_agreements(user: User) -> list[PortfolioAgreement]:
    """Every agreement the user may see, by name, in one query (the dashboard's filter lists them all)."""
    rows = (
        access.visible(user, Agreement)
        .order_by("name", "pk")
        .values_list(
            "pk", "name", "kind", "dated_as_of", "effective_on", "fiscal_year_end_month", "reporting_deadline_days"
        )
    )
    return [PortfolioAgreement(*row) for row in rows]


@dataclass
class PortfolioSummary:
    """An agreement on the dashboard's list: its covenants' latest results counted by status, and
    how many of its statements are late."""

    agreement: PortfolioAgreement
    counts: dict[str, int]
    covenants: int
    late_count: int
    late_certificates: int = 0  # periods whose compliance certificate is late


@dataclass
class PortfolioDashboard(_Cards):
    """The dashboard of a Lender, an Agent or an administrator: counts over every agreement the
    user may see, and one page of each table (covenants, late financials, agreements)."""

    agreements: list[PortfolioAgreement]
    counts: dict[str, int]
    rows: list[DashboardRow]  # this page of the covenants table, filtered and sorted
    table: PageOf
    late_count: int  # every late statement: the card counts them
    late: list[LateFinancial]  # those of this page of the late financials' table
    late_by_quarter: list[LateQuarter]  # the same, grouped by agreement and quarter
    late_page: PageOf
    late_certificates: int  # periods whose compliance certificate is late, by the same rule
    summaries: list[PortfolioSummary]  # this page of the agreements
    summaries_page: PageOf
    status: str = ""
    agreement_id: int | None = None
    sort: str = ""


# The covenants table in one statement: each covenant's latest tested result per Borrower key
# (a window function, where the result pages' selector uses a subquery per row), every breach
# not waived whatever its date, covenants without any as a row of their own; then the counts by
# agreement and status of the whole table, and the one page of it shown. Standard SQL that
# SQLite runs too. The page's rows are then read as models by primary key.
_TABLE_SQL = """
WITH latest AS (
    SELECT r.id, r.covenant_id, r.test_date, r.borrower_id, r.status, r.near_breach, r.headroom_percent,
           MAX(r.test_date) OVER (PARTITION BY r.covenant_id, COALESCE(r.borrower_id, 0)) AS latest_date
    FROM {result} r
    WHERE r.agreement_id IN ({ids}) AND r.is_current = %s AND r.status <> %s
),
tabled AS (
    SELECT c.agreement_id, c.id AS covenant_id, l.id AS result_id, l.test_date, l.borrower_id, l.headroom_percent,
           CASE WHEN l.test_date < l.latest_date THEN 1 ELSE 0 END AS earlier,
           CASE WHEN l.id IS NULL THEN NULL
                WHEN l.status = %s AND l.near_breach = %s THEN %s
                ELSE l.status END AS shown_status
    FROM {covenant} c
    LEFT JOIN latest l ON l.covenant_id = c.id AND (l.test_date = l.latest_date OR l.status = %s)
    WHERE c.agreement_id IN ({ids})
)
SELECT 'count', agreement_id, shown_status, COUNT(*), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)
FROM tabled GROUP BY agreement_id, shown_status
UNION ALL
SELECT * FROM (
    SELECT 'row', t.agreement_id, t.shown_status, t.earlier, t.covenant_id, t.result_id
    FROM tabled t
    JOIN {agreement} a ON a.id = t.agreement_id
    JOIN {covenant} c ON c.id = t.covenant_id
    LEFT JOIN {party} p ON p.id = t.borrower_id
    {where}
    ORDER BY {order}
    LIMIT %s OFFSET %s
) page
"""


def _covenants_table(
    ids: Sequence[int], *, status: str, agreement_id: int | None, sort: str, offset: int
) -> tuple[dict[int, dict[str | None, int]], list[tuple[int, int | None, bool]]]:
    """Counts of the table's rows by agreement and status (None: a covenant without a result), and
    the (covenant, result, whether an earlier breach) of the rows of one page, in order. One query."""
    from django.db import connection

    quote = connection.ops.quote_name
    where, where_params = [], []
    if status:
        where.append("t.shown_status = %s")
        where_params.append(status)
    if agreement_id is not None:
        where.append("t.agreement_id = %s")
        where_params.append(agreement_id)
    sql = _TABLE_SQL.format(
        result=quote(CovenantTestResult._meta.db_table),
        covenant=quote(Covenant._meta.db_table),
        agreement=quote(Agreement._meta.db_table),
        party=quote(Party._meta.db_table),
        ids=", ".join(["%s"] * len(ids)),
        where=("WHERE " + " AND ".join(where)) if where else "",
        order=", ".join(_table_order(sort)),
    )
    params = [
        *ids,
        True,
        ResultStatus.NOT_TESTED,
        ResultStatus.COMPLIANT,
        True,
        NEAR_BREACH,
        ResultStatus.BREACH,
        *ids,
        *where_params,
        PAGE_SIZE,
        offset,
    ]
    counts: dict[int, dict[str | None, int]] = defaultdict(dict)
    page: list[tuple[int, int | None, bool]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for part, agreement, shown, count, covenant_id, result_id in cursor.fetchall():
            if part == "count":
                counts[agreement][shown] = count
            else:
                page.append((covenant_id, result_id, bool(count)))
    return counts, page


def _table_order(sort: str) -> list[str]:
    """The ORDER BY of the table's rows: by agreement, covenant, test date and Borrower, after
    the headroom when sorted by it."""
    order = []
    if sort in ("headroom", "-headroom"):
        # Least (or most) headroom first, results without a headroom after, each in the table's order.
        order += [
            "CASE WHEN t.headroom_percent IS NULL THEN 1 ELSE 0 END",
            "t.headroom_percent" + (" DESC" if sort == "-headroom" else ""),
        ]
    order += [
        "a.name",
        "a.id",
        "c.section",
        "c.id",
        "t.test_date DESC",
        "CASE WHEN p.legal_name IS NULL THEN 1 ELSE 0 END",
        "p.legal_name",
        "t.result_id",
    ]
    return order


def _table_rows(
    page: list[tuple[int, int | None, bool]], agreements: dict[int, PortfolioAgreement]
) -> list[DashboardRow]:
    """The page's rows as the templates read them: its covenants and results as models (two queries)."""
    if not page:
        return []
    covenants = Covenant.objects.only("id", "agreement_id", "section", "name", "warning_band_percent").in_bulk(
        {covenant_id for covenant_id, _, _ in page}
    )
    results = (
        CovenantTestResult.objects.select_related("borrower", "terms", "terms__metric")
        .only(
            "id",
            "agreement_id",
            "covenant_id",
            "terms_id",
            "terms__metric_kind",
            "terms__metric_id",
            "terms__metric__formula",
            "test_date",
            "borrower_id",
            "borrower__legal_name",
            "status",
            "value",
            "threshold",
            "headroom",
            "headroom_percent",
            "provisional",
            "near_breach",
        )
        .in_bulk({result_id for _, result_id, _ in page if result_id is not None})
    )
    rows = []
    for covenant_id, result_id, earlier in page:
        covenant = covenants[covenant_id]
        view = None
        if result_id is not None:
            result = results[result_id]
            result.covenant = covenant
            view = ResultView(
                result=result,
                status=status_key(result),
                is_ratio=bool(result.terms_id and result.terms.is_ratio),
            )
        rows.append(DashboardRow(agreements[covenant.agreement_id], covenant, view, earlier_breach=earlier))
    return rows


def portfolio_dashboard(
    user: User,
    *,
    today: dt.date,
    agreements: list[PortfolioAgreement] | None = None,
    status: str = "",
    agreement_id: int | None = None,
    sort: str = "",
    page: int = 1,
    agreements_page: int = 1,
    late_page: int = 1,
) -> PortfolioDashboard:
    """
    The portfolio dashboard: counts of breaches, near breaches and late financials over every
    agreement the user may see, and one page of each table: the covenants' latest results
    (filtered by status and agreement, sorted by headroom), the late financials and the
    agreements with their counts. A fixed number of queries, whatever the number of
    agreements, covenants and quarters; ``agreements`` are the user's (``portfolio_agreements``)
    when the caller has read them already.
    """
    if agreements is None:
        agreements = portfolio_agreements(user)
    by_pk = {a.pk: a for a in agreements}
    counts_by_agreement, page_rows, table = _covenants_page(
        list(by_pk), status=status, agreement_id=agreement_id, sort=sort, page=page
    )
    listed = PageOf.of(agreements_page, total=len(agreements), param="agreements_page")
    shown = agreements[listed.offset : listed.offset + listed.size]
    # Counted and paged in the database: a Lender's late statements run to tens of thousands. The
    # late certificates are counted in the same statement, over the same periods due.
    late = late_financials_page(
        agreements, as_of=today, page=late_page, size=PAGE_SIZE, counted=[a.pk for a in shown], others=[CERTIFICATES]
    )
    late_at = PageOf.of(late.page, total=late.quarters, param="late_page")
    return PortfolioDashboard(
        agreements=agreements,
        counts=_status_counts(counts_by_agreement),
        rows=_table_rows(page_rows, by_pk),
        table=table,
        late_count=late.total,
        late=late.items,
        late_by_quarter=_late_by_quarter(late.items),
        late_page=late_at,
        late_certificates=late.others[CERTIFICATES.name],
        summaries=_summaries(shown, counts_by_agreement, late.counts, late.other_counts[CERTIFICATES.name]),
        summaries_page=listed,
        status=status,
        agreement_id=agreement_id,
        sort=sort,
    )


def _covenants_page(
    ids: list[int], *, status: str, agreement_id: int | None, sort: str, page: int
) -> tuple[dict[int, dict[str | None, int]], list[tuple[int, int | None, bool]], PageOf]:
    """The covenants table's counts by agreement and status, the rows of the requested page (the
    last one when it asks beyond it) and which page that is. One query; two past the last page."""
    counts_by_agreement: dict[int, dict[str | None, int]] = {}
    page_rows: list[tuple[int, int | None, bool]] = []
    table = PageOf.of(1, total=0, param="page")
    if ids:
        counts_by_agreement, page_rows = _covenants_table(
            ids, status=status, agreement_id=agreement_id, sort=sort, offset=(page - 1) * PAGE_SIZE
        )
        if agreement_id is not None:
            in_table = counts_by_agreement.get(agreement_id, {})
        else:
            in_table = defaultdict(int)
            for agreement_counts in counts_by_agreement.values():
                for key, count in agreement_counts.items():
                    in_table[key] += count
        total = in_table.get(status, 0) if status else sum(in_table.values())
        table = PageOf.of(page, total=total, param="page")
        if table.number != page:
            # Asked for a page beyond the last: the last one instead (the only case with a second read).
            _, page_rows = _covenants_table(
                ids, status=status, agreement_id=agreement_id, sort=sort, offset=table.offset
            )
    return counts_by_agreement, page_rows, table


def _status_counts(counts_by_agreement: dict[int, dict[str | None, int]]) -> dict[str, int]:
    """The cards' counts by status over every agreement (covenants without a result left out)."""
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for agreement_counts in counts_by_agreement.values():
        for key, count in agreement_counts.items():
            if key is not None:
                counts[key] = counts.get(key, 0) + count
    return counts


def _summaries(
    agreements: list[PortfolioAgreement],
    counts_by_agreement: dict[int, dict[str | None, int]],
    late_counts: dict[int, int],
    late_certificates: dict[int, int],
) -> list[PortfolioSummary]:
    """The agreements of one page of the list, each with its counts by status and what is late."""
    summaries = []
    for agreement in agreements:
        agreement_counts = counts_by_agreement.get(agreement.pk, {})
        summaries.append(
            PortfolioSummary(
                agreement=agreement,
                counts={key: agreement_counts.get(key, 0) for key in STATUS_LABELS},
                covenants=sum(agreement_counts.values()),
                late_count=late_counts.get(agreement.pk, 0),
                late_certificates=late_certificates.get(agreement.pk, 0),
            )
        )
    return summaries
