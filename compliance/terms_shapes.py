"""
The covenants' terms read as their shapes, as far as the periods they need go (the
late-financials rule's reading, :mod:`compliance.late_financials`): each version's dates,
windows and schedule dates, and whose statement it reads on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Aggregate, CharField, Q

from compliance import engine
from covenants.choices import Basis, Frequency
from covenants.models import CovenantTerms
from covenants.reporting_periods import TermsShape

__all__ = ["Versions", "shape_of", "terms_shapes", "versions_of"]


class _DatesJoined(Aggregate):
    """Dates aggregated into one comma-separated text, in no particular order (``string_agg``;
    ``group_concat`` on SQLite): the dates of a schedule."""

    function = "STRING_AGG"
    template = "%(function)s(CAST(%(expressions)s AS TEXT), ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function, clone.template = "GROUP_CONCAT", "%(function)s(%(expressions)s, ',')"
        return clone.as_sql(compiler, connection, **extra_context)


#: A covenant's versions of terms, each with the party whose statement it reads on its own (a
#: consolidated test's reporting party), or None: the Borrowers'.
Versions = tuple[tuple[TermsShape, int | None], ...]


def _reporter(basis: str | None, reporting_party_id: int | None) -> int | None:
    """Whose statement a version of terms reads alone: its reporting party on a consolidated
    basis (the engine's reading), else None (the Borrowers')."""
    return reporting_party_id if basis == Basis.CONSOLIDATED and reporting_party_id else None


def terms_shapes(agreement_ids: Sequence[int]) -> dict[int, list[Versions]]:
    """Per agreement, the shape of each covenant's terms (every version, with whose statement
    it reads), in one query: a row per version with its schedule's dates aggregated (those
    applying thereafter apart), since a portfolio's schedules have tens of thousands of rows
    and most covenants share a shape."""
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
            "basis",
            "reporting_party_id",
        )
        .annotate(
            dates=_DatesJoined(steps),
            thereafter=_DatesJoined(steps, filter=Q(schedule__applies_thereafter=True)),
        )
        .order_by("covenant_id", "effective_from", "pk")
    )
    schedules: dict[tuple[str | None, str | None], tuple[tuple[dt.date, bool], ...]] = {}
    versions: dict[int, dict[int, list[tuple[TermsShape, int | None]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = (row["dates"], row["thereafter"])
        if key not in schedules:
            later = set((row["thereafter"] or "").split(","))
            schedules[key] = tuple(
                sorted((dt.date.fromisoformat(d), d in later) for d in (row["dates"] or "").split(",") if d)
            )
        shape = TermsShape(
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
        reporter = _reporter(row["basis"], row["reporting_party_id"])
        versions[row["covenant__agreement_id"]][row["covenant_id"]].append((shape, reporter))
    return {pk: [tuple(v) for v in covenants.values()] for pk, covenants in versions.items()}


def shape_of(spec: engine.CovenantSpec) -> tuple[TermsShape, ...]:
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


def versions_of(spec: engine.CovenantSpec) -> Versions:
    """:func:`shape_of`, each version with whose statement it reads."""
    reporters = [_reporter(v.basis, v.reporting_party_id) for v in spec.versions]
    return tuple(zip(shape_of(spec), reporters, strict=True))
