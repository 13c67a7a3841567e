"""What one test measures: the windows read (a line item, a defined term's line items, a
ratio's denominator, the line item a relative threshold is a percentage of), what is missing,
the value and the threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal

from covenants.formulas import FormulaError
from covenants.periods import FiscalCalendar

from .figures import EXACT, FigureIndex, Missing, Window, missing_pieces, window_sum
from .metrics import flow_value, parsed, quotient_parts, values_of
from .metrics import is_ratio as metric_is_ratio
from .periods import periods_for
from .types import AT_MOST, RATIO, THRESHOLD_SET, BorrowerSpan, ScheduleRow, TermsVersion

# Ratios are divided at the agreed precision, rounded away from compliance (see ratio):
# a ratio a hair over its maximum must not be shown as the maximum itself.
_RATIO_UP = Context(prec=28, rounding=ROUND_CEILING)
_RATIO_DOWN = Context(prec=28, rounding=ROUND_FLOOR)
_RATIO_PLACES = Decimal("0.000001")
_CENTS = Decimal("0.01")
_HUNDRED = Decimal(100)


def ratio(numerator: Decimal, denominator: Decimal, direction: str) -> Decimal:
    """
    numerator / denominator (denominator not zero) to six decimal places, rounded against
    compliance: up for a maximum, down for a minimum. The status, decided on this value,
    is then the status the exact ratio would have against any threshold of six places or
    fewer, and the value shown never hides a breach.
    """
    context, rounding = (_RATIO_UP, ROUND_CEILING) if direction == AT_MOST else (_RATIO_DOWN, ROUND_FLOOR)
    return context.divide(numerator, denominator).quantize(_RATIO_PLACES, rounding=rounding, context=EXACT)


@dataclass
class Measure:
    """The windows of one test and what they give. ``numerator`` is the line item's window, or for
    a defined term a window standing for it (its total the term's value); ``undefined`` when the
    term has no value (a division by zero in its formula)."""

    numerator: Window
    denominator: Window | None
    items: list[Window]  # a defined term's line items, each summed over the window
    relative: Window | None
    windows: list[Window]
    missing: Missing
    threshold: Decimal | None
    is_ratio: bool
    undefined: bool = False
    values: dict[str, Decimal | None] | None = None  # a defined term's figures and definitions


def measure(
    terms: TermsVersion,
    row: ScheduleRow,
    test_date: date,
    scope: Sequence[BorrowerSpan],
    figures: FigureIndex,
    calendar: FiscalCalendar,
    reporting: str,
) -> Measure:
    """The windows of the test of ``terms`` on ``test_date`` over the Borrowers in ``scope``."""
    quarters, periods = periods_for(calendar, terms, test_date, reporting)
    metric = terms.metric
    items: list[Window] = []
    if metric is None:
        numerator = window_sum(terms.line_item, quarters, scope, figures, periods)
    else:
        items = [window_sum(item, quarters, scope, figures, periods) for item in parsed(metric).line_items]
        numerator = Window(line_item=metric.name, quarters=quarters, periods=periods)
    denominator = None
    if terms.metric_kind == RATIO:
        d_quarters, d_periods = periods_for(calendar, terms, test_date, reporting, denominator=True)
        denominator = window_sum(terms.denominator_line_item, d_quarters, scope, figures, d_periods)
    relative = None
    if terms.threshold_relative_to:
        relative = window_sum(terms.threshold_relative_to, quarters, scope, figures, periods)
    windows = [w for w in ([numerator] if metric is None else items) if w is not None]
    windows += [w for w in (denominator, relative) if w is not None]
    found = Measure(
        numerator=numerator,
        denominator=denominator,
        items=items,
        relative=relative,
        windows=windows,
        missing=missing_pieces(windows),
        threshold=None,
        is_ratio=denominator is not None or (metric is not None and metric_is_ratio(metric)),
    )
    if metric is not None and not found.missing:
        _metric_value(found, terms)
    found.threshold = _threshold(row, relative)
    return found


def _metric_value(found: Measure, terms: TermsVersion) -> None:
    """The defined term's value on its line items' window sums (a ratio rounded against compliance)."""
    metric = terms.metric
    assert metric is not None
    sums = {w.line_item: w.total for w in found.items if w.line_item}
    value: Decimal | None
    try:
        values = values_of(metric, sums)
        if metric_is_ratio(metric) and terms.metric_kind != RATIO:
            top, bottom = quotient_parts(metric, values)
            value = None if top is None or bottom is None or bottom == 0 else ratio(top, bottom, terms.direction)
        else:
            value = flow_value(metric, values)
    except (FormulaError, ArithmeticError):
        values, value = dict(sums), None
    found.values = values
    found.undefined = value is None
    found.numerator.total = value if value is not None else Decimal(0)


def _threshold(row: ScheduleRow, relative: Window | None) -> Decimal | None:
    """The row's threshold; for a relative one, its percentage of the relative line item, to the cent."""
    if row.threshold_state != THRESHOLD_SET or row.threshold is None:
        return None
    if relative is None:
        return row.threshold
    if relative.missing:
        return None
    amount = EXACT.divide(EXACT.multiply(row.threshold, relative.total), _HUNDRED)
    return amount.quantize(_CENTS, rounding=ROUND_HALF_EVEN, context=EXACT)
