"""
The periods an agreement's covenants need statements for, on its fiscal calendar and at its
reporting frequency: the late-financials rule and the upload page ask here.

A covenant's terms are read as their *shape* (dates, frequency, windows and the schedule's
dates: thresholds play no part), so covenants drafted alike are worked out once. The test dates
follow the engine's reading: a schedule row's own date, and for a row applying thereafter every
later period end of the terms' frequency until the next row or the next version of the terms.
Each test's window (both sides of a ratio) is counted in periods of the terms' frequency; a
period finer than the statements is the statement's period containing it, a coarser one is
made of the statements' periods (a quarter tested over monthly statements is its three months).
Pure Python: no ORM, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from covenants.period_kinds import FREQUENCIES
from covenants.periods import QUARTER, FiscalCalendar

__all__ = ["TermsShape", "periods_needed", "test_dates_of"]

_DELETE, _RATIO, _YTD = "delete", "ratio", "fiscal_ytd"
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class TermsShape:
    """One version of a covenant's terms, as far as the periods it needs go."""

    effective_from: date
    action: str
    metric_kind: str
    window_periods: int
    window_kind: str
    denominator_window_periods: int | None
    denominator_window_kind: str
    schedule: tuple[tuple[date, bool], ...]  # (test date, applies thereafter), by date
    frequency: str = QUARTER


def _is_end(cal: FiscalCalendar, day: date, frequency: str) -> bool:
    try:
        return cal.is_period_end(day, frequency)
    except ValueError:  # a listed calendar does not cover the day
        return False


def _in_force(versions: Sequence[TermsShape], day: date) -> TermsShape | None:
    in_force: TermsShape | None = None
    for version in versions:
        if version.effective_from <= day and (in_force is None or version.effective_from >= in_force.effective_from):
            in_force = version
    return None if in_force is None or in_force.action == _DELETE else in_force


def _has_row(terms: TermsShape, day: date) -> bool:
    latest: tuple[date, bool] | None = None
    for row in terms.schedule:
        if row[0] <= day and (latest is None or row[0] >= latest[0]):
            latest = row
    return latest is not None and (latest[0] == day or latest[1])


def _thereafter(cal: FiscalCalendar, start: date, stop: date | None, as_of: date, frequency: str) -> list[date]:
    """The period ends of ``frequency`` from ``start`` up to ``as_of``, before ``stop``."""
    last = as_of if stop is None else min(as_of, stop - _DAY)
    if last < start:
        return []
    try:
        return cal.period_ends(frequency, start, last)
    except ValueError:
        return []


def test_dates_of(versions: Sequence[TermsShape], cal: FiscalCalendar, as_of: date) -> list[date]:
    """The test dates of a covenant up to ``as_of``, sorted (see the module's docstring)."""
    dates: set[date] = set()
    ordered = sorted(enumerate(versions), key=lambda pair: (pair[1].effective_from, pair[0]))
    for position, (_, version) in enumerate(ordered):
        next_from = ordered[position + 1][1].effective_from if position + 1 < len(ordered) else None
        rows = sorted(dict(version.schedule).items())
        for index, (day, thereafter) in enumerate(rows):
            if day <= as_of and _is_end(cal, day, version.frequency):
                dates.add(day)
            if not thereafter or version.action == _DELETE:
                continue
            stop = rows[index + 1][0] if index + 1 < len(rows) else None
            if next_from is not None and (stop is None or next_from < stop):
                stop = next_from
            dates.update(_thereafter(cal, max(day, version.effective_from), stop, as_of, version.frequency))
    return sorted(dates)


# Its name begins with "test": keep test runners from collecting it where tests import it.
test_dates_of.__test__ = False


def _window(cal: FiscalCalendar, test_date: date, frequency: str, count: int, kind: str) -> tuple[date, ...]:
    try:
        if kind == _YTD:
            return cal.fiscal_year_to_date(test_date, frequency)
        return cal.periods_in_window(test_date, frequency, max(count, 1))
    except ValueError:  # the window reaches past a listed calendar
        return ()


@lru_cache(maxsize=65536)
def _reported(cal: FiscalCalendar, period: date, frequency: str, reporting: str) -> tuple[date, ...]:
    """The statements' periods (of ``reporting``) that make up a period of ``frequency``."""
    if frequency == reporting or reporting not in FREQUENCIES:
        return (period,)
    try:
        if FREQUENCIES.index(reporting) < FREQUENCIES.index(frequency):
            return cal.sub_periods(period, frequency, reporting)
        return (cal.period_end_on_or_after(period, reporting),)
    except ValueError:
        return ()


def periods_needed(
    covenants: Iterable[Sequence[TermsShape]], *, as_of: date, calendar: FiscalCalendar, reporting: str = QUARTER
) -> frozenset[date]:
    """Every statement period (of ``reporting``) in a window the covenants test on or before
    ``as_of``, both sides of a ratio, under the terms in force for each test date that has a
    schedule row."""
    needed: set[date] = set()
    for versions in covenants:
        for test_date in test_dates_of(versions, calendar, as_of):
            terms = _in_force(versions, test_date)
            if terms is None or not _has_row(terms, test_date):
                continue
            windows = [(terms.window_periods, terms.window_kind)]
            if terms.metric_kind == _RATIO:
                windows.append(
                    (terms.denominator_window_periods or terms.window_periods, terms.denominator_window_kind)
                )
            for count, kind in windows:
                for period in _window(calendar, test_date, terms.frequency, count, kind or "trailing"):
                    needed.update(_reported(calendar, period, terms.frequency, reporting))
    return frozenset(needed)
