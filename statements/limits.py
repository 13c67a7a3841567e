"""
The limits a statement upload for an agreement is held to, from the settings and the
agreement's own dates: the periods its statements may cover, the statements one
file may carry, and how much of a workbook is read before it is refused.

The period window stops a file (or JSON records) from writing statements for 0001-03-31 or
for a thousand years to come: each statement is evaluated and shown on the agreement's
pages, so one file of far-off quarters costs every viewer. The window runs from
``STATEMENT_PERIOD_YEARS_BEFORE`` years before the earliest date the agreement is known by
to ``STATEMENT_PERIOD_YEARS_AFTER`` years after the latest: its date (as of, effective),
its amendments' dates, the dates its covenants' terms take effect and its schedules' test
dates. Statements already on file do not widen it, so an upload cannot move it. An
agreement with none of these dates is dated by the day it was recorded in the portal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from covenants.models import Agreement, Amendment, CovenantTerms
from covenants.periods import EXPLICIT, FiscalCalendar

from .xlsx_stream import XlsxLimits

__all__ = [
    "PAGE_FILE_MAX_BYTES",
    "page_upload_max_bytes",
    "statement_period_window",
    "upload_limits_for",
    "xlsx_limits_from_settings",
]

#: A file checked on the page waits in the session between the preview and the confirmation,
#: so only files this small are taken there (a 20,000-row statement is about 1.2 MB of CSV):
#: sessions are rewritten on every request.
PAGE_FILE_MAX_BYTES = 2 * 1024 * 1024

# date() arithmetic stays clear of year 1 and year 9999 whatever the agreement's dates say.
_FIRST_YEAR, _LAST_YEAR = 2, 9990


def _years_from(day: dt.date, years: int) -> dt.date:
    year = min(max(day.year + years, _FIRST_YEAR), _LAST_YEAR)
    return day.replace(year=year, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=year)


def _known_dates(agreement: Agreement) -> list[dt.date]:
    """Every date the agreement is known by. Two queries."""
    dates = [d for d in (agreement.dated_as_of, agreement.effective_on) if d]
    amendments = Amendment.objects.filter(agreement=agreement).aggregate(
        Min("dated_as_of"), Max("dated_as_of"), Min("effective_on"), Max("effective_on")
    )
    terms = CovenantTerms.objects.filter(covenant__agreement=agreement).aggregate(
        Min("effective_from"), Max("effective_from"), Min("schedule__test_date"), Max("schedule__test_date")
    )
    dates.extend(d for d in (*amendments.values(), *terms.values()) if d)
    return dates


def _listed_bounds(cal: FiscalCalendar, frequency: str) -> tuple[dt.date, dt.date]:
    """The first and last period ends of ``frequency`` a listed calendar holds."""
    first, last = cal.years[0][0], cal.years[-1][-1]
    ends = cal.period_ends(frequency, first, last)
    return ends[0], ends[-1]


def _clamped(cal: FiscalCalendar, frequency: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The first period end on or after ``start`` and the last on or before ``end``; a listed
    calendar's own first and last where the window reaches past its list."""
    if cal.kind == EXPLICIT:
        first, last = _listed_bounds(cal, frequency)
        start, end = max(start, first), min(end, last)
        if start > end:
            return first, last
    earliest = cal.period_end_on_or_after(start, frequency)
    latest = cal.period_end_on_or_after(end, frequency)
    if latest > end:
        latest = cal.previous_period_end(end, frequency)
    return earliest, max(earliest, latest)


def statement_period_window(agreement: Agreement) -> tuple[dt.date, dt.date]:
    """The first and last period ends (of the agreement's calendar, at its reporting frequency)
    a statement for this agreement may be for."""
    dates = _known_dates(agreement)
    if not dates:
        recorded = agreement.created_at or timezone.now()
        dates = [timezone.localdate(recorded) if timezone.is_aware(recorded) else recorded.date()]
    start = _years_from(min(dates), -settings.STATEMENT_PERIOD_YEARS_BEFORE)
    end = _years_from(max(dates), settings.STATEMENT_PERIOD_YEARS_AFTER)
    return _clamped(agreement.calendar(), agreement.reporting_frequency, start, end)


def xlsx_limits_from_settings() -> XlsxLimits:
    """How much of a workbook is read before it is refused, as the settings say."""
    return XlsxLimits(
        max_style_entries=settings.STATEMENT_XLSX_MAX_STYLE_ENTRIES,
        max_shared_strings=settings.STATEMENT_XLSX_MAX_SHARED_STRINGS,
        max_cells_per_row=settings.STATEMENT_XLSX_MAX_CELLS_PER_ROW,
        max_cells=settings.STATEMENT_XLSX_MAX_CELLS,
        max_seconds=settings.STATEMENT_UPLOAD_MAX_PARSE_SECONDS,
    )


def upload_limits_for(agreement: Agreement) -> dict[str, Any]:
    """The :class:`~statements.types.UploadContext` arguments that bound an upload for this
    agreement: its period window, the statements per file, the workbook reader's limits."""
    earliest, latest = statement_period_window(agreement)
    return {
        "earliest_period": earliest,
        "latest_period": latest,
        "max_statements": settings.STATEMENT_UPLOAD_MAX_STATEMENTS,
        "xlsx_limits": xlsx_limits_from_settings(),
    }


def page_upload_max_bytes() -> int:
    """The largest file the upload page takes: the settings' limit, or less to fit the session."""
    return min(settings.STATEMENT_UPLOAD_MAX_BYTES, PAGE_FILE_MAX_BYTES)
