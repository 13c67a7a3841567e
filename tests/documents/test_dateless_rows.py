"""Levels printed without a date of their own reach test dates all the same: "(y) thereafter"
after the row before, a one-number replacement from the terms' effect. Each is proposed as a row
that applies thereafter from the first test date it reaches, with the reason the reviewer
checks (the first period end on calendar months; the agreement's fiscal calendar may differ)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from compliance.engine.schedules import schedule_row_for
from compliance.engine.types import ScheduleRow, TermsVersion
from documents.importer import read_document
from documents.review.proposed import proposed_items

FIXTURES = Path(__file__).parent / "fixtures"


def rows_of(name: str, section: str) -> dict[str, dict]:
    proposal = read_document((FIXTURES / name).read_bytes(), filename=name)
    prefix = f"covenant:{section}:row:"
    return {item.key.removeprefix(prefix): item for item in proposed_items(proposal) if item.key.startswith(prefix)}


def terms_of(rows: dict[str, dict]) -> TermsVersion:
    schedule = tuple(
        ScheduleRow(
            test_date=dt.date.fromisoformat(key),
            threshold=item.value["threshold"],
            applies_thereafter=item.value["applies_thereafter"],
        )
        for key, item in sorted(rows.items())
    )
    return TermsVersion(terms_id=1, effective_from=dt.date(2000, 1, 1), action="replace", schedule=schedule)


def test_x_up_to_and_y_thereafter_reach_every_later_test_date() -> None:
    rows = rows_of("xy_replacement.txt", "6.13")
    assert {key: (i.value["threshold"], i.value["applies_thereafter"]) for key, i in rows.items()} == {
        "2003-06-30": ("2.25", False),
        "2003-09-30": ("2.75", True),
    }
    assert "every test date after the row before" in rows["2003-09-30"].reason
    terms = terms_of(rows)
    levels = {day: schedule_row_for(terms, day) for day in (dt.date(2003, 6, 30), dt.date(2005, 12, 31))}
    assert {day: row.threshold for day, row in levels.items() if row} == {
        dt.date(2003, 6, 30): "2.25",
        dt.date(2005, 12, 31): "2.75",
    }


def test_a_one_number_replacement_reaches_every_test_date_from_the_terms_effect() -> None:
    rows = rows_of("one_number_replacement.txt", "5.2(b)")
    # Dated as of November 3, 2011: the first quarter end on or after it.
    assert {key: (i.value["threshold"], i.value["applies_thereafter"]) for key, i in rows.items()} == {
        "2011-12-31": ("3.50", True)
    }
    reason = rows["2011-12-31"].reason
    assert "first quarter end on calendar months on or after 2011-11-03" in reason
    assert "check it against the agreement's fiscal calendar" in reason
    assert schedule_row_for(terms_of(rows), dt.date(2014, 6, 30)).threshold == "3.50"
