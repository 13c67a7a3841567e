"""What the site's pages share: the user type, results as a page shows them (status words and
the figures a result was computed from), the agreements a user may see and submit to, and
late statements grouped by quarter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Expression, QuerySet
from django.http import Http404

from compliance.formatting import cites_a_ratio
from compliance.late_financials import LateFinancial
from compliance.models import CovenantTestResult
from compliance.statuses import STATUS_RANK, shown_status, status_label
from covenants import access
from covenants.models import Agreement, Covenant, CovenantTerms, LineItem
from parties.choices import MembershipRole

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
    #: Its test date as the schedule prints it, when that was read ("date as printed: June, 2019").
    date_note: str = ""

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
        is_ratio=cites_a_ratio(inputs),
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


def agreement_visible_to(user: User, pk: int, action: str = "view", **annotations: Expression) -> Agreement:
    """The agreement, if the user may see it (or do ``action`` on it: ``download`` for the
    exports); 404 otherwise (its existence is not disclosed). Loaded through the access rule's
    scope, so the check is the query; ``annotations`` are read with it."""
    agreement = access.visible(user, Agreement, action).filter(pk=pk).annotate(**annotations).first()
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


def _terms_for(covenant: Covenant, terms_id: int | None) -> CovenantTerms | None:
    return next((t for t in covenant.terms.all() if t.pk == terms_id), None)
