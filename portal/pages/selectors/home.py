"""The unpaged dashboard of every agreement a user may see (a Borrower's users' home), and the
home itself with the agreements they may submit to."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BigIntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from compliance import selectors
from compliance.choices import ResultStatus
from compliance.late_financials import LateFinancial, late_financials
from compliance.models import CovenantTestResult
from compliance.statuses import NEAR_BREACH, STATUS_LABELS
from covenants import access
from covenants.models import Agreement, Covenant
from portal.pages.selectors.common import (
    LateQuarter,
    ResultView,
    User,
    _late_by_quarter,
    _line_item_names,
    _result_view,
    _terms_for,
)
from statements.models import StatementUpload


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
        view.is_ratio = bool(in_force and in_force.is_ratio)
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
