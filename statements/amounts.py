"""Amounts as finance teams write them, read into Decimals with two decimal places."""

from __future__ import annotations

import re
from decimal import Decimal

from .text import quote

__all__ = ["MAX_AMOUNT", "parse_amount"]

#: Amounts are whole currency units with cents; anything larger is a slip of the keyboard.
MAX_AMOUNT = Decimal(10) ** 15

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2212": "-", "\u2013": "-"})
_DIGITS = re.compile(r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?", re.ASCII)
_SCIENTIFIC = re.compile(r"[0-9.,]+[eE][+-]?[0-9]+", re.ASCII)
_EXAMPLES = "such as 18,000,000, (4,157,000) or 18000000.00"
_CENTS = Decimal("0.01")


def _checked_amount(value: Decimal, shown: object) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"{quote(shown)} is not an amount; write a figure {_EXAMPLES}")
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"{quote(shown)} is more than 1,000,000,000,000,000, the largest amount accepted")
    cents = value.quantize(_CENTS)
    if cents != value:
        raise ValueError(f"{quote(shown)} has more than 2 decimal places")
    # -0 from "(0)" or "-0" is zero.
    return cents if cents else Decimal("0.00")


def _signs(body: str) -> tuple[str, int, int, int]:
    """The figure without its signs, and how many minus signs (or parentheses), dollar signs and
    plus signs it had, in any order a spreadsheet writes them: "-$4,157,000", "$-4,157,000",
    "($4,157,000)"."""
    negatives = dollars = pluses = 0
    for _ in range(4):
        if body[:1] == "-":
            negatives, body = negatives + 1, body[1:].strip()
        elif body[:1] == "+":
            pluses, body = pluses + 1, body[1:].strip()
        elif body[:1] == "$":
            dollars, body = dollars + 1, body[1:].strip()
        elif body[:1] == "(" and body.endswith(")"):
            negatives, body = negatives + 1, body[1:-1].strip()
        else:
            break
    return body, negatives, dollars, pluses


def parse_amount(text: str | int | float | Decimal) -> Decimal:
    """
    A figure as finance teams write it, as a Decimal with two decimal places.

    Accepts thousands separators, a dollar sign, a minus sign or accounting parentheses
    for negatives (``(4,157,000)``, ``($4,157,000)``, ``-$4,157,000``), at most two
    decimal places and surrounding spaces. Raises ValueError with a sentence on anything
    else: text, a blank, scientific notation, amounts above 10^15.
    """
    if isinstance(text, bool):
        raise ValueError(f"{text} is not an amount; write a figure {_EXAMPLES}")
    if isinstance(text, Decimal):
        return _checked_amount(text, text)
    if isinstance(text, int):
        if abs(text) > MAX_AMOUNT:
            raise ValueError(f"{quote(text)} is more than 1,000,000,000,000,000, the largest amount accepted")
        return _checked_amount(Decimal(text), text)
    if isinstance(text, float):
        # A spreadsheet hands over binary floats; their shortest repr is what the user typed.
        return _checked_amount(Decimal(str(text)), text)
    if not isinstance(text, str):
        raise ValueError(f"{quote(text)} is not an amount; write a figure {_EXAMPLES}")

    shown = text.strip()
    body = text.translate(_SPACES).strip()
    if not body:
        raise ValueError("The amount is blank; a figure is required (write 0 for none)")
    body, negatives, dollars, pluses = _signs(body)
    if negatives > 1:
        raise ValueError(f"{quote(shown)} has two negative signs")
    if dollars > 1 or pluses > 1 or (pluses and negatives):
        raise ValueError(f"{quote(shown)} is not an amount; write a figure {_EXAMPLES}")
    negative = negatives == 1
    match = _DIGITS.fullmatch(body)
    if match is None:
        if _SCIENTIFIC.fullmatch(body):
            raise ValueError(f"{quote(shown)} is in scientific notation; write the figure in full, such as 18,000,000")
        if re.fullmatch(r"[0-9,]+(\.[0-9]+)?", body):
            raise ValueError(f"{quote(shown)} has misplaced thousands separators; write it as 1,234,567 or 1234567")
        raise ValueError(f"{quote(shown)} is not an amount; write a figure {_EXAMPLES}")
    integer = match["int"].replace(",", "")
    fraction = (match["frac"] or "").rstrip("0")
    if len(fraction) > 2:
        raise ValueError(f"{quote(shown)} has more than 2 decimal places")
    if len(integer.lstrip("0")) > 16:
        # Refused before building a Decimal from a megabyte of digits.
        raise ValueError(f"{quote(shown)} is more than 1,000,000,000,000,000, the largest amount accepted")
    value = Decimal(f"{integer}.{fraction or '0'}")
    return _checked_amount(-value if negative else value, shown)
