"""
Late financials: the one rule deciding which Borrowers' statements are late, as of a date.

A Borrower's statement for a fiscal quarter is **late** as of a day when all of these hold:

1. a covenant needs it: the quarter is in the window (either side of a ratio) of a test the
   covenant makes on or before that day, under the terms in force for that test;
2. its reporting deadline has passed: the quarter end plus the agreement's
   ``reporting_deadline_days`` is before the day (the deadline day itself is not late);
3. it is among the latest ``ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS`` (8) such quarters of
   the agreement: the look-back, counted in quarters the covenants need, so that an agreement
   whose tests have ended keeps its last missing statements in view without the portal
   chasing a quarter from decades ago;
4. the party holds the Borrower role on the quarter end, and has no current statement for it.

A quarter no covenant needs (before the first test, or after the schedules end) is never
late: nothing waits on it. The portfolio dashboard, a Borrower's home, the agreement page, the
daily alert task and the API (through those alerts) all read this rule; docs/alerts.md states
it for users.

Two queries for any number of agreements (one when the caller has read the covenants' terms
already): the terms' shapes, then only the Borrowers missing one of the quarters their
agreement needs, each with the quarters it has on file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db.models import Aggregate, CharField, Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from compliance import engine
from covenants.choices import Frequency, Role
from covenants.models import AgreementRole, CovenantTerms
from covenants.periods import FiscalCalendar, calendar_of
from covenants.reporting_periods import TermsShape, periods_needed
from parties.models import Party
from statements.choices import StatementStatus
from statements.models import FinancialStatement

__all__ = ["LateFinancial", "late_financials", "late_quarters", "periods_needed_by", "quarters_needed"]


@dataclass(frozen=True)
class LateFinancial:
    """A Borrower's statement for a fiscal quarter that a covenant needs and that is past its
    reporting deadline."""

    agreement_id: int
    agreement_name: str
    borrower: str
    period_end: dt.date
    due_on: dt.date
    party_id: int = 0
    defined_term: str = ""


class Calendar(Protocol):
    """What the rule reads of an agreement (an Agreement, or a row of one; ``fiscal_calendar``
    and ``reporting_frequency`` are read when it has them)."""

    pk: int
    name: str
    fiscal_year_end_month: int
    reporting_deadline_days: int


def _calendar(agreement: Calendar) -> tuple[FiscalCalendar, str]:
    """The agreement's fiscal calendar and how often it reports."""
    stored = getattr(agreement, "fiscal_calendar", None)
    reporting = getattr(agreement, "reporting_frequency", None) or Frequency.QUARTER
    return calendar_of(stored, agreement.fiscal_year_end_month), reporting


# --- The pure part: which quarters are needed, and which of them are due -----------------------


def quarters_needed(
    covenants: Iterable[engine.CovenantSpec],
    *,
    as_of: dt.date,
    fiscal_year_end_month: int = 12,
    calendar: FiscalCalendar | None = None,
    reporting: str = Frequency.QUARTER,
) -> frozenset[dt.date]:
    """Every statement period (quarters, or the agreement's reporting periods) of every window the
    covenants test on or before ``as_of`` (both sides of a ratio), under the terms in force for
    each test date that has a threshold row."""
    cal = calendar or FiscalCalendar.calendar_months(fiscal_year_end_month)
    return periods_needed([_shape_of(spec) for spec in covenants], as_of=as_of, calendar=cal, reporting=reporting)


def periods_needed_by(
    agreement: Calendar, covenants: Iterable[engine.CovenantSpec], *, as_of: dt.date
) -> frozenset[dt.date]:
    """:func:`quarters_needed` on the agreement's own calendar and reporting frequency."""
    cal, reporting = _calendar(agreement)
    return quarters_needed(covenants, as_of=as_of, calendar=cal, reporting=reporting)


def late_quarters(
    needed: Iterable[dt.date], *, as_of: dt.date, reporting_deadline_days: int, lookback: int | None = None
) -> tuple[dt.date, ...]:
    """Of the periods needed, those whose reporting deadline (days after each period end) has
    passed by ``as_of``: the latest ``lookback`` of them (the setting by default), oldest first."""
    lookback = lookback or settings.ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS
    deadline = dt.timedelta(days=reporting_deadline_days)
    due = sorted(q for q in needed if q + deadline < as_of)
    return tuple(due[-lookback:])


# --- The covenants' terms, as far as the quarters they need go ---------------------------------


class _DatesJoined(Aggregate):
    """Dates aggregated into one comma-separated text, in no particular order (``string_agg``;
    ``group_concat`` on SQLite): the dates of a schedule, the quarters a Borrower has on file."""

    function = "STRING_AGG"
    template = "%(function)s(CAST(%(expressions)s AS TEXT), ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function, clone.template = "GROUP_CONCAT", "%(function)s(%(expressions)s, ',')"
        return clone.as_sql(compiler, connection, **extra_context)


def _terms_shapes(agreement_ids: Sequence[int]) -> dict[int, list[tuple[TermsShape, ...]]]:
    """Per agreement, the shape of each covenant's terms (every version), in one query: a row per
    version with its schedule's dates aggregated (those applying thereafter apart), since a
    portfolio's schedules have tens of thousands of rows and most covenants share a shape."""
    steps = "schedule__test_date"
    rows = (
        CovenantTerms.objects.filter(covenant__agreement_id__in=list(agreement_ids))
        .values(
            "pk",
            "covenant_id",
            "covenant__agreement_id",
            "effective_from",
            "action",
            "metric_kind",
            "window_periods",
            "window_kind",
            "denominator_window_periods",
            "denominator_window_kind",
            "frequency",
        )
        .annotate(
            dates=_DatesJoined(steps),
            thereafter=_DatesJoined(steps, filter=Q(schedule__applies_thereafter=True)),
        )
        .order_by("covenant_id", "effective_from", "pk")
    )
    schedules: dict[tuple[str | None, str | None], tuple[tuple[dt.date, bool], ...]] = {}
    versions: dict[int, dict[int, list[TermsShape]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = (row["dates"], row["thereafter"])
        if key not in schedules:
            later = set((row["thereafter"] or "").split(","))
            schedules[key] = tuple(
                sorted((dt.date.fromisoformat(d), d in later) for d in (row["dates"] or "").split(",") if d)
            )
        versions[row["covenant__agreement_id"]][row["covenant_id"]].append(
            TermsShape(
                effective_from=row["effective_from"],
                action=row["action"],
                metric_kind=row["metric_kind"],
                window_periods=row["window_periods"],
                window_kind=row["window_kind"],
                denominator_window_periods=row["denominator_window_periods"],
                denominator_window_kind=row["denominator_window_kind"] or engine.TRAILING,
                schedule=schedules[key],
                frequency=row["frequency"] or Frequency.QUARTER,
            )
        )
    return {pk: [tuple(v) for v in covenants.values()] for pk, covenants in versions.items()}


def _shape_of(spec: engine.CovenantSpec) -> tuple[TermsShape, ...]:
    """The shape of a covenant's terms already read as the engine's data."""
    return tuple(
        TermsShape(
            effective_from=v.effective_from,
            action=v.action,
            metric_kind=v.metric_kind,
            window_periods=v.window_periods,
            window_kind=v.window_kind,
            denominator_window_periods=v.denominator_window_periods,
            denominator_window_kind=v.denominator_window_kind or engine.TRAILING,
            schedule=tuple((row.test_date, row.applies_thereafter) for row in v.schedule),
            frequency=getattr(v, "frequency", None) or Frequency.QUARTER,
        )
        for v in spec.versions
    )


# --- The rule ------------------------------------------------------------------------------------


def late_financials(
    agreements: Sequence[Calendar],
    *,
    as_of: dt.date,
    specs: Mapping[int, Sequence[engine.CovenantSpec]] | None = None,
    lookback: int | None = None,
) -> dict[int, list[LateFinancial]]:
    """
    The late statements of these agreements as of ``as_of`` (the rule in this module's
    docstring), by agreement: oldest quarter first, then by Borrower name, each Borrower once
    per quarter.

    Two queries (one when the caller has the covenants' ``specs`` already): the covenants'
    terms, then only the Borrowers missing one of the quarters their agreement needs, each
    with the quarters it has on file.
    """
    ids = [a.pk for a in agreements]
    if not ids:
        return {}
    due = _due_quarters(agreements, ids, as_of=as_of, specs=specs, lookback=lookback)
    if not due:
        return {}
    return _late_items(agreements, due, _borrowers_short(due))


def _due_quarters(
    agreements: Sequence[Calendar],
    ids: list[int],
    *,
    as_of: dt.date,
    specs: Mapping[int, Sequence[engine.CovenantSpec]] | None,
    lookback: int | None,
) -> dict[int, tuple[dt.date, ...]]:
    """Per agreement, the quarters its covenants need whose statements are past due."""
    shapes = (
        {pk: [_shape_of(spec) for spec in covenant_specs] for pk, covenant_specs in specs.items()}
        if specs is not None
        else _terms_shapes(ids)
    )
    worked_out: dict[tuple[tuple[TermsShape, ...], FiscalCalendar, str], frozenset[dt.date]] = {}
    due: dict[int, tuple[dt.date, ...]] = {}
    for agreement in agreements:
        cal, reporting = _calendar(agreement)
        needed: set[dt.date] = set()
        for shape in shapes.get(agreement.pk, []):
            key = (shape, cal, reporting)
            if key not in worked_out:
                worked_out[key] = periods_needed([shape], as_of=as_of, calendar=cal, reporting=reporting)
            needed |= worked_out[key]
        quarters = late_quarters(
            needed, as_of=as_of, reporting_deadline_days=agreement.reporting_deadline_days, lookback=lookback
        )
        if quarters:
            due[agreement.pk] = quarters
    return due


def _borrowers_short(due: Mapping[int, tuple[dt.date, ...]]) -> dict[int, list[dict]]:
    """Per agreement, its Borrower roles with fewer current statements than quarters due, each
    with the quarters it has on file (one query)."""
    # The Borrowers that have fewer current statements for the quarters their agreement needs than
    # there are quarters, each with the quarters it has (agreements needing the same quarters, as
    # agreements drafted alike do, share one condition).
    by_quarters: dict[tuple[dt.date, ...], list[int]] = defaultdict(list)
    for agreement_id, quarters in due.items():
        by_quarters[quarters].append(agreement_id)
    single = len(by_quarters) == 1  # the agreements' own filter then says which agreements
    wanted, short = Q(), Q()
    for quarters, agreement_ids in by_quarters.items():
        wanted |= Q(period_end__in=quarters) if single else Q(agreement_id__in=agreement_ids, period_end__in=quarters)
        short |= (
            Q(on_file__lt=len(quarters)) if single else Q(agreement_id__in=agreement_ids, on_file__lt=len(quarters))
        )
    # Per Borrower, its current statements for those quarters: counted for every Borrower (through
    # the index of current statements), listed only for those that come back.
    filed = FinancialStatement.objects.filter(
        wanted, agreement_id=OuterRef("agreement_id"), borrower_id=OuterRef("party_id"), status=StatementStatus.CURRENT
    ).order_by()
    rows = (
        AgreementRole.objects.filter(agreement_id__in=list(due), role=Role.BORROWER)
        .annotate(
            on_file=Coalesce(Subquery(filed.values("borrower_id").annotate(n=Count("pk")).values("n")), Value(0)),
            quarters_on_file=Subquery(filed.values("borrower_id").annotate(d=_DatesJoined("period_end")).values("d")),
            legal_name=Subquery(Party.objects.filter(pk=OuterRef("party_id")).values("legal_name")),
        )
        .filter(short)
        .values(
            "pk", "agreement_id", "party_id", "legal_name", "defined_term", "holds_from", "holds_to", "quarters_on_file"
        )
        .order_by()
    )
    by_agreement = defaultdict(list)
    for row in rows:
        by_agreement[row["agreement_id"]].append(row)
    return by_agreement


def _late_items(
    agreements: Sequence[Calendar], due: Mapping[int, tuple[dt.date, ...]], by_agreement: Mapping[int, list[dict]]
) -> dict[int, list[LateFinancial]]:
    """Each Borrower missing each due quarter it was a Borrower on, oldest quarter first."""
    late: dict[int, list[LateFinancial]] = {}
    for agreement in agreements:
        roles = sorted(by_agreement.get(agreement.pk, []), key=lambda r: (r["legal_name"], r["pk"]))
        if not roles:
            continue
        deadline = dt.timedelta(days=agreement.reporting_deadline_days)
        has = {
            r["pk"]: {dt.date.fromisoformat(d) for d in (r["quarters_on_file"] or "").split(",") if d} for r in roles
        }
        items: list[LateFinancial] = []
        for quarter in due[agreement.pk]:
            named: set[int] = set()
            for row in roles:
                span = engine.BorrowerSpan(row["party_id"], row["legal_name"], row["holds_from"], row["holds_to"])
                if row["party_id"] in named or not span.holds_on(quarter) or quarter in has[row["pk"]]:
                    continue
                named.add(row["party_id"])
                items.append(
                    LateFinancial(
                        agreement_id=agreement.pk,
                        agreement_name=agreement.name,
                        borrower=span.name,
                        period_end=quarter,
                        due_on=quarter + deadline,
                        party_id=row["party_id"],
                        defined_term=row["defined_term"] or "",
                    )
                )
        if items:
            late[agreement.pk] = items
    return late
