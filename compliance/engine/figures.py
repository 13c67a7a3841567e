"""Figures, windows and citations: the figures indexed by Borrower, quarter and line item,
summed over a window, with what is missing, and what a result cites of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

from covenants.calendar import TRAILING, quarter_ends_in_window

from .types import RATIO, BorrowerSpan, CovenantSpec, Figure, ScheduleRow, TermsVersion

# Sums are exact for any amount a statement can hold (20 digits, thousands of lines).
EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
ZERO = Decimal(0)


@lru_cache(maxsize=8192)
def iso(day: date) -> str:
    """A date as a result's inputs cite it (cached: the same few quarters, cited thousands of times)."""
    return day.isoformat()


# ---------------------------------------------------------------------------
# Figures and windows
# ---------------------------------------------------------------------------

FigureIndex = dict[tuple[int, date, str], Figure]
Missing = list[tuple[BorrowerSpan, date, str | None]]


def index_figures(figures: Iterable[Figure]) -> FigureIndex:
    """
    Figures keyed (party, quarter, line item). The caller passes current versions only;
    should two still share a key, the latest statement version wins whatever the order given.
    """
    index: FigureIndex = {}
    for figure in figures:
        key = (figure.party_id, figure.period_end, figure.line_item)
        held = index.get(key)
        if held is None or (figure.statement_version, figure.statement_id, figure.amount) > (
            held.statement_version,
            held.statement_id,
            held.amount,
        ):
            index[key] = figure
    return index


@dataclass
class Window:
    """One windowed sum over some Borrowers: its quarters, the figures found and those missing."""

    line_item: str | None
    quarters: tuple[date, ...]
    total: Decimal = ZERO  # of the figures found; the sum only when nothing is missing
    used: list[Figure] = field(default_factory=list)
    missing: list[tuple[BorrowerSpan, date, str | None]] = field(default_factory=list)


def window_sum(
    line_item: str | None, quarters: tuple[date, ...], borrowers: Sequence[BorrowerSpan], figures: FigureIndex
) -> Window:
    window = Window(line_item=line_item, quarters=quarters)
    used, missing, find, add = window.used, window.missing, figures.get, EXACT.add
    total = ZERO
    for quarter in quarters:
        for borrower in borrowers:
            figure = find((borrower.party_id, quarter, line_item)) if line_item else None
            if figure is None:
                missing.append((borrower, quarter, line_item))
            else:
                used.append(figure)
                total = add(total, figure.amount)
    window.total = total
    return window


Records = dict[tuple[date, int, str], dict]


def figure_records(figures: FigureIndex) -> Records:
    """Each figure as a result's inputs cite it, keyed (quarter, party, line item). Built once
    per agreement: a result takes a fresh copy of each record it cites."""
    return {
        (figure.period_end, figure.party_id, figure.line_item): {
            "statement_id": figure.statement_id,
            "statement_version": figure.statement_version,
            "party_id": figure.party_id,
            "period_end": iso(figure.period_end),
            "line_item": figure.line_item,
            "amount": str(figure.amount),
        }
        for figure in figures.values()
    }


def base_inputs(covenant: CovenantSpec, terms: TermsVersion | None) -> dict:
    return {
        "section": covenant.section,
        "source": terms.source if terms else "",
        "effective_from": iso(terms.effective_from) if terms else None,
        "window": [],
        "denominator_window": [],
        "borrowers": [],
        "figures": [],
        "missing": [],
    }


def windows_for(
    terms: TermsVersion,
    test_date: date,
    scope: Sequence[BorrowerSpan],
    figures: FigureIndex,
    fiscal_year_end_month: int,
) -> tuple[Window, Window | None]:
    """The numerator's window summed over the Borrowers in scope, and for a ratio the denominator's."""
    numerator = window_sum(
        terms.line_item,
        quarter_ends_in_window(
            test_date, terms.window_periods, kind=terms.window_kind, fiscal_year_end_month=fiscal_year_end_month
        ),
        scope,
        figures,
    )
    if terms.metric_kind != RATIO:
        return numerator, None
    denominator = window_sum(
        terms.denominator_line_item,
        quarter_ends_in_window(
            test_date,
            terms.denominator_window_periods or terms.window_periods,
            kind=terms.denominator_window_kind or TRAILING,
            fiscal_year_end_month=fiscal_year_end_month,
        ),
        scope,
        figures,
    )
    return numerator, denominator


def missing_pieces(windows: list[Window]) -> Missing:
    """What is missing from the windows, each piece once, in a stable order."""
    pieces: dict[tuple[date, int, str], tuple[BorrowerSpan, date, str | None]] = {}
    for w in windows:
        for borrower, quarter, line_item in w.missing:
            pieces.setdefault((quarter, borrower.party_id, line_item or ""), (borrower, quarter, line_item))
    return [pieces[key] for key in sorted(pieces)]


def scope_inputs(
    covenant: CovenantSpec,
    terms: TermsVersion,
    row: ScheduleRow,
    threshold: Decimal | None,
    scope: Sequence[BorrowerSpan],
    windows: list[Window],
    missing: Missing,
    records: Records,
) -> dict:
    """What a result cites: the terms and threshold, the quarters, the figures read and those
    missing, and the sums (none while something is missing)."""
    numerator, denominator = windows[0], windows[1] if len(windows) > 1 else None
    used = {(f.period_end, f.party_id, f.line_item) for w in windows for f in w.used}
    inputs = base_inputs(covenant, terms)
    inputs.update(
        {
            "metric_kind": terms.metric_kind,
            "line_item": terms.line_item,
            "window_kind": terms.window_kind,
            "window": [iso(q) for q in numerator.quarters],
            "direction": terms.direction,
            "basis": terms.basis,
            "threshold_state": row.threshold_state,
            "threshold": str(threshold) if threshold is not None else None,
            "amount_as_printed": row.amount_as_printed,
            "schedule_row_date": iso(row.test_date),
            "applies_thereafter": row.applies_thereafter,
            "borrowers": [{"party_id": b.party_id, "name": b.name} for b in scope],
            "figures": [dict(records[key]) for key in sorted(used)],
            "missing": [
                {"party_id": b.party_id, "name": b.name, "period_end": iso(q), "line_item": item}
                for b, q, item in missing
            ],
        }
    )
    if denominator is not None:
        inputs["denominator_line_item"] = terms.denominator_line_item
        inputs["denominator_window_kind"] = terms.denominator_window_kind or TRAILING
        inputs["denominator_window"] = [iso(q) for q in denominator.quarters]
    inputs["numerator"] = None if missing else str(numerator.total)
    if denominator is not None:
        inputs["denominator"] = None if missing else str(denominator.total)
    return inputs
