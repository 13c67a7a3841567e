"""
The two seed documents as data, and the loader that writes them into the models.

Seed 002 is Amendment No. 4 to the KMC Telecom Loan and Security Agreement (with the
Reaffirmation of Guaranty by KMC Telecom Holdings, Inc.); seed 000 is Amendment Number
Four to the KMC Telecom–Lucent General Agreement. Everything below is transcribed from
them: names, dates, contract numbers, covenant schedules and every signature block and
line as printed. The traps are kept, not fixed: the second "KMC TELECOM LEASING I LLC"
block (signed through KMC Telecom II, Inc.) stays a Leasing I block, and Morgan Stanley
Senior Funding's blank second line stays blank; the execution check reports them.

``load_seed_documents()`` writes it all in one transaction, keyed on natural keys. A row
is saved only when a field differs, so a second run changes nothing and adds no history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from covenants.choices import (
    AgreementKind,
    AmendmentStatus,
    Basis,
    Direction,
    MetricKind,
    Role,
    TermsAction,
    ThresholdState,
    WindowKind,
)
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
from parties.choices import EntityKind, RelationshipKind
from parties.models import Address, FormerName, Party, PartyRelationship, Person, Signature, SignatureBlock

D = dt.date

# --- Names used as natural keys -------------------------------------------------------

LOAN_AGREEMENT = "KMC Telecom Loan and Security Agreement"
GENERAL_AGREEMENT = "KMC Telecom–Lucent General Agreement"
GUARANTY = "KMC Telecom Holdings Guaranty"

KMC = "KMC Telecom Inc."
KMC_II = "KMC Telecom II, Inc."
KMC_III = "KMC Telecom III, Inc."
KMC_IV = "KMC Telecom IV, Inc."
KMC_VIRGINIA = "KMC Telecom of Virginia, Inc."
LEASING_I = "KMC Telecom Leasing I LLC"
LEASING_II = "KMC Telecom Leasing II LLC"
LEASING_III = "KMC Telecom Leasing III LLC"
LEASING_IV = "KMC Telecom Leasing IV LLC"
KMC_SERVICES = "KMC III Services LLC"
HOLDINGS = "KMC Telecom Holdings, Inc."
LUCENT = "Lucent Technologies Inc."
GSPG = "Global Service Providers Group"
FIRST_UNION = "First Union National Bank"
NEWCOURT = "Newcourt Commercial Finance Corporation"
CIT = "The CIT Group, Inc."
CIBC = "Canadian Imperial Bank of Commerce"
CIBC_WM = "CIBC World Markets Corp."
GE_CAPITAL = "General Electric Capital Corporation"
BANKBOSTON = "BankBoston, N.A."
CSFB = "Credit Suisse First Boston"
DRESDNER = "Dresdner Bank AG New York and Grand Cayman Branches"
MS_SENIOR_FUNDING = "Morgan Stanley Senior Funding, Inc."
MSDW_TRUST = "Morgan Stanley Dean Witter Prime Income Trust"
UNION_BANK = "Union Bank of California, N.A."
KEYPORT = "Keyport Life Insurance Company"
STEIN_ROE_FR = "Stein Roe Floating Rate Limited Liability Company"
STEIN_ROE_FARNHAM = "Stein Roe & Farnham Incorporated"

GRENFELL = "James D. Grenfell"
BRIAN_GOOD = "Brian W. Good"

# --- The data, as plain records -------------------------------------------------------


@dataclass(frozen=True)
class AddressData:
    """An office address as a document gives it."""

    street: str
    city: str
    region: str
    postal_code: str
    suite: str = ""


@dataclass(frozen=True)
class PartyData:
    """A party as the documents introduce it; jurisdiction only where a document states it."""

    legal_name: str
    kind: str
    jurisdiction: str = ""
    former_names: tuple[str, ...] = ()
    address: AddressData | None = None


@dataclass(frozen=True)
class RelationshipData:
    """``party`` is ``kind`` ``other``."""

    party: str
    kind: str
    other: str


@dataclass(frozen=True)
class AgreementData:
    """An agreement, keyed by the name the portal lists it under."""

    name: str
    kind: str
    title: str
    defined_term: str = ""
    contract_number: str = ""
    dated_as_of: dt.date | None = None
    effective_on: dt.date | None = None
    governing_law: str = ""
    guaranteed_agreement: str | None = None
    required_line_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class AmendmentData:
    """An amendment, keyed by its agreement and number."""

    agreement: str
    number: int
    title: str
    defined_term: str = ""
    contract_number: str = ""
    dated_as_of: dt.date | None = None
    effective_on: dt.date | None = None
    status: str = AmendmentStatus.EFFECTIVE


@dataclass(frozen=True)
class RoleData:
    """A party's role in an agreement; ``added_by`` is the amendment number that added it."""

    agreement: str
    party: str
    role: str
    defined_term: str = ""
    capacity_as_printed: str = ""
    holds_from: dt.date | None = None
    holds_to: dt.date | None = None
    added_by: int | None = None


@dataclass(frozen=True)
class ConditionData:
    """A condition precedent of an amendment; the deadline may be blank in the original."""

    agreement: str
    amendment: int
    description: str
    deadline: dt.date | None
    deadline_as_printed: str


@dataclass(frozen=True)
class StepData:
    """A schedule row: the threshold stored as compared, and the amount as printed."""

    test_date: dt.date
    threshold: Decimal
    amount_as_printed: str


@dataclass(frozen=True)
class CovenantData:
    """A covenant and the one version of its terms the seeds give (from Amendment No. 4)."""

    agreement: str
    section: str
    name: str
    amendment: int
    action: str
    effective_from: dt.date
    text_as_printed: str
    reading: str
    line_item: str
    window_periods: int
    direction: str
    basis: str
    schedule: tuple[StepData, ...]
    metric_kind: str = MetricKind.SUM
    window_kind: str = WindowKind.TRAILING


@dataclass(frozen=True)
class ReaffirmationData:
    """A guarantor's reaffirmation of its guaranty for an amendment."""

    guaranty: str
    agreement: str
    amendment: int
    title: str
    dated_as_of: dt.date


@dataclass(frozen=True)
class LineData:
    """One "By:" line; ``person`` None with no title is a blank line."""

    person: str | None
    title: str = ""
    title_as_printed: str = ""
    for_party: str | None = None
    for_party_capacity: str = ""
    conformed: bool = True


@dataclass(frozen=True)
class BlockData:
    """One signature block as printed: the heading, the party it names, its lines."""

    party: str
    party_name_as_printed: str
    lines: tuple[LineData, ...]
    capacity_as_printed: str = ""
    through_party: str | None = None
    through_capacity: str = ""


@dataclass(frozen=True)
class AmendmentRef:
    """Points at an amendment: its agreement's name and its number."""

    agreement: str
    number: int


@dataclass(frozen=True)
class ReaffirmationRef:
    """Points at a reaffirmation: the guaranty, and the amendment it was given for."""

    guaranty: str
    agreement: str
    amendment: int


@dataclass(frozen=True)
class SignaturePageData:
    """A document's signature pages: its blocks in the order printed (position 1..n)."""

    document: AmendmentRef | ReaffirmationRef
    blocks: tuple[BlockData, ...]


def _signed(person: str, title: str, **kwargs: Any) -> LineData:
    """A conformed ("/s/") line whose title is printed as ``title`` unless given otherwise."""
    kwargs.setdefault("title_as_printed", title)
    return LineData(person=person, title=title, conformed=True, **kwargs)


BEDMINSTER = AddressData(
    street="1545 Route 206", suite="Suite 300", city="Bedminster", region="New Jersey", postal_code="07921"
)
MURRAY_HILL = AddressData(street="600 Mountain Avenue", city="Murray Hill", region="New Jersey", postal_code="07074")

CORP = EntityKind.CORPORATION
LLC = EntityKind.LIMITED_LIABILITY_COMPANY

PARTIES: tuple[PartyData, ...] = (
    # The KMC group: seed 000 gives the nine Customer entities' offices; seed 002 adds Holdings.
    PartyData(KMC, CORP, "Delaware", address=BEDMINSTER),
    PartyData(KMC_II, CORP, "Delaware", address=BEDMINSTER),
    PartyData(KMC_III, CORP, "Delaware", address=BEDMINSTER),
    PartyData(KMC_IV, CORP, "Delaware", address=BEDMINSTER),
    PartyData(KMC_VIRGINIA, EntityKind.PUBLIC_SERVICE_COMPANY, "Virginia", address=BEDMINSTER),
    PartyData(LEASING_I, LLC, "Delaware", address=BEDMINSTER),
    PartyData(LEASING_II, LLC, "Delaware", address=BEDMINSTER),
    PartyData(LEASING_III, LLC, "Delaware", address=BEDMINSTER),
    PartyData(LEASING_IV, LLC, "Delaware", address=BEDMINSTER),
    # Added to "Customer" by Amendment Four; the amendment states no address for it.
    PartyData(KMC_SERVICES, LLC, "Delaware"),
    PartyData(HOLDINGS, CORP, "Delaware"),
    PartyData(LUCENT, CORP, "Delaware", address=MURRAY_HILL),
    PartyData(GSPG, EntityKind.DIVISION),
    # Agents and Lenders: the documents state no jurisdiction for any of them.
    PartyData(FIRST_UNION, EntityKind.NATIONAL_BANK),
    PartyData(NEWCOURT, CORP, former_names=("AT&T Commercial Finance Corporation",)),
    PartyData(CIT, CORP),
    PartyData(CIBC, EntityKind.BANK),
    PartyData(CIBC_WM, CORP),
    PartyData(GE_CAPITAL, CORP),
    PartyData(BANKBOSTON, EntityKind.NATIONAL_BANK),
    PartyData(CSFB, EntityKind.BANK),
    PartyData(DRESDNER, EntityKind.BRANCH),
    PartyData(MS_SENIOR_FUNDING, CORP),
    PartyData(MSDW_TRUST, EntityKind.TRUST),
    PartyData(UNION_BANK, EntityKind.NATIONAL_BANK),
    PartyData(KEYPORT, EntityKind.INSURANCE_COMPANY),
    PartyData(STEIN_ROE_FR, LLC),
    PartyData(STEIN_ROE_FARNHAM, CORP),
)

# Sole members as seed 000 states them. Seed 002's block "KMC TELECOM LEASING I LLC, By:
# KMC TELECOM II, INC., as its Sole Member" is a misprint and is not a relationship.
RELATIONSHIPS: tuple[RelationshipData, ...] = (
    RelationshipData(NEWCOURT, RelationshipKind.AFFILIATE_OF, CIT),
    RelationshipData(KMC, RelationshipKind.SOLE_MEMBER_OF, LEASING_I),
    RelationshipData(KMC_II, RelationshipKind.SOLE_MEMBER_OF, LEASING_II),
    RelationshipData(KMC_III, RelationshipKind.SOLE_MEMBER_OF, LEASING_III),
    RelationshipData(KMC_III, RelationshipKind.SOLE_MEMBER_OF, KMC_SERVICES),
    RelationshipData(KMC_IV, RelationshipKind.SOLE_MEMBER_OF, LEASING_IV),
    RelationshipData(LUCENT, RelationshipKind.ACTS_THROUGH_DIVISION, GSPG),
    RelationshipData(STEIN_ROE_FARNHAM, RelationshipKind.ADVISOR_TO, STEIN_ROE_FR),
    RelationshipData(CIBC_WM, RelationshipKind.AGENT_FOR, CIBC),
)

PERSONS: tuple[str, ...] = (
    GRENFELL,
    "Elizabeth Elmore",
    "Michael Monahan",
    "Tefta Chilaga",
    "Mark F. Mylon",
    "Michael A. Ashton",
    "Jeffery Ulmer",
    "Douglas E. Maher",
    "John P. Fleseler",
    "Constance Loosemore",
    "T. Morgan Edwards II",
    "Shelia Finnely",
    "Keith M. Wilson",
    BRIAN_GOOD,
    "William H. Pittman",
)

LINE_ITEMS: tuple[tuple[str, str], ...] = (("revenues", "Revenues"), ("ebitda", "EBITDA"))

AGREEMENTS: tuple[AgreementData, ...] = (
    AgreementData(
        name=LOAN_AGREEMENT,
        kind=AgreementKind.LOAN_AND_SECURITY_AGREEMENT,
        title="Loan and Security Agreement",
        defined_term="Loan Agreement",
        dated_as_of=D(1998, 12, 22),
        governing_law="New York",
        required_line_items=("revenues", "ebitda"),
    ),
    AgreementData(
        name=GENERAL_AGREEMENT,
        kind=AgreementKind.GENERAL_AGREEMENT,
        title="General Agreement",
        defined_term="General Agreement",
        contract_number="LNM970313MP",
        effective_on=D(1997, 3, 6),
        governing_law="New York",
    ),
    AgreementData(
        name=GUARANTY,
        kind=AgreementKind.GUARANTY,
        title="Guaranty",
        defined_term="Guaranty",
        dated_as_of=D(1998, 12, 22),
        guaranteed_agreement=LOAN_AGREEMENT,
    ),
)

AMENDMENTS: tuple[AmendmentData, ...] = (
    # Seed 002 recites the first three by their dates only: when each took effect is not stated.
    AmendmentData(LOAN_AGREEMENT, 1, "Amendment No. 1", dated_as_of=D(1999, 3, 3)),
    AmendmentData(LOAN_AGREEMENT, 2, "Amendment No. 2", dated_as_of=D(1999, 8, 13)),
    AmendmentData(LOAN_AGREEMENT, 3, "Waiver and Amendment No. 3", dated_as_of=D(1999, 10, 29)),
    AmendmentData(
        LOAN_AGREEMENT,
        4,
        "Amendment No. 4 to Loan and Security Agreement",
        defined_term="Amendment",
        dated_as_of=D(1999, 12, 31),
        effective_on=D(1999, 12, 31),
        status=AmendmentStatus.PENDING,
    ),
    AmendmentData(
        GENERAL_AGREEMENT, 1, "Amendment Number One", contract_number="LNM970922MP", effective_on=D(1997, 10, 15)
    ),
    AmendmentData(GENERAL_AGREEMENT, 2, "Amendment Number Two", effective_on=D(1998, 12, 22)),
    AmendmentData(GENERAL_AGREEMENT, 3, "Amendment Number Three", effective_on=D(1999, 11, 15)),
    AmendmentData(
        GENERAL_AGREEMENT, 4, "Amendment Number Four", defined_term="Amendment Four", effective_on=D(2000, 2, 15)
    ),
)

LOAN_AGREEMENT_BORROWERS: tuple[tuple[str, str], ...] = (
    (KMC, "KMC"),
    (KMC_II, "KMC II"),
    (KMC_VIRGINIA, "KMC Virginia"),
    (LEASING_I, "Leasing I"),
    (LEASING_II, "Leasing II"),
)
LOAN_AGREEMENT_LENDERS: tuple[str, ...] = (
    FIRST_UNION,
    NEWCOURT,
    CIBC,
    GE_CAPITAL,
    BANKBOSTON,
    CSFB,
    DRESDNER,
    MS_SENIOR_FUNDING,
    MSDW_TRUST,
    UNION_BANK,
    KEYPORT,
    STEIN_ROE_FR,
)
GENERAL_AGREEMENT_CUSTOMERS: tuple[str, ...] = (
    KMC,
    KMC_II,
    KMC_III,
    KMC_IV,
    KMC_VIRGINIA,
    LEASING_I,
    LEASING_II,
    LEASING_III,
    LEASING_IV,
)

ROLES: tuple[RoleData, ...] = (
    *(RoleData(LOAN_AGREEMENT, party, Role.BORROWER, term) for party, term in LOAN_AGREEMENT_BORROWERS),
    RoleData(LOAN_AGREEMENT, FIRST_UNION, Role.AGENT, "Agent", "as administrative agent for the Lenders"),
    RoleData(
        LOAN_AGREEMENT, NEWCOURT, Role.COLLATERAL_AGENT, "Collateral Agent", "as collateral agent for the Lenders"
    ),
    *(RoleData(LOAN_AGREEMENT, party, Role.LENDER, "Lenders") for party in LOAN_AGREEMENT_LENDERS),
    RoleData(GUARANTY, HOLDINGS, Role.GUARANTOR, "Guarantor"),
    RoleData(
        GUARANTY,
        NEWCOURT,
        Role.BENEFICIARY,
        "Collateral Agent",
        "as collateral agent for the ratable benefit of the Lenders",
    ),
    *(RoleData(GENERAL_AGREEMENT, party, Role.CUSTOMER, "Customer") for party in GENERAL_AGREEMENT_CUSTOMERS),
    RoleData(GENERAL_AGREEMENT, KMC_SERVICES, Role.CUSTOMER, "KMC Services", holds_from=D(2000, 2, 15), added_by=4),
    RoleData(GENERAL_AGREEMENT, LUCENT, Role.SELLER, "Seller", "acting through its Global Service Providers Group"),
)

CONDITIONS_PRECEDENT: tuple[ConditionData, ...] = (
    ConditionData(
        LOAN_AGREEMENT,
        4,
        description=(
            "This Amendment shall become effective as of the date above written, if, and only if, the Agents "
            "have received duly executed originals of this Amendment from the Borrowers, the Requisite Lenders "
            "and the Agents on or prior to January __, 2000."
        ),
        # The day is left blank in the original: unknown, never a guessed date.
        deadline=None,
        deadline_as_printed="January __, 2000",
    ),
)

MINIMUM_REVENUES_TEXT = """PROVIDED, HOWEVER, that as of the last day of each fiscal quarter occurring on or \
after December 31, 1999, the Borrowers shall on a combined basis have revenues at least equal to the amount set \
forth below for such date:

FISCAL QUARTER ENDING    MINIMUM REVENUES
December 31, 1999    $18,000,000
March 31, 2000    $23,821,000
June 30, 2000    $31,338,000
September 30, 2000    $37,803,000
December 31, 2000    $44,482,000
March 31, 2001    $54,678,000"""

EBITDA_LOSSES_TEXT = """PROVIDED, HOWEVER, that as of the last day of each fiscal quarter occurring on or after \
December 31, 1999 through and including December 31, 2000, the Borrowers shall not permit the EBITDA losses for \
all the Borrowers on a combined basis for the two fiscal quarters then ending to exceed the amount set forth below \
for such date:

FISCAL QUARTER ENDING    EBITDA LOSSES
December 31, 1999    ($50,400,000)
March 31, 2000    ($38,700,000)
June 30, 2000    ($25,001,000)
September 30, 2000    ($13,823,000)
December 31, 2000    ($4,157,000)"""

MINIMUM_EBITDA_TEXT = """As of the last day of the fiscal quarter ending March 31, 2001, the Borrowers shall not \
permit EBITDA for all the Borrowers on a combined basis for the two fiscal quarters then ending to be less than \
$1,688,000."""


def _step(year: int, month: int, day: int, amount: int, as_printed: str) -> StepData:
    return StepData(D(year, month, day), Decimal(amount), as_printed)


COVENANTS: tuple[CovenantData, ...] = (
    CovenantData(
        agreement=LOAN_AGREEMENT,
        section="7.01(b)",
        name="Minimum revenues",
        amendment=4,
        action=TermsAction.ADD,
        effective_from=D(1999, 12, 31),
        text_as_printed=MINIMUM_REVENUES_TEXT,
        reading=(
            "The combined revenues of the five Borrowers for the single fiscal quarter ending on the test date "
            "must be at least the minimum for that date; equality passes. Test dates outside the schedule are "
            "not tested by this covenant."
        ),
        line_item="revenues",
        window_periods=1,
        direction=Direction.AT_LEAST,
        basis=Basis.COMBINED,
        schedule=(
            _step(1999, 12, 31, 18_000_000, "$18,000,000"),
            _step(2000, 3, 31, 23_821_000, "$23,821,000"),
            _step(2000, 6, 30, 31_338_000, "$31,338,000"),
            _step(2000, 9, 30, 37_803_000, "$37,803,000"),
            _step(2000, 12, 31, 44_482_000, "$44,482,000"),
            _step(2001, 3, 31, 54_678_000, "$54,678,000"),
        ),
    ),
    CovenantData(
        agreement=LOAN_AGREEMENT,
        section="7.01(c)(i)",
        name="Maximum EBITDA losses",
        amendment=4,
        action=TermsAction.REPLACE,
        effective_from=D(1999, 12, 31),
        text_as_printed=EBITDA_LOSSES_TEXT,
        reading=(
            'EBITDA losses "not to exceed (X)" is read as: the combined EBITDA of all the Borrowers, summed over '
            "the two fiscal quarters ending on the test date, must be at least minus X. Positive EBITDA always "
            "passes, and equality passes."
        ),
        line_item="ebitda",
        window_periods=2,
        direction=Direction.AT_LEAST,
        basis=Basis.COMBINED,
        # The caps are printed in parentheses, the accounting sign for a negative amount.
        schedule=(
            _step(1999, 12, 31, -50_400_000, "($50,400,000)"),
            _step(2000, 3, 31, -38_700_000, "($38,700,000)"),
            _step(2000, 6, 30, -25_001_000, "($25,001,000)"),
            _step(2000, 9, 30, -13_823_000, "($13,823,000)"),
            _step(2000, 12, 31, -4_157_000, "($4,157,000)"),
        ),
    ),
    CovenantData(
        agreement=LOAN_AGREEMENT,
        section="7.01(c)(ii)",
        name="Minimum EBITDA",
        amendment=4,
        action=TermsAction.REPLACE,
        effective_from=D(1999, 12, 31),
        text_as_printed=MINIMUM_EBITDA_TEXT,
        reading=(
            "As of the fiscal quarter ending March 31, 2001, the combined EBITDA of all the Borrowers for the two "
            "fiscal quarters then ending must be at least $1,688,000; equality passes."
        ),
        line_item="ebitda",
        window_periods=2,
        direction=Direction.AT_LEAST,
        basis=Basis.COMBINED,
        schedule=(_step(2001, 3, 31, 1_688_000, "$1,688,000"),),
    ),
)

REAFFIRMATIONS: tuple[ReaffirmationData, ...] = (
    ReaffirmationData(GUARANTY, LOAN_AGREEMENT, 4, "Reaffirmation of Guaranty", D(1999, 12, 31)),
)

# --- Signature pages, as printed ------------------------------------------------------

_GRENFELL_CFO = _signed(GRENFELL, "CFO")
_AS_A_LENDER = "as a Lender"

AMENDMENT_NO_4_BLOCKS: tuple[BlockData, ...] = (
    # "THE BORROWERS": three headings share one line "In each case"; one block each.
    BlockData(KMC, "KMC TELECOM INC.", (_GRENFELL_CFO,)),
    BlockData(KMC_II, "KMC TELECOM II, INC.", (_GRENFELL_CFO,)),
    BlockData(KMC_VIRGINIA, "KMC TELECOM OF VIRGINIA, INC.", (_GRENFELL_CFO,)),
    BlockData(
        LEASING_I,
        "KMC TELECOM LEASING I LLC",
        (_GRENFELL_CFO,),
        through_party=KMC,
        through_capacity="as its Sole Member",
    ),
    # As printed: a second Leasing I block, signed through KMC Telecom II, Inc. (evidently meant
    # for Leasing II). Kept as written; the execution check flags Leasing II as unsigned.
    BlockData(
        LEASING_I,
        "KMC TELECOM LEASING I LLC",
        (_GRENFELL_CFO,),
        through_party=KMC_II,
        through_capacity="as its Sole Member",
    ),
    BlockData(
        FIRST_UNION,
        "FIRST UNION NATIONAL BANK",
        (_signed("Elizabeth Elmore", "Senior Vice President"),),
        capacity_as_printed="as the Agent and as a Lender",
    ),
    BlockData(
        NEWCOURT,
        "NEWCOURT COMMERCIAL FINANCE CORPORATION (f/k/a AT&T COMMERCIAL FINANCE CORPORATION), "
        "an affiliate of The CIT Group, Inc.",
        (_signed("Michael Monahan", "Vice President"),),
        capacity_as_printed="as the Collateral Agent and as a Lender",
    ),
    BlockData(
        CIBC,
        "CANADIAN IMPERIAL BANK OF COMMERCE",
        (
            _signed(
                "Tefta Chilaga",
                "Executive Director",
                title_as_printed="Executive Director, CIBC World Markets Corp. As Agent",
                for_party=CIBC_WM,
                for_party_capacity="As Agent",
            ),
        ),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        GE_CAPITAL,
        "GENERAL ELECTRIC CAPITAL CORPORATION",
        (_signed("Mark F. Mylon", "Manager-Operations"),),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        BANKBOSTON,
        "BANKBOSTON, N.A.",
        (_signed("Michael A. Ashton", "Vice President"),),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        CSFB,
        "CREDIT SUISSE FIRST BOSTON",
        (_signed("Jeffery Ulmer", "Vice President"), _signed("Douglas E. Maher", "Vice President")),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        DRESDNER,
        "DRESDNER BANK AG NEW YORK AND GRAND CAYMAN BRANCHES",
        (
            _signed("John P. Fleseler", "Senior Vice President"),
            _signed("Constance Loosemore", "Assistant Vice President"),
        ),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        MS_SENIOR_FUNDING,
        "MORGAN STANLEY SENIOR FUNDING, INC.",
        # The second line is printed with no signature, no name and no title.
        (_signed("T. Morgan Edwards II", "Vice President"), LineData(person=None, conformed=False)),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        MSDW_TRUST,
        "MORGAN STANLEY DEAN WITTER PRIME INCOME TRUST",
        (_signed("Shelia Finnely", "Senior Vice President"),),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        UNION_BANK,
        "UNION BANK OF CALIFORNIA, N.A.",
        (_signed("Keith M. Wilson", "Vice President"),),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        KEYPORT,
        "KEYPORT LIFE INSURANCE COMPANY",
        (_signed(BRIAN_GOOD, "Vice President & Portfolio Manager"),),
        capacity_as_printed=_AS_A_LENDER,
    ),
    BlockData(
        STEIN_ROE_FR,
        "STEIN ROE FLOATING RATE LIMITED LIABILITY COMPANY",
        (
            _signed(
                BRIAN_GOOD,
                "Vice President",
                title_as_printed=(
                    "Vice President Stein Roe & Farnham Incorporated, "
                    "Advisor to the Stein Roe Floating Rate Limited Liability Company"
                ),
                for_party=STEIN_ROE_FARNHAM,
                for_party_capacity="Advisor to the Stein Roe Floating Rate Limited Liability Company",
            ),
        ),
        capacity_as_printed=_AS_A_LENDER,
    ),
)

REAFFIRMATION_BLOCKS: tuple[BlockData, ...] = (
    BlockData(
        HOLDINGS, "KMC TELECOM HOLDINGS, INC.", (_signed(GRENFELL, "CFO, Executive Vice President and Secretary"),)
    ),
)

_GRENFELL_CHIEF_FINANCIAL_OFFICER = _signed(GRENFELL, "Chief Financial Officer")


def _through_sole_member(party: str, heading: str, member: str) -> BlockData:
    return BlockData(
        party,
        heading,
        (_GRENFELL_CHIEF_FINANCIAL_OFFICER,),
        through_party=member,
        through_capacity="as Sole Member",
    )


# Printed in two columns; the order is the reading order, left to right, row by row.
AMENDMENT_FOUR_BLOCKS: tuple[BlockData, ...] = (
    BlockData(KMC, "KMC TELECOM INC.", (_GRENFELL_CHIEF_FINANCIAL_OFFICER,)),
    _through_sole_member(LEASING_I, "KMC TELECOM LEASING I LLC", KMC),
    BlockData(KMC_II, "KMC TELECOM II, INC.", (_GRENFELL_CHIEF_FINANCIAL_OFFICER,)),
    _through_sole_member(LEASING_II, "KMC TELECOM LEASING II LLC", KMC_II),
    BlockData(KMC_III, "KMC TELECOM III, INC.", (_GRENFELL_CHIEF_FINANCIAL_OFFICER,)),
    _through_sole_member(LEASING_III, "KMC TELECOM LEASING III LLC", KMC_III),
    BlockData(KMC_IV, "KMC TELECOM IV, INC.", (_GRENFELL_CHIEF_FINANCIAL_OFFICER,)),
    _through_sole_member(LEASING_IV, "KMC TELECOM LEASING IV LLC", KMC_IV),
    BlockData(KMC_VIRGINIA, "KMC TELECOM OF VIRGINIA, INC.", (_GRENFELL_CHIEF_FINANCIAL_OFFICER,)),
    _through_sole_member(KMC_SERVICES, "KMC III SERVICES LLC", KMC_III),
    BlockData(LUCENT, "LUCENT TECHNOLOGIES INC.", (_signed("William H. Pittman", "Area Vice President"),)),
)

SIGNATURE_PAGES: tuple[SignaturePageData, ...] = (
    SignaturePageData(AmendmentRef(LOAN_AGREEMENT, 4), AMENDMENT_NO_4_BLOCKS),
    SignaturePageData(ReaffirmationRef(GUARANTY, LOAN_AGREEMENT, 4), REAFFIRMATION_BLOCKS),
    SignaturePageData(AmendmentRef(GENERAL_AGREEMENT, 4), AMENDMENT_FOUR_BLOCKS),
)

# --- The loader -----------------------------------------------------------------------

SEEDED_MODELS: tuple[type[models.Model], ...] = (
    Party,
    FormerName,
    Address,
    PartyRelationship,
    Person,
    LineItem,
    Agreement,
    Amendment,
    AgreementRole,
    ConditionPrecedent,
    Reaffirmation,
    Covenant,
    CovenantTerms,
    ThresholdStep,
    SignatureBlock,
    Signature,
)


@dataclass(frozen=True)
class SeedReport:
    """What a load did: rows created, updated, unchanged and removed, and the row counts after it."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything at all."""
        return bool(sum(self.created.values()) + sum(self.updated.values()) + sum(self.removed.values()))

    def lines(self) -> list[str]:
        """One line per model: rows now, and what this load did to them."""
        out = []
        for label, count in self.counts.items():
            rows = "row" if count == 1 else "rows"
            out.append(
                f"{label}: {count} {rows} ({self.created[label]} created, {self.updated[label]} updated, "
                f"{self.removed[label]} removed)"
            )
        return out


class _Loader:
    """Writes the seed data, saving a row only when it differs, and tallies what it did."""

    def __init__(self) -> None:
        self.report = SeedReport()
        self.parties: dict[str, Party] = {}
        self.persons: dict[str, Person] = {}
        self.line_items: dict[str, LineItem] = {}
        self.agreements: dict[str, Agreement] = {}
        self.amendments: dict[tuple[str, int], Amendment] = {}

    def upsert(self, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]) -> Any:
        """get-or-create by natural key; on an existing row, save only the fields that differ."""
        label = str(model._meta.verbose_name_plural)
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model._default_manager.create(**lookup, **values)
            self.report.created[label] += 1
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            # Only the fields that differ: a column another process maintains (an evaluation
            # request mark, say) is never overwritten with a stale value.
            timestamps = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
            obj.save(update_fields=[*changed, *timestamps])
            self.report.updated[label] += 1
        else:
            self.report.unchanged[label] += 1
        return obj

    def prune(self, queryset: models.QuerySet[Any]) -> None:
        """Delete rows of a seeded document that the document does not print (left by an older load)."""
        label = str(queryset.model._meta.verbose_name_plural)
        for obj in queryset:
            obj.delete()
            self.report.removed[label] += 1

    def load(self) -> SeedReport:
        self.load_parties()
        self.load_agreements()
        self.load_covenants()
        self.load_signature_pages()
        for model in SEEDED_MODELS:
            self.report.counts[str(model._meta.verbose_name_plural)] = model._default_manager.count()
        return self.report

    def seeded_party(self, data: PartyData) -> Party:
        """The party the seed names, found by its legal name or, once renamed in the portal, by
        the former name the rename recorded: a rename stands, and a second load creates no
        second party under the old name."""
        renamed = None
        if not Party.objects.filter(legal_name=data.legal_name).exists():
            renamed = Party.objects.filter(former_names__name=data.legal_name).order_by("pk").first()
        if renamed is None:
            return self.upsert(
                Party, {"legal_name": data.legal_name}, {"kind": data.kind, "jurisdiction": data.jurisdiction}
            )
        return self.upsert(Party, {"pk": renamed.pk}, {"kind": data.kind, "jurisdiction": data.jurisdiction})

    def load_parties(self) -> None:
        for data in PARTIES:
            party = self.seeded_party(data)
            self.parties[data.legal_name] = party
            for name in data.former_names:
                self.upsert(FormerName, {"party": party, "name": name}, {})
            if data.address is not None:
                a = data.address
                self.upsert(
                    Address,
                    {
                        "party": party,
                        "street": a.street,
                        "suite": a.suite,
                        "city": a.city,
                        "postal_code": a.postal_code,
                    },
                    {"region": a.region},
                )
        for rel in RELATIONSHIPS:
            self.upsert(
                PartyRelationship,
                {"party": self.parties[rel.party], "kind": rel.kind, "other": self.parties[rel.other]},
                {},
            )
        for full_name in PERSONS:
            self.persons[full_name] = self.upsert(Person, {"full_name": full_name}, {})

    def load_agreements(self) -> None:
        for code, name in LINE_ITEMS:
            self.line_items[code] = self.upsert(LineItem, {"code": code}, {"name": name})
        label = str(Agreement._meta.verbose_name_plural)
        for data in AGREEMENTS:
            created_before = self.report.created[label]
            agreement = self.upsert(
                Agreement,
                {"name": data.name},
                {
                    "kind": data.kind,
                    "title": data.title,
                    "defined_term": data.defined_term,
                    "contract_number": data.contract_number,
                    "dated_as_of": data.dated_as_of,
                    "effective_on": data.effective_on,
                    "governing_law": data.governing_law,
                    "guaranteed_agreement": self.agreements[data.guaranteed_agreement]
                    if data.guaranteed_agreement
                    else None,
                },
            )
            self.agreements[data.name] = agreement
            wanted = {self.line_items[code].pk for code in data.required_line_items}
            if set(agreement.required_line_items.values_list("pk", flat=True)) != wanted:
                agreement.required_line_items.set(wanted)
                # A new agreement's line items are part of its creation, not an update.
                if self.report.created[label] == created_before:
                    self.report.updated[label] += 1
        self.load_amendments_and_roles()

    def load_amendments_and_roles(self) -> None:
        """The agreements' amendments, the roles their parties hold (some added by an amendment),
        the amendments' conditions precedent and the guaranties' reaffirmations."""
        for data in AMENDMENTS:
            self.amendments[(data.agreement, data.number)] = self.upsert(
                Amendment,
                {"agreement": self.agreements[data.agreement], "number": data.number},
                {
                    "title": data.title,
                    "defined_term": data.defined_term,
                    "contract_number": data.contract_number,
                    "dated_as_of": data.dated_as_of,
                    "effective_on": data.effective_on,
                    "status": data.status,
                },
            )
        for data in ROLES:
            self.upsert(
                AgreementRole,
                {"agreement": self.agreements[data.agreement], "party": self.parties[data.party], "role": data.role},
                {
                    "defined_term": data.defined_term,
                    "capacity_as_printed": data.capacity_as_printed,
                    "holds_from": data.holds_from,
                    "holds_to": data.holds_to,
                    "added_by": self.amendments[(data.agreement, data.added_by)] if data.added_by else None,
                },
            )
        for data in CONDITIONS_PRECEDENT:
            self.upsert(
                ConditionPrecedent,
                {"amendment": self.amendments[(data.agreement, data.amendment)], "description": data.description},
                {"deadline": data.deadline, "deadline_as_printed": data.deadline_as_printed},
            )
        for data in REAFFIRMATIONS:
            self.upsert(
                Reaffirmation,
                {
                    "guaranty": self.agreements[data.guaranty],
                    "amendment": self.amendments[(data.agreement, data.amendment)],
                },
                {"title": data.title, "dated_as_of": data.dated_as_of},
            )

    def load_covenants(self) -> None:
        for data in COVENANTS:
            covenant = self.upsert(
                Covenant, {"agreement": self.agreements[data.agreement], "section": data.section}, {"name": data.name}
            )
            terms = self.upsert(
                CovenantTerms,
                {"covenant": covenant, "effective_from": data.effective_from},
                {
                    "amendment": self.amendments[(data.agreement, data.amendment)],
                    "action": data.action,
                    "text_as_printed": data.text_as_printed,
                    "reading": data.reading,
                    "metric_kind": data.metric_kind,
                    "line_item": self.line_items[data.line_item],
                    "window_periods": data.window_periods,
                    "window_kind": data.window_kind,
                    "direction": data.direction,
                    "basis": data.basis,
                },
            )
            for step in data.schedule:
                self.upsert(
                    ThresholdStep,
                    {"terms": terms, "test_date": step.test_date},
                    {
                        "threshold": step.threshold,
                        "threshold_state": ThresholdState.SET,
                        "amount_as_printed": step.amount_as_printed,
                        "applies_thereafter": False,
                    },
                )
            self.prune(terms.schedule.exclude(test_date__in=[step.test_date for step in data.schedule]))

    def document_for(self, ref: AmendmentRef | ReaffirmationRef) -> Amendment | Reaffirmation:
        if isinstance(ref, AmendmentRef):
            return self.amendments[(ref.agreement, ref.number)]
        amendment = self.amendments[(ref.agreement, ref.amendment)]
        return Reaffirmation.objects.get(guaranty=self.agreements[ref.guaranty], amendment=amendment)

    def load_signature_pages(self) -> None:
        for page in SIGNATURE_PAGES:
            document = self.document_for(page.document)
            document_type = ContentType.objects.get_for_model(document)
            for position, data in enumerate(page.blocks, start=1):
                block = self.upsert(
                    SignatureBlock,
                    {"document_type": document_type, "document_id": document.pk, "position": position},
                    {
                        "party": self.parties[data.party],
                        "party_name_as_printed": data.party_name_as_printed,
                        "capacity_as_printed": data.capacity_as_printed,
                        "through_party": self.parties[data.through_party] if data.through_party else None,
                        "through_capacity": data.through_capacity,
                    },
                )
                for line_position, line in enumerate(data.lines, start=1):
                    self.upsert(
                        Signature,
                        {"block": block, "position": line_position},
                        {
                            "person": self.persons[line.person] if line.person else None,
                            "title": line.title,
                            "title_as_printed": line.title_as_printed,
                            "for_party": self.parties[line.for_party] if line.for_party else None,
                            "for_party_capacity": line.for_party_capacity,
                            "conformed": line.conformed,
                        },
                    )
                self.prune(block.signatures.filter(position__gt=len(data.lines)))
            self.prune(
                SignatureBlock.objects.filter(
                    document_type=document_type, document_id=document.pk, position__gt=len(page.blocks)
                )
            )


def load_seed_documents() -> SeedReport:
    """Write both seed documents into the models, in one transaction; a second run changes nothing."""
    with transaction.atomic():
        return _Loader().load()
