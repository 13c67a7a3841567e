"""Periods as the engine reads them: an agreement's fiscal calendar, the periods a window of a
covenant's frequency covers, and the statements' periods those are made of (a quarter tested
over monthly statements is its three months)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from covenants.calendar import FISCAL_YTD, TRAILING, check_fiscal_year_end_month
from covenants.period_kinds import FREQUENCIES
from covenants.periods import FiscalCalendar

from .types import BALANCE, AgreementInputs, TermsVersion

_DAY = timedelta(days=1)


def calendar_for(inputs: AgreementInputs) -> FiscalCalendar:
    """The agreement's calendar: the one given, or calendar months ending the fiscal year in
    ``fiscal_year_end_month`` (calendar quarters for 12)."""
    if inputs.calendar is not None:
        return inputs.calendar
    check_fiscal_year_end_month(inputs.fiscal_year_end_month)
    return FiscalCalendar.calendar_months(inputs.fiscal_year_end_month)


def is_period_end(calendar: FiscalCalendar, day: date, frequency: str) -> bool:
    """Whether ``day`` ends a period of ``frequency``; False for a day a listed calendar does not cover."""
    try:
        return calendar.is_period_end(day, frequency)
    except ValueError:
        return False


def next_period_end(calendar: FiscalCalendar, day: date, frequency: str) -> date:
    """The first period end of ``frequency`` strictly after ``day``."""
    return calendar.period_end_on_or_after(day + _DAY, frequency)


def window_periods(
    calendar: FiscalCalendar, test_date: date, frequency: str, count: int, kind: str
) -> tuple[date, ...]:
    """The periods of ``frequency`` a window covers: the ``count`` ending on the test date, or the
    fiscal year to date."""
    if kind == FISCAL_YTD:
        return calendar.fiscal_year_to_date(test_date, frequency)
    return calendar.periods_in_window(test_date, frequency, count)


@lru_cache(maxsize=65536)
def figure_periods(
    calendar: FiscalCalendar, periods: tuple[date, ...], frequency: str, reporting: str
) -> tuple[date, ...]:
    """The statements' periods making up ``periods``: each one itself when statements are made as
    often as the test or less, else its sub-periods (the three months of a quarter)."""
    if reporting not in FREQUENCIES or FREQUENCIES.index(reporting) >= FREQUENCIES.index(frequency):
        return periods
    found: list[date] = []
    for period in periods:
        found.extend(calendar.sub_periods(period, frequency, reporting))
    return tuple(found)


def balance_period(calendar: FiscalCalendar, test_date: date, reporting: str) -> tuple[date, ...]:
    """The one statement period a balance is read at: the one ending on (or containing) the test date."""
    try:
        return (calendar.period_end_on_or_after(test_date, reporting),)
    except ValueError:
        return (test_date,)


def periods_for(
    calendar: FiscalCalendar,
    terms: TermsVersion,
    test_date: date,
    reporting: str,
    *,
    denominator: bool = False,
) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """The window's periods of the covenant's frequency, and the statements' periods to read.
    A balance-nature metric reads the statement period at the test date, whatever the window."""
    if not denominator and terms.metric is not None and terms.metric.nature == BALANCE:
        return (test_date,), balance_period(calendar, test_date, reporting)
    if denominator:
        count = terms.denominator_window_periods or terms.window_periods
        kind = terms.denominator_window_kind or TRAILING
    else:
        count, kind = terms.window_periods, terms.window_kind
    periods = window_periods(calendar, test_date, terms.frequency, count, kind)
    return periods, figure_periods(calendar, periods, terms.frequency, reporting)
