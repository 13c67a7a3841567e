"""
Text the portal writes into spreadsheets (CSV or XLSX), made safe to open.

A spreadsheet runs a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula, and openpyxl writes such a string as a live ``<f>`` formula.
Names that users set (a party's legal name, a line item) reach the statement templates and
the compliance exports, so every text cell of every file the portal writes goes through
:func:`neutralise`: a leading apostrophe, which spreadsheets show as text and the upload
parser strips again. Numbers and dates are not text and stay as they are (a negative
headroom is a number, not a formula).
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "neutralise", "write_text"]

#: What makes a spreadsheet read a text cell as a formula.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will show as text: a leading apostrophe before a formula start."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_text(cell: Any, text: str) -> None:
    """Put text in an openpyxl cell as text, never as a formula (openpyxl makes any string
    beginning with ``=`` a formula unless told otherwise)."""
    cell.value = neutralise(text)
    cell.data_type = "s"
