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
from django.db.models import BigIntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from parties.choices import MembershipRole
from portal import access

from . import engine, selectors
from .choices import AmendmentStatus, MetricKind, ResultStatus, Role, StatementStatus
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

# --- Statuses as pages show them ------------------------------------------------------

NEAR_BREACH = "near_breach"
#: Every status a page shows, worst first: the order of filters, counts and legends.
STATUS_LABELS: dict[str, str] = {
    ResultStatus.BREACH: "Breach",
    NEAR_BREACH: "Near breach",
    ResultStatus.INCOMPLETE: "Incomplete",
    ResultStatus.WAIVED: "Waived",
    ResultStatus.COMPLIANT: "Compliant",
    ResultStatus.NOT_TESTED: "Not tested",
}
_STATUS_RANK = {key: rank for rank, key in enumerate(STATUS_LABELS)}


def is_near_breach(result: CovenantTestResult, warning_band_percent: Decimal) -> bool:
    """Compliant, but with headroom under the covenant's warning band (as the engine decides it)."""
    if result.status != ResultStatus.COMPLIANT or result.headroom is None or not result.threshold:
        return False
    return result.headroom * 100 < warning_band_percent * abs(result.threshold)


def status_key(result: CovenantTestResult, warning_band_percent: Decimal) -> str:
    """The status a page shows: the result's own, or near breach for a compliant result in the band."""
    return NEAR_BREACH if is_near_breach(result, warning_band_percent) else str(result.status)


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
        return STATUS_LABELS.get(self.status, self.status)

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
    warning_band_percent: Decimal,
    *,
    line_item_names: dict[str, str],
    statement_sources: dict[int, tuple[str, dt.datetime]] | None = None,
) -> ResultView:
    """A result and the figures it was computed from, named for a reader (no queries)."""
    inputs = result.inputs or {}
    names = {b["party_id"]: b["name"] for b in inputs.get("borrowers", [])}
    sources = statement_sources or {}
    figures = []
    for figure in inputs.get("figures", []):
        filename, submitted_at = sources.get(figure["statement_id"], ("", None))
        figures.append(
            FigureUsed(
                borrower=names.get(figure["party_id"], ""),
                period_end=dt.date.fromisoformat(figure["period_end"]),
                line_item=line_item_names.get(figure["line_item"], figure["line_item"]),
                amount=Decimal(figure["amount"]),
                statement_id=figure["statement_id"],
                version=figure.get("statement_version", 1),
                filename=filename,
                submitted_at=submitted_at,
            )
        )
    figures.sort(key=lambda f: (f.line_item, f.period_end, f.borrower))
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
        status=status_key(result, warning_band_percent),
        is_ratio=inputs.get("metric_kind") == MetricKind.RATIO,
        figures=figures,
        missing=missing,
        window=[dt.date.fromisoformat(d) for d in inputs.get("window", [])],
        denominator_window=[dt.date.fromisoformat(d) for d in inputs.get("denominator_window", [])],
    )


def _line_item_names() -> dict[str, str]:
    return dict(LineItem.objects.values_list("code", "name"))


# --- Agreements the user may see and submit to -----------------------------------------


def agreement_visible_to(user: User, pk: int) -> Agreement:
    """The agreement, if the user may see it; 404 otherwise (its existence is not disclosed)."""
    agreement = access.agreements_visible_to(user).filter(pk=pk).first()
    if agreement is None:
        raise Http404("No agreement of yours has this number.")
    return agreement


def may_submit(user: User, agreement: Agreement) -> bool:
    """Whether the user may submit financial statements for some Borrower of the agreement."""
    return access.borrowers_user_may_submit_for(user, agreement).exists()


def agreements_user_may_submit_to(user: User) -> QuerySet[Agreement]:
    """
    The visible agreements for which the user may submit figures, in one query: the rule of
    :func:`portal.access.borrowers_user_may_submit_for` (a Borrower's users for their own
    Borrowers; Agents and administrators for all), applied to every agreement at once.
    """
    visible = access.agreements_visible_to(user)
    if access.is_administrator(user):
        return visible.filter(roles__role=Role.BORROWER).distinct()
    as_borrower = Q(
        roles__role=Role.BORROWER,
        roles__party__memberships__user=user,
        roles__party__memberships__role=MembershipRole.BORROWER,
    )
    as_agent = Q(roles__role__in=access.AGENT_ROLES, roles__party__memberships__user=user)
    submittable = Agreement.objects.filter(as_borrower | as_agent).values("pk")
    with_borrowers = Agreement.objects.filter(roles__role=Role.BORROWER).values("pk")
    return visible.filter(pk__in=submittable).filter(pk__in=with_borrowers)


def home_is_dashboard(user: User) -> bool:
    """Lenders, Agents and administrators land on the portfolio dashboard; a Borrower's users on
    their agreements, with the way to submit figures first."""
    if access.is_administrator(user):
        return True
    if not user.is_authenticated:
        return False
    roles = set(user.memberships.values_list("role", flat=True))
    return not roles or bool(roles - {MembershipRole.BORROWER})


# --- The portfolio dashboard ------------------------------------------------------------


@dataclass
class LateFinancial:
    """A Borrower's statement that a covenant needs and that is past its reporting deadline."""

    agreement_id: int
    agreement_name: str
    borrower: str
    period_end: dt.date
    due_on: dt.date


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


@dataclass
class Dashboard:
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
    def breaches(self) -> int:
        return self.counts[ResultStatus.BREACH]

    @property
    def near_breaches(self) -> int:
        return self.counts[NEAR_BREACH]

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


def _late_financials(
    agreements: Sequence[Agreement],
    covenants: dict[int, list[Covenant]],
    *,
    today: dt.date,
) -> dict[int, list[LateFinancial]]:
    """
    Statements the covenants need (every quarter of every window tested up to today) that a
    Borrower has not sent although the agreement's reporting deadline has passed. Two queries.
    """
    ids = [a.pk for a in agreements]
    borrowers: dict[int, list[engine.BorrowerSpan]] = defaultdict(list)
    for agreement_id, party_id, name, holds_from, holds_to in (
        AgreementRole.objects.filter(agreement_id__in=ids, role=Role.BORROWER)
        .order_by("party__legal_name")
        .values_list("agreement_id", "party_id", "party__legal_name", "holds_from", "holds_to")
    ):
        borrowers[agreement_id].append(engine.BorrowerSpan(party_id, name, holds_from, holds_to))
    on_file = set(
        FinancialStatement.objects.filter(agreement_id__in=ids, status=StatementStatus.CURRENT).values_list(
            "agreement_id", "borrower_id", "period_end"
        )
    )
    late: dict[int, list[LateFinancial]] = defaultdict(list)
    for agreement in agreements:
        fye = agreement.fiscal_year_end_month
        needed: set[dt.date] = set()
        for covenant in covenants.get(agreement.pk, []):
            spec = selectors.covenant_spec(covenant)
            for test_date in engine.test_dates_for(spec, as_of=today, figure_dates=(), fiscal_year_end_month=fye):
                terms = engine.terms_in_force(spec.versions, test_date)
                if terms is None or engine.schedule_row_for(terms, test_date) is None:
                    continue
                needed.update(
                    engine.quarter_ends_in_window(
                        test_date, terms.window_quarters, kind=terms.window_kind, fiscal_year_end_month=fye
                    )
                )
                if terms.metric_kind == MetricKind.RATIO:
                    needed.update(
                        engine.quarter_ends_in_window(
                            test_date,
                            terms.denominator_window_quarters or terms.window_quarters,
                            kind=terms.denominator_window_kind or engine.TRAILING,
                            fiscal_year_end_month=fye,
                        )
                    )
        for quarter in sorted(needed):
            due_on = quarter + dt.timedelta(days=agreement.reporting_deadline_days)
            if due_on >= today:
                continue
            for borrower in borrowers[agreement.pk]:
                if borrower.holds_on(quarter) and (agreement.pk, borrower.party_id, quarter) not in on_file:
                    late[agreement.pk].append(
                        LateFinancial(agreement.pk, agreement.name, borrower.name, quarter, due_on)
                    )
    return late


def dashboard(user: User, *, today: dt.date) -> Dashboard:
    """
    The portfolio dashboard: every agreement the user may see, each covenant's latest result,
    counts of breaches, near breaches and late financials. A fixed number of queries, whatever
    the number of agreements, covenants and quarters.
    """
    agreements = list(access.agreements_visible_to(user).order_by("name"))
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
        view = _result_view(result, covenant.warning_band_percent, line_item_names=names)
        in_force = _terms_for(covenant, result.terms_id)
        view.is_ratio = bool(in_force and in_force.metric_kind == MetricKind.RATIO)
        latest[result.covenant_id].append(view)
    late = _late_financials(agreements, covenants, today=today)

    summaries = []
    for agreement in agreements:
        rows = []
        for covenant in covenants.get(agreement.pk, []):
            views = latest.get(covenant.pk) or [None]
            rows += [DashboardRow(agreement, covenant, view) for view in views]
        summaries.append(AgreementSummary(agreement, rows, late.get(agreement.pk, [])))
    return Dashboard(
        summaries=summaries,
        rows=[row for summary in summaries for row in summary.rows],
        late=[item for summary in summaries for item in summary.late],
    )


def filtered(board: Dashboard, *, status: str = "", agreement_id: int | None = None, sort: str = "") -> Dashboard:
    """The dashboard with its table filtered by status and agreement and sorted by headroom
    (least first with ``headroom``); the counts stay those of the whole portfolio. No queries."""
    table = [row for summary in board.summaries for row in summary.rows]
    if agreement_id is not None:
        table = [row for row in table if row.agreement.pk == agreement_id]
    if status:
        table = [row for row in table if row.view is not None and row.status == status]
    if sort in ("headroom", "-headroom"):
        known = [row for row in table if row.headroom_percent is not None]
        unknown = [row for row in table if row.headroom_percent is None]
        known.sort(key=lambda row: row.headroom_percent, reverse=sort == "-headroom")
        table = known + unknown
    return Dashboard(
        summaries=board.summaries, rows=table, late=board.late, status=status, agreement_id=agreement_id, sort=sort
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
    submittable = set(agreements_user_may_submit_to(user).values_list("pk", flat=True))
    for summary in board.summaries:
        summary.may_submit = summary.agreement.pk in submittable
    uploads = list(
        StatementUpload.objects.filter(agreement__in=access.agreements_visible_to(user), uploaded_by=user)
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
    roles_by_kind: dict[str, list[AgreementRole]] = defaultdict(list)
    for role in agreement.roles.select_related("party").order_by("party__legal_name"):
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
        for pk, filename, submitted_at in FinancialStatement.objects.filter(
            agreement=agreement, pk__in=statement_ids
        ).values_list("pk", "upload__filename", "submitted_at")
    }
    names = _line_item_names()
    by_covenant: dict[int, list[CovenantTestResult]] = defaultdict(list)
    for result in results:
        by_covenant[result.covenant_id].append(result)
    panels = []
    test_dates: set[dt.date] = set()
    for covenant in covenants:
        versions = list(covenant.terms.all())
        chosen = engine.terms_in_force(selectors.covenant_spec(covenant).versions, today)
        in_force = next((t for t in versions if chosen and t.pk == chosen.terms_id), None)
        views = []
        for result in by_covenant.get(covenant.pk, []):
            result.covenant = covenant
            views.append(
                _result_view(result, covenant.warning_band_percent, line_item_names=names, statement_sources=sources)
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
    late = _late_financials([agreement], {agreement.pk: covenants}, today=today).get(agreement.pk, [])
    return AgreementPage(
        agreement=agreement,
        roles=roles,
        timeline=timeline,
        covenants=panels,
        late=late,
        may_submit=may_submit(user, agreement),
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


def quarter_choices(agreement: Agreement, *, today: dt.date, count: int = 8) -> list[dt.date]:
    """Fiscal quarters a Borrower may report: the most recent ones, and every quarter the
    covenants' schedules name (the seed agreement's are from 1999 to 2001), newest first."""
    fye = agreement.fiscal_year_end_month
    quarters = [engine.previous_quarter_end(today, fye)]
    if engine.quarter_end_on_or_after(today, fye) == today:
        quarters.insert(0, today)
    while len(quarters) < count:
        quarters.append(engine.previous_quarter_end(quarters[-1], fye))
    scheduled: set[dt.date] = set()
    for covenant in selectors.covenants_with_terms().filter(agreement=agreement):
        for terms in covenant.terms.all():
            for row in terms.schedule.all():
                scheduled.add(row.test_date)
                if row.test_date <= today:
                    window = max(terms.window_quarters, terms.denominator_window_quarters or 1)
                    if engine.is_fiscal_quarter_end(row.test_date, fye):
                        scheduled.update(
                            engine.quarter_ends_in_window(row.test_date, window, fiscal_year_end_month=fye)
                        )
    return sorted({q for q in set(quarters) | scheduled if q <= today}, reverse=True)


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
        band = dict(Covenant.objects.filter(agreement=agreement).values_list("pk", "warning_band_percent"))
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
                views.append(_result_view(result, band[result.covenant_id], line_item_names=names))
        views.sort(key=lambda v: (_STATUS_RANK.get(v.status, 99), v.result.test_date, sections[v.result.covenant_id]))
    return Submission(agreement, upload, statements, evaluating, views)


# --- Exports and the certificate ------------------------------------------------------------------


def compliance_results(user: User, pk: int) -> tuple[Agreement, list[ResultView]]:
    """Every current result of the agreement, in section and date order, for the exports."""
    agreement = agreement_visible_to(user, pk)
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
        view = _result_view(result, covenant.warning_band_percent, line_item_names=names)
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
        view = _result_view(result, covenant.warning_band_percent, line_item_names=names, statement_sources=sources)
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
