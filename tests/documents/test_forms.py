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


AGREEMENT = """                               CREDIT AGREEMENT

     CREDIT AGREEMENT dated as of March 1, 2015, among OSPREY MARINE SUPPLY CO., a
Maine corporation (the "Borrower"), and BAYVIEW SAVINGS BANK, as lender (the "Lender").

     SECTION 6.1 Financial Statements. The Borrower shall deliver its annual audited
statements at least 90 days after each fiscal year end.

     SECTION 7.11 Financial Covenants.

          (a) Consolidated Leverage Ratio. Permit the Consolidated Leverage Ratio as of
     the end of any fiscal quarter of the Borrower to be greater than 3.50 to 1.00.

          (b) Consolidated Interest Coverage Ratio. Permit the Consolidated Interest
     Coverage Ratio as of the end of any fiscal quarter of the Borrower to be less
     than 3.00 to 1.00.

     SECTION 7.12 Transactions with Affiliates. Enter into no transaction with an
Affiliate on terms less favorable than an arm's length transaction.
"""


def test_covenants_stated_in_an_agreement_itself() -> None:
    p = read_document(AGREEMENT)
    found = [(c.section, c.name, c.action, c.direction, [str(r.threshold.value) for r in c.rows]) for c in p.covenants]
    assert found == [
        ("7.11(a)", "Consolidated Leverage Ratio", "state", "maximum", ["3.50"]),
        ("7.11(b)", "Consolidated Interest Coverage Ratio", "state", "minimum", ["3.00"]),
    ]
    assert p.covenants[0].metric == "Consolidated Leverage Ratio"


def test_one_amending_clause_restating_two_covenants() -> None:
    p = read_document(
        HEAD + "     1. Section 7.11 of the Credit Agreement is hereby amended and restated in its entirety to\n"
        'read as follows: "7.11 Financial Covenants. (a) Maximum Leverage Ratio. The Borrower shall not\n'
        "permit the Leverage Ratio as of the last day of any fiscal quarter to exceed 4.00 to 1.00.\n"
        "(b) Minimum Fixed Charge Coverage Ratio. The Borrower shall not permit the Fixed Charge Coverage\n"
        'Ratio for any four fiscal quarters then ended to be less than 1.25 to 1.00."\n'
    )
    found = [
        (c.section, c.direction, c.window and c.window.quarters, str(c.rows[0].threshold.value)) for c in p.covenants
    ]
    assert found == [("7.11(a)", "maximum", None, "4.00"), ("7.11(b)", "minimum", 4, "1.25")]
    assert [ch.target for ch in p.instrument.changes] == ["Section 7.11"]
