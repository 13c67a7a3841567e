"""Text helpers shared by the statement readers: names reduced to what identifies them, cells
as text, and user text quoted short for a message."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from .spreadsheet_safety import FORMULA_STARTS

__all__ = ["cell_text", "is_blank", "joined", "normalize_name", "quote", "safe_str", "short"]


def normalize_name(text: str) -> str:
    """
    A name reduced to what identifies it: case, spacing and punctuation ignored.

    ``"KMC Telecom Inc."`` and ``"kmc  telecom inc"`` both give ``"kmctelecominc"``;
    ``"Leasing I"`` and ``"Leasing II"`` stay apart.
    """
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def safe_str(value: object) -> str:
    """str() that cannot fail (an int of more than 4,300 digits refuses to become text)."""
    try:
        return str(value)
    except Exception:
        return "a number too long to show" if isinstance(value, int) else "a value that cannot be shown"


def quote(value: object, limit: int = 60) -> str:
    """User text for a message: quoted, on one line, and short."""
    text = " ".join(safe_str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The guard neutralise() puts before a formula start, as the templates and exports write it.
_NEUTRALISED = re.compile("'[" + re.escape("".join(FORMULA_STARTS)) + "]")


def cell_text(value: object) -> str:
    """A cell as text: stripped, with the apostrophe that guards against formulas removed."""
    text = value.isoformat() if isinstance(value, date) else safe_str(value)
    text = text.strip()
    if _NEUTRALISED.match(text):
        text = text[1:].strip()
    return text


#: A column's checked value, or None and the sentence saying what is wrong.


def joined(names: Iterable[str]) -> str:
    items = list(names)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
