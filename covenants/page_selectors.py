"""
Reads for the site's pages: the portfolio dashboard, the borrower's home, the agreement
page, the upload journey, the exports and the compliance certificate.

Every function takes the user and starts from :mod:`portal.access`, so a page can only
show what the one access rule lets that user see; views hold no access logic of their own.
Each read runs a fixed number of queries, whatever the number of agreements, covenants,
Borrowers and quarters (the page tests assert the counts).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    BigIntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from compliance import calendar as fiscal_calendar
from compliance import engine, selectors
from compliance.late_financials import LateFinancial, late_financials, quarters_needed
from compliance.statuses import NEAR_BREACH, STATUS_LABELS, STATUS_RANK, shown_status, status_label
from parties.choices import MembershipRole
from parties.models import Party
from portal import access

from .choices import AgreementKind, AmendmentStatus, MetricKind, ResultStatus, Role, StatementStatus
from .models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    CovenantTestResult,
    FinancialStatement,
    LineItem,
    StatementUpload,
)

User = AbstractBaseUser | AnonymousUser

# --- Statuses as pages show them (worded once, in compliance.statuses) ------------------

_STATUS_RANK = STATUS_RANK


def status_key(result: CovenantTestResult) -> str:
    """The status a page shows: the result's own, or near breach as the engine stored it."""
    return shown_status(result.status, result.near_breach)


@dataclass
class ResultView:
    """One test result with what a page shows beside it: its status word and how it was computed."""

    result: CovenantTestResult
    status: str
    is_ratio: bool = False
    figures: list[FigureUsed] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    window: list[dt.date] = field(default_factory=list)
    denominator_window: list[dt.date] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def borrower_name(self) -> str:
        return self.result.borrower.legal_name if self.result.borrower_id else "Combined"

    @property
    def line_items(self) -> list[str]:
        return sorted({f.line_item for f in self.figures})


@dataclass
class FigureUsed:
    """A figure a result was computed from: whose, which quarter, which statement version."""

    borrower: str
    period_end: dt.date
    line_item: str
    amount: Decimal
    statement_id: int
    version: int
    filename: str = ""
    submitted_at: dt.datetime | None = None


def _result_view(
    result: CovenantTestResult,
    *,
    line_item_names: dict[str, str],
    statement_sources: dict[int, tuple[str, dt.datetime]] | None = None,
    figures_seen: dict[tuple, FigureUsed] | None = None,
) -> ResultView:
    """A result and the figures it was computed from, named for a reader (no queries).

    ``figures_seen`` lets the results of one page share their figures: a quarter's figure is
    used by every test whose window covers it (a four-quarter ratio, four times)."""
    inputs = result.inputs or {}
    names = {b["party_id"]: b["name"] for b in inputs.get("borrowers", [])}
    sources = statement_sources or {}
    seen = figures_seen if figures_seen is not None else {}
    figures = []
    for figure in inputs.get("figures", []):
        version = figure.get("statement_version", 1)
        party_id = figure["party_id"]
        key = (figure["statement_id"], figure["line_item"], figure["amount"], version, figure["period_end"], party_id)
        used = seen.get(key)
        if used is None or used.borrower != names.get(party_id, ""):
            filename, submitted_at = sources.get(figure["statement_id"], ("", None))
            used = seen[key] = FigureUsed(
                borrower=names.get(party_id, ""),
                period_end=dt.date.fromisoformat(figure["period_end"]),
                line_item=line_item_names.get(figure["line_item"], figure["line_item"]),
                amount=Decimal(figure["amount"]),
                statement_id=figure["statement_id"],
                version=version,
                filename=filename,
                submitted_at=submitted_at,
            )
        figures.append(used)
    figures.sort(key=_figure_order)
    missing = [
        {
            "name": m["name"],
            "period_end": dt.date.fromisoformat(m["period_end"]),
            "line_item": line_item_names.get(m.get("line_item") or "", m.get("line_item") or ""),
        }
        for m in inputs.get("missing", [])
    ]
    return ResultView(
        result=result,
        status=status_key(result),
        is_ratio=inputs.get("metric_kind") == MetricKind.RATIO,
        figures=figures,
        missing=missing,
        window=[dt.date.fromisoformat(d) for d in inputs.get("window", [])],
        denominator_window=[dt.date.fromisoformat(d) for d in inputs.get("denominator_window", [])],
    )


def _figure_order(figure: FigureUsed) -> tuple[str, dt.date, str]:
    return (figure.line_item, figure.period_end, figure.borrower)


def _line_item_names() -> dict[str, str]:
    return dict(LineItem.objects.values_list("code", "name"))


# --- Agreements the user may see and submit to -----------------------------------------


def agreement_visible_to(user: User, pk: int, action: str = "view") -> Agreement:
    """The agreement, if the user may see it (or do ``action`` on it: ``download`` for the
    exports); 404 otherwise (its existence is not disclosed). Loaded through the access rule's
    scope, so the check is the query."""
    agreement = access.visible(user, Agreement, action).filter(pk=pk).first()
    if agreement is None:
        raise Http404("No agreement of yours has this number.")
    return agreement


def may_submit(user: User, agreement: Agreement) -> bool:
    """Whether the user may submit financial statements for some Borrower of the agreement."""
    return access.may(user, "submit", agreement)


def agreements_user_may_submit_to(user: User) -> QuerySet[Agreement]:
    """The visible agreements for which the user may submit figures: the access rule's
    ``submit`` scope (a Borrower's users for their own Borrowers; Agents and administrators
    for all)."""
    return access.visible(user, Agreement, "submit")


def home_is_dashboard(user: User) -> bool:
    """Lenders, Agents and administrators land on the portfolio dashboard; a Borrower's users on
    their agreements, with the way to submit figures first."""
    if access.is_administrator(user):
        return True
    if not user.is_authenticated:
        return False
    roles = {role for _, role in access.memberships_of(user)}
    return not roles or bool(roles - {MembershipRole.BORROWER})


# --- The portfolio dashboard ------------------------------------------------------------


@dataclass
class LateQuarter:
    """The Borrowers whose statements for one fiscal quarter of one agreement are past due."""

    agreement_id: int
    agreement_name: str
    period_end: dt.date
    due_on: dt.date
    borrowers: list[str]


def _late_by_quarter(late: Iterable[LateFinancial]) -> list[LateQuarter]:
    groups: dict[tuple[int, dt.date], LateQuarter] = {}
    for item in late:
        key = (item.agreement_id, item.period_end)
        if key not in groups:
            groups[key] = LateQuarter(item.agreement_id, item.agreement_name, item.period_end, item.due_on, [])
        groups[key].borrowers.append(item.borrower)
    return sorted(groups.values(), key=lambda g: (g.agreement_name, g.period_end))


@dataclass
class DashboardRow:
    """A covenant's latest result in an agreement (or the lack of one)."""

    agreement: Agreement
    covenant: Covenant
    view: ResultView | None
    #: A breach of an earlier test date than the covenant's latest: it stands until waived or restated away.
    earlier_breach: bool = False

    @property
    def status(self) -> str:
        return self.view.status if self.view else ResultStatus.NOT_TESTED

    @property
    def status_label(self) -> str:
        return self.view.status_label if self.view else "No result yet"

    @property
    def headroom_percent(self) -> Decimal | None:
        return self.view.result.headroom_percent if self.view else None


@dataclass
class AgreementSummary:
    """One agreement on the dashboard: its covenants' latest results and what is late."""

    agreement: Agreement
    rows: list[DashboardRow]
    late: list[LateFinancial]
    may_submit: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return _count(self.rows)

    @property
    def late_by_quarter(self) -> list[LateQuarter]:
        return _late_by_quarter(self.late)


def _count(rows: Iterable[DashboardRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for row in rows:
        if row.view is not None:
            counts[row.status] += 1
    return counts


class _Cards:
    """The dashboard's cards, from its ``counts`` by status."""

    counts: dict[str, int]

    @property
    def breaches(self) -> int:
        return self.counts[ResultStatus.BREACH]

    @property
    def near_breaches(self) -> int:
        return self.counts[NEAR_BREACH]


@dataclass
class Dashboard(_Cards):
    """Every agreement the user is in, each covenant's latest result, and what needs attention."""

    summaries: list[AgreementSummary]
    rows: list[DashboardRow]  # filtered and sorted, for the table
    late: list[LateFinancial]
    status: str = ""
    agreement_id: int | None = None
    sort: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return _count(row for summary in self.summaries for row in summary.rows)

    @property
    def late_by_quarter(self) -> list[LateQuarter]:
        """Late statements grouped by agreement and fiscal quarter, oldest quarter first."""
        return _late_by_quarter(self.late)

    @property
    def agreements(self) -> list[Agreement]:
        return [summary.agreement for summary in self.summaries]


SORTS = {"": "Agreement and section", "headroom": "Least headroom first", "-headroom": "Most headroom first"}


def _latest_results(agreement_ids: Sequence[int]) -> QuerySet[CovenantTestResult]:
    """Each covenant's (and on an each-Borrower basis, each Borrower's) latest tested result, and every
    breach not waived whatever its date (a breach stands until waived or restated away), in one query.
    A later quarter that no schedule tests does not hide the last one that was tested."""
    key = Coalesce("borrower_id", Value(0), output_field=BigIntegerField())
    latest = (
        CovenantTestResult.objects.filter(covenant_id=OuterRef("covenant_id"), is_current=True)
        .exclude(status=ResultStatus.NOT_TESTED)
        .annotate(borrower_key=key)
        .filter(borrower_key=OuterRef("borrower_key"))
        .order_by("-test_date")
        .values("test_date")[:1]
    )
    return (
        CovenantTestResult.objects.filter(agreement_id__in=list(agreement_ids), is_current=True)
        .exclude(status=ResultStatus.NOT_TESTED)
        .annotate(borrower_key=key)
        .filter(Q(test_date=Subquery(latest)) | Q(status=ResultStatus.BREACH))
        .select_related("borrower")
        .order_by("agreement_id", "covenant_id", "-test_date", "borrower__legal_name")
    )


def dashboard(user: User, *, today: dt.date) -> Dashboard:
    """
    Every agreement the user may see with all of its covenants' latest results and what is
    late, unpaged: a Borrower's home (a Borrower's users are in a few agreements; Lenders and
    Agents have ``portfolio_dashboard``). A fixed number of queries, whatever the number of
    agreements, covenants and quarters.
    """
    agreements = list(access.visible(user, Agreement).order_by("name"))
    ids = [a.pk for a in agreements]
    covenants: dict[int, list[Covenant]] = defaultdict(list)
    for covenant in selectors.covenants_with_terms().filter(agreement_id__in=ids):
        covenants[covenant.agreement_id].append(covenant)
    covenant_by_id = {c.pk: c for cs in covenants.values() for c in cs}
    names = _line_item_names()
    latest: dict[int, list[ResultView]] = defaultdict(list)
    for result in _latest_results(ids):
        covenant = covenant_by_id[result.covenant_id]
        result.covenant = covenant  # already loaded with its terms: no query per row
        view = _result_view(result, line_item_names=names)
        in_force = _terms_for(covenant, result.terms_id)
        view.is_ratio = bool(in_force and in_force.metric_kind == MetricKind.RATIO)
        latest[result.covenant_id].append(view)
    late = late_financials(
        agreements,
        as_of=today,
        specs={pk: [selectors.covenant_spec(c) for c in cs] for pk, cs in covenants.items()},
    )

    summaries = []
    for agreement in agreements:
        rows = []
        for covenant in covenants.get(agreement.pk, []):
            newest: dict[int | None, dt.date] = {}  # per Borrower key; the views come newest first
            for view in latest.get(covenant.pk) or [None]:
                earlier = False
                if view is not None:
                    key = view.result.borrower_id
                    earlier = view.result.test_date < newest.setdefault(key, view.result.test_date)
                rows.append(DashboardRow(agreement, covenant, view, earlier_breach=earlier))
        summaries.append(AgreementSummary(agreement, rows, late.get(agreement.pk, [])))
    return Dashboard(
        summaries=summaries,
        rows=[row for summary in summaries for row in summary.rows],
        late=[item for summary in summaries for item in summary.late],
    )


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
    """An agreement on the dashboard's list: its covenants' latest results counted by status, what is late."""

    agreement: PortfolioAgreement
    counts: dict[str, int]
    covenants: int
    late: list[LateFinancial]


@dataclass
class PortfolioDashboard(_Cards):
    """The dashboard of a Lender, an Agent or an administrator: counts over every agreement the
    user may see, and one page of each table (covenants, late financials, agreements)."""

    agreements: list[PortfolioAgreement]
    counts: dict[str, int]
    rows: list[DashboardRow]  # this page of the covenants table, filtered and sorted
    table: PageOf
    late: list[LateFinancial]  # every one: the card counts them
    late_by_quarter: list[LateQuarter]  # this page of them, grouped by agreement and quarter
    late_page: PageOf
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
    sql = _TABLE_SQL.format(
        result=quote(CovenantTestResult._meta.db_table),
        covenant=quote(Covenant._meta.db_table),
        agreement=quote(Agreement._meta.db_table),
        party=quote(Party._meta.db_table),
        ids=", ".join(["%s"] * len(ids)),
        where=("WHERE " + " AND ".join(where)) if where else "",
        order=", ".join(order),
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
        CovenantTestResult.objects.select_related("borrower", "terms")
        .only(
            "id",
            "agreement_id",
            "covenant_id",
            "terms_id",
            "terms__metric_kind",
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
                is_ratio=bool(result.terms_id and result.terms.metric_kind == MetricKind.RATIO),
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
    ids = list(by_pk)
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

    counts = dict.fromkeys(STATUS_LABELS, 0)
    for agreement_counts in counts_by_agreement.values():
        for key, count in agreement_counts.items():
            if key is not None:
                counts[key] = counts.get(key, 0) + count

    late_by_agreement = late_financials(agreements, as_of=today)
    late = [item for a in agreements for item in late_by_agreement.get(a.pk, [])]
    groups = _late_by_quarter(late)
    late_at = PageOf.of(late_page, total=len(groups), param="late_page")

    listed = PageOf.of(agreements_page, total=len(agreements), param="agreements_page")
    summaries = []
    for agreement in agreements[listed.offset : listed.offset + listed.size]:
        agreement_counts = counts_by_agreement.get(agreement.pk, {})
        summaries.append(
            PortfolioSummary(
                agreement=agreement,
                counts={key: agreement_counts.get(key, 0) for key in STATUS_LABELS},
                covenants=sum(agreement_counts.values()),
                late=late_by_agreement.get(agreement.pk, []),
            )
        )
    return PortfolioDashboard(
        agreements=agreements,
        counts=counts,
        rows=_table_rows(page_rows, by_pk),
        table=table,
        late=late,
        late_by_quarter=groups[late_at.offset : late_at.offset + late_at.size],
        late_page=late_at,
        summaries=summaries,
        summaries_page=listed,
        status=status,
        agreement_id=agreement_id,
        sort=sort,
    )


def _terms_for(covenant: Covenant, terms_id: int | None) -> CovenantTerms | None:
    return next((t for t in covenant.terms.all() if t.pk == terms_id), None)


@dataclass
class BorrowerHome:
    """A Borrower's users' home: their agreements, what they may submit, what is late, their last files."""

    dashboard: Dashboard
    submittable: set[int]
    recent_uploads: list[StatementUpload]


def borrower_home(user: User, *, today: dt.date) -> BorrowerHome:
    """The dashboard's data for a Borrower's user, with the agreements they may submit to."""
    board = dashboard(user, today=today)
    submittable = access.submittable_agreement_ids(user)
    for summary in board.summaries:
        summary.may_submit = summary.agreement.pk in submittable
    uploads = list(
        StatementUpload.objects.filter(agreement__in=access.visible(user, Agreement), uploaded_by=user)
        .select_related("agreement")
        .order_by("-uploaded_at", "-id")[:5]
    )
    return BorrowerHome(dashboard=board, submittable=submittable, recent_uploads=uploads)


# --- The agreement page ------------------------------------------------------------------


@dataclass
class TimelineEntry:
    """The agreement as signed, or one amendment, on the amendment chain."""

    title: str
    dated: dt.date | None
    effective: dt.date | None
    status: str  # "effective" or "pending"
    status_label: str
    conditions: list[ConditionPrecedent] = field(default_factory=list)
    amendment: Amendment | None = None


@dataclass
class CovenantPanel:
    """A covenant on the agreement page: its terms in force, every result, and its chart's data."""

    covenant: Covenant
    terms_in_force: CovenantTerms | None
    versions: list[CovenantTerms]
    results: list[ResultView]
    is_ratio: bool
    each_borrower: bool

    @property
    def chart(self) -> dict:
        """Value against threshold and headroom by test date, as text (the page's script plots them)."""
        series: dict[str, dict] = {}
        for view in self.results:
            r = view.result
            if r.value is None and r.threshold is None:
                continue
            entry = series.setdefault(view.borrower_name, {"name": view.borrower_name, "points": []})
            entry["points"].append(
                {
                    "date": r.test_date.isoformat(),
                    "value": _text(r.value),
                    "threshold": _text(r.threshold),
                    "headroom": _text(r.headroom),
                    "status": view.status,
                    "status_label": view.status_label,
                }
            )
        return {
            "id": self.covenant.pk,
            "section": self.covenant.section,
            "name": self.covenant.name,
            "ratio": self.is_ratio,
            "series": list(series.values()),
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


@dataclass
class AgreementPage:
    """Everything the agreement page shows, read in a fixed number of queries."""

    agreement: Agreement
    roles: list[tuple[str, list[AgreementRole]]]
    timeline: list[TimelineEntry]
    covenants: list[CovenantPanel]
    late: list[LateFinancial]
    may_submit: bool
    test_dates: list[dt.date]
    today: dt.date

    @property
    def late_by_quarter(self) -> list[LateQuarter]:
        return _late_by_quarter(self.late)

    @property
    def charts(self) -> list[dict]:
        return [panel.chart for panel in self.covenants]

    @property
    def has_pending_amendment(self) -> bool:
        return any(entry.status == AmendmentStatus.PENDING for entry in self.timeline)


_ROLE_ORDER = [
    Role.BORROWER,
    Role.GUARANTOR,
    Role.AGENT,
    Role.COLLATERAL_AGENT,
    Role.LENDER,
    Role.CUSTOMER,
    Role.SELLER,
    Role.BENEFICIARY,
]


def agreement_page(user: User, pk: int, *, today: dt.date) -> AgreementPage:
    """The agreement page for a user who may see the agreement (404 otherwise)."""
    agreement = agreement_visible_to(user, pk)
    all_roles = list(agreement.roles.select_related("party").order_by("party__legal_name"))
    roles_by_kind: dict[str, list[AgreementRole]] = defaultdict(list)
    for role in all_roles:
        roles_by_kind[role.role].append(role)
    roles = [
        (Role(kind).label if kind in Role.values else kind, roles_by_kind[kind])
        for kind in sorted(roles_by_kind, key=lambda k: _ROLE_ORDER.index(k) if k in _ROLE_ORDER else 99)
    ]
    amendments = list(
        agreement.amendments.prefetch_related(
            Prefetch("conditions_precedent", queryset=ConditionPrecedent.objects.order_by("id"))
        ).order_by("number")
    )
    timeline = [
        TimelineEntry(
            title=agreement.title,
            dated=agreement.dated_as_of,
            effective=agreement.effective_on,
            status=AmendmentStatus.EFFECTIVE,
            status_label="Signed",
        )
    ]
    timeline += [
        TimelineEntry(
            title=a.title,
            dated=a.dated_as_of,
            effective=a.effective_on,
            status=a.status,
            status_label="Pending" if a.is_pending else "Effective",
            conditions=list(a.conditions_precedent.all()),
            amendment=a,
        )
        for a in amendments
    ]

    covenants = list(selectors.covenants_with_terms().filter(agreement=agreement))
    results = list(
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
        .select_related("borrower")
        .order_by("covenant_id", "test_date", "borrower__legal_name")
    )
    statement_ids = {f["statement_id"] for r in results for f in (r.inputs or {}).get("figures", [])}
    sources = {
        pk: (filename, submitted_at)
        # Unordered: the models' ordering would join the agreement and the Borrowers only to sort.
        for pk, filename, submitted_at in FinancialStatement.objects.filter(agreement=agreement, pk__in=statement_ids)
        .order_by()
        .values_list("pk", "upload__filename", "submitted_at")
    }
    # The line items the results use are those of the covenants' terms (every version), loaded with them.
    names = {
        item.code: item.name
        for covenant in covenants
        for terms in covenant.terms.all()
        for item in (terms.line_item, terms.denominator_line_item)
        if item is not None
    }
    by_covenant: dict[int, list[CovenantTestResult]] = defaultdict(list)
    for result in results:
        by_covenant[result.covenant_id].append(result)
    panels = []
    figures_seen: dict[tuple, FigureUsed] = {}
    test_dates: set[dt.date] = set()
    for covenant in covenants:
        versions = list(covenant.terms.all())
        chosen = engine.terms_in_force(selectors.covenant_spec(covenant).versions, today)
        in_force = next((t for t in versions if chosen and t.pk == chosen.terms_id), None)
        views = []
        for result in by_covenant.get(covenant.pk, []):
            result.covenant = covenant
            views.append(
                _result_view(
                    result,
                    line_item_names=names,
                    statement_sources=sources,
                    figures_seen=figures_seen,
                )
            )
            if result.status != ResultStatus.NOT_TESTED:
                test_dates.add(result.test_date)
        reference = in_force or (versions[-1] if versions else None)
        panels.append(
            CovenantPanel(
                covenant=covenant,
                terms_in_force=in_force,
                versions=versions,
                results=views,
                is_ratio=bool(reference and reference.metric_kind == MetricKind.RATIO),
                each_borrower=bool(reference and reference.basis == "each_borrower"),
            )
        )
        for view in views:
            view.is_ratio = panels[-1].is_ratio
    specs = {agreement.pk: [selectors.covenant_spec(c) for c in covenants]}
    late = late_financials([agreement], as_of=today, specs=specs).get(agreement.pk, [])
    return AgreementPage(
        agreement=agreement,
        roles=roles,
        timeline=timeline,
        covenants=panels,
        late=late,
        may_submit=access.may_submit_given_roles(user, all_roles),
        test_dates=sorted(test_dates, reverse=True),
        today=today,
    )


# --- The upload journey -------------------------------------------------------------------


def submittable_agreement(user: User, pk: int) -> Agreement:
    """The agreement, if the user may see it and submit for one of its Borrowers.

    Raises Http404 when it is not visible, PermissionDenied when it is but the user may only read it."""
    from django.core.exceptions import PermissionDenied

    agreement = agreement_visible_to(user, pk)
    if not may_submit(user, agreement):
        raise PermissionDenied("Only the Borrowers' users and the Agents may submit financial statements.")
    return agreement


def submittable_borrowers(user: User, agreement: Agreement) -> list[tuple[int, str]]:
    """The Borrowers the user may submit for, as (id, legal name), for the template."""
    parties = access.borrowers_user_may_submit_for(user, agreement).order_by("legal_name")
    return list(parties.values_list("pk", "legal_name"))


@dataclass
class QuarterOption:
    """A fiscal quarter offered on the upload page, with why it is offered."""

    quarter: dt.date
    group: str  # "late", "next" or "other": the page lists them in that order
    note: str = ""


def quarter_choices(agreement: Agreement, *, today: dt.date) -> list[QuarterOption]:
    """
    The fiscal quarters a Borrower may report for, in the order they are wanted: first the late
    ones (the one late-financials rule, oldest first, naming who has not sent them) and those a
    covenant needs with nothing on file; then the next quarter to report (the one after the
    latest on file, once it has ended); then every other quarter the covenants need or that has
    figures on file (to restate), newest first. Quarters come from the one fiscal calendar.
    """
    fye = agreement.fiscal_year_end_month
    specs = [selectors.covenant_spec(c) for c in selectors.covenants_with_terms().filter(agreement=agreement)]
    needed = quarters_needed(specs, as_of=today, fiscal_year_end_month=fye)
    late = late_financials([agreement], as_of=today, specs={agreement.pk: specs}).get(agreement.pk, [])
    on_file = set(
        FinancialStatement.objects.filter(agreement=agreement, status=StatementStatus.CURRENT)
        .order_by()
        .values_list("period_end", flat=True)
        .distinct()
    )
    options: dict[dt.date, QuarterOption] = {}
    for group in _late_by_quarter(late):
        names = ", ".join(group.borrowers)
        options[group.period_end] = QuarterOption(
            group.period_end, "late", f"late, due {group.due_on:%B %-d, %Y}: {names}"
        )
    for quarter in sorted(needed - on_file):
        options.setdefault(quarter, QuarterOption(quarter, "late", "nothing on file"))
    if on_file:
        following = fiscal_calendar.next_quarter_end(max(on_file))
    else:
        following = min(needed) if needed else fiscal_calendar.previous_quarter_end(today, fye)
    if following <= today:
        options.setdefault(following, QuarterOption(following, "next", "next to report"))
    for quarter in sorted(needed | on_file, reverse=True):
        options.setdefault(quarter, QuarterOption(quarter, "other", "on file" if quarter in on_file else ""))
    order = {"late": 0, "next": 1, "other": 2}
    return sorted(
        options.values(),
        key=lambda o: (order[o.group], o.quarter.toordinal() * (1 if o.group == "late" else -1)),
    )


@dataclass
class FigureChange:
    """A line item whose amount a restatement changes (None: not in that version)."""

    line_item: str
    old: Decimal | None
    new: Decimal | None


@dataclass
class StatementInFile:
    """A statement a checked file would record, against the one on file for its Borrower and quarter."""

    borrower: str
    period_end: dt.date
    amounts: list[tuple[str, Decimal]]
    version_on_file: int | None = None
    changes: list[FigureChange] = field(default_factory=list)

    @property
    def effect(self) -> str:
        """ "new" (nothing on file), "restates" (other figures on file) or "unchanged" (the same figures)."""
        if self.version_on_file is None:
            return "new"
        return "restates" if self.changes else "unchanged"


def statements_in_file(
    agreement: Agreement,
    statements: dict[tuple[int, dt.date], dict[str, Decimal]],
    *,
    entity_names: dict[int, str],
    line_item_names: dict[str, str],
) -> list[StatementInFile]:
    """What a confirmed file would record, by quarter and Borrower: each statement new, restating
    the current version on file (with each figure it changes, old and new), or the same figures
    again (which record nothing), decided as the submission service decides it. Two queries."""
    wanted = Q()
    for party_id, period_end in statements:
        wanted |= Q(borrower_id=party_id, period_end=period_end)
    on_file: dict[tuple[int, dt.date], FinancialStatement] = {}
    if statements:
        on_file = {
            (s.borrower_id, s.period_end): s
            for s in FinancialStatement.objects.filter(wanted, agreement=agreement, status=StatementStatus.CURRENT)
            .order_by()
            .prefetch_related("lines__line_item")
        }
    rows = []
    for (party_id, period_end), amounts in sorted(statements.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row = StatementInFile(
            borrower=entity_names.get(party_id, ""),
            period_end=period_end,
            amounts=[(line_item_names.get(code, code), amount) for code, amount in amounts.items()],
        )
        previous = on_file.get((party_id, period_end))
        if previous is not None:
            row.version_on_file = previous.version
            before = {line.line_item.code: line.amount for line in previous.lines.all()}
            if before != amounts:
                codes = sorted(set(before) | set(amounts), key=lambda c: line_item_names.get(c, c))
                row.changes = [
                    FigureChange(line_item_names.get(code, code), before.get(code), amounts.get(code))
                    for code in codes
                    if before.get(code) != amounts.get(code)
                ]
        rows.append(row)
    return rows


def submission_history(user: User, agreement: Agreement, *, limit: int = 50) -> list[StatementUpload]:
    """The agreement's files, newest first, each with its statements, their versions and what
    they restated. The caller has checked the agreement is the user's (submittable_agreement)."""
    agreement = agreement_visible_to(user, agreement.pk)
    statements = FinancialStatement.objects.select_related("borrower", "supersedes").order_by(
        "period_end", "borrower__legal_name"
    )
    return list(
        agreement.uploads.select_related("uploaded_by")
        .prefetch_related(Prefetch("statements", queryset=statements))
        .order_by("-uploaded_at", "-id")[:limit]
    )


@dataclass
class Submission:
    """A file submitted for an agreement, its statements, and the evaluation it started."""

    agreement: Agreement
    upload: StatementUpload
    statements: list[FinancialStatement]
    evaluating: bool
    results: list[ResultView]

    @property
    def quarters(self) -> list[dt.date]:
        return sorted({s.period_end for s in self.statements})

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_LABELS, 0)
        for view in self.results:
            counts[view.status] += 1
        return counts

    @property
    def worst(self) -> str:
        tested = [v.status for v in self.results if v.status != ResultStatus.NOT_TESTED]
        return min(tested, key=lambda s: _STATUS_RANK.get(s, 99)) if tested else ""


def submission(user: User, agreement: Agreement, upload_pk: int) -> Submission:
    """A file of this agreement (404 if it is another's), its statements, whether the
    evaluation it asked for is still running, and the current results of the test dates whose
    windows its quarters fall in."""
    agreement = agreement_visible_to(user, agreement.pk)
    upload = (
        StatementUpload.objects.filter(agreement=agreement, pk=upload_pk)
        .select_related("uploaded_by")
        .prefetch_related(
            Prefetch(
                "statements",
                queryset=FinancialStatement.objects.select_related("borrower", "supersedes").order_by(
                    "period_end", "borrower__legal_name"
                ),
            )
        )
        .first()
    )
    if upload is None:
        raise Http404("This agreement has no submission with this number.")
    statements = list(upload.statements.all())
    evaluating = agreement.evaluation_requested_at is not None
    quarters = {s.period_end.isoformat() for s in statements}
    views: list[ResultView] = []
    if not evaluating and quarters:
        sections = dict(Covenant.objects.filter(agreement=agreement).values_list("pk", "section"))
        names = _line_item_names()
        for result in (
            CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
            .exclude(status=ResultStatus.NOT_TESTED)
            .select_related("covenant", "borrower")
            .order_by("test_date", "covenant__section", "borrower__legal_name")
        ):
            inputs = result.inputs or {}
            touched = set(inputs.get("window", [])) | set(inputs.get("denominator_window", []))
            if result.test_date.isoformat() in quarters or touched & quarters:
                views.append(_result_view(result, line_item_names=names))
        views.sort(key=lambda v: (_STATUS_RANK.get(v.status, 99), v.result.test_date, sections[v.result.covenant_id]))
    return Submission(agreement, upload, statements, evaluating, views)


# --- Exports and the certificate ------------------------------------------------------------------


def compliance_results(user: User, pk: int) -> tuple[Agreement, list[ResultView]]:
    """Every current result of the agreement, in section and date order, for the exports
    (``download`` on the agreement)."""
    agreement = agreement_visible_to(user, pk, "download")
    covenants = {c.pk: c for c in selectors.covenants_with_terms().filter(agreement=agreement)}
    names = _line_item_names()
    views = []
    for result in (
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
        .select_related("borrower")
        .order_by("test_date", "borrower__legal_name")
    ):
        covenant = covenants[result.covenant_id]
        result.covenant = covenant
        view = _result_view(result, line_item_names=names)
        terms = _terms_for(covenant, result.terms_id)
        view.is_ratio = bool(terms and terms.metric_kind == MetricKind.RATIO)
        views.append(view)
    views.sort(key=lambda v: (v.result.covenant.section, v.result.test_date, v.borrower_name))
    return agreement, views


@dataclass
class CertificateItem:
    """One covenant on a compliance certificate: its terms, its computation, its outcome."""

    covenant: Covenant
    terms: CovenantTerms | None
    view: ResultView
    amount_as_printed: str


def certificate_items(user: User, agreement: Agreement, test_date: dt.date) -> list[CertificateItem]:
    """The covenants tested on a date, with what the certificate prints of each. The caller has
    checked that the user may certify (submittable_agreement)."""
    agreement = agreement_visible_to(user, agreement.pk)
    covenants = {c.pk: c for c in selectors.covenants_with_terms().filter(agreement=agreement)}
    statements = FinancialStatement.objects.filter(agreement=agreement)
    names = _line_item_names()
    results = list(
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True, test_date=test_date)
        .exclude(status=ResultStatus.NOT_TESTED)
        .select_related("borrower")
        .order_by("borrower__legal_name")
    )
    ids = {f["statement_id"] for r in results for f in (r.inputs or {}).get("figures", [])}
    sources = {
        pk: (filename, submitted_at)
        for pk, filename, submitted_at in statements.filter(pk__in=ids).values_list(
            "pk", "upload__filename", "submitted_at"
        )
    }
    items = []
    for result in results:
        covenant = covenants[result.covenant_id]
        result.covenant = covenant
        terms = _terms_for(covenant, result.terms_id)
        view = _result_view(result, line_item_names=names, statement_sources=sources)
        view.is_ratio = bool(terms and terms.metric_kind == MetricKind.RATIO)
        printed = (result.inputs or {}).get("amount_as_printed", "")
        items.append(CertificateItem(covenant, terms, view, printed))
    items.sort(key=lambda item: (item.covenant.section, item.view.borrower_name))
    return items


def certificate_test_dates(user: User, agreement: Agreement) -> list[dt.date]:
    """Test dates with a tested result, newest first: the quarters a certificate can be given for."""
    agreement = agreement_visible_to(user, agreement.pk)
    return sorted(
        set(
            CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
            .exclude(status=ResultStatus.NOT_TESTED)
            .values_list("test_date", flat=True)
        ),
        reverse=True,
    )
