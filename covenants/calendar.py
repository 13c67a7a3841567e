"""
Fiscal quarters of calendar months, asked of the one fiscal calendar (covenants.periods).

The engine's quarterly questions (and their callers' names) stay as they were; each answer
comes from ``FiscalCalendar.calendar_months(fiscal_year_end_month)``, so the month arithmetic
lives in one place. Agreements on other calendars ask ``Agreement.calendar()`` directly.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from covenants.period_kinds import QUARTER
from covenants.periods import FiscalCalendar

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


@lru_cache(maxsize=16)
def _calendar(fiscal_year_end_month: int) -> FiscalCalendar:
    check_fiscal_year_end_month(fiscal_year_end_month)
    return FiscalCalendar.calendar_months(fiscal_year_end_month)


def quarter_end_months(fiscal_year_end_month: int = 12) -> list[int]:
    """The months in which fiscal quarters end, in calendar order ([3, 6, 9, 12] for December)."""
    ends = _calendar(fiscal_year_end_month).period_ends(QUARTER, date(2001, 1, 1), date(2001, 12, 31))
    return sorted(day.month for day in ends)


def is_fiscal_quarter_end(day: date, fiscal_year_end_month: int = 12) -> bool:
    """Whether ``day`` is the last day of a fiscal quarter."""
    return _calendar(fiscal_year_end_month).is_period_end(day, QUARTER)


def quarter_end_on_or_after(day: date, fiscal_year_end_month: int = 12) -> date:
    """The last day of the fiscal quarter containing ``day``."""
    return _calendar(fiscal_year_end_month).period_end_on_or_after(day, QUARTER)


def previous_quarter_end(day: date, fiscal_year_end_month: int = 12) -> date:
    """The fiscal quarter end strictly before the end of the quarter containing ``day``."""
    return _calendar(fiscal_year_end_month).previous_period_end(day, QUARTER)


def next_quarter_end(quarter_end: date) -> date:
    """The fiscal quarter end three months after ``quarter_end`` (itself a quarter end)."""
    return _calendar(quarter_end.month).period_end_on_or_after(quarter_end + timedelta(days=1), QUARTER)


def quarter_ends_between(start: date, end: date, fiscal_year_end_month: int = 12) -> list[date]:
    """The fiscal quarter ends from ``start`` to ``end``, both included, oldest first."""
    return list(_calendar(fiscal_year_end_month).period_ends(QUARTER, start, end))


def quarter_ends_in_window(
    test_date: date, quarters: int, *, kind: str = TRAILING, fiscal_year_end_month: int = 12
) -> tuple[date, ...]:
    """
    The fiscal quarter ends a window covers, oldest first, ending on ``test_date``.

    ``trailing``: the ``quarters`` quarter ends ending on the test date. ``fiscal_ytd``: from
    the first quarter of the fiscal year containing the test date through the test date
    (``quarters`` is then not used). The test date must be a fiscal quarter end.
    """
    calendar = _calendar(fiscal_year_end_month)
    if not calendar.is_period_end(test_date, QUARTER):
        raise ValueError(f"{test_date.isoformat()} is not the last day of a fiscal quarter.")
    if kind == FISCAL_YTD:
        return tuple(calendar.fiscal_year_to_date(test_date, QUARTER))
    if kind != TRAILING:
        raise ValueError(f"Unknown window kind {kind!r}.")
    if quarters < 1:
        raise ValueError("A window covers at least one fiscal quarter.")
    return tuple(calendar.periods_in_window(test_date, QUARTER, quarters))
