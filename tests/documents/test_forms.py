"""Smaller forms the importer reads, and what it refuses to guess."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from documents.importer import read_document

HEAD = """                     FIFTH AMENDMENT TO CREDIT AGREEMENT

     This FIFTH AMENDMENT TO CREDIT AGREEMENT (this "Amendment") is dated as of
January 10, 2022, between WILLOWBROOK FARMS, INC., a Delaware corporation (the
"Borrower"), and GRANITE STATE BANK, as lender (the "Lender").

"""


def covenant_of(body: str):
    p = read_document(HEAD + body)
    assert len(p.covenants) == 1, p.covenants
    return p, p.covenants[0]


def test_trailing_twelve_months_is_four_quarters() -> None:
    _, c = covenant_of(
        "     1. Section 6.2 of the Credit Agreement is hereby amended and restated to read:\n"
        '"6.2 Minimum EBITDA. The Borrower shall not permit EBITDA for the trailing twelve months ending on\n'
        'the last day of any fiscal quarter to be less than $4,000,000."\n'
    )
    assert (c.window.months, c.window.quarters, c.window.kind) == (12, 4, "trailing")
    assert c.direction == "minimum" and c.frequency == "quarterly"
    assert [(r.kind, r.threshold.value) for r in c.rows] == [("flat", Decimal("4000000"))]


def test_fiscal_year_to_date_window() -> None:
    _, c = covenant_of(
        "     1. Section 6.3 of the Credit Agreement is hereby amended and restated to read:\n"
        '"6.3 Maximum Capital Expenditures. The Borrower shall not permit Capital Expenditures for the\n'
        'fiscal year-to-date period ending on the last day of any fiscal quarter to exceed $750,000."\n'
    )
    assert c.window.kind == "year_to_date" and c.window.months is None
    assert c.direction == "maximum"


def test_flat_threshold_at_all_times() -> None:
    _, c = covenant_of(
        "     1. Section 6.4 of the Credit Agreement is hereby amended and restated to read:\n"
        '"6.4 Minimum Tangible Net Worth. The Borrower shall at all times maintain Tangible Net Worth of not\n'
        'less than $12,000,000, tested on the last day of each fiscal quarter."\n'
    )
    assert c.metric == "Tangible Net Worth" and c.direction == "minimum"
    assert [(r.kind, r.open_ended, r.threshold.value) for r in c.rows] == [("flat", False, Decimal("12000000"))]


def test_thereafter_row_left_to_be_set() -> None:
    _, c = covenant_of(
        "     1. Section 6.5 of the Credit Agreement is hereby amended and restated to read:\n"
        '          "6.5 Maximum Leverage Ratio. The Borrower shall not permit the Leverage Ratio as of\n'
        "     the last day of any fiscal quarter to exceed the ratio set forth below:\n\n"
        "          Fiscal Quarter Ending                     Ratio\n"
        "          March 31, 2022                            5.25 to 1.00\n"
        "          June 30, 2022                             5.00 to 1.00\n"
        '          Thereafter                                to be set by the Lender"\n'
    )
    kinds = [(r.kind, r.open_ended, r.threshold.to_be_set) for r in c.rows]
    assert kinds == [("dates", False, False), ("dates", False, False), ("thereafter", True, True)]
    assert "to_be_set" in c.flags


def test_a_date_not_in_the_calendar_is_flagged_not_guessed() -> None:
    _, c = covenant_of(
        "     1. Section 6.6 of the Credit Agreement is hereby amended and restated to read:\n"
        '          "6.6 Minimum Revenues. The Borrower shall have revenues at least equal to the amount\n'
        "     set forth below for such date:\n\n"
        "          February 30, 2022                         $1,000,000\n"
        '          March 31, 2022                            $1,200,000"\n'
    )
    first, second = c.rows
    assert first.dates[0].value is None and "invalid_date" in first.dates[0].flags
    assert second.dates[0].value == date(2022, 3, 31)


def test_covenant_without_a_readable_level_is_listed_unread() -> None:
    p, c = covenant_of(
        "     1. Section 6.7 of the Credit Agreement is hereby amended and restated to read:\n"
        '"6.7 Minimum Liquidity. The Borrower shall not permit Liquidity to be less than the amounts\n'
        'set forth in the schedule delivered to the Lender."\n'
    )
    assert c.rows == () and "levels_unread" in c.flags
    assert any("levels could not be read" in u.reason for u in p.unread)


def test_table_line_without_a_level_is_listed_unread() -> None:
    p, c = covenant_of(
        "     1. Section 6.8 of the Credit Agreement is hereby amended and restated to read:\n"
        '          "6.8 Minimum EBITDA. The Borrower shall not permit EBITDA for the four fiscal\n'
        "     quarters then ending to be less than the amount set forth below for such date:\n\n"
        "          March 31, 2022                            $2,000,000\n"
        '          June 30, 2022                             see Schedule 6.8"\n'
    )
    assert len(c.rows) == 1
    assert [u.excerpt for u in p.unread] == ["June 30, 2022                             see Schedule 6.8"]


def test_every_item_states_its_span_confidence_and_reason() -> None:
    p, _ = covenant_of(
        "     1. Section 6.2 of the Credit Agreement is hereby amended and restated to read:\n"
        '"6.2 Minimum EBITDA. The Borrower shall not permit EBITDA for the trailing twelve months to be\n'
        'less than $4,000,000."\n'
    )
    items = [*p.parties, *p.covenants, *(r for c in p.covenants for r in c.rows), p.instrument]
    for item in items:
        assert 0 <= item.span[0] < item.span[1] <= len(p.text)
        assert 0 < item.confidence <= 1 and item.reason
