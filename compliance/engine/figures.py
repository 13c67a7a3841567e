"""Figures, windows and citations: the figures indexed by Borrower, quarter and line item,
summed over a window, with what is missing, and what a result cites of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

from .types import BorrowerSpan, CovenantSpec, Figure, TermsVersion

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
    """One windowed sum over some Borrowers: its periods (of the covenant's frequency), the
    statements' periods summed (the same, or their months), the figures found and those missing."""

    line_item: str | None
    quarters: tuple[date, ...]
    periods: tuple[date, ...] = ()
    total: Decimal = ZERO  # of the figures found; the sum only when nothing is missing
    used: list[Figure] = field(default_factory=list)
    missing: list[tuple[BorrowerSpan, date, str | None]] = field(default_factory=list)


def window_sum(
    line_item: str | None,
    quarters: tuple[date, ...],
    borrowers: Sequence[BorrowerSpan],
    figures: FigureIndex,
    periods: tuple[date, ...] | None = None,
) -> Window:
    """``line_item`` summed over the statements' ``periods`` (by default the window's own) and the Borrowers."""
    periods = quarters if periods is None else periods
    window = Window(line_item=line_item, quarters=quarters, periods=periods)
    used, missing, find, add = window.used, window.missing, figures.get, EXACT.add
    total = ZERO
    for quarter in periods:
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
    per agreement and shared by the results citing it (nothing changes a result's inputs once
    made: they are encoded and stored), instead of a copy per result: some 300,000 dicts per
    1,000 agreements."""
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


def missing_pieces(windows: list[Window]) -> Missing:
    """What is missing from the windows, each piece once, in a stable order."""
    pieces: dict[tuple[date, int, str], tuple[BorrowerSpan, date, str | None]] = {}
    for w in windows:
        for borrower, quarter, line_item in w.missing:
            pieces.setdefault((quarter, borrower.party_id, line_item or ""), (borrower, quarter, line_item))
    return [pieces[key] for key in sorted(pieces)]
