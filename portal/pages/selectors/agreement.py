"""The agreement page: parties, the amendment chain, each covenant's terms, results and chart."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from compliance import engine, selectors
from compliance.choices import ResultStatus
from compliance.late_financials import LateFinancial, late_financials
from compliance.models import CovenantTestResult
from covenants import access
from covenants.choices import AmendmentStatus, Basis, Role
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    DefinedMetric,
)
from portal.pages.selectors.common import (
    FigureUsed,
    LateQuarter,
    ResultView,
    User,
    _late_by_quarter,
    _result_view,
    agreement_visible_to,
)
from portal.pages.selectors.execution import with_signature_blocks
from statements.models import FinancialStatement

# --- The agreement page ------------------------------------------------------------------

#: The fields of a result the page shows (its row, explanation and chart).
RESULT_FIELDS = (
    "id",
    "covenant_id",
    "borrower_id",
    "test_date",
    "status",
    "near_breach",
    "provisional",
    "value",
    "threshold",
    "headroom",
    "headroom_percent",
    "explanation",
    "inputs",
)


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
    defined_metrics: list[DefinedMetric] = field(default_factory=list)
    #: Whether the agreement carries signature blocks of its own (read with it).
    has_signature_blocks: bool = False

    @property
    def late_by_quarter(self) -> list[LateQuarter]:
        return _late_by_quarter(self.late)

    @property
    def charts(self) -> list[dict]:
        return [panel.chart for panel in self.covenants]

    @property
    def has_pending_amendment(self) -> bool:
        return any(entry.status == AmendmentStatus.PENDING for entry in self.timeline)

    @property
    def all_roles(self) -> list[AgreementRole]:
        """Every role of the agreement (the page's parties), for access questions decided from them."""
        return [role for _, roles in self.roles for role in roles]


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
    agreement = agreement_visible_to(user, pk, has_signature_blocks=with_signature_blocks(Agreement))
    all_roles = list(agreement.roles.select_related("party").order_by("party__legal_name"))
    timeline = _timeline(agreement)
    covenants = list(selectors.covenants_with_terms().filter(agreement=agreement))
    panels, test_dates = _covenant_panels(agreement, covenants, today=today)
    specs = {agreement.pk: [selectors.covenant_spec(c) for c in covenants]}
    late = late_financials([agreement], as_of=today, specs=specs).get(agreement.pk, [])
    return AgreementPage(
        agreement=agreement,
        roles=_roles_by_kind(all_roles),
        timeline=timeline,
        covenants=panels,
        late=late,
        may_submit=access.may_submit_given_roles(user, all_roles, _reporting_party_ids(covenants)),
        test_dates=sorted(test_dates, reverse=True),
        today=today,
        defined_metrics=list(DefinedMetric.objects.filter(agreement=agreement).order_by("label")),
        has_signature_blocks=agreement.has_signature_blocks,
    )


def _reporting_party_ids(covenants: list[Covenant]) -> set[int]:
    """The parties whose consolidated statements stand for the group, from the prefetched terms."""
    return {
        terms.reporting_party_id
        for covenant in covenants
        for terms in covenant.terms.all()
        if terms.basis == Basis.CONSOLIDATED and terms.reporting_party_id
    }


def _roles_by_kind(all_roles: list[AgreementRole]) -> list[tuple[str, list[AgreementRole]]]:
    """The agreement's parties grouped by role, the roles in the page's order (no queries)."""
    roles_by_kind: dict[str, list[AgreementRole]] = defaultdict(list)
    for role in all_roles:
        roles_by_kind[role.role].append(role)
    return [
        (Role(kind).label if kind in Role.values else kind, roles_by_kind[kind])
        for kind in sorted(roles_by_kind, key=lambda k: _ROLE_ORDER.index(k) if k in _ROLE_ORDER else 99)
    ]


def _timeline(agreement: Agreement) -> list[TimelineEntry]:
    """The agreement as signed, then each amendment with its conditions precedent (two queries)."""
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
    return timeline


def _statement_sources(agreement: Agreement) -> dict[int, tuple[str, dt.datetime]]:
    """The file and submission time of each statement of the agreement, the statements its
    results' figures come from among them (one query). Read through the agreement's uploads
    (a statement comes in an upload of its own agreement): from a few uploads to their
    statements, where naming the hundreds of statements cited costs more to send than to read."""
    return {
        pk: (filename, submitted_at)
        # Unordered: the models' ordering would join the agreement and the Borrowers only to sort.
        for pk, filename, submitted_at in FinancialStatement.objects.filter(
            agreement=agreement, upload__agreement=agreement
        )
        .order_by()
        .values_list("pk", "upload__filename", "submitted_at")
    }


def _covenant_panels(
    agreement: Agreement, covenants: list[Covenant], *, today: dt.date
) -> tuple[list[CovenantPanel], set[dt.date]]:
    """A panel per covenant with every current result, and the dates tested (two queries)."""
    results = list(
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
        .select_related("borrower")
        # What the page shows of a result and its Borrower: a hundred results of a long agreement
        # are a hundred models made, each with its Borrower's.
        .only(*RESULT_FIELDS, "borrower__legal_name")
        .order_by("covenant_id", "test_date", "borrower__legal_name")
    )
    sources = _statement_sources(agreement) if results else {}
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
        panels.append(_covenant_panel(covenant, views, today=today))
    return panels, test_dates


def _covenant_panel(covenant: Covenant, views: list[ResultView], *, today: dt.date) -> CovenantPanel:
    """A covenant's panel: its terms in force on ``today`` and its results' views (no queries)."""
    versions = list(covenant.terms.all())
    chosen = engine.terms_in_force(selectors.covenant_spec(covenant).versions, today)
    in_force = next((t for t in versions if chosen and t.pk == chosen.terms_id), None)
    reference = in_force or (versions[-1] if versions else None)
    panel = CovenantPanel(
        covenant=covenant,
        terms_in_force=in_force,
        versions=versions,
        results=views,
        is_ratio=bool(reference and reference.is_ratio),
        each_borrower=bool(reference and reference.basis == "each_borrower"),
    )
    for view in views:
        view.is_ratio = panel.is_ratio
        view.date_note = date_note(view.result.inputs)
    return panel


def date_note(inputs: dict) -> str:
    """The flag of the schedule row a result was tested against when its date was read from what
    the agreement prints: "date as printed: June, 2019 (no day printed: read as ...)". Read from
    the result's inputs, so a row that holds "thereafter" flags every later test it decides."""
    reading = (inputs or {}).get("date_reading")
    return f"date as printed: {inputs.get('date_as_printed', '')} ({reading})" if reading else ""
