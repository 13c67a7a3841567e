"""The portfolio dashboard of Lenders, Agents and administrators: counts over every agreement
the user may see and one page of each of its tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.late_counts import late_counts
from compliance.late_financials import LateFinancial, late_financials_page
from compliance.models import CovenantTestResult
from compliance.standings import COLUMNS as STANDING_COLUMNS
from compliance.standings import Standing, standing_of, table_counts, tabled
from compliance.statuses import STATUS_LABELS
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
    fiscal_calendar: dict | None = None
    reporting_frequency: str = ""
    evaluation_requested_at: dt.datetime | None = None
    stored: tuple | None = None  # its AgreementStanding's columns (standings.COLUMNS), if it has one

    @property
    def date(self) -> dt.date | None:
        return self.dated_as_of or self.effective_on

    def standing_on(self, today: dt.date) -> Standing | None:
        """Its stored standing, if that is the agreement's as it stands today."""
        if self.stored is None:
            return None
        return standing_of(self, self.stored, today=today)

    def get_kind_display(self) -> str:
        return AgreementKind(self.kind).label if self.kind in AgreementKind.values else self.kind


_AGREEMENT_COLUMNS = (
    "pk",
    "name",
    "kind",
    "dated_as_of",
    "effective_on",
    "fiscal_year_end_month",
    "reporting_deadline_days",
    "fiscal_calendar",
    "reporting_frequency",
    "evaluation_requested_at",
)
_STANDING_COLUMNS = tuple(f"standing__{column}" for column in STANDING_COLUMNS)


def portfolio_agreements(user: User) -> list[PortfolioAgreement]:
    """Every agreement the user may see, by name, with its stored standing: one query (the
    dashboard's filter lists them all; the dashboard counts from the standings)."""
    rows = access.visible(user, Agreement).order_by("name", "pk").values_list(*_AGREEMENT_COLUMNS, *_STANDING_COLUMNS)
    width = len(_AGREEMENT_COLUMNS)
    return [
        PortfolioAgreement(*row[:width], stored=row[width:] if row[-1] is not None else None)  # type: ignore[misc]
        for row in rows
    ]


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


# The covenants table's page in one statement: the table's rows (compliance.standings.tabled, the
# selection the standings count), the one page shown in order. The page's rows are then read as
# models by primary key.
_PAGE_SQL = """
SELECT t.covenant_id, t.result_id, t.earlier
FROM tabled t
JOIN {agreement} a ON a.id = t.agreement_id
JOIN {covenant} c ON c.id = t.covenant_id
LEFT JOIN {party} p ON p.id = t.borrower_id
{where}
ORDER BY {order}
LIMIT %s OFFSET %s
"""


def _covenants_table(
    ids: Sequence[int], *, status: str, agreement_id: int | None, sort: str, offset: int
) -> list[tuple[int, int | None, bool]]:
    """The (covenant, result, whether an earlier breach) of the rows of one page of the table of
    these agreements, in order. One query."""
    from django.db import connection

    quote = connection.ops.quote_name
    where, where_params = [], []
    if status:
        where.append("t.shown_status = %s")
        where_params.append(status)
    if agreement_id is not None:
        where.append("t.agreement_id = %s")
        where_params.append(agreement_id)
    cte, params = tabled(ids)
    sql = cte + _PAGE_SQL.format(
        covenant=quote(Covenant._meta.db_table),
        agreement=quote(Agreement._meta.db_table),
        party=quote(Party._meta.db_table),
        where=("WHERE " + " AND ".join(where)) if where else "",
        order=", ".join(_table_order(sort)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params, PAGE_SIZE, offset])
        return [(covenant_id, result_id, bool(earlier)) for covenant_id, result_id, earlier in cursor.fetchall()]


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
    agreements with their counts. ``agreements`` are the user's (``portfolio_agreements``)
    when the caller has read them already.

    The counts are the agreements' stored standings (compliance.standings), and each table's
    page is worked out for the agreements it shows: a fixed number of queries, whatever the
    number of agreements, covenants and quarters. An agreement whose standing is not its own as
    it stands today (an evaluation outstanding, say) is counted live, by the same rules: three
    queries more, for all such agreements at once.
    """
    if agreements is None:
        agreements = portfolio_agreements(user)
    by_pk = {a.pk: a for a in agreements}
    standings = _standings(agreements, today=today)
    counts_by_agreement = {pk: standing.counts for pk, standing in standings.items()}
    page_rows, table = _covenants_page(
        agreements, counts_by_agreement, status=status, agreement_id=agreement_id, sort=sort, page=page
    )
    listed = PageOf.of(agreements_page, total=len(agreements), param="agreements_page")
    shown = agreements[listed.offset : listed.offset + listed.size]
    late, late_at = _late_page(agreements, standings, today=today, page=late_page)
    return PortfolioDashboard(
        agreements=agreements,
        counts=_status_counts(counts_by_agreement),
        rows=_table_rows(page_rows, by_pk),
        table=table,
        late_count=sum(standing.late_financials for standing in standings.values()),
        late=late,
        late_by_quarter=_late_by_quarter(late),
        late_page=late_at,
        late_certificates=sum(standing.others.get(CERTIFICATES.name, 0) for standing in standings.values()),
        summaries=_summaries(shown, standings),
        summaries_page=listed,
        status=status,
        agreement_id=agreement_id,
        sort=sort,
    )


def _standings(agreements: list[PortfolioAgreement], *, today: dt.date) -> dict[int, Standing]:
    """Each agreement's standing today: the stored one where it is the agreement's as it stands,
    else counted live by the same rules (three queries for all such agreements, none without)."""
    standings: dict[int, Standing] = {}
    stale = []
    for agreement in agreements:
        standing = agreement.standing_on(today)
        if standing is None:
            stale.append(agreement)
        else:
            standings[agreement.pk] = standing
    if stale:
        counts = table_counts([a.pk for a in stale])
        late = late_counts(stale, as_of=today, others=[CERTIFICATES])
        for agreement in stale:
            mine = late[agreement.pk]
            standings[agreement.pk] = Standing(
                counts=counts.get(agreement.pk, {}),
                late_financials=mine.statements,
                late_quarters=mine.periods,
                others=mine.others,
            )
    return standings


def _window(sizes: Sequence[tuple[int, int]], offset: int, size: int) -> tuple[list[int], int]:
    """Of items laid end to end, ``sizes`` (key, how many) in order: the keys whose items fall in
    ``[offset, offset + size)``, and how many items of the first of them come before it."""
    keys: list[int] = []
    skip, start = 0, 0
    for key, count in sizes:
        if start >= offset + size:
            break
        if count and start + count > offset:
            if not keys:
                skip = offset - start
            keys.append(key)
        start += count
    return keys, skip


def _covenants_page(
    agreements: list[PortfolioAgreement],
    counts_by_agreement: dict[int, dict[str | None, int]],
    *,
    status: str,
    agreement_id: int | None,
    sort: str,
    page: int,
) -> tuple[list[tuple[int, int | None, bool]], PageOf]:
    """The rows of the requested page of the covenants table (the last one when it asks beyond
    it) and which page that is, its size known from the counts. In the table's own order the
    page is read from the agreements it spans; sorted by headroom, from them all. One query."""
    sizes = [
        (a.pk, counts.get(status, 0) if status else sum(counts.values()))
        for a in agreements
        if agreement_id is None or a.pk == agreement_id
        for counts in [counts_by_agreement.get(a.pk, {})]
    ]
    table = PageOf.of(page, total=sum(n for _, n in sizes), param="page")
    if not table.total:
        return [], table
    if sort:
        ids, offset = [pk for pk, _ in sizes], table.offset
    else:
        ids, offset = _window(sizes, table.offset, table.size)
    rows = _covenants_table(ids, status=status, agreement_id=agreement_id, sort=sort, offset=offset)
    return rows, table


def _late_page(
    agreements: list[PortfolioAgreement], standings: dict[int, Standing], *, today: dt.date, page: int
) -> tuple[list[LateFinancial], PageOf]:
    """The late statements of one page of the late financials' table (groups by agreement and
    period, in the agreements' order), read by the late rule for the agreements it spans: two
    queries, none when nothing is late."""
    sizes = [(a.pk, standings[a.pk].late_quarters) for a in agreements]
    late_at = PageOf.of(page, total=sum(n for _, n in sizes), param="late_page")
    ids, skip = _window(sizes, late_at.offset, late_at.size)
    if not ids:
        return [], late_at
    by_pk = {a.pk: a for a in agreements}
    found = late_financials_page([by_pk[pk] for pk in ids], as_of=today, size=skip + late_at.size).items
    groups = list(dict.fromkeys((item.agreement_id, item.period_end) for item in found))
    kept = set(groups[skip:])
    return [item for item in found if (item.agreement_id, item.period_end) in kept], late_at


def _status_counts(counts_by_agreement: dict[int, dict[str | None, int]]) -> dict[str, int]:
    """The cards' counts by status over every agreement (covenants without a result left out)."""
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for agreement_counts in counts_by_agreement.values():
        for key, count in agreement_counts.items():
            if key is not None:
                counts[key] = counts.get(key, 0) + count
    return counts


def _summaries(agreements: list[PortfolioAgreement], standings: dict[int, Standing]) -> list[PortfolioSummary]:
    """The agreements of one page of the list, each with its counts by status and what is late."""
    summaries = []
    for agreement in agreements:
        standing = standings[agreement.pk]
        summaries.append(
            PortfolioSummary(
                agreement=agreement,
                counts={key: standing.counts.get(key, 0) for key in STATUS_LABELS},
                covenants=sum(standing.counts.values()),
                late_count=standing.late_financials,
                late_certificates=standing.others.get(CERTIFICATES.name, 0),
            )
        )
    return summaries
