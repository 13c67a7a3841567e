"""Which terms and which threshold apply on a test date, and the dates a covenant is tested on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from covenants.calendar import check_fiscal_year_end_month
from covenants.periods import FiscalCalendar

from .periods import is_period_end, next_period_end
from .types import DELETE, QUARTER, CovenantSpec, ScheduleRow, TermsVersion


def terms_in_force(versions: Sequence[TermsVersion], test_date: date) -> TermsVersion | None:
    """
    The version of the terms in force on ``test_date``: the latest effective on or before it
    (on a tie, the last given). None when there is none or it deletes the covenant.
    """
    in_force: TermsVersion | None = None
    for version in versions:
        if version.effective_from <= test_date and (
            in_force is None or version.effective_from >= in_force.effective_from
        ):
            in_force = version
    if in_force is None or in_force.action == DELETE:
        return None
    return in_force


def schedule_row_for(terms: TermsVersion, test_date: date) -> ScheduleRow | None:
    """
    The schedule row that sets the threshold for ``test_date``: the row for that date, or
    else the latest earlier row that applies thereafter, unless a later row comes between.
    """
    latest: ScheduleRow | None = None
    for row in terms.schedule:
        if row.test_date <= test_date and (latest is None or row.test_date >= latest.test_date):
            latest = row
    if latest is None:
        return None
    if latest.test_date == test_date or latest.applies_thereafter:
        return latest
    return None


def test_dates_for(
    covenant: CovenantSpec,
    *,
    as_of: date,
    figure_dates: Iterable[date],
    fiscal_year_end_month: int = 12,
    calendar: FiscalCalendar | None = None,
) -> list[date]:
    """
    The period ends, of each version's frequency, on which the covenant is reported, sorted.

    The schedule's own dates up to ``as_of``; for a row that applies thereafter, each later
    period end up to ``as_of`` while its version is in force, until the next row or the
    next version of the terms; and every period end with figures, so that figures with no
    threshold show as not tested. ``calendar`` defaults to calendar months ending the fiscal
    year in ``fiscal_year_end_month``.
    """
    if calendar is None:
        check_fiscal_year_end_month(fiscal_year_end_month)
        calendar = FiscalCalendar.calendar_months(fiscal_year_end_month)
    dates: set[date] = set()
    ordered = sorted(enumerate(covenant.versions), key=lambda pair: (pair[1].effective_from, pair[0]))
    for position, (_, version) in enumerate(ordered):
        next_version_from = ordered[position + 1][1].effective_from if position + 1 < len(ordered) else None
        dates.update(_version_dates(calendar, version, next_version_from, as_of))
    frequencies = {version.frequency for version in covenant.versions} or {QUARTER}
    for day in figure_dates:
        if any(is_period_end(calendar, day, frequency) for frequency in frequencies):
            dates.add(day)
    return sorted(dates)


def _version_dates(
    calendar: FiscalCalendar, version: TermsVersion, next_version_from: date | None, as_of: date
) -> set[date]:
    """The test dates one version's schedule gives (see test_dates_for)."""
    frequency = version.frequency
    dates: set[date] = set()
    # One row per date, the last given, as schedule_row_for reads them.
    rows = sorted({row.test_date: row for row in version.schedule}.values(), key=lambda row: row.test_date)
    for index, row in enumerate(rows):
        if row.test_date <= as_of and is_period_end(calendar, row.test_date, frequency):
            dates.add(row.test_date)
        if not row.applies_thereafter or version.action == DELETE:
            continue
        stop = rows[index + 1].test_date if index + 1 < len(rows) else None
        if next_version_from is not None and (stop is None or next_version_from < stop):
            stop = next_version_from
        # Periods before the version takes effect are tested under the terms then in force.
        try:
            day = calendar.period_end_on_or_after(max(row.test_date, version.effective_from), frequency)
            while day <= as_of and (stop is None or day < stop):
                dates.add(day)
                day = next_period_end(calendar, day, frequency)
        except ValueError:  # a listed calendar ends: no period after its last is known
            continue
    return dates


# Its name begins with "test": keep test runners from collecting it where tests import it.
test_dates_for.__test__ = False  # type: ignore[attr-defined]
