"""
Amounts, ratios, percentages and dates written as the agreements write them: the one place.

The engine's explanations, the pages' template filters, the exports and the certificate, the
alerts' wording and their e-mails all write a figure through these functions, so a figure reads
the same wherever a user meets it. Pure Python over Decimals and dates: no Django, no locale
(month names are English whatever the process locale, as the agreements print them).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

__all__ = ["figure", "headroom", "long_date", "money", "percent", "ratio", "ratio_number"]

# Wide enough for any amount a result holds: formatting never rounds an amount by accident.
_WIDE = Context(prec=60, rounding=ROUND_HALF_EVEN)
_CENTS = Decimal("0.01")

_MONTH_NAMES = (
    "",
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def money(amount: Decimal | None) -> str:
    """An amount as the agreements print it: $18,000,000; negatives in parentheses, ($4,157,000);
    cents only when there are any ($1,234.50); finer fractions in full. "" for none."""
    if amount is None:
        return ""
    magnitude = abs(amount)
    if magnitude == magnitude.to_integral_value():
        text = f"{magnitude:,.0f}"
    elif magnitude.normalize(_WIDE).as_tuple().exponent >= -2:  # type: ignore[operator]
        text = f"{magnitude:,.2f}"
    else:
        text = f"{magnitude.normalize(_WIDE):,f}"
    return f"(${text})" if amount < 0 else f"${text}"


def ratio_number(value: Decimal | None) -> str:
    """A ratio's value with at least two places and no trailing zeros beyond: 5.75, 5.761234."""
    if value is None:
        return ""
    shown = value.normalize(_WIDE)
    if shown.as_tuple().exponent > -2:  # type: ignore[operator]
        shown = value.quantize(_CENTS, context=_WIDE)
    return f"{shown:f}"


def ratio(value: Decimal | None) -> str:
    """A ratio as the agreements print it: 5.75 to 1.00. "" for none."""
    return "" if value is None else f"{ratio_number(value)} to 1.00"


def cites_a_ratio(inputs: object) -> bool:
    """Whether a result's inputs (compliance.engine.citations) test a ratio: two windowed sums, or
    a defined term that divides at its top. Results, alerts and their pages ask here."""
    if not isinstance(inputs, dict):
        return False
    metric = inputs.get("metric")
    return inputs.get("metric_kind") == "ratio" or bool(isinstance(metric, dict) and metric.get("is_ratio"))


def figure(value: Decimal | None, *, is_ratio: bool = False) -> str:
    """A covenant's value or threshold: a ratio (5.75 to 1.00) when it tests one, else money."""
    return ratio(value) if is_ratio else money(value)


def headroom(value: Decimal | None, *, is_ratio: bool = False) -> str:
    """Headroom: money, or for a ratio the plain difference (0.25); negative means short."""
    if value is None:
        return ""
    return f"{value.normalize(_WIDE):f}" if is_ratio else money(value)


def percent(value: Decimal | None, *, places: int | None = 2) -> str:
    """A percentage: 12.34% (two places, as headroom is shown); ``places=None`` for the figure
    as it is, without trailing zeros (a warning band of 10%). "" for none."""
    if value is None:
        return ""
    if places is None:
        return f"{value.normalize(_WIDE):f}%"
    return f"{value.quantize(Decimal(1).scaleb(-places), context=_WIDE):f}%"


@lru_cache(maxsize=8192)
def long_date(day: dt.date) -> str:
    """A date as the agreements print it: December 31, 1999."""
    return f"{_MONTH_NAMES[day.month]} {day.day}, {day.year}"
