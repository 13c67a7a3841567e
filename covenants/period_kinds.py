"""
The period ends of one fiscal year, for each kind of fiscal calendar (covenants.periods asks).

Pure functions of plain values, cached: a portfolio's evaluation asks for the same few fiscal
years hundreds of thousands of times. Every function returns a fiscal year's period ends of one
frequency, oldest first, the last being the fiscal year end, so that covenants.periods can
answer every question the same way whatever the kind.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

__all__ = [
    "FREQUENCIES",
    "LAST",
    "MONTH",
    "MONTH_NAMES",
    "NEAREST",
    "PATTERNS",
    "QUARTER",
    "WEEKDAYS",
    "YEAR",
    "explicit_ends",
    "month_calendar_ends",
    "month_calendar_year_of",
    "week_calendar_ends",
    "week_calendar_year_end",
    "week_calendar_year_of",
]

MONTH, QUARTER, YEAR = "month", "quarter", "year"
#: Finest first: a frequency's periods are made of whole periods of the ones before it.
FREQUENCIES = (MONTH, QUARTER, YEAR)

# How a 52/53-week year's last day is found from its month: the last given weekday of the month,
# or the given weekday nearest the month's last day (which may fall early in the next month).
LAST, NEAREST = "last", "nearest"
#: Weeks in each month of a quarter, for each quarter pattern.
PATTERNS: dict[str, tuple[int, int, int]] = {"4-4-5": (4, 4, 5), "4-5-4": (4, 5, 4), "5-4-4": (5, 4, 4)}
# English whatever the locale: these words are stored and shown.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS_PER_PERIOD = {MONTH: 1, QUARTER: 3, YEAR: 12}
_DAY = timedelta(days=1)


@lru_cache(maxsize=4096)
def _month_end(index: int) -> date:
    """The last day of the month ``index`` months after January of year 0 (index = year * 12 + month - 1)."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])


# --- Calendar months ---------------------------------------------------------------------------
# Fiscal year Y ends on the last day of the year end month in calendar year Y.


def month_calendar_year_of(day: date, year_end_month: int) -> int:
    """The fiscal year containing ``day``, named by the calendar year it ends in."""
    return day.year if day.month <= year_end_month else day.year + 1


@lru_cache(maxsize=8192)
def month_calendar_ends(year: int, year_end_month: int, frequency: str) -> tuple[date, ...]:
    """Fiscal year ``year``'s month, quarter or year ends: every 1, 3 or 12 months back from its end."""
    step = _MONTHS_PER_PERIOD[frequency]
    last = year * 12 + year_end_month - 1
    return tuple(_month_end(last - back) for back in range(12 - step, -1, -step))


# --- 52/53-week years --------------------------------------------------------------------------
# Fiscal year Y ends on the weekday found from the end of month ``year_end_month`` of calendar
# year Y. Quarters are 13 weeks; the 53rd week, when there is one, goes to the fourth quarter and
# to that quarter's last month.


@lru_cache(maxsize=4096)
def week_calendar_year_end(year: int, year_end_month: int, weekday: int, rule: str) -> date:
    """The last day of 52/53-week fiscal year ``year``."""
    month_end = _month_end(year * 12 + year_end_month - 1)
    if rule == LAST:
        return month_end - timedelta(days=(month_end.weekday() - weekday) % 7)
    # Nearest: within three days either side of the month's last day (seven candidates, no ties).
    ahead = (weekday - month_end.weekday()) % 7
    return month_end + timedelta(days=ahead - 7 if ahead > 3 else ahead)


def week_calendar_year_of(day: date, year_end_month: int, weekday: int, rule: str) -> int:
    """The 52/53-week fiscal year containing ``day``."""
    year = day.year
    if day > week_calendar_year_end(year, year_end_month, weekday, rule):
        return year + 1
    if day <= week_calendar_year_end(year - 1, year_end_month, weekday, rule):
        return year - 1
    return year


@lru_cache(maxsize=8192)
def week_calendar_ends(
    year: int, year_end_month: int, weekday: int, rule: str, pattern: str, frequency: str
) -> tuple[date, ...]:
    """Fiscal year ``year``'s month, quarter or year ends in a 52/53-week calendar."""
    end = week_calendar_year_end(year, year_end_month, weekday, rule)
    if frequency == YEAR:
        return (end,)
    start = week_calendar_year_end(year - 1, year_end_month, weekday, rule) + _DAY
    if frequency == QUARTER:
        weeks: list[int] = [13, 26, 39]
    else:
        weeks, total = [], 0
        for length in PATTERNS[pattern] * 4:
            total += length
            weeks.append(total)
        weeks.pop()  # the last month ends with the year, 53rd week included
    return (*(start + timedelta(weeks=count) - _DAY for count in weeks), end)


# --- Explicit lists ----------------------------------------------------------------------------


def explicit_ends(listed: tuple[date, ...], frequency: str) -> tuple[date, ...]:
    """A fiscal year's period ends of ``frequency`` from its listed ends (12 month ends, 4 quarter
    ends or its year end); every third month end is a quarter end."""
    if frequency == YEAR:
        return listed[-1:]
    if frequency == QUARTER and len(listed) == 12:
        return listed[2::3]
    if len(listed) == 12 // _MONTHS_PER_PERIOD[frequency]:
        return listed
    kind = {4: "quarter ends", 1: "year ends"}.get(len(listed), f"{len(listed)} dates a year")
    raise ValueError(f"this calendar lists {kind} only: it has no fiscal {frequency} ends.")
