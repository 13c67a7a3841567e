"""
The quarterly calendar as it was before covenants.periods: plain month arithmetic, kept here as
an independent oracle that the calendar-months form of covenants.periods must answer as.
"""

from __future__ import annotations

import calendar
from datetime import date
from functools import lru_cache

__all__ = [
    "FISCAL_YTD",
    "TRAILING",
    "check_fiscal_year_end_month",
    "is_fiscal_quarter_end",
    "next_quarter_end",
    "previous_quarter_end",
    "quarter_end_months",
    "quarter_end_on_or_after",
    "quarter_ends_between",
    "quarter_ends_in_window",
]

# Window kinds (equal to covenants.choices.WindowKind values).
TRAILING, FISCAL_YTD = "trailing", "fiscal_ytd"


def check_fiscal_year_end_month(fiscal_year_end_month: int) -> None:
    """Refuse a fiscal year end month that is not 1 to 12."""
    if not 1 <= fiscal_year_end_month <= 12:
        raise ValueError(f"fiscal_year_end_month must be 1 to 12, not {fiscal_year_end_month!r}.")


@lru_cache(maxsize=4096)
def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_end_after(year: int, month: int, months: int) -> date:
    """The last day of the month ``months`` after (year, month); negative goes back."""
    index = year * 12 + (month - 1) + months
    y, m = divmod(index, 12)
    return date(y, m + 1, _last_day(y, m + 1))


def quarter_end_months(fiscal_year_end_month: int = 12) -> list[int]:
    """The months in which fiscal quarters end, in calendar order ([3, 6, 9, 12] for December)."""
    check_fiscal_year_end_month(fiscal_year_end_month)
    return sorted({(fiscal_year_end_month - 1 - 3 * k) % 12 + 1 for k in range(4)})


def is_fiscal_quarter_end(day: date, fiscal_year_end_month: int = 12) -> bool:
    """Whether ``day`` is the last day of a fiscal quarter."""
    check_fiscal_year_end_month(fiscal_year_end_month)
    return _is_quarter_end(day, fiscal_year_end_month)


# Evaluations ask the same few calendar questions hundreds of thousands of times in a
# portfolio: the answers are cached (they are pure functions of their arguments).
@lru_cache(maxsize=8192)
def _is_quarter_end(day: date, fiscal_year_end_month: int) -> bool:
    return (day.month - fiscal_year_end_month) % 3 == 0 and day.day == _last_day(day.year, day.month)


def quarter_end_on_or_after(day: date, fiscal_year_end_month: int = 12) -> date:
    """The last day of the fiscal quarter containing ``day``."""
    check_fiscal_year_end_month(fiscal_year_end_month)
    return _month_end_after(day.year, day.month, (fiscal_year_end_month - day.month) % 3)


def previous_quarter_end(day: date, fiscal_year_end_month: int = 12) -> date:
    """The fiscal quarter end strictly before the end of the quarter containing ``day``."""
    quarter_end = quarter_end_on_or_after(day, fiscal_year_end_month)
    return _month_end_after(quarter_end.year, quarter_end.month, -3)


def next_quarter_end(quarter_end: date) -> date:
    """The fiscal quarter end three months after ``quarter_end`` (itself a quarter end)."""
    return _month_end_after(quarter_end.year, quarter_end.month, 3)


def quarter_ends_between(start: date, end: date, fiscal_year_end_month: int = 12) -> list[date]:
    """The fiscal quarter ends from ``start`` to ``end``, both included, oldest first."""
    day = quarter_end_on_or_after(start, fiscal_year_end_month)
    quarters = []
    while day <= end:
        quarters.append(day)
        day = next_quarter_end(day)
    return quarters


def quarter_ends_in_window(
    test_date: date, quarters: int, *, kind: str = TRAILING, fiscal_year_end_month: int = 12
) -> tuple[date, ...]:
    """
    The fiscal quarter ends a window covers, oldest first, ending on ``test_date``.

    ``trailing``: the ``quarters`` quarter ends ending on the test date. ``fiscal_ytd``: from
    the first quarter of the fiscal year containing the test date through the test date
    (``quarters`` is then not used). The test date must be a fiscal quarter end.
    """
    return _window_quarter_ends(test_date, quarters, kind, fiscal_year_end_month)


@lru_cache(maxsize=8192)
def _window_quarter_ends(test_date: date, quarters: int, kind: str, fiscal_year_end_month: int) -> tuple[date, ...]:
    if not is_fiscal_quarter_end(test_date, fiscal_year_end_month):
        raise ValueError(f"{test_date.isoformat()} is not the last day of a fiscal quarter.")
    if kind == FISCAL_YTD:
        # Months from the test date to the fiscal year end: 0, 3, 6 or 9.
        quarters = 4 - ((fiscal_year_end_month - test_date.month) % 12) // 3
    elif kind != TRAILING:
        raise ValueError(f"Unknown window kind {kind!r}.")
    if quarters < 1:
        raise ValueError("A window covers at least one fiscal quarter.")
    return tuple(_month_end_after(test_date.year, test_date.month, -3 * back) for back in range(quarters - 1, -1, -1))
