"""What the domain notes (the seed documents' facts, readings and traps) say each seed text gives, as expected facts.

Seed 002 is Amendment No. 4 to the KMC Loan and Security Agreement (with the Reaffirmation of
Guaranty); seed 000 is Amendment Number Four to the Lucent General Agreement."""

from __future__ import annotations

from pathlib import Path

from .expected import (
    block,
    chain,
    change,
    condition,
    covenant,
    findings,
    instrument,
    merge,
    party,
    row,
    signed,
)

SEED_DIR = str(Path(__file__).resolve().parents[2] / "documents" / "seed_texts")
AMENDMENT_4 = "002_092983384245b2ee.txt"
LUCENT_4 = "000_d96de565f05db057.txt"

DE_CORP = {"kind": "corporation", "jurisdiction": "Delaware"}
DE_LLC = {"kind": "limited liability company", "jurisdiction": "Delaware"}
VA_PSC = {"kind": "public service company", "jurisdiction": "Virginia"}
GRENFELL = signed("James D. Grenfell", "CFO")
LENDER = ("as a Lender",)
STEIN_ROE_ADVISOR = "Stein Roe & Farnham Incorporated, Advisor to the Stein Roe Floating Rate Limited Liability Company"


def _lender_blocks(start: int) -> dict:
    """The lenders' blocks after the Agents', each as printed."""
    rows = [
        (
            "CANADIAN IMPERIAL BANK OF COMMERCE",
            [signed("Tefta Chilaga", "Executive Director, CIBC World Markets Corp. As Agent")],
        ),
        ("GENERAL ELECTRIC CAPITAL CORPORATION", [signed("Mark F. Mylon", "Manager-Operations")]),
        ("BANKBOSTON, N.A.", [signed("Michael A. Ashton", "Vice President")]),
        (
            "CREDIT SUISSE FIRST BOSTON",
            [signed("Jeffery Ulmer", "Vice President"), signed("Douglas E. Maher", "Vice President")],
        ),
        (
            "DRESDNER BANK AG NEW YORK AND GRAND CAYMAN BRANCHES",
            [
                signed("John P. Fleseler", "Senior Vice President"),
                signed("Constance Loosemore", "Assistant Vice President"),
            ],
        ),
        # The second line is printed blank: no signature, no name, no title.
        (
            "MORGAN STANLEY SENIOR FUNDING, INC.",
            [signed("T. Morgan Edwards II", "Vice President"), signed(None, None, by="")],
        ),
        ("MORGAN STANLEY DEAN WITTER PRIME INCOME TRUST", [signed("Shelia Finnely", "Senior Vice President")]),
        ("UNION BANK OF CALIFORNIA, N.A.", [signed("Keith M. Wilson", "Vice President")]),
        ("KEYPORT LIFE INSURANCE COMPANY", [signed("Brian W. Good", "Vice President & Portfolio Manager")]),
        (
            "STEIN ROE FLOATING RATE LIMITED LIABILITY COMPANY",
            [
                signed(
                    "Brian W. Good",
                    "Vice President",
                    behalf=STEIN_ROE_ADVISOR,
                )
            ],
        ),
    ]
    return merge(*(block(start + n, (name,), lines, capacity=LENDER) for n, (name, lines) in enumerate(rows)))


LENDERS = [
    "Canadian Imperial Bank of Commerce",
    "General Electric Capital Corporation",
    "BankBoston, N.A.",
    "Credit Suisse First Boston",
    "Dresdner Bank AG New York and Grand Cayman Branches",
    "Morgan Stanley Senior Funding, Inc.",
    "Morgan Stanley Dean Witter Prime Income Trust",
    "Union Bank of California, N.A.",
    "Keyport Life Insurance Company",
    "Stein Roe Floating Rate Limited Liability Company",
]

AMENDMENT_4_FACTS = merge(
    instrument(
        "AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT",
        "amendment",
        4,
        "Loan and Security Agreement",
        "1999-12-31",
        "New York",
    ),
    chain(
        ("Loan and Security Agreement", "agreement", None, "1998-12-22", None),
        ("Amendment No.1", "amendment", 1, "1999-03-03", None),
        ("Amendment No. 2", "amendment", 2, "1999-08-13", None),
        ("Waiver and Amendment No. 3", "waiver and amendment", 3, "1999-10-29", None),
        ("Guaranty", "guaranty", None, "1998-12-22", None, "1999-12-31"),
    ),
    change("Section 7.01(b)", "add"),
    change("Section 7.01(c)(i)", "replace"),
    change("Section 7.01(c)(ii)", "replace"),
    # Five Borrowers; KMC Telecom III and IV are not parties to this agreement.
    party("KMC Telecom Inc.", roles=("Borrower",), short="KMC", **DE_CORP),
    party("KMC Telecom II, Inc.", roles=("Borrower",), short="KMC II", **DE_CORP),
    party("KMC Telecom of Virginia, Inc.", roles=("Borrower",), short="KMC Virginia", **VA_PSC),
    # Printed twice in the signature pages: once through KMC Telecom Inc., once through KMC Telecom II.
    party(
        "KMC Telecom Leasing I LLC",
        roles=("Borrower",),
        short="Leasing I",
        through=("KMC Telecom Inc.", "KMC Telecom II, Inc."),
        **DE_LLC,
    ),
    party("KMC Telecom Leasing II LLC", roles=("Borrower",), short="Leasing II", **DE_LLC),
    party("First Union National Bank", roles=("Agent", "Lender")),
    party(
        "Newcourt Commercial Finance Corporation",
        roles=("Collateral Agent", "Lender"),
        former=("AT&T Commercial Finance Corporation",),
        affiliate="The CIT Group, Inc.",
    ),
    party("KMC Telecom Holdings, Inc.", roles=("Guarantor",), **DE_CORP),
    *(party(name, roles=("Lender",)) for name in LENDERS),
    covenant(
        "7.01(b)",
        name="Minimum Revenues",
        metric="revenues",
        action="add",
        direction="minimum",
        frequency="quarterly",
        basis="combined",
        rows=[
            row("dates", "1999-12-31", "18000000"),
            row("dates", "2000-03-31", "23821000"),
            row("dates", "2000-06-30", "31338000"),
            row("dates", "2000-09-30", "37803000"),
            row("dates", "2000-12-31", "44482000"),
            row("dates", "2001-03-31", "54678000"),
        ],
    ),
    # Caps printed in parentheses: negative amounts, read as EBITDA >= -X.
    covenant(
        "7.01(c)(i)",
        name="Maximum EBITDA Losses",
        metric="EBITDA losses",
        action="replace",
        direction="maximum",
        frequency="quarterly",
        basis="combined",
        window=(6, 2),
        rows=[
            row("dates", "1999-12-31", "-50400000"),
            row("dates", "2000-03-31", "-38700000"),
            row("dates", "2000-06-30", "-25001000"),
            row("dates", "2000-09-30", "-13823000"),
            row("dates", "2000-12-31", "-4157000"),
        ],
    ),
    covenant(
        "7.01(c)(ii)",
        name="Minimum EBITDA",
        metric="EBITDA",
        action="replace",
        direction="minimum",
        frequency="quarterly",
        basis="combined",
        window=(6, 2),
        rows=[row("dates", "2001-03-31", "1688000")],
    ),
    # The deadline is printed blank: unknown, never a guessed date.
    condition(
        0,
        "the Agents have received duly executed originals of this Amendment from the Borrowers, "
        "the Requisite Lenders and the Agents",
        None,
        "January __, 2000",
    ),
    block(
        0,
        ("KMC TELECOM INC.", "KMC TELECOM II, INC.", "KMC TELECOM OF VIRGINIA, INC."),
        [GRENFELL],
        heading="THE BORROWERS",
        shared=True,
    ),
    block(
        1,
        ("KMC TELECOM LEASING I LLC",),
        [GRENFELL],
        heading="THE BORROWERS",
        through=(("KMC TELECOM INC.", "Sole Member"),),
    ),
    # As printed: Leasing I again, through KMC Telecom II (evidently meant for Leasing II).
    block(
        2,
        ("KMC TELECOM LEASING I LLC",),
        [GRENFELL],
        heading="THE BORROWERS",
        through=(("KMC TELECOM II, INC.", "Sole Member"),),
    ),
    block(
        3,
        ("FIRST UNION NATIONAL BANK",),
        [signed("Elizabeth Elmore", "Senior Vice President")],
        capacity=("as the Agent and as a Lender",),
    ),
    block(
        4,
        ("NEWCOURT COMMERCIAL FINANCE CORPORATION",),
        [signed("Michael Monahan", "Vice President")],
        capacity=("as the Collateral Agent and as a Lender",),
    ),
    _lender_blocks(5),
    block(
        15,
        ("KMC TELECOM HOLDINGS, INC.",),
        [signed("James D. Grenfell", "CFO, Executive Vice President and Secretary")],
    ),
    findings(
        ("block_printed_twice", "KMC TELECOM LEASING I LLC"),
        ("party_without_block", "KMC Telecom Leasing II LLC"),
        ("one_person_several_capacities", "James D. Grenfell"),
        ("one_person_several_capacities", "Brian W. Good"),
    ),
    {"unread": 0},
)

KMC_OFFICES = "1545 Route 206, Suite 300, Bedminster, New Jersey 07921"
CFO = signed("James D. Grenfell", "Chief Financial Officer")

LUCENT_4_FACTS = merge(
    instrument(
        "AMENDMENT NUMBER FOUR TO THE GENERAL AGREEMENT", "amendment", 4, "General Agreement", "2000-02-15", "New York"
    ),
    chain(
        ("General Agreement", "agreement", None, "1997-03-06", "LNM970313MP"),
        ("Amendment Number One", "amendment", 1, "1997-10-15", "LNM970922MP"),
        ("Amendment Number Two", "amendment", 2, "1998-12-22", None),
        ("Amendment Number Three", "amendment", 3, "1999-11-15", None),
    ),
    change('definition of "Customer"', "add"),
    party("KMC Telecom Inc.", roles=("Customer",), address=KMC_OFFICES, **DE_CORP),
    party("KMC Telecom II, Inc.", roles=("Customer",), address=KMC_OFFICES, **DE_CORP),
    party("KMC Telecom III, Inc.", roles=("Customer",), address=KMC_OFFICES, **DE_CORP),
    party("KMC Telecom IV, Inc.", roles=("Customer",), address=KMC_OFFICES, **DE_CORP),
    party("KMC Telecom of Virginia, Inc.", roles=("Customer",), address=KMC_OFFICES, **VA_PSC),
    party(
        "KMC Telecom Leasing I LLC", roles=("Customer",), address=KMC_OFFICES, through=("KMC Telecom Inc.",), **DE_LLC
    ),
    party(
        "KMC Telecom Leasing II LLC",
        roles=("Customer",),
        address=KMC_OFFICES,
        through=("KMC Telecom II, Inc.",),
        **DE_LLC,
    ),
    party(
        "KMC Telecom Leasing III LLC",
        roles=("Customer",),
        address=KMC_OFFICES,
        through=("KMC Telecom III, Inc.",),
        **DE_LLC,
    ),
    party(
        "KMC Telecom Leasing IV LLC",
        roles=("Customer",),
        address=KMC_OFFICES,
        through=("KMC Telecom IV, Inc.",),
        **DE_LLC,
    ),
    party(
        "Lucent Technologies Inc.",
        roles=("Seller",),
        address="600 Mountain Avenue, Murray Hill, New Jersey 07074",
        acting="Global Service Providers Group",
        **DE_CORP,
    ),
    # Added to "Customer" by this amendment: the role runs from its effective date.
    party(
        "KMC III Services LLC",
        roles=("Customer",),
        short="KMC Services",
        through=("KMC Telecom III, Inc.",),
        effective={"Customer": "2000-02-15"},
        **DE_LLC,
    ),
    block(0, ("KMC TELECOM INC.",), [CFO]),
    block(1, ("KMC TELECOM LEASING I LLC",), [CFO], through=(("KMC Telecom Inc.", "Sole Member"),)),
    block(2, ("KMC TELECOM II, INC.",), [CFO]),
    # "as Sole" / "Member" is wrapped to the left margin in the filing.
    block(3, ("KMC TELECOM LEASING II LLC",), [CFO], through=(("KMC Telecom II, Inc.", "Sole Member"),)),
    block(4, ("KMC TELECOM III, INC.",), [CFO]),
    block(5, ("KMC TELECOM LEASING III LLC",), [CFO], through=(("KMC Telecom III, Inc.", "Sole Member"),)),
    block(6, ("KMC TELECOM IV, INC.",), [CFO]),
    block(7, ("KMC TELECOM LEASING IV LLC",), [CFO], through=(("KMC Telecom IV, Inc.", "Sole Member"),)),
    block(8, ("KMC TELECOM OF VIRGINIA, INC.",), [CFO]),
    block(9, ("KMC III SERVICES LLC",), [CFO], through=(("KMC Telecom III, Inc.", "Sole Member"),)),
    block(10, ("LUCENT TECHNOLOGIES INC.",), [signed("William H. Pittman", "Area Vice President")]),
    {"unread": 0},
)
