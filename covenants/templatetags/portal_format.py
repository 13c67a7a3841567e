"""Template filters for amounts, ratios and statuses, written as the agreements write them."""

from __future__ import annotations

from decimal import Decimal

from django import template

from covenants import exports

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    """$18,000,000; negatives in parentheses: ($4,157,000)."""
    return exports.money(value) if value is not None else ""


@register.filter
def figure(value: Decimal | None, is_ratio: bool = False) -> str:
    """An amount, or a ratio (5.75 to 1.00) when the covenant tests a ratio."""
    if value is None:
        return ""
    return exports.ratio(value) if is_ratio else exports.money(value)


@register.filter
def headroom(value: Decimal | None, is_ratio: bool = False) -> str:
    """Headroom as an amount, or for a ratio as a plain number; negative means short of the threshold."""
    if value is None:
        return ""
    if is_ratio:
        return f"{value.normalize():f}"
    return exports.money(value)


@register.filter
def percent(value: Decimal | None) -> str:
    """12.34%."""
    if value is None:
        return ""
    return f"{value.quantize(Decimal('0.01')):f}%"
