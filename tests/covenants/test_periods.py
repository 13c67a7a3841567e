"""Fiscal calendars (covenants.periods): calendar months as today, 52/53-week years, 4-4-5 months,
explicit lists, and windows over them. Pure Python: no database."""

from __future__ import annotations

import copy
import pickle
from datetime import date, timedelta

import pytest

from covenants.periods import MONTH, QUARTER, YEAR, FiscalCalendar, periods_for_months


def _quarterly_calendar_module():
    # The quarterly calendar as it was, plain month arithmetic: the oracle calendar months must equal.
    from tests.covenants import quarterly_oracle

    return quarterly_oracle


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


# --- Calendar months equal the quarterly-only calendar -----------------------------------------


@pytest.mark.parametrize("year_end_month", range(1, 13))
def test_calendar_months_answer_as_the_quarterly_calendar_does(year_end_month: int) -> None:
    old = _quarterly_calendar_module()
    cal = FiscalCalendar.calendar_months(year_end_month)
    first, last = date(1995, 1, 1), date(2035, 12, 31)
    for day in _days(first, last):
        assert cal.is_period_end(day, QUARTER) == old.is_fiscal_quarter_end(day, year_end_month), day
        assert cal.period_end_on_or_after(day, QUARTER) == old.quarter_end_on_or_after(day, year_end_month), day
        assert cal.previous_period_end(day, QUARTER) == old.previous_quarter_end(day, year_end_month), day
    assert cal.period_ends(QUARTER, first, last) == old.quarter_ends_between(first, last, year_end_month)
    for start in _days(date(1999, 11, 1), date(2001, 2, 28)):
        end = start + timedelta(days=(start.toordinal() * 37) % 800)
        assert cal.period_ends(QUARTER, start, end) == old.quarter_ends_between(start, end, year_end_month)
    for quarter_end in old.quarter_ends_between(date(1997, 1, 1), last, year_end_month):
        for count in range(1, 9):
            assert cal.periods_in_window(quarter_end, QUARTER, count) == old.quarter_ends_in_window(
                quarter_end, count, kind=old.TRAILING, fiscal_year_end_month=year_end_month
            )
        assert cal.fiscal_year_to_date(quarter_end, QUARTER) == old.quarter_ends_in_window(
            quarter_end, 1, kind=old.FISCAL_YTD, fiscal_year_end_month=year_end_month
        )


def test_a_window_must_end_on_a_period_end_as_before() -> None:
    old = _quarterly_calendar_module()
    with pytest.raises(ValueError, match="2000-02-29 is not the last day of a fiscal quarter"):
        old.quarter_ends_in_window(date(2000, 2, 29), 2)
    with pytest.raises(ValueError, match="2000-02-29 is not the last day of a fiscal quarter"):
        FiscalCalendar.calendar_months(12).periods_in_window(date(2000, 2, 29), QUARTER, 2)


# --- Calendar months: months, years, windows ---------------------------------------------------


def test_month_ends_and_a_june_fiscal_year() -> None:
    cal = FiscalCalendar.calendar_months(6)
    assert cal.period_ends(MONTH, date(2000, 1, 15), date(2000, 4, 30)) == [
        date(2000, 1, 31),
        date(2000, 2, 29),
        date(2000, 3, 31),
        date(2000, 4, 30),
    ]
    assert cal.is_period_end(date(2000, 2, 29), MONTH)
    assert not cal.is_period_end(date(2000, 2, 28), MONTH)
    assert cal.fiscal_year_end(date(2000, 7, 1)) == date(2001, 6, 30)
    assert cal.fiscal_year_end(date(2000, 6, 30)) == date(2000, 6, 30)
    assert cal.period_ends(YEAR, date(1999, 1, 1), date(2001, 12, 31)) == [
        date(1999, 6, 30),
        date(2000, 6, 30),
        date(2001, 6, 30),
    ]
    assert cal.period_start(date(2000, 9, 30), QUARTER) == date(2000, 7, 1)
    assert cal.period_start(date(2001, 6, 30), YEAR) == date(2000, 7, 1)


def test_trailing_twelve_months_and_two_quarters() -> None:
    cal = FiscalCalendar.calendar_months(12)
    ttm = cal.periods_in_window(date(2000, 3, 31), MONTH, 12)
    assert ttm[0] == date(1999, 4, 30) and ttm[-1] == date(2000, 3, 31) and len(ttm) == 12
    assert cal.periods_in_window(date(2000, 3, 31), QUARTER, 2) == (date(1999, 12, 31), date(2000, 3, 31))
    assert cal.periods_in_window(date(2000, 12, 31), YEAR, 3) == (
        date(1998, 12, 31),
        date(1999, 12, 31),
        date(2000, 12, 31),
    )


def test_fiscal_year_to_date() -> None:
    cal = FiscalCalendar.calendar_months(3)
    assert cal.fiscal_year_to_date(date(2000, 9, 30), QUARTER) == (date(2000, 6, 30), date(2000, 9, 30))
    assert cal.fiscal_year_to_date(date(2000, 5, 31), MONTH) == (date(2000, 4, 30), date(2000, 5, 31))
    assert cal.fiscal_year_to_date(date(2000, 3, 31), YEAR) == (date(2000, 3, 31),)


def test_sub_periods_of_a_quarter_and_a_year() -> None:
    cal = FiscalCalendar.calendar_months(12)
    assert cal.sub_periods(date(2000, 3, 31), QUARTER, MONTH) == (
        date(2000, 1, 31),
        date(2000, 2, 29),
        date(2000, 3, 31),
    )
    assert cal.sub_periods(date(2000, 12, 31), YEAR, QUARTER) == (
        date(2000, 3, 31),
        date(2000, 6, 30),
        date(2000, 9, 30),
        date(2000, 12, 31),
    )
    assert cal.sub_periods(date(2000, 3, 31), QUARTER, QUARTER) == (date(2000, 3, 31),)
    with pytest.raises(ValueError, match="a fiscal quarter is not made of fiscal years"):
        cal.sub_periods(date(2000, 12, 31), QUARTER, YEAR)
    with pytest.raises(ValueError, match="2000-02-29 is not the last day of a fiscal quarter"):
        cal.sub_periods(date(2000, 2, 29), QUARTER, MONTH)


# --- 52/53-week years --------------------------------------------------------------------------


SATURDAY_NEAREST_DECEMBER_31 = FiscalCalendar.weeks(12, "saturday", "nearest", "4-4-5")


def test_a_quarter_ends_on_2023_12_30() -> None:
    cal = SATURDAY_NEAREST_DECEMBER_31
    assert cal.period_ends(QUARTER, date(2023, 1, 1), date(2024, 1, 31)) == [
        date(2023, 4, 1),
        date(2023, 7, 1),
        date(2023, 9, 30),
        date(2023, 12, 30),
    ]
    assert cal.is_period_end(date(2023, 12, 30), QUARTER)
    assert not cal.is_period_end(date(2023, 12, 31), QUARTER)
    assert cal.fiscal_year_end(date(2023, 12, 31)) == date(2024, 12, 28)
    assert cal.period_start(date(2023, 12, 30), YEAR) == date(2023, 1, 1)


def test_a_53_week_year_has_a_14_week_fourth_quarter() -> None:
    cal = SATURDAY_NEAREST_DECEMBER_31
    # December 31, 2020 is a Thursday: the year ends on Saturday January 2, 2021, 53 weeks after 2019-12-28.
    assert cal.fiscal_year_end(date(2020, 12, 31)) == date(2021, 1, 2)
    assert cal.period_start(date(2021, 1, 2), YEAR) == date(2019, 12, 29)
    quarters = cal.sub_periods(date(2021, 1, 2), YEAR, QUARTER)
    assert quarters == (date(2020, 3, 28), date(2020, 6, 27), date(2020, 9, 26), date(2021, 1, 2))
    lengths = [(end - cal.period_start(end, QUARTER)).days + 1 for end in quarters]
    assert lengths == [91, 91, 91, 98]
    # 4-4-5 months, the 53rd week in the last month: 4, 4 and 6 weeks.
    months = cal.sub_periods(date(2021, 1, 2), QUARTER, MONTH)
    assert months == (date(2020, 10, 24), date(2020, 11, 21), date(2021, 1, 2))


def test_4_4_5_month_ends() -> None:
    months = SATURDAY_NEAREST_DECEMBER_31.period_ends(MONTH, date(2023, 1, 1), date(2023, 12, 30))
    assert months == [
        date(2023, 1, 28),
        date(2023, 2, 25),
        date(2023, 4, 1),
        date(2023, 4, 29),
        date(2023, 5, 27),
        date(2023, 7, 1),
        date(2023, 7, 29),
        date(2023, 8, 26),
        date(2023, 9, 30),
        date(2023, 10, 28),
        date(2023, 11, 25),
        date(2023, 12, 30),
    ]


@pytest.mark.parametrize(("pattern", "weeks"), [("4-4-5", [4, 4, 5]), ("4-5-4", [4, 5, 4]), ("5-4-4", [5, 4, 4])])
def test_quarter_patterns(pattern: str, weeks: list[int]) -> None:
    cal = FiscalCalendar.weeks(12, "saturday", "nearest", pattern)
    months = cal.sub_periods(date(2023, 4, 1), QUARTER, MONTH)
    assert [(end - cal.period_start(end, MONTH)).days // 7 + 1 for end in months] == weeks
    assert months[-1] == date(2023, 4, 1)


def test_retailer_saturday_nearest_january_31() -> None:
    cal = FiscalCalendar.weeks(1, "saturday", "nearest")
    assert cal.describe() == (
        "52/53-week fiscal year ending on the Saturday nearest January 31; "
        "4-4-5 week quarters, a 53rd week falling in the fourth quarter"
    )
    # January 31, 2024 is a Wednesday: the year ends on Saturday February 3, 53 weeks after 2023-01-28.
    assert cal.fiscal_year_end(date(2024, 1, 31)) == date(2024, 2, 3)
    assert cal.fiscal_year_end(date(2024, 2, 4)) == date(2025, 2, 1)
    assert cal.period_start(date(2024, 2, 3), YEAR) == date(2023, 1, 29)
    assert cal.periods_in_window(date(2024, 2, 3), QUARTER, 4)[0] == date(2023, 4, 29)
    assert cal.previous_period_end(date(2024, 2, 3), QUARTER) == date(2023, 10, 28)


def test_last_saturday_of_september() -> None:
    cal = FiscalCalendar.weeks(9, 5, "last")
    assert cal.describe().startswith("52/53-week fiscal year ending on the last Saturday of September")
    assert cal.fiscal_year_end(date(2023, 1, 1)) == date(2023, 9, 30)
    assert cal.fiscal_year_end(date(2023, 10, 1)) == date(2024, 9, 28)
    assert cal.period_start(date(2023, 9, 30), YEAR) == date(2022, 9, 25)  # after the last Saturday of 2022


@pytest.mark.parametrize("rule", ["last", "nearest"])
@pytest.mark.parametrize("month", [1, 2, 6, 12])
def test_every_week_year_is_52_or_53_weeks_of_13_week_quarters(rule: str, month: int) -> None:
    cal = FiscalCalendar.weeks(month, "sunday", rule, "5-4-4")
    for year_end in cal.period_ends(YEAR, date(1990, 1, 1), date(2040, 12, 31)):
        start = cal.period_start(year_end, YEAR)
        assert (year_end - start).days + 1 in (364, 371)
        assert year_end.weekday() == 6
        quarters = cal.sub_periods(year_end, YEAR, QUARTER)
        assert [(q - cal.period_start(q, QUARTER)).days + 1 for q in quarters[:3]] == [91, 91, 91]
        months = cal.sub_periods(year_end, YEAR, MONTH)
        assert len(months) == 12 and months[2::3] == quarters


# --- Explicit lists ----------------------------------------------------------------------------


EXPLICIT_QUARTERS = [
    ["2020-03-28", "2020-06-27", "2020-09-26", "2021-01-02"],
    ["2021-04-03", "2021-07-03", "2021-10-02", "2022-01-01"],
]


def test_explicit_quarter_ends() -> None:
    cal = FiscalCalendar.explicit(EXPLICIT_QUARTERS)
    assert cal.is_period_end(date(2020, 3, 28), QUARTER)
    assert cal.periods_in_window(date(2021, 7, 3), QUARTER, 4) == (
        date(2020, 9, 26),
        date(2021, 1, 2),
        date(2021, 4, 3),
        date(2021, 7, 3),
    )
    assert cal.fiscal_year_to_date(date(2021, 7, 3), QUARTER) == (date(2021, 4, 3), date(2021, 7, 3))
    assert cal.period_start(date(2021, 4, 3), QUARTER) == date(2021, 1, 3)
    assert cal.fiscal_year_end(date(2021, 1, 3)) == date(2022, 1, 1)
    assert cal.period_ends(YEAR, date(2020, 3, 28), date(2022, 1, 1)) == [date(2021, 1, 2), date(2022, 1, 1)]
    assert cal.describe() == "Fiscal periods as listed: quarter ends for 2 fiscal years, 2020-03-28 to 2022-01-01"


def test_explicit_calendars_know_only_what_they_list() -> None:
    cal = FiscalCalendar.explicit(EXPLICIT_QUARTERS)
    with pytest.raises(ValueError, match=r"2022-01-02 is after the last period end the calendar lists \(2022-01-01\)"):
        cal.period_end_on_or_after(date(2022, 1, 2), QUARTER)
    with pytest.raises(ValueError, match=r"2020-01-01 is before the first period end the calendar lists"):
        cal.is_period_end(date(2020, 1, 1), QUARTER)
    with pytest.raises(ValueError, match="lists no period before 2020-03-28"):
        cal.period_start(date(2020, 3, 28), QUARTER)
    with pytest.raises(ValueError, match="lists quarter ends only: it has no fiscal month ends"):
        cal.period_ends(MONTH, date(2020, 4, 1), date(2020, 12, 31))


def test_explicit_month_ends_give_quarters_every_third_month() -> None:
    year = [date(2020, month, 28).isoformat() for month in range(1, 13)]
    cal = FiscalCalendar.explicit([year])
    assert cal.sub_periods(date(2020, 6, 28), QUARTER, MONTH) == (
        date(2020, 4, 28),
        date(2020, 5, 28),
        date(2020, 6, 28),
    )
    assert cal.fiscal_year_end(date(2020, 2, 1)) == date(2020, 12, 28)


# --- Storing and refusing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cal",
    [
        FiscalCalendar.calendar_months(3),
        FiscalCalendar.weeks(1, "saturday", "nearest", "5-4-4"),
        FiscalCalendar.explicit(EXPLICIT_QUARTERS),
    ],
)
def test_a_calendar_comes_back_from_its_dict(cal: FiscalCalendar) -> None:
    again = FiscalCalendar.from_dict(cal.to_dict())
    assert again == cal and hash(again) == hash(cal)
    assert {cal: 1}[again] == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "lunar"}, "unknown calendar kind 'lunar'"),
        ({"kind": "calendar_months", "year_end_month": 13}, "year_end_month must be 1 to 12, not 13"),
        ({"kind": "calendar_months", "year_end_month": "12"}, "year_end_month must be 1 to 12, not '12'"),
        ({"kind": "calendar_months", "year_end_month": 12, "weekday": 5}, "unknown key"),
        (
            {"kind": "52_53_weeks", "year_end_month": 1, "weekday": 7, "rule": "nearest"},
            r"weekday must be 0 \(Monday\)",
        ),
        ({"kind": "52_53_weeks", "year_end_month": 1, "weekday": "caturday", "rule": "last"}, "unknown weekday"),
        ({"kind": "52_53_weeks", "year_end_month": 1, "weekday": 5, "rule": "closest"}, "rule must be 'last' or"),
        ({"kind": "52_53_weeks", "year_end_month": 1, "weekday": 5, "rule": "last", "pattern": "4-4-4"}, "pattern"),
        ({"kind": "explicit", "years": []}, "at least one fiscal year"),
        ({"kind": "explicit", "years": "2020-12-31"}, "years must be a list"),
        ({"kind": "explicit", "years": [["2020-12-31"], ["2021-02-30"]]}, r"fiscal year 2, period 1: '2021-02-30'"),
        ({"kind": "explicit", "years": [["2020-06-30", "2020-12-31"]]}, "fiscal year 1 lists 2 dates"),
        ({"kind": "explicit", "years": [["2020-12-31"], ["2021-03-31"] * 4]}, "fiscal year 1 lists 1"),
        (
            {"kind": "explicit", "years": [["2021-12-31"], ["2021-06-30"]]},
            r"not ascending: 2021-06-30 \(fiscal year 2, period 1\) comes after 2021-12-31",
        ),
        ("calendar_months", "stored as a mapping"),
    ],
)
def test_a_bad_calendar_is_refused_with_a_reason(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FiscalCalendar.from_dict(data)


def test_bad_questions_are_refused_with_a_reason() -> None:
    cal = FiscalCalendar.calendar_months(12)
    with pytest.raises(ValueError, match="unknown frequency 'week'"):
        cal.period_ends("week", date(2000, 1, 1), date(2000, 12, 31))
    with pytest.raises(ValueError, match="a window covers 1 to 1200 periods, not 0"):
        cal.periods_in_window(date(2000, 3, 31), QUARTER, 0)
    with pytest.raises(ValueError, match="is not the last day of a fiscal month"):
        cal.period_start(date(2000, 3, 30), MONTH)
    assert cal.period_ends(QUARTER, date(2001, 1, 1), date(2000, 1, 1)) == []


def test_descriptions() -> None:
    assert FiscalCalendar.calendar_months(12).describe() == (
        "Fiscal year ending on the last day of December; "
        "fiscal quarters end on the last day of March, June, September and December"
    )
    assert FiscalCalendar.calendar_months(6).describe().endswith("September, December, March and June")
    assert "nearest the last day of February" in FiscalCalendar.weeks(2, "friday").describe()


def test_windows_stated_in_months() -> None:
    assert periods_for_months(6, QUARTER) == 2
    assert periods_for_months(12, MONTH) == 12
    assert periods_for_months(24, YEAR) == 2
    with pytest.raises(ValueError, match="4 months is not a whole number of fiscal quarters"):
        periods_for_months(4, QUARTER)
    with pytest.raises(ValueError, match="positive whole number of months"):
        periods_for_months(0, QUARTER)


def test_a_calendar_pickles_and_copies() -> None:
    cal = FiscalCalendar.weeks(1, "saturday", "nearest")
    again = pickle.loads(pickle.dumps(cal))
    assert again == cal and hash(again) == hash(cal) and copy.deepcopy(cal) == cal
    assert again.fiscal_year_end(date(2024, 1, 1)) == date(2024, 2, 3)
