"""Expected facts of the fixtures in tests/documents/fixtures: each written in the layout of an
SEC-filed credit agreement amendment, read by a person, not by the importer."""

from __future__ import annotations

from .expected import block, chain, change, condition, covenant, instrument, merge, party, row, signed


def conformed(name: str, title: str) -> tuple:
    """'/s/ Name' on the By: line, then Name: and Title:."""
    return signed(name, title, by=f"/s/ {name}")


CFO = "Chief Financial Officer"

RATIO_TABLE_GROUPED = merge(
    instrument("SECOND AMENDMENT TO CREDIT AGREEMENT", "amendment", 2, "Credit Agreement", "2004-03-12", "New York"),
    chain(
        ("Credit Agreement", "agreement", None, "2002-06-30", None),
        ("First Amendment", "amendment", 1, "2003-04-02", None),
    ),
    change("Section 7.11(a)", "replace"),
    party("Harborline Logistics, Inc.", roles=("Borrower",), kind="corporation", jurisdiction="Delaware"),
    party("Meridian Trust Bank, N.A.", roles=("Administrative Agent", "Lender"), kind="national banking association"),
    covenant(
        "7.11(a)",
        kind="ratio",
        flags=("ratio_undefined",),
        name="Maximum Total Leverage Ratio",
        metric="Total Leverage Ratio",
        action="replace",
        direction="maximum",
        frequency="quarterly",
        window=(12, 4),
        rows=[
            row("dates", ("2004-03-31", "2004-06-30", "2004-09-30"), "4.75"),
            row("dates", "2004-12-31", "4.50"),
            row("dates", ("2005-03-31", "2005-06-30"), "4.25"),
            row("dates", "2005-09-30", "3.75", open_ended=True),
        ],
    ),
    condition(
        0,
        "receipt by the Administrative Agent of counterparts hereof duly executed by the Borrower and the "
        "Required Lenders",
        "2004-03-19",
        "March 19, 2004",
    ),
    block(0, ("HARBORLINE LOGISTICS, INC.",), [conformed("Dana K. Whitfield", CFO)]),
    block(
        1,
        ("MERIDIAN TRUST BANK, N.A.",),
        [conformed("Owen P. Castellano", "Managing Director")],
        capacity=("as Administrative Agent and as a Lender",),
    ),
    {"unread": 0},
)

XY_REPLACEMENT = merge(
    instrument("FIRST AMENDMENT TO CREDIT AGREEMENT", "amendment", 1, "Credit Agreement", "2003-05-14", "Minnesota"),
    chain(("Credit Agreement", "agreement", None, "2001-09-09", None)),
    change("Section 6.13", "replace"),
    party("Quillstone Foods Corporation", roles=("Borrower",), kind="corporation", jurisdiction="Minnesota"),
    party("Northwind Bank", roles=("Agent", "Lender")),
    covenant(
        "6.13",
        kind="ratio",
        flags=("ratio_undefined",),
        name="Minimum Interest Coverage Ratio",
        metric="Interest Coverage Ratio",
        action="replace",
        direction="minimum",
        window=(12, 4),
        rows=[row("up_to", "2003-06-30", "2.25"), row("thereafter", (), "2.75", open_ended=True)],
    ),
    condition(0, "the Agent has received counterparts signed by the Borrower and the Required Lenders", None, None),
    block(0, ("QUILLSTONE FOODS CORPORATION",), [conformed("Teresa M. Lindqvist", "Vice President and Treasurer")]),
    block(
        1,
        ("NORTHWIND BANK",),
        [conformed("Harold J. Okafor", "Senior Vice President")],
        capacity=("as Agent and as a Lender",),
    ),
    {"unread": 0},
)

ONE_NUMBER_REPLACEMENT = merge(
    instrument("THIRD AMENDMENT TO LOAN AGREEMENT", "amendment", 3, "Loan Agreement", "2011-11-03", "Oregon"),
    chain(
        ("Loan Agreement", "agreement", None, "2008-02-28", None),
        ("First Amendment", "amendment", 1, "2009-03-01", None),
        ("Second Amendment", "amendment", 2, "2010-01-15", None),
    ),
    change("Section 5.2(b)", "amend"),
    party("Cascade River Brewing Co.", roles=("Borrower",), kind="corporation", jurisdiction="Oregon"),
    party("Pinehurst National Bank", roles=("Lender",), kind="national banking association"),
    covenant(
        "5.2(b)",
        kind="ratio",
        flags=("ratio_undefined",),
        name="Maximum Senior Leverage Ratio",
        metric="Senior Leverage Ratio",
        action="amend",
        direction="maximum",
        replaces="4.00",
        rows=[row("flat", (), "3.50")],
    ),
    block(0, ("CASCADE RIVER BREWING CO.",), [signed("Miriam L. Oduya", "President")], heading="BORROWER"),
    block(1, ("PINEHURST NATIONAL BANK",), [signed("Curtis R. Engstrom", "Vice President")], heading="LENDER"),
    {"unread": 0},
)

SIX_MONTH_NEGATIVE_MINIMUM = merge(
    instrument(
        "AMENDMENT NO. 2 TO LOAN AND SECURITY AGREEMENT",
        "amendment",
        2,
        "Loan and Security Agreement",
        "2019-04-22",
        "California",
    ),
    chain(
        ("Loan and Security Agreement", "agreement", None, "2017-10-05", None),
        ("Amendment No. 1", "amendment", 1, "2018-07-18", None),
    ),
    change("Section 6.1", "replace"),
    party("Silvergate Diagnostics, Inc.", roles=("Borrower",), kind="corporation", jurisdiction="California"),
    party(
        "Brightwater Capital Finance LLC", roles=("Lender",), kind="limited liability company", jurisdiction="Delaware"
    ),
    covenant(
        "6.1",
        name="Minimum Adjusted EBITDA",
        metric="Adjusted EBITDA",
        action="replace",
        direction="minimum",
        window=(6, 2),
        flags=("day_not_printed",),
        rows=[
            row("dates", "2019-06-30", "-3500000"),
            # Printed "September, 2019": read as the month's last day, and flagged.
            row("dates", "2019-09-30", "-2750000"),
            row("dates", "2019-12-31", "-1250000"),
            row("dates", "2020-03-31", "250000"),
        ],
        without_day={1: ("September, 2019",)},
    ),
    block(
        0,
        ("SILVERGATE DIAGNOSTICS, INC.",),
        [conformed("Leonard V. Achterberg", "Chief Executive Officer")],
        heading="BORROWER",
    ),
    block(
        1, ("BRIGHTWATER CAPITAL FINANCE LLC",), [conformed("Priya S. Raman", "Managing Director")], heading="LENDER"
    ),
    {"unread": 0},
)

REDACTED_TABLE = merge(
    instrument("FOURTH AMENDMENT TO CREDIT AGREEMENT", "amendment", 4, "Credit Agreement", "2012-02-27", "Illinois"),
    chain(("Credit Agreement", "agreement", None, "2009-08-01", None)),
    change("Section 8.3", "replace"),
    change("Section 8.4", "add"),
    party("Tallgrass Medical Systems, Inc.", roles=("Borrower",), kind="corporation", jurisdiction="Kansas"),
    party(
        "Lakeshore Commercial Bank",
        roles=("Administrative Agent", "Lender"),
        kind="banking corporation",
        jurisdiction="Illinois",
    ),
    covenant(
        "8.3",
        name="Minimum Consolidated EBITDA",
        metric="Consolidated EBITDA",
        action="replace",
        direction="minimum",
        frequency="quarterly",
        basis="consolidated",
        window=(12, 4),
        flags=("redacted",),
        rows=[
            row("dates", "2012-03-31", "redacted"),
            row("dates", "2012-06-30", "redacted"),
            row("dates", "2012-09-30", "redacted"),
            row("dates", "2012-12-31", "redacted", open_ended=True),
        ],
    ),
    # No level printed: left to be set by the Agent, for fiscal years after 2012.
    covenant(
        "8.4",
        name="Maximum Capital Expenditures",
        metric="Capital Expenditures",
        action="add",
        direction="maximum",
        frequency="annually",
        flags=("to_be_set",),
        rows=[row("after", "2012-12-31", "to_be_set", open_ended=True)],
    ),
    block(
        0,
        ("TALLGRASS MEDICAL SYSTEMS, INC.",),
        [conformed("Gwendolyn A. Farris", CFO)],
        capacity=("as Borrower",),
    ),
    block(
        1,
        ("LAKESHORE COMMERCIAL BANK",),
        [conformed("Rafael T. Mendes", "Senior Vice President")],
        capacity=("as Administrative Agent and a Lender",),
    ),
    {"unread": 0},
)

MONTHLY_LIQUIDITY = merge(
    instrument(
        "AMENDMENT NO. 3 TO CREDIT AND GUARANTY AGREEMENT",
        "amendment",
        3,
        "Credit and Guaranty Agreement",
        "2020-04-09",
        "New York",
    ),
    chain(
        ("Credit and Guaranty Agreement", "agreement", None, "2017-11-20", None),
        ("Amendment No. 1", "amendment", 1, "2018-03-04", None),
        ("Amendment No. 2", "amendment", 2, "2019-12-11", None),
    ),
    change("Section 7.14", "replace"),
    party(
        "Bluefin Hospitality Group LLC",
        roles=("Borrower",),
        kind="limited liability company",
        jurisdiction="Delaware",
        through=("Bluefin Hospitality Holdings Corp.",),
    ),
    party(
        "Bluefin Hospitality Holdings Corp.",
        roles=("Guarantor",),
        kind="corporation",
        jurisdiction="Delaware",
        short="Holdings",
    ),
    party("Canterbury Loan Services LLC", roles=("Agent",)),
    covenant(
        "7.14",
        name="Minimum Liquidity",
        metric="Liquidity",
        action="replace",
        direction="minimum",
        frequency="monthly",
        rows=[
            row("dates", ("2020-04-30", "2020-05-31", "2020-06-30"), "15000000"),
            row("dates", ("2020-07-31", "2020-08-31"), "12500000"),
            row("range", ("2020-09-30", "2020-12-31"), "10000000"),
            row("dates", "2021-01-31", "7500000", open_ended=True),
        ],
    ),
    condition(
        0,
        "counterparts of this Amendment executed by the Borrower, Holdings and the Required Lenders",
        "2020-04-15",
        "April 15, 2020",
    ),
    condition(1, "the amendment fee referred to in the fee letter dated as of April 9, 2020", None, None),
    block(
        0,
        ("BLUEFIN HOSPITALITY GROUP LLC",),
        [conformed("Camille R. Despres", CFO)],
        capacity=("as Borrower",),
        through=(("Bluefin Hospitality Holdings Corp.", "sole member"),),
    ),
    block(
        1,
        ("BLUEFIN HOSPITALITY HOLDINGS CORP.",),
        [conformed("Camille R. Despres", CFO)],
        capacity=("as Holdings and a Guarantor",),
    ),
    block(
        2,
        ("CANTERBURY LOAN SERVICES LLC",),
        [conformed("Nathaniel F. Osei", "Authorized Signatory")],
        capacity=("as Agent",),
    ),
    {"unread": 0},
)
