"""
The seed loader (the seed texts through the importer and their recorded review): every fact
of both seed documents lands in the models exactly, the traps are kept as printed, and a
second load changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    LineItem,
    Reaffirmation,
    ThresholdStep,
)
from covenants.party_services import party_update
from documents.models import Document, ImportReview
from documents.review import applying
from documents.seeds import load_seed_documents
from parties.models import Party, Signature, SignatureBlock
from tests.factories import administrator
from tests.seed_replay import replayed

pytestmark = pytest.mark.django_db

D = dt.date
LOAN = "KMC Telecom Loan and Security Agreement"
GENERAL = "KMC Telecom–Lucent General Agreement"
GUARANTY = "KMC Telecom Holdings Guaranty"

LENDERS = {
    "First Union National Bank",
    "Newcourt Commercial Finance Corporation",
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
}


@pytest.fixture
def seeded():
    """The seed as the importer loads it: run once per test process, replayed after
    (tests/seed_replay.py, which proves a replay leaves the same rows; the tests that load the
    seed again below run the importer itself)."""
    return replayed("seed documents", load_seed_documents)


def loan_agreement() -> Agreement:
    return Agreement.objects.get(name=LOAN)


def amendment(agreement_name: str, number: int) -> Amendment:
    return Amendment.objects.get(agreement__name=agreement_name, number=number)


# --- Agreements and amendments --------------------------------------------------------


def test_the_loan_agreement(seeded):
    agreement = loan_agreement()
    assert agreement.kind == "loan_and_security_agreement"
    assert agreement.title == "Loan and Security Agreement"
    assert agreement.defined_term == "Loan Agreement"
    assert agreement.dated_as_of == D(1998, 12, 22)
    assert agreement.effective_on is None
    assert agreement.governing_law == "New York"
    assert agreement.contract_number == ""
    assert agreement.guaranteed_agreement is None
    assert agreement.currency == "USD"
    assert agreement.fiscal_year_end_month == 12  # calendar quarters: the agreement says nothing else
    assert set(agreement.required_line_items.values_list("code", "name")) == {
        ("revenues", "Revenues"),
        ("ebitda", "EBITDA"),
    }


def test_the_line_items_are_revenues_and_ebitda(seeded):
    assert set(LineItem.objects.values_list("code", "name")) == {("revenues", "Revenues"), ("ebitda", "EBITDA")}


def test_the_general_agreement(seeded):
    agreement = Agreement.objects.get(name=GENERAL)
    assert agreement.kind == "general_agreement"
    assert agreement.title == "General Agreement"
    assert agreement.defined_term == "General Agreement"
    assert agreement.contract_number == "LNM970313MP"
    assert agreement.effective_on == D(1997, 3, 6)
    assert agreement.dated_as_of is None
    assert agreement.governing_law == "New York"
    # A supply agreement: no financial covenants, no figures to report.
    assert not agreement.covenants.exists()
    assert not agreement.required_line_items.exists()


def test_the_guaranty_guarantees_the_loan_agreement(seeded):
    guaranty = Agreement.objects.get(name=GUARANTY)
    assert guaranty.kind == "guaranty"
    assert guaranty.title == "Guaranty"
    assert guaranty.dated_as_of == D(1998, 12, 22)
    assert guaranty.guaranteed_agreement == loan_agreement()
    assert list(loan_agreement().guaranties.all()) == [guaranty]
    assert set(guaranty.roles.values_list("party__legal_name", "role", "defined_term", "capacity_as_printed")) == {
        ("KMC Telecom Holdings, Inc.", "guarantor", "Guarantor", ""),
        (
            "Newcourt Commercial Finance Corporation",
            "beneficiary",
            "Collateral Agent",
            "as collateral agent for the ratable benefit of the Lenders",
        ),
    }


def test_the_guaranty_is_reaffirmed_for_amendment_no_4_as_of_1999_12_31(seeded):
    reaffirmation = Reaffirmation.objects.get()
    assert reaffirmation.guaranty.name == GUARANTY
    assert reaffirmation.amendment == amendment(LOAN, 4)
    assert reaffirmation.title == "Reaffirmation of Guaranty"
    assert reaffirmation.dated_as_of == D(1999, 12, 31)


# number, title as printed, defined term, contract number, dated as of, effective on, status
LOAN_AMENDMENTS = [
    (1, "Amendment No. 1", "", "", D(1999, 3, 3), None, "effective"),
    (2, "Amendment No. 2", "", "", D(1999, 8, 13), None, "effective"),
    (3, "Waiver and Amendment No. 3", "", "", D(1999, 10, 29), None, "effective"),
    (4, "Amendment No. 4 to Loan and Security Agreement", "Amendment", "", D(1999, 12, 31), D(1999, 12, 31), "pending"),
]
GENERAL_AMENDMENTS = [
    (1, "Amendment Number One", "", "LNM970922MP", None, D(1997, 10, 15), "effective"),
    (2, "Amendment Number Two", "", "", None, D(1998, 12, 22), "effective"),
    (3, "Amendment Number Three", "", "", None, D(1999, 11, 15), "effective"),
    (4, "Amendment Number Four", "Amendment Four", "", None, D(2000, 2, 15), "effective"),
]
AMENDMENT_FIELDS = ("number", "title", "defined_term", "contract_number", "dated_as_of", "effective_on", "status")


@pytest.mark.parametrize(("agreement_name", "expected"), [(LOAN, LOAN_AMENDMENTS), (GENERAL, GENERAL_AMENDMENTS)])
def test_each_agreement_chain_has_every_amendment_with_its_dates(seeded, agreement_name, expected):
    rows = Amendment.objects.filter(agreement__name=agreement_name).order_by("number").values_list(*AMENDMENT_FIELDS)
    assert list(rows) == expected


def test_amendment_no_4_is_pending_its_condition_precedent_whose_deadline_is_unknown(seeded):
    amendment_no_4 = amendment(LOAN, 4)
    assert amendment_no_4.is_pending
    assert amendment_no_4.in_force_from == D(1999, 12, 31)
    condition = ConditionPrecedent.objects.get()
    assert condition.amendment == amendment_no_4
    assert condition.deadline is None
    assert not condition.deadline_known
    assert condition.deadline_as_printed == "January __, 2000"
    assert condition.satisfied_on is None
    assert condition.description.startswith("This Amendment shall become effective as of the date above written")
    assert "from the Borrowers, the Requisite Lenders and the Agents on or prior to January __, 2000." in (
        condition.description
    )


# --- Roles ----------------------------------------------------------------------------


def test_the_five_borrowers_with_their_defined_terms(seeded):
    borrowers = AgreementRole.objects.filter(agreement__name=LOAN, role="borrower")
    assert sorted(borrowers.values_list("party__legal_name", "defined_term", "holds_from", "holds_to")) == [
        ("KMC Telecom II, Inc.", "KMC II", None, None),
        ("KMC Telecom Inc.", "KMC", None, None),
        ("KMC Telecom Leasing I LLC", "Leasing I", None, None),
        ("KMC Telecom Leasing II LLC", "Leasing II", None, None),
        ("KMC Telecom of Virginia, Inc.", "KMC Virginia", None, None),
    ]


@pytest.mark.parametrize("legal_name", ["KMC Telecom III, Inc.", "KMC Telecom IV, Inc."])
def test_kmc_telecom_iii_and_iv_are_not_borrowers_of_the_loan_agreement(seeded, legal_name):
    assert not AgreementRole.objects.filter(agreement__name=LOAN, party__legal_name=legal_name).exists()
    # They are parties to the Lucent General Agreement only.
    assert list(AgreementRole.objects.filter(party__legal_name=legal_name).values_list("agreement__name", "role")) == [
        (GENERAL, "customer")
    ]


def test_the_agents_of_the_loan_agreement_and_their_capacities(seeded):
    agents = AgreementRole.objects.filter(agreement__name=LOAN, role__in=["agent", "collateral_agent"])
    assert set(agents.values_list("party__legal_name", "role", "defined_term", "capacity_as_printed")) == {
        ("First Union National Bank", "agent", "Agent", "as administrative agent for the Lenders"),
        (
            "Newcourt Commercial Finance Corporation",
            "collateral_agent",
            "Collateral Agent",
            "as collateral agent for the Lenders",
        ),
    }


def test_the_twelve_lenders_include_both_agents(seeded):
    lenders = AgreementRole.objects.filter(agreement__name=LOAN, role="lender")
    assert set(lenders.values_list("party__legal_name", flat=True)) == LENDERS
    assert lenders.count() == 12
    assert set(lenders.values_list("defined_term", flat=True)) == {"Lenders"}
    assert {"First Union National Bank", "Newcourt Commercial Finance Corporation"} <= LENDERS
    # Nobody else holds a role in the Loan Agreement: 5 Borrowers, 2 Agents, 12 Lenders.
    assert AgreementRole.objects.filter(agreement__name=LOAN).count() == 19


def test_the_general_agreement_customers_and_seller(seeded):
    roles = AgreementRole.objects.filter(agreement__name=GENERAL)
    assert set(roles.filter(role="customer", holds_from__isnull=True).values_list("party__legal_name", flat=True)) == {
        "KMC Telecom Inc.",
        "KMC Telecom II, Inc.",
        "KMC Telecom III, Inc.",
        "KMC Telecom IV, Inc.",
        "KMC Telecom of Virginia, Inc.",
        "KMC Telecom Leasing I LLC",
        "KMC Telecom Leasing II LLC",
        "KMC Telecom Leasing III LLC",
        "KMC Telecom Leasing IV LLC",
    }
    assert set(roles.filter(role="customer", holds_from__isnull=True).values_list("defined_term", flat=True)) == {
        "Customer"
    }
    seller = roles.get(role="seller")
    assert (seller.party.legal_name, seller.defined_term) == ("Lucent Technologies Inc.", "Seller")
    assert roles.count() == 11


def test_kmc_iii_services_becomes_a_customer_on_2000_02_15_by_amendment_four(seeded):
    role = AgreementRole.objects.get(party__legal_name="KMC III Services LLC")
    assert role.agreement.name == GENERAL
    assert role.role == "customer"
    assert role.defined_term == "KMC Services"
    assert role.holds_from == D(2000, 2, 15)
    assert role.holds_to is None
    assert role.added_by == amendment(GENERAL, 4)
    assert not role.holds_on(D(2000, 2, 14))
    assert role.holds_on(D(2000, 2, 15))


# --- Covenants ------------------------------------------------------------------------

REVENUE_SCHEDULE = [
    (D(1999, 12, 31), Decimal("18000000"), "$18,000,000"),
    (D(2000, 3, 31), Decimal("23821000"), "$23,821,000"),
    (D(2000, 6, 30), Decimal("31338000"), "$31,338,000"),
    (D(2000, 9, 30), Decimal("37803000"), "$37,803,000"),
    (D(2000, 12, 31), Decimal("44482000"), "$44,482,000"),
    (D(2001, 3, 31), Decimal("54678000"), "$54,678,000"),
]
EBITDA_LOSSES_SCHEDULE = [
    (D(1999, 12, 31), Decimal("-50400000"), "($50,400,000)"),
    (D(2000, 3, 31), Decimal("-38700000"), "($38,700,000)"),
    (D(2000, 6, 30), Decimal("-25001000"), "($25,001,000)"),
    (D(2000, 9, 30), Decimal("-13823000"), "($13,823,000)"),
    (D(2000, 12, 31), Decimal("-4157000"), "($4,157,000)"),
]
MINIMUM_EBITDA_SCHEDULE = [(D(2001, 3, 31), Decimal("1688000"), "$1,688,000")]

# section, name, action, line item, window quarters, schedule
COVENANTS = [
    ("7.01(b)", "Minimum revenues", "add", "revenues", 1, REVENUE_SCHEDULE),
    ("7.01(c)(i)", "Maximum EBITDA losses", "replace", "ebitda", 2, EBITDA_LOSSES_SCHEDULE),
    ("7.01(c)(ii)", "Minimum EBITDA", "replace", "ebitda", 2, MINIMUM_EBITDA_SCHEDULE),
]


def test_the_loan_agreement_has_exactly_the_three_covenants(seeded):
    assert sorted(Covenant.objects.values_list("agreement__name", "section", "name")) == [
        (LOAN, "7.01(b)", "Minimum revenues"),
        (LOAN, "7.01(c)(i)", "Maximum EBITDA losses"),
        (LOAN, "7.01(c)(ii)", "Minimum EBITDA"),
    ]


@pytest.mark.parametrize(("section", "name", "action", "line_item", "window", "schedule"), COVENANTS)
def test_each_covenant_has_its_terms_from_amendment_no_4(seeded, section, name, action, line_item, window, schedule):
    terms = CovenantTerms.objects.get(covenant__section=section)
    assert terms.covenant.name == name
    assert terms.amendment == amendment(LOAN, 4)
    assert terms.action == action
    assert terms.effective_from == D(1999, 12, 31)
    assert terms.metric_kind == "sum"
    assert terms.line_item.code == line_item
    assert terms.window_periods == window
    assert terms.window_kind == "trailing"
    assert terms.direction == "at_least"
    assert terms.basis == "combined"
    assert terms.denominator_line_item is None
    # Provisional: the amendment that made these terms is still pending.
    assert terms.amendment.is_pending
    rows = terms.schedule.order_by("test_date").values_list(
        "test_date", "threshold", "amount_as_printed", "threshold_state", "applies_thereafter"
    )
    assert list(rows) == [(day, threshold, printed, "set", False) for day, threshold, printed in schedule]


def test_ebitda_loss_caps_are_stored_as_negative_minimums_of_the_printed_amounts(seeded):
    steps = ThresholdStep.objects.filter(terms__covenant__section="7.01(c)(i)")
    assert steps.count() == 5
    for step in steps:
        # "($50,400,000)": parentheses are the accounting sign for a negative amount.
        printed = step.amount_as_printed
        assert printed.startswith("($") and printed.endswith(")")
        assert step.threshold == -Decimal(printed[2:-1].replace(",", ""))
        assert step.threshold < 0
    assert ThresholdStep.objects.filter(terms__covenant__section="7.01(c)(i)", threshold__gte=0).count() == 0
    # The minimums of 7.01(b) and 7.01(c)(ii) are positive and printed without parentheses.
    for step in ThresholdStep.objects.exclude(terms__covenant__section="7.01(c)(i)"):
        assert step.threshold == Decimal(step.amount_as_printed.lstrip("$").replace(",", ""))
        assert step.threshold > 0


@pytest.mark.parametrize(
    ("section", "fragments"),
    [
        (
            "7.01(b)",
            [
                "PROVIDED, HOWEVER, that as of the last day of each fiscal quarter occurring on or after December 31,"
                " 1999, the Borrowers shall on a combined basis have revenues at least equal to the amount",
                "December 31, 1999    $18,000,000",
                "March 31, 2001    $54,678,000",
            ],
        ),
        (
            "7.01(c)(i)",
            [
                "through and including December 31, 2000, the Borrowers shall not permit the EBITDA losses for all"
                " the Borrowers on a combined basis for the two fiscal quarters then ending to exceed",
                "December 31, 1999    ($50,400,000)",
                "December 31, 2000    ($4,157,000)",
            ],
        ),
        (
            "7.01(c)(ii)",
            [
                "As of the last day of the fiscal quarter ending March 31, 2001, the Borrowers shall not permit EBITDA"
                " for all the Borrowers on a combined basis for the two fiscal quarters then ending to be less than"
                " $1,688,000."
            ],
        ),
    ],
)
def test_terms_keep_the_text_as_printed_and_state_the_portals_reading(seeded, section, fragments):
    terms = CovenantTerms.objects.get(covenant__section=section)
    for fragment in fragments:
        assert fragment in terms.text_as_printed
    assert "combined" in terms.reading
    assert "equality passes" in terms.reading.lower()


def test_the_ebitda_losses_reading_says_how_the_parentheses_are_read(seeded):
    reading = CovenantTerms.objects.get(covenant__section="7.01(c)(i)").reading
    assert "two fiscal quarters" in reading
    assert "at least minus X" in reading
    assert "Positive EBITDA always passes" in reading


# --- Terms in force for a date --------------------------------------------------------


def terms_in_force(section: str, day: dt.date) -> CovenantTerms | None:
    """The version of a covenant's terms with the latest effective_from on or before the day."""
    return (
        CovenantTerms.objects.filter(covenant__agreement__name=LOAN, covenant__section=section, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


def threshold_on(section: str, day: dt.date) -> tuple[bool, Decimal | None]:
    """(terms in force?, the schedule's threshold for the day or None when the day is not a test date)."""
    terms = terms_in_force(section, day)
    if terms is None or terms.action == "delete":
        return False, None
    step = terms.schedule.filter(test_date=day).first()
    return True, step.threshold if step else None


@pytest.mark.parametrize(
    ("section", "day", "in_force", "threshold"),
    [
        # Before Amendment No. 4: the earlier text is not in the seeds, so no terms are known.
        ("7.01(b)", D(1999, 9, 30), False, None),
        ("7.01(c)(i)", D(1999, 9, 30), False, None),
        ("7.01(c)(ii)", D(1999, 12, 30), False, None),
        # Inside each schedule: the row for the date.
        ("7.01(b)", D(1999, 12, 31), True, Decimal("18000000")),
        ("7.01(b)", D(2000, 9, 30), True, Decimal("37803000")),
        ("7.01(b)", D(2001, 3, 31), True, Decimal("54678000")),
        ("7.01(c)(i)", D(1999, 12, 31), True, Decimal("-50400000")),
        ("7.01(c)(i)", D(2000, 6, 30), True, Decimal("-25001000")),
        ("7.01(c)(i)", D(2000, 12, 31), True, Decimal("-4157000")),
        ("7.01(c)(ii)", D(2001, 3, 31), True, Decimal("1688000")),
        # In force but not a test date of the schedule: not tested.
        ("7.01(b)", D(2000, 2, 15), True, None),
        ("7.01(c)(ii)", D(2000, 12, 31), True, None),
        # After each schedule ends: in force, no row, not tested.
        ("7.01(b)", D(2001, 6, 30), True, None),
        ("7.01(c)(i)", D(2001, 3, 31), True, None),
        ("7.01(c)(ii)", D(2001, 6, 30), True, None),
    ],
)
def test_terms_in_force_for_dates_before_inside_and_after_each_schedule(seeded, section, day, in_force, threshold):
    assert threshold_on(section, day) == (in_force, threshold)


# --- Signature pages as printed -------------------------------------------------------


def signature_pages(document) -> list[tuple]:
    """Every block and line of a document, in order, as plain values."""
    pages = []
    for block in document.signature_blocks.order_by("position").select_related("party", "through_party"):
        lines = [
            (
                line.position,
                line.person.full_name if line.person else None,
                line.title,
                line.title_as_printed,
                line.for_party.legal_name if line.for_party else None,
                line.for_party_capacity,
                line.conformed,
            )
            for line in block.signatures.order_by("position").select_related("person", "for_party")
        ]
        pages.append(
            (
                block.position,
                block.party.legal_name,
                block.party_name_as_printed,
                block.capacity_as_printed,
                block.through_party.legal_name if block.through_party else None,
                block.through_capacity,
                lines,
            )
        )
    return pages


def signed(name: str, title: str, as_printed: str | None = None, for_party=None, for_capacity="", position=1):
    return (position, name, title, as_printed or title, for_party, for_capacity, True)


GRENFELL_CFO = [signed("James D. Grenfell", "CFO")]
LENDER = "as a Lender"

AMENDMENT_NO_4_PAGES = [
    (1, "KMC Telecom Inc.", "KMC TELECOM INC.", "", None, "", GRENFELL_CFO),
    (2, "KMC Telecom II, Inc.", "KMC TELECOM II, INC.", "", None, "", GRENFELL_CFO),
    (3, "KMC Telecom of Virginia, Inc.", "KMC TELECOM OF VIRGINIA, INC.", "", None, "", GRENFELL_CFO),
    (
        4,
        "KMC Telecom Leasing I LLC",
        "KMC TELECOM LEASING I LLC",
        "",
        "KMC Telecom Inc.",
        "as its Sole Member",
        GRENFELL_CFO,
    ),
    # The trap, as printed: a second Leasing I block, by KMC Telecom II, Inc.
    (
        5,
        "KMC Telecom Leasing I LLC",
        "KMC TELECOM LEASING I LLC",
        "",
        "KMC Telecom II, Inc.",
        "as its Sole Member",
        GRENFELL_CFO,
    ),
    (
        6,
        "First Union National Bank",
        "FIRST UNION NATIONAL BANK",
        "as the Agent and as a Lender",
        None,
        "",
        [signed("Elizabeth Elmore", "Senior Vice President")],
    ),
    (
        7,
        "Newcourt Commercial Finance Corporation",
        "NEWCOURT COMMERCIAL FINANCE CORPORATION (f/k/a AT&T COMMERCIAL FINANCE CORPORATION), an affiliate of "
        "The CIT Group, Inc.",
        "as the Collateral Agent and as a Lender",
        None,
        "",
        [signed("Michael Monahan", "Vice President")],
    ),
    (
        8,
        "Canadian Imperial Bank of Commerce",
        "CANADIAN IMPERIAL BANK OF COMMERCE",
        LENDER,
        None,
        "",
        [
            signed(
                "Tefta Chilaga",
                "Executive Director",
                "Executive Director, CIBC World Markets Corp. As Agent",
                "CIBC World Markets Corp.",
                "As Agent",
            )
        ],
    ),
    (
        9,
        "General Electric Capital Corporation",
        "GENERAL ELECTRIC CAPITAL CORPORATION",
        LENDER,
        None,
        "",
        [signed("Mark F. Mylon", "Manager-Operations")],
    ),
    (10, "BankBoston, N.A.", "BANKBOSTON, N.A.", LENDER, None, "", [signed("Michael A. Ashton", "Vice President")]),
    (
        11,
        "Credit Suisse First Boston",
        "CREDIT SUISSE FIRST BOSTON",
        LENDER,
        None,
        "",
        [signed("Jeffery Ulmer", "Vice President"), signed("Douglas E. Maher", "Vice President", position=2)],
    ),
    (
        12,
        "Dresdner Bank AG New York and Grand Cayman Branches",
        "DRESDNER BANK AG NEW YORK AND GRAND CAYMAN BRANCHES",
        LENDER,
        None,
        "",
        [
            signed("John P. Fleseler", "Senior Vice President"),
            signed("Constance Loosemore", "Assistant Vice President", position=2),
        ],
    ),
    (
        13,
        "Morgan Stanley Senior Funding, Inc.",
        "MORGAN STANLEY SENIOR FUNDING, INC.",
        LENDER,
        None,
        "",
        # The second line is blank: no signature, no name, no title.
        [signed("T. Morgan Edwards II", "Vice President"), (2, None, "", "", None, "", False)],
    ),
    (
        14,
        "Morgan Stanley Dean Witter Prime Income Trust",
        "MORGAN STANLEY DEAN WITTER PRIME INCOME TRUST",
        LENDER,
        None,
        "",
        [signed("Shelia Finnely", "Senior Vice President")],
    ),
    (
        15,
        "Union Bank of California, N.A.",
        "UNION BANK OF CALIFORNIA, N.A.",
        LENDER,
        None,
        "",
        [signed("Keith M. Wilson", "Vice President")],
    ),
    (
        16,
        "Keyport Life Insurance Company",
        "KEYPORT LIFE INSURANCE COMPANY",
        LENDER,
        None,
        "",
        [signed("Brian W. Good", "Vice President & Portfolio Manager")],
    ),
    (
        17,
        "Stein Roe Floating Rate Limited Liability Company",
        "STEIN ROE FLOATING RATE LIMITED LIABILITY COMPANY",
        LENDER,
        None,
        "",
        [
            signed(
                "Brian W. Good",
                "Vice President",
                "Vice President Stein Roe & Farnham Incorporated, Advisor to the Stein Roe Floating Rate Limited "
                "Liability Company",
                "Stein Roe & Farnham Incorporated",
                "Advisor to the Stein Roe Floating Rate Limited Liability Company",
            )
        ],
    ),
]

GRENFELL_CHIEF = [signed("James D. Grenfell", "Chief Financial Officer")]
AMENDMENT_FOUR_PAGES = [
    (1, "KMC Telecom Inc.", "KMC TELECOM INC.", "", None, "", GRENFELL_CHIEF),
    (
        2,
        "KMC Telecom Leasing I LLC",
        "KMC TELECOM LEASING I LLC",
        "",
        "KMC Telecom Inc.",
        "as Sole Member",
        GRENFELL_CHIEF,
    ),
    (3, "KMC Telecom II, Inc.", "KMC TELECOM II, INC.", "", None, "", GRENFELL_CHIEF),
    (
        4,
        "KMC Telecom Leasing II LLC",
        "KMC TELECOM LEASING II LLC",
        "",
        "KMC Telecom II, Inc.",
        "as Sole Member",
        GRENFELL_CHIEF,
    ),
    (5, "KMC Telecom III, Inc.", "KMC TELECOM III, INC.", "", None, "", GRENFELL_CHIEF),
    (
        6,
        "KMC Telecom Leasing III LLC",
        "KMC TELECOM LEASING III LLC",
        "",
        "KMC Telecom III, Inc.",
        "as Sole Member",
        GRENFELL_CHIEF,
    ),
    (7, "KMC Telecom IV, Inc.", "KMC TELECOM IV, INC.", "", None, "", GRENFELL_CHIEF),
    (
        8,
        "KMC Telecom Leasing IV LLC",
        "KMC TELECOM LEASING IV LLC",
        "",
        "KMC Telecom IV, Inc.",
        "as Sole Member",
        GRENFELL_CHIEF,
    ),
    (9, "KMC Telecom of Virginia, Inc.", "KMC TELECOM OF VIRGINIA, INC.", "", None, "", GRENFELL_CHIEF),
    (10, "KMC III Services LLC", "KMC III SERVICES LLC", "", "KMC Telecom III, Inc.", "as Sole Member", GRENFELL_CHIEF),
    (
        11,
        "Lucent Technologies Inc.",
        "LUCENT TECHNOLOGIES INC.",
        "",
        None,
        "",
        [signed("William H. Pittman", "Area Vice President")],
    ),
]

REAFFIRMATION_PAGES = [
    (
        1,
        "KMC Telecom Holdings, Inc.",
        "KMC TELECOM HOLDINGS, INC.",
        "",
        None,
        "",
        [signed("James D. Grenfell", "CFO, Executive Vice President and Secretary")],
    )
]


def test_amendment_no_4_signature_pages_as_printed_traps_included(seeded):
    assert signature_pages(amendment(LOAN, 4)) == AMENDMENT_NO_4_PAGES


def test_the_reaffirmation_is_signed_by_holdings_through_grenfell(seeded):
    assert signature_pages(Reaffirmation.objects.get()) == REAFFIRMATION_PAGES


def test_amendment_four_signature_pages_as_printed(seeded):
    assert signature_pages(amendment(GENERAL, 4)) == AMENDMENT_FOUR_PAGES


def test_only_the_three_executed_documents_have_signature_blocks_and_only_one_line_is_blank(seeded):
    assert SignatureBlock.objects.count() == 17 + 1 + 11
    assert Signature.objects.count() == 20 + 1 + 11
    blank = [line for line in Signature.objects.all() if line.is_blank]
    assert [(line.block.party.legal_name, line.position) for line in blank] == [
        ("Morgan Stanley Senior Funding, Inc.", 2)
    ]
    assert str(blank[0]) == "(blank signature line)"
    # Every other line is conformed ("/s/"): signed, the image not reproduced.
    assert set(Signature.objects.exclude(pk=blank[0].pk).values_list("conformed", flat=True)) == {True}
    assert not blank[0].conformed


def test_credit_suisse_and_dresdner_each_sign_one_block_with_two_officers(seeded):
    for legal_name in ("Credit Suisse First Boston", "Dresdner Bank AG New York and Grand Cayman Branches"):
        block = SignatureBlock.objects.get(party__legal_name=legal_name)
        assert block.signatures.count() == 2
        assert block.signatures.filter(person__isnull=False).count() == 2


# --- The loader itself ----------------------------------------------------------------

TIMESTAMP_FIELDS = (models.DateTimeField,)


def dump_every_table() -> dict[str, list[tuple]]:
    """Every row of every table, timestamps left out, in primary-key order."""
    dump = {}
    for model in apps.get_models(include_auto_created=True):
        fields = [f.attname for f in model._meta.concrete_fields if not isinstance(f, TIMESTAMP_FIELDS)]
        dump[model._meta.db_table] = list(model._base_manager.order_by("pk").values_list(*fields))
    return dump


def test_loading_twice_leaves_every_table_identical_including_history(seeded):
    first = dump_every_table()
    second_report = load_seed_documents()
    assert dump_every_table() == first
    assert not second_report.changed
    assert sum(second_report.created.values()) == 0
    assert sum(second_report.updated.values()) == 0
    assert second_report.counts == seeded.counts


def test_the_report_counts_the_rows_loaded(seeded):
    assert seeded.counts == {
        "parties": 28,
        "former names": 1,
        "addresses": 10,
        "party relationships": 9,
        "people": 15,
        "line items": 2,
        "agreements": 3,
        "amendments": 8,
        "agreement roles": 19 + 2 + 11,
        "condition precedents": 1,
        "reaffirmations": 1,
        "covenants": 3,
        "covenant terms": 3,
        "threshold steps": 12,
        "signature blocks": 29,
        "signatures": 32,
    }
    assert seeded.changed
    assert dict(seeded.created) == seeded.counts
    # A first load only creates: nothing counts as updated or removed.
    assert sum(seeded.updated.values()) == 0
    assert sum(seeded.removed.values()) == 0


def test_a_second_load_restores_an_edited_figure_and_removes_a_row_the_document_does_not_print(seeded):
    step = ThresholdStep.objects.get(terms__covenant__section="7.01(b)", test_date=D(2000, 3, 31))
    step.threshold = Decimal("1")
    step.save()
    terms = step.terms
    ThresholdStep.objects.create(terms=terms, test_date=D(2001, 6, 30), threshold=Decimal("60000000"))
    extra_block = SignatureBlock.objects.create(
        document=amendment(LOAN, 4),
        position=18,
        party=Party.objects.get(legal_name="KMC Telecom III, Inc."),
        party_name_as_printed="KMC TELECOM III, INC.",
    )

    report = load_seed_documents()

    step.refresh_from_db()
    assert step.threshold == Decimal("23821000")
    assert report.updated["threshold steps"] == 1
    assert not terms.schedule.filter(test_date=D(2001, 6, 30)).exists()
    assert not SignatureBlock.objects.filter(pk=extra_block.pk).exists()
    assert report.removed == {"threshold steps": 1, "signature blocks": 1}
    assert signature_pages(amendment(LOAN, 4)) == AMENDMENT_NO_4_PAGES


def test_a_failed_load_writes_nothing(monkeypatch):
    def fail(writer, item):
        raise RuntimeError("signature pages could not be read")

    order = tuple((kind, fail if kind == "signature" else write) for kind, write in applying.ORDER)
    monkeypatch.setattr(applying, "ORDER", order)
    with pytest.raises(RuntimeError):
        load_seed_documents()
    assert not Party.objects.exists()
    assert not Agreement.objects.exists()
    assert not CovenantTerms.objects.exists()
    assert not Document.objects.exists() and not ImportReview.objects.exists()


def test_the_command_loads_and_then_reports_nothing_changed():
    out = StringIO()
    call_command("load_seed_documents", stdout=out)
    assert "parties: 28 rows (28 created, 0 updated, 0 removed)" in out.getvalue()
    assert "agreements: 3 rows (3 created, 0 updated, 0 removed)" in out.getvalue()
    assert "former names: 1 row (1 created, 0 updated, 0 removed)" in out.getvalue()
    assert "Seed documents loaded." in out.getvalue()
    out = StringIO()
    call_command("load_seed_documents", stdout=out)
    assert "parties: 28 rows (0 created, 0 updated, 0 removed)" in out.getvalue()
    assert "nothing changed" in out.getvalue()


def test_a_party_renamed_in_the_portal_stays_one_party_when_the_seed_is_loaded_again(seeded):
    """Union Bank of California, N.A. renamed "Union Bank, N.A.": the rename records the old name
    as a former name, and a second load finds the party by it: no second Lender, its role and
    signature block stay with it, and the rename stands."""
    bank = Party.objects.get(legal_name="Union Bank of California, N.A.")
    party_update(user=administrator(), party=bank, changes={"legal_name": "Union Bank, N.A."})
    assert list(bank.former_names.values_list("name", flat=True)) == ["Union Bank of California, N.A."]
    before = dump_every_table()

    report = load_seed_documents()

    assert not report.changed and report.counts == {**seeded.counts, "former names": 2}
    assert dump_every_table() == before
    assert not Party.objects.filter(legal_name="Union Bank of California, N.A.").exists()
    bank.refresh_from_db()
    assert bank.legal_name == "Union Bank, N.A."
    assert bank.agreement_roles.filter(role="lender").exists()
    assert bank.signature_blocks.exists()
