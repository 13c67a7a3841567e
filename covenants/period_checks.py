"""
Checks of dates against an agreement's fiscal calendar, in the words the portal refuses them
with, and the reading of test dates as printed ("June, 2019").

Pure Python over :class:`covenants.periods.FiscalCalendar`: the upload, the schedule's rows and
the forms say the same thing because they ask here.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from covenants.periods import CALENDAR_MONTHS, MONTH, QUARTER, YEAR, FiscalCalendar

__all__ = [
    "PERIOD_NOUNS",
    "nearest_period_ends",
    "nearest_words",
    "not_a_period_end",
    "read_printed_date",
]

#: What a period of each frequency is called on pages and in messages.
PERIOD_NOUNS = {MONTH: "fiscal month", QUARTER: "fiscal quarter", YEAR: "fiscal year"}

_MONTHS = tuple(calendar.month_name)[1:]
_MONTH_NUMBERS = {name.lower(): number for number, name in enumerate(_MONTHS, 1)}
_MONTH_NUMBERS.update({name[:3].lower(): number for number, name in enumerate(_MONTHS, 1)})


def nearest_period_ends(cal: FiscalCalendar, day: date, frequency: str) -> tuple[date | None, date | None]:
    """The period ends of ``frequency`` on either side of ``day`` (None where the calendar, a
    listed one, has none on that side)."""
    before: date | None
    after: date | None
    try:
        before = cal.previous_period_end(day, frequency)
    except ValueError:
        before = None
    try:
        after = cal.period_end_on_or_after(day, frequency)
    except ValueError:
        after = None
    if after == day:  # ``day`` is one: the nearest on either side are its neighbours
        try:
            after = cal.period_end_on_or_after(day + (date.resolution), frequency)
        except ValueError:
            after = None
    return before, after


def nearest_words(cal: FiscalCalendar, day: date, frequency: str) -> str:
    """``"the nearest are 2023-09-30 and 2023-12-30"``, or what the calendar says when it has none."""
    found = [d.isoformat() for d in nearest_period_ends(cal, day, frequency) if d is not None]
    if not found:
        return "the calendar lists no period ends near it"
    if len(found) == 1:
        return f"the nearest is {found[0]}"
    return f"the nearest are {found[0]} and {found[1]}"


def not_a_period_end(cal: FiscalCalendar, day: date, frequency: str) -> str | None:
    """None when ``day`` ends a period of ``frequency`` on the calendar; otherwise why not, naming
    the nearest period ends: "2023-12-31 is not the last day of a fiscal quarter (52/53-week
    fiscal year ...; the nearest are 2023-09-30 and 2023-12-30)"."""
    try:
        if cal.is_period_end(day, frequency):
            return None
    except ValueError:
        pass
    noun = PERIOD_NOUNS.get(frequency, frequency)
    described = cal.describe() if cal.kind != CALENDAR_MONTHS or frequency != MONTH else "calendar month ends"
    return f"{day.isoformat()} is not the last day of a {noun} ({described}; {nearest_words(cal, day, frequency)})"


# --- Dates as printed -----------------------------------------------------------------------

_BLANK_DAY = re.compile(r"^\s*([A-Za-z]+)\.?\s+_+\s*,?\s*(\d{4})\s*$")
_MONTH_YEAR = re.compile(r"^\s*([A-Za-z]+)\.?\s*,?\s*(\d{4})\s*$")
_FULL = re.compile(r"^\s*([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def _month(name: str) -> int | None:
    return _MONTH_NUMBERS.get(name.lower())


def read_printed_date(text: str) -> tuple[date | None, str]:
    """
    A test date as an agreement prints it, and how it was read (empty when nothing needed
    reading): "June 30, 2019" is 2019-06-30; "June, 2019" has no day and is read as the last day
    of June 2019; "January __, 2000" leaves its day blank and is not read as any date.
    Text that is no date gives (None, why).
    """
    if (match := _ISO.match(text or "")) is not None:
        try:
            return date(int(match[1]), int(match[2]), int(match[3])), ""
        except ValueError:
            return None, f"{text.strip()!r} is not a date: there is no such day"
    if (match := _BLANK_DAY.match(text or "")) is not None and _month(match[1]):
        return None, "day left blank"
    if (match := _FULL.match(text or "")) is not None and (month := _month(match[1])):
        try:
            return date(int(match[3]), month, int(match[2])), ""
        except ValueError:
            return None, f"{text.strip()!r} is not a date: there is no such day"
    if (match := _MONTH_YEAR.match(text or "")) is not None and (month := _month(match[1])):
        year = int(match[2])
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last, f"no day printed: read as the last day of {_MONTHS[month - 1]} {year}"
    return None, f"{(text or '').strip()!r} is not a date the portal can read"
