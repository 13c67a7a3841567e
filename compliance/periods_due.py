"""
The pure part of the late-financials rule (compliance.late_financials): which statement periods
the covenants need as of a day, on the agreement's calendar, and which of them are past their
reporting deadline, within the look-back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from django.conf import settings

from compliance import engine
from compliance.terms_shapes import shape_of
from covenants.choices import Frequency
from covenants.periods import FiscalCalendar, calendar_of
from covenants.reporting_periods import periods_needed

__all__ = ["Calendar", "agreement_calendar", "late_quarters", "periods_needed_by", "quarters_needed"]


class Calendar(Protocol):
    """What the rule reads of an agreement (an Agreement, or a row of one; ``fiscal_calendar``
    and ``reporting_frequency`` are read when it has them)."""

    pk: int
    name: str
    fiscal_year_end_month: int
    reporting_deadline_days: int


def agreement_calendar(agreement: Calendar) -> tuple[FiscalCalendar, str]:
    """The agreement's fiscal calendar and how often it reports."""
    stored = getattr(agreement, "fiscal_calendar", None)
    reporting = getattr(agreement, "reporting_frequency", None) or Frequency.QUARTER
    return calendar_of(stored, agreement.fiscal_year_end_month), reporting


def quarters_needed(
    covenants: Iterable[engine.CovenantSpec],
    *,
    as_of: dt.date,
    fiscal_year_end_month: int = 12,
    calendar: FiscalCalendar | None = None,
    reporting: str = Frequency.QUARTER,
) -> frozenset[dt.date]:
    """Every statement period (quarters, or the agreement's reporting periods) of every window the
    covenants test on or before ``as_of`` (both sides of a ratio), under the terms in force for
    each test date that has a threshold row."""
    cal = calendar or FiscalCalendar.calendar_months(fiscal_year_end_month)
    return periods_needed([shape_of(spec) for spec in covenants], as_of=as_of, calendar=cal, reporting=reporting)


def periods_needed_by(
    agreement: Calendar, covenants: Iterable[engine.CovenantSpec], *, as_of: dt.date
) -> frozenset[dt.date]:
    """:func:`quarters_needed` on the agreement's own calendar and reporting frequency."""
    cal, reporting = agreement_calendar(agreement)
    return quarters_needed(covenants, as_of=as_of, calendar=cal, reporting=reporting)


def late_quarters(
    needed: Iterable[dt.date], *, as_of: dt.date, reporting_deadline_days: int, lookback: int | None = None
) -> tuple[dt.date, ...]:
    """Of the periods needed, those whose reporting deadline (days after each period end) has
    passed by ``as_of``: the latest ``lookback`` of them (the setting by default), oldest first."""
    lookback = lookback or settings.ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS
    deadline = dt.timedelta(days=reporting_deadline_days)
    due = sorted(q for q in needed if q + deadline < as_of)
    return tuple(due[-lookback:])
