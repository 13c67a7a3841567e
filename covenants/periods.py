"""
Fiscal calendars: when an agreement's fiscal months, quarters and years end.

A period is identified by its last day. An agreement's calendar is one of:

- ``calendar_months``: fiscal years of calendar months ending with ``year_end_month`` (12 gives
  calendar quarters); quarters end every third month counting back from the year end.
- ``52_53_weeks``: years of whole weeks ending on the ``last`` given weekday of ``year_end_month``
  or the weekday ``nearest`` its last day (retailers: the Saturday nearest January 31), with
  13-week quarters split into months by a 4-4-5, 4-5-4 or 5-4-4 ``pattern``; a 53rd week goes to
  the fourth quarter and its last month.
- ``explicit``: the period ends listed for each fiscal year (12 month ends, 4 quarter ends or the
  year end alone), for calendars no rule describes. Dates outside the list are refused.

Frequencies are "month", "quarter" and "year". Pure Python: no ORM, no clock. Every answer comes
from one fiscal year's list of period ends (covenants.period_kinds), and the answers are cached:
evaluation asks the same questions hundreds of thousands of times.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from covenants import period_kinds as kinds
from covenants.period_kinds import FREQUENCIES, LAST, MONTH, MONTH_NAMES, NEAREST, PATTERNS, QUARTER, WEEKDAYS, YEAR

__all__ = [
    "calendar_of",
    "CALENDAR_MONTHS",
    "EXPLICIT",
    "FREQUENCIES",
    "LAST",
    "MONTH",
    "NEAREST",
    "QUARTER",
    "WEEKS",
    "YEAR",
    "FiscalCalendar",
    "periods_for_months",
]

CALENDAR_MONTHS, WEEKS, EXPLICIT = "calendar_months", "52_53_weeks", "explicit"
KINDS = (CALENDAR_MONTHS, WEEKS, EXPLICIT)
# A window longer than a century of months is a mistake, and walking back to it would take long.
MAX_WINDOW = 1200
_MONTHS_IN = {MONTH: 1, QUARTER: 3, YEAR: 12}
_KEYS = {
    CALENDAR_MONTHS: {"kind", "year_end_month"},
    WEEKS: {"kind", "year_end_month", "weekday", "rule", "pattern"},
    EXPLICIT: {"kind", "years"},
}


@dataclass(frozen=True)
class FiscalCalendar:
    """An agreement's fiscal calendar. Build it with :meth:`calendar_months`, :meth:`weeks`,
    :meth:`explicit` or :meth:`from_dict`; an inconsistent one raises ValueError."""

    kind: str
    year_end_month: int | None = None
    weekday: int | None = None  # 0 Monday to 6 Sunday, as date.weekday()
    rule: str | None = None
    pattern: str | None = None
    years: tuple[tuple[date, ...], ...] = ()
    # Calendars key every cache: an explicit one's hash would otherwise be recomputed per call.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        _validate(self)
        fields = (self.kind, self.year_end_month, self.weekday, self.rule, self.pattern, self.years)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[FiscalCalendar], tuple[Any, ...]]:
        # Rebuilt, not restored: a stored hash would be wrong in another process (string hashes vary).
        return FiscalCalendar, (self.kind, self.year_end_month, self.weekday, self.rule, self.pattern, self.years)

    # --- Constructors ------------------------------------------------------------------------

    @classmethod
    def calendar_months(cls, year_end_month: int = 12) -> FiscalCalendar:
        """Fiscal years of calendar months ending with ``year_end_month`` (1 to 12)."""
        if cls is FiscalCalendar and type(year_end_month) is int:  # anything else is refused as before
            return _calendar_months(year_end_month)
        return cls(CALENDAR_MONTHS, year_end_month=year_end_month)

    @classmethod
    def weeks(
        cls, year_end_month: int, weekday: int | str, rule: str = NEAREST, pattern: str = "4-4-5"
    ) -> FiscalCalendar:
        """52/53-week years ending on the ``rule`` ("last" or "nearest") ``weekday`` of ``year_end_month``."""
        return cls(WEEKS, year_end_month=year_end_month, weekday=_weekday(weekday), rule=rule, pattern=pattern)

    @classmethod
    def explicit(cls, years: Any) -> FiscalCalendar:
        """The period ends listed for each fiscal year, oldest first (dates or ISO strings)."""
        if isinstance(years, str | bytes) or not hasattr(years, "__iter__"):
            raise ValueError("years must be a list of fiscal years, each a list of period end dates.")
        return cls(EXPLICIT, years=tuple(_listed_year(number, year) for number, year in enumerate(years, 1)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FiscalCalendar:
        """A calendar from its stored form (see :meth:`to_dict`)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a fiscal calendar is stored as a mapping, not {type(data).__name__}.")
        kind = data.get("kind")
        if kind not in _KEYS:
            raise ValueError(f"unknown calendar kind {kind!r}: use one of {', '.join(map(repr, KINDS))}.")
        unknown = sorted(map(str, set(data) - _KEYS[kind]))
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))} for a {kind} calendar.")
        if kind == EXPLICIT:
            return cls.explicit(data.get("years"))
        if kind == WEEKS:
            return cls(
                WEEKS,
                year_end_month=data.get("year_end_month"),
                weekday=_weekday(data.get("weekday")),
                rule=data.get("rule"),
                pattern=data.get("pattern", "4-4-5"),
            )
        return cls(CALENDAR_MONTHS, year_end_month=data.get("year_end_month"))

    def to_dict(self) -> dict[str, Any]:
        """The calendar as JSON-ready values: :meth:`from_dict` gives it back."""
        if self.kind == EXPLICIT:
            return {"kind": EXPLICIT, "years": [[day.isoformat() for day in year] for year in self.years]}
        if self.kind == WEEKS:
            assert self.weekday is not None
            return {
                "kind": WEEKS,
                "year_end_month": self.year_end_month,
                "weekday": WEEKDAYS[self.weekday],
                "rule": self.rule,
                "pattern": self.pattern,
            }
        return {"kind": CALENDAR_MONTHS, "year_end_month": self.year_end_month}

    # --- Questions ---------------------------------------------------------------------------

    def period_ends(self, frequency: str, start: date, end: date) -> list[date]:
        """The period ends of ``frequency`` from ``start`` to ``end``, both included, oldest first."""
        return list(_period_ends(self, _frequency(frequency), start, end))

    def is_period_end(self, day: date, frequency: str) -> bool:
        """Whether ``day`` is the last day of a fiscal period of ``frequency``."""
        return _is_period_end(self, day, _frequency(frequency))

    def period_end_on_or_after(self, day: date, frequency: str) -> date:
        """The last day of the period of ``frequency`` containing ``day``."""
        return _on_or_after(self, day, _frequency(frequency))

    def previous_period_end(self, day: date, frequency: str) -> date:
        """The latest period end of ``frequency`` strictly before ``day``: the end of the period
        before the one containing ``day``."""
        return _previous(self, day, _frequency(frequency))

    def period_start(self, period_end: date, frequency: str) -> date:
        """The first day of the period of ``frequency`` ending on ``period_end``."""
        frequency = _frequency(frequency)
        _require_end(self, period_end, frequency)
        return _previous(self, period_end, frequency) + timedelta(days=1)

    def periods_in_window(self, test_date: date, frequency: str, count: int) -> tuple[date, ...]:
        """The ``count`` period ends of ``frequency`` ending on ``test_date``, oldest first (four
        quarters for "four consecutive fiscal quarters")."""
        return _window(self, test_date, _frequency(frequency), count)

    def fiscal_year_to_date(self, test_date: date, frequency: str) -> tuple[date, ...]:
        """The period ends of ``frequency`` from the first of the fiscal year through ``test_date``."""
        return _year_to_date(self, test_date, _frequency(frequency))

    def sub_periods(self, period_end: date, frequency: str, of_frequency: str) -> tuple[date, ...]:
        """The period ends of ``of_frequency`` making up the period of ``frequency`` ending on
        ``period_end`` (a quarter's three month ends), oldest first."""
        return _sub_periods(self, period_end, _frequency(frequency), _frequency(of_frequency))

    def fiscal_year_end(self, day: date) -> date:
        """The last day of the fiscal year containing ``day``."""
        return _on_or_after(self, day, YEAR)

    def describe(self) -> str:
        """The calendar in words, for the page."""
        return _describe(self)


def calendar_of(stored: Mapping[str, Any] | None, fiscal_year_end_month: int = 12) -> FiscalCalendar:
    """An agreement's calendar from what it stores: its ``to_dict()`` form, or, when nothing is
    stored, calendar months ending the fiscal year in ``fiscal_year_end_month``."""
    if stored:
        return _stored_calendar(tuple(sorted((k, _freeze(v)) for k, v in stored.items())))
    return FiscalCalendar.calendar_months(fiscal_year_end_month)


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# One instance per year end: the caches keyed by calendar then find it by identity, not by
# comparing two equal calendars field by field (some 80,000 comparisons per 1,000 agreements).
@lru_cache(maxsize=16)
def _calendar_months(year_end_month: int) -> FiscalCalendar:
    return FiscalCalendar(CALENDAR_MONTHS, year_end_month=year_end_month)


# Evaluations ask for an agreement's calendar once per agreement: parsing the stored form is cached.
@lru_cache(maxsize=1024)
def _stored_calendar(items: tuple[tuple[str, Any], ...]) -> FiscalCalendar:
    return FiscalCalendar.from_dict({key: _thaw(value) for key, value in items})


def periods_for_months(months: int, frequency: str) -> int:
    """How many periods of ``frequency`` a window stated in months covers ("six month period"
    on quarterly figures: 2); refuses a window that is not a whole number of them."""
    frequency = _frequency(frequency)
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"a window is a positive whole number of months, not {months!r}.")
    count, left = divmod(months, _MONTHS_IN[frequency])
    if left or not count:
        raise ValueError(f"{months} months is not a whole number of fiscal {frequency}s.")
    return count


# --- Validation --------------------------------------------------------------------------------


def _validate(cal: FiscalCalendar) -> None:
    if cal.kind not in KINDS:
        raise ValueError(f"unknown calendar kind {cal.kind!r}: use one of {', '.join(map(repr, KINDS))}.")
    given = {
        "year_end_month": cal.year_end_month,
        "weekday": cal.weekday,
        "rule": cal.rule,
        "pattern": cal.pattern,
        "years": cal.years or None,
    }
    unused = [name for name, value in given.items() if value is not None and name not in _KEYS[cal.kind]]
    if unused:
        raise ValueError(f"a {cal.kind} calendar takes no {', '.join(unused)}.")
    if cal.kind == EXPLICIT:
        _validate_explicit(cal.years)
        return
    month = cal.year_end_month
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"year_end_month must be 1 to 12, not {month!r}.")
    if cal.kind == WEEKS:
        if isinstance(cal.weekday, bool) or not isinstance(cal.weekday, int) or not 0 <= cal.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {cal.weekday!r}.")
        if cal.rule not in (LAST, NEAREST):
            raise ValueError(f"rule must be 'last' or 'nearest', not {cal.rule!r}.")
        if cal.pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {', '.join(map(repr, PATTERNS))}, not {cal.pattern!r}.")


def _validate_explicit(years: tuple[tuple[date, ...], ...]) -> None:
    if not years:
        raise ValueError("an explicit calendar lists at least one fiscal year.")
    size = len(years[0])
    previous: tuple[date, int, int] | None = None
    for number, year in enumerate(years, 1):
        if len(year) not in (1, 4, 12):
            raise ValueError(
                f"fiscal year {number} lists {len(year)} dates: list 12 month ends, 4 quarter ends or the year end."
            )
        if len(year) != size:
            raise ValueError(f"fiscal year {number} lists {len(year)} dates, fiscal year 1 lists {size}: list as many.")
        for place, day in enumerate(year, 1):
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"fiscal year {number}, period {place}: {day!r} is not a date.")
            if previous is not None and day <= previous[0]:
                raise ValueError(
                    f"the list is not ascending: {day.isoformat()} (fiscal year {number}, period {place}) "
                    f"comes after {previous[0].isoformat()} (fiscal year {previous[1]}, period {previous[2]})."
                )
            previous = (day, number, place)


def _listed_year(number: int, year: Any) -> tuple[date, ...]:
    if isinstance(year, str | bytes | Mapping) or not hasattr(year, "__iter__"):
        raise ValueError(f"fiscal year {number} must be a list of period end dates, not {year!r}.")
    return tuple(_listed_day(number, place, day) for place, day in enumerate(year, 1))


def _listed_day(number: int, place: int, day: Any) -> date:
    if isinstance(day, date) and not isinstance(day, datetime):
        return day
    if isinstance(day, str):
        try:
            return date.fromisoformat(day)
        except ValueError:
            pass
    raise ValueError(f"fiscal year {number}, period {place}: {day!r} is not a date (write YYYY-MM-DD).")


def _weekday(value: Any) -> int:
    if isinstance(value, str):
        if value.lower() in WEEKDAYS:
            return WEEKDAYS.index(value.lower())
        raise ValueError(f"unknown weekday {value!r}: use a weekday's English name or 0 (Monday) to 6 (Sunday).")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday) or a weekday's name, not {value!r}.")
    return value


def _frequency(frequency: str) -> str:
    if frequency not in _MONTHS_IN:
        raise ValueError(f"unknown frequency {frequency!r}: use 'month', 'quarter' or 'year'.")
    return frequency


# --- The answers, cached -----------------------------------------------------------------------
# Module functions rather than cached methods, so that a cache holds calendars (small, hashable)
# and not bound methods.


@lru_cache(maxsize=65536)
def _year_of(cal: FiscalCalendar, day: date) -> int:
    """The fiscal year containing ``day``: a calendar year for the rule kinds, an index for explicit lists."""
    if cal.kind == CALENDAR_MONTHS:
        assert cal.year_end_month is not None
        return kinds.month_calendar_year_of(day, cal.year_end_month)
    if cal.kind == WEEKS:
        assert cal.year_end_month is not None and cal.weekday is not None and cal.rule is not None
        return kinds.week_calendar_year_of(day, cal.year_end_month, cal.weekday, cal.rule)
    first, last = cal.years[0][0], cal.years[-1][-1]
    if day < first:
        raise ValueError(f"{day.isoformat()} is before the first period end the calendar lists ({first.isoformat()}).")
    if day > last:
        raise ValueError(f"{day.isoformat()} is after the last period end the calendar lists ({last.isoformat()}).")
    return bisect_left([year[-1] for year in cal.years], day)


@lru_cache(maxsize=16384)
def _year_ends(cal: FiscalCalendar, year: int, frequency: str) -> tuple[date, ...]:
    """Fiscal year ``year``'s period ends of ``frequency``, oldest first, the last its year end."""
    if cal.kind == CALENDAR_MONTHS:
        assert cal.year_end_month is not None
        return kinds.month_calendar_ends(year, cal.year_end_month, frequency)
    if cal.kind == WEEKS:
        assert cal.year_end_month is not None and cal.weekday is not None
        assert cal.rule is not None and cal.pattern is not None
        return kinds.week_calendar_ends(year, cal.year_end_month, cal.weekday, cal.rule, cal.pattern, frequency)
    if year < 0:
        first = cal.years[0][0].isoformat()
        raise ValueError(f"the calendar lists no period before {first}, so where that period starts is not known.")
    return kinds.explicit_ends(cal.years[year], frequency)


@lru_cache(maxsize=65536)
def _is_period_end(cal: FiscalCalendar, day: date, frequency: str) -> bool:
    ends = _year_ends(cal, _year_of(cal, day), frequency)
    return ends[bisect_left(ends, day)] == day


@lru_cache(maxsize=65536)
def _on_or_after(cal: FiscalCalendar, day: date, frequency: str) -> date:
    ends = _year_ends(cal, _year_of(cal, day), frequency)
    return ends[bisect_left(ends, day)]  # the year's last end is on or after any day in it


@lru_cache(maxsize=65536)
def _previous(cal: FiscalCalendar, day: date, frequency: str) -> date:
    year = _year_of(cal, day)
    ends = _year_ends(cal, year, frequency)
    index = bisect_left(ends, day)
    return ends[index - 1] if index else _year_ends(cal, year - 1, frequency)[-1]


def _require_end(cal: FiscalCalendar, day: date, frequency: str) -> None:
    if not _is_period_end(cal, day, frequency):
        raise ValueError(f"{day.isoformat()} is not the last day of a fiscal {frequency}.")


@lru_cache(maxsize=8192)
def _period_ends(cal: FiscalCalendar, frequency: str, start: date, end: date) -> tuple[date, ...]:
    if start > end:
        return ()
    found: list[date] = []
    for year in range(_year_of(cal, start), _year_of(cal, end) + 1):
        found.extend(day for day in _year_ends(cal, year, frequency) if start <= day <= end)
    return tuple(found)


@lru_cache(maxsize=65536)
def _window(cal: FiscalCalendar, test_date: date, frequency: str, count: int) -> tuple[date, ...]:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_WINDOW:
        raise ValueError(f"a window covers 1 to {MAX_WINDOW} periods, not {count!r}.")
    _require_end(cal, test_date, frequency)
    year = _year_of(cal, test_date)
    ends = _year_ends(cal, year, frequency)
    picked = list(ends[: bisect_left(ends, test_date) + 1])
    while len(picked) < count:
        year -= 1
        picked[:0] = _year_ends(cal, year, frequency)
    return tuple(picked[-count:])


@lru_cache(maxsize=65536)
def _year_to_date(cal: FiscalCalendar, test_date: date, frequency: str) -> tuple[date, ...]:
    _require_end(cal, test_date, frequency)
    ends = _year_ends(cal, _year_of(cal, test_date), frequency)
    return ends[: bisect_left(ends, test_date) + 1]


@lru_cache(maxsize=65536)
def _sub_periods(cal: FiscalCalendar, period_end: date, frequency: str, of_frequency: str) -> tuple[date, ...]:
    if FREQUENCIES.index(of_frequency) > FREQUENCIES.index(frequency):
        raise ValueError(f"a fiscal {frequency} is not made of fiscal {of_frequency}s: they are longer.")
    _require_end(cal, period_end, frequency)
    # Within the fiscal year, so that a year's first period needs nothing before the year.
    year = _year_of(cal, period_end)
    ends = _year_ends(cal, year, frequency)
    index = bisect_left(ends, period_end)
    after = ends[index - 1] if index else None
    return tuple(
        day for day in _year_ends(cal, year, of_frequency) if (after is None or after < day) and day <= period_end
    )


def _describe(cal: FiscalCalendar) -> str:
    if cal.kind == EXPLICIT:
        sizes = {12: "month ends", 4: "quarter ends", 1: "year ends"}
        count = len(cal.years)
        return (
            f"Fiscal periods as listed: {sizes[len(cal.years[0])]} for {count} fiscal year{'s' if count > 1 else ''}, "
            f"{cal.years[0][0].isoformat()} to {cal.years[-1][-1].isoformat()}"
        )
    assert cal.year_end_month is not None
    month = MONTH_NAMES[cal.year_end_month - 1]
    if cal.kind == WEEKS:
        assert cal.weekday is not None
        weekday = WEEKDAYS[cal.weekday].capitalize()
        if cal.rule == LAST:
            ending = f"the last {weekday} of {month}"
        elif cal.year_end_month == 2:
            ending = f"the {weekday} nearest the last day of February"
        else:
            ending = f"the {weekday} nearest {month} {calendar.monthrange(2001, cal.year_end_month)[1]}"
        return (
            f"52/53-week fiscal year ending on {ending}; {cal.pattern} week quarters, "
            "a 53rd week falling in the fourth quarter"
        )
    quarter_months = [MONTH_NAMES[(cal.year_end_month + 3 * k - 1) % 12] for k in (1, 2, 3, 4)]
    return (
        f"Fiscal year ending on the last day of {month}; fiscal quarters end on the last day of "
        f"{', '.join(quarter_months[:3])} and {quarter_months[3]}"
    )
