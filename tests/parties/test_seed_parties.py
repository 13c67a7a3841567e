"""The parties, people and signers of both seed documents, as the documents state them."""

from __future__ import annotations

import pytest

from covenants.models import Amendment, Reaffirmation
from documents.seeds import load_seed_documents
from parties.models import Address, FormerName, Party, PartyRelationship, Person, Signature
from tests.seed_replay import replayed

pytestmark = pytest.mark.django_db

# legal name, kind, jurisdiction ("" where no document states one)
EXPECTED_PARTIES = [
    ("KMC Telecom Inc.", "corporation", "Delaware"),
    ("KMC Telecom II, Inc.", "corporation", "Delaware"),
    ("KMC Telecom III, Inc.", "corporation", "Delaware"),
    ("KMC Telecom IV, Inc.", "corporation", "Delaware"),
    ("KMC Telecom of Virginia, Inc.", "public_service_company", "Virginia"),
    ("KMC Telecom Leasing I LLC", "limited_liability_company", "Delaware"),
    ("KMC Telecom Leasing II LLC", "limited_liability_company", "Delaware"),
    ("KMC Telecom Leasing III LLC", "limited_liability_company", "Delaware"),
    ("KMC Telecom Leasing IV LLC", "limited_liability_company", "Delaware"),
    ("KMC III Services LLC", "limited_liability_company", "Delaware"),
    ("KMC Telecom Holdings, Inc.", "corporation", "Delaware"),
    ("Lucent Technologies Inc.", "corporation", "Delaware"),
    ("Global Service Providers Group", "division", ""),
    ("First Union National Bank", "national_bank", ""),
    ("Newcourt Commercial Finance Corporation", "corporation", ""),
    ("The CIT Group, Inc.", "corporation", ""),
    ("Canadian Imperial Bank of Commerce", "bank", ""),
    ("CIBC World Markets Corp.", "corporation", ""),
    ("General Electric Capital Corporation", "corporation", ""),
    ("BankBoston, N.A.", "national_bank", ""),
    ("Credit Suisse First Boston", "bank", ""),
    ("Dresdner Bank AG New York and Grand Cayman Branches", "branch", ""),
    ("Morgan Stanley Senior Funding, Inc.", "corporation", ""),
    ("Morgan Stanley Dean Witter Prime Income Trust", "trust", ""),
    ("Union Bank of California, N.A.", "national_bank", ""),
    ("Keyport Life Insurance Company", "insurance_company", ""),
    ("Stein Roe Floating Rate Limited Liability Company", "limited_liability_company", ""),
    ("Stein Roe & Farnham Incorporated", "corporation", ""),
]

KMC_CUSTOMERS = [
    "KMC Telecom Inc.",
    "KMC Telecom II, Inc.",
    "KMC Telecom III, Inc.",
    "KMC Telecom IV, Inc.",
    "KMC Telecom of Virginia, Inc.",
    "KMC Telecom Leasing I LLC",
    "KMC Telecom Leasing II LLC",
    "KMC Telecom Leasing III LLC",
    "KMC Telecom Leasing IV LLC",
]

EXPECTED_PERSONS = {
    "James D. Grenfell",
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
    "Brian W. Good",
    "William H. Pittman",
}


@pytest.fixture
def seeded():
    """The seed as the importer loads it: run once per test process, replayed after
    (tests/seed_replay.py, which proves a replay leaves the same rows; the tests that load the
    seed again below run the importer itself)."""
    return replayed("seed documents", load_seed_documents)


def test_exactly_the_parties_the_documents_name(seeded):
    assert sorted(Party.objects.values_list("legal_name", "kind", "jurisdiction")) == sorted(EXPECTED_PARTIES)


@pytest.mark.parametrize(("legal_name", "kind", "jurisdiction"), EXPECTED_PARTIES)
def test_each_party_has_its_kind_and_jurisdiction(seeded, legal_name, kind, jurisdiction):
    party = Party.objects.get(legal_name=legal_name)
    assert (party.kind, party.jurisdiction) == (kind, jurisdiction)


@pytest.mark.parametrize(
    ("legal_name", "description"),
    [
        ("KMC Telecom Inc.", "KMC Telecom Inc., a Delaware corporation"),
        ("KMC Telecom of Virginia, Inc.", "KMC Telecom of Virginia, Inc., a Virginia public service company"),
        ("KMC Telecom Leasing II LLC", "KMC Telecom Leasing II LLC, a Delaware limited liability company"),
        ("KMC III Services LLC", "KMC III Services LLC, a Delaware limited liability company"),
        ("KMC Telecom Holdings, Inc.", "KMC Telecom Holdings, Inc., a Delaware corporation"),
        ("Lucent Technologies Inc.", "Lucent Technologies Inc., a Delaware corporation"),
        # No jurisdiction stated: the name alone, never a guessed one.
        ("First Union National Bank", "First Union National Bank"),
    ],
)
def test_parties_are_introduced_as_the_documents_introduce_them(seeded, legal_name, description):
    assert Party.objects.get(legal_name=legal_name).description == description


def test_newcourt_was_formerly_att_commercial_finance_and_no_one_else_has_a_former_name(seeded):
    assert list(FormerName.objects.values_list("party__legal_name", "name")) == [
        ("Newcourt Commercial Finance Corporation", "AT&T Commercial Finance Corporation")
    ]


@pytest.mark.parametrize("legal_name", KMC_CUSTOMERS)
def test_each_kmc_customer_has_its_bedminster_offices(seeded, legal_name):
    address = Address.objects.get(party__legal_name=legal_name)
    assert (address.street, address.suite, address.city, address.region, address.postal_code) == (
        "1545 Route 206",
        "Suite 300",
        "Bedminster",
        "New Jersey",
        "07921",
    )
    assert str(address) == "1545 Route 206, Suite 300, Bedminster, New Jersey 07921"


def test_lucent_has_its_murray_hill_offices_and_no_other_party_has_an_address(seeded):
    lucent = Address.objects.get(party__legal_name="Lucent Technologies Inc.")
    assert str(lucent) == "600 Mountain Avenue, Murray Hill, New Jersey 07074"
    assert lucent.suite == ""
    with_address = set(Address.objects.values_list("party__legal_name", flat=True))
    assert with_address == {*KMC_CUSTOMERS, "Lucent Technologies Inc."}
    # Amendment Four states no address for KMC III Services LLC, and seed 002 none for Holdings.
    assert "KMC III Services LLC" not in with_address
    assert "KMC Telecom Holdings, Inc." not in with_address
    assert Address.objects.count() == 10


def test_relationships_are_those_the_documents_state(seeded):
    assert set(PartyRelationship.objects.values_list("party__legal_name", "kind", "other__legal_name")) == {
        ("Newcourt Commercial Finance Corporation", "affiliate_of", "The CIT Group, Inc."),
        ("KMC Telecom Inc.", "sole_member_of", "KMC Telecom Leasing I LLC"),
        ("KMC Telecom II, Inc.", "sole_member_of", "KMC Telecom Leasing II LLC"),
        ("KMC Telecom III, Inc.", "sole_member_of", "KMC Telecom Leasing III LLC"),
        ("KMC Telecom III, Inc.", "sole_member_of", "KMC III Services LLC"),
        ("KMC Telecom IV, Inc.", "sole_member_of", "KMC Telecom Leasing IV LLC"),
        ("Lucent Technologies Inc.", "acts_through_division", "Global Service Providers Group"),
        ("Stein Roe & Farnham Incorporated", "advisor_to", "Stein Roe Floating Rate Limited Liability Company"),
        ("CIBC World Markets Corp.", "agent_for", "Canadian Imperial Bank of Commerce"),
    }


def test_the_misprinted_leasing_block_does_not_make_kmc_ii_sole_member_of_leasing_i(seeded):
    assert not PartyRelationship.objects.filter(
        party__legal_name="KMC Telecom II, Inc.", other__legal_name="KMC Telecom Leasing I LLC"
    ).exists()
    sole_member_of_leasing_i = PartyRelationship.objects.filter(
        kind="sole_member_of", other__legal_name="KMC Telecom Leasing I LLC"
    ).values_list("party__legal_name", flat=True)
    assert list(sole_member_of_leasing_i) == ["KMC Telecom Inc."]


def test_exactly_the_signers_of_both_documents_are_recorded_once_each(seeded):
    assert set(Person.objects.values_list("full_name", flat=True)) == EXPECTED_PERSONS
    assert Person.objects.count() == len(EXPECTED_PERSONS)


def test_brian_w_good_is_one_person_signing_for_two_lenders_in_two_capacities(seeded):
    lines = Signature.objects.filter(person__full_name="Brian W. Good").select_related("block__party", "for_party")
    by_party = {
        line.block.party.legal_name: (
            line.title,
            line.title_as_printed,
            line.for_party.legal_name if line.for_party else None,
            line.for_party_capacity,
        )
        for line in lines
    }
    assert by_party == {
        "Keyport Life Insurance Company": (
            "Vice President & Portfolio Manager",
            "Vice President & Portfolio Manager",
            None,
            "",
        ),
        "Stein Roe Floating Rate Limited Liability Company": (
            "Vice President",
            "Vice President Stein Roe & Farnham Incorporated, Advisor to the Stein Roe Floating Rate Limited "
            "Liability Company",
            "Stein Roe & Farnham Incorporated",
            "Advisor to the Stein Roe Floating Rate Limited Liability Company",
        ),
    }
    assert Person.objects.filter(full_name="Brian W. Good").count() == 1


def test_cibcs_signer_is_an_executive_director_of_cibc_world_markets_as_agent(seeded):
    line = Signature.objects.get(block__party__legal_name="Canadian Imperial Bank of Commerce")
    assert line.person.full_name == "Tefta Chilaga"
    assert line.title == "Executive Director"
    assert line.title_as_printed == "Executive Director, CIBC World Markets Corp. As Agent"
    assert line.for_party.legal_name == "CIBC World Markets Corp."
    assert line.for_party_capacity == "As Agent"


def test_grenfell_signs_for_every_kmc_entity_with_the_title_each_document_prints(seeded):
    lines = Signature.objects.filter(person__full_name="James D. Grenfell").select_related("block__party")
    titles_by_document: dict[object, set[str]] = {}
    for line in lines:
        titles_by_document.setdefault(line.block.document, set()).add(line.title)
    amendment_no_4 = Amendment.objects.get(agreement__defined_term="Loan Agreement", number=4)
    amendment_four = Amendment.objects.get(agreement__defined_term="General Agreement", number=4)
    assert titles_by_document == {
        amendment_no_4: {"CFO"},
        amendment_four: {"Chief Financial Officer"},
        Reaffirmation.objects.get(): {"CFO, Executive Vice President and Secretary"},
    }
    signed_for = {line.block.party.legal_name for line in lines}
    assert signed_for == {*KMC_CUSTOMERS, "KMC III Services LLC", "KMC Telecom Holdings, Inc."}
    # Every signer on the KMC side is Grenfell: no other person signs a KMC block.
    kmc_lines = Signature.objects.filter(block__party__legal_name__in=signed_for)
    assert set(kmc_lines.values_list("person__full_name", flat=True)) == {"James D. Grenfell"}
