"""
The execution check on the seed documents: Amendment No. 4's misprinted Leasing block
surfaces as Leasing II unsigned and Leasing I signing twice; Amendment Four is complete.
"""

from __future__ import annotations

import datetime as dt

import pytest

from covenants.execution import check_execution, document_label, execution_findings_for_all
from covenants.models import Agreement, AgreementRole, Amendment, Reaffirmation
from parties.models import Party, Signature, SignatureBlock

from .helpers import seed_loan
from .test_seed_documents import LENDERS

pytestmark = pytest.mark.django_db

LOAN = "KMC Telecom Loan and Security Agreement"
GENERAL = "KMC Telecom–Lucent General Agreement"

# The five Borrowers and the twelve Lenders (the Agents among them).
LOAN_AGREEMENT_PARTIES = {
    "KMC Telecom Inc.",
    "KMC Telecom II, Inc.",
    "KMC Telecom of Virginia, Inc.",
    "KMC Telecom Leasing I LLC",
    "KMC Telecom Leasing II LLC",
} | LENDERS
GENERAL_AGREEMENT_PARTIES_BEFORE_AMENDMENT_FOUR = {
    "KMC Telecom Inc.",
    "KMC Telecom II, Inc.",
    "KMC Telecom III, Inc.",
    "KMC Telecom IV, Inc.",
    "KMC Telecom of Virginia, Inc.",
    "KMC Telecom Leasing I LLC",
    "KMC Telecom Leasing II LLC",
    "KMC Telecom Leasing III LLC",
    "KMC Telecom Leasing IV LLC",
    "Lucent Technologies Inc.",
}


@pytest.fixture
def seeded():
    # The importer's rows, replayed after the process's first load (tests/seed_replay.py).
    return seed_loan()


def amendment(agreement_name: str, number: int) -> Amendment:
    return Amendment.objects.select_related("agreement").get(agreement__name=agreement_name, number=number)


def names(parties) -> list[str]:
    return [party.legal_name for party in parties]


def test_amendment_no_4_reports_leasing_ii_unsigned_and_leasing_i_signing_twice(seeded):
    findings = check_execution(amendment(LOAN, 4))

    assert findings.on == dt.date(1999, 12, 31)
    # Each party once, though First Union and Newcourt hold two roles each.
    assert set(names(findings.parties)) == LOAN_AGREEMENT_PARTIES
    assert len(findings.parties) == 17
    assert names(findings.parties_without_signature) == ["KMC Telecom Leasing II LLC"]
    assert [(party.legal_name, count) for party, count in findings.parties_signing_more_than_once] == [
        ("KMC Telecom Leasing I LLC", 2)
    ]
    assert findings.blocks_for_non_parties == []
    assert not findings.ok


def test_two_officers_in_one_block_are_not_a_party_signing_twice(seeded):
    findings = check_execution(amendment(LOAN, 4))
    twice = names(party for party, _ in findings.parties_signing_more_than_once)
    assert "Credit Suisse First Boston" not in twice
    assert "Dresdner Bank AG New York and Grand Cayman Branches" not in twice


def test_morgan_stanleys_blank_line_is_noted_and_is_not_an_unsigned_party(seeded):
    findings = check_execution(amendment(LOAN, 4))
    assert [(line.block.party.legal_name, line.position) for line in findings.blank_signature_lines] == [
        ("Morgan Stanley Senior Funding, Inc.", 2)
    ]
    assert "Morgan Stanley Senior Funding, Inc." not in names(findings.parties_without_signature)


def test_amendment_no_4_messages_are_sentences_in_the_words_of_the_document(seeded):
    assert check_execution(amendment(LOAN, 4)).messages() == [
        "KMC Telecom Leasing II LLC, a party to Amendment No. 4, has no signature block.",
        "KMC Telecom Leasing I LLC, a party to Amendment No. 4, signs in 2 signature blocks; one is expected.",
        "The signature block of Morgan Stanley Senior Funding, Inc. on Amendment No. 4 has a blank signature line "
        "(line 2): no name, no title.",
    ]


def test_amendment_four_is_fully_executed_including_kmc_iii_services(seeded):
    findings = check_execution(amendment(GENERAL, 4))
    assert findings.on == dt.date(2000, 2, 15)
    # KMC III Services LLC became a Customer on that very date, so it is a party.
    assert set(names(findings.parties)) == GENERAL_AGREEMENT_PARTIES_BEFORE_AMENDMENT_FOUR | {"KMC III Services LLC"}
    assert findings.parties_without_signature == []
    assert findings.parties_signing_more_than_once == []
    assert findings.blank_signature_lines == []
    assert findings.blocks_for_non_parties == []
    assert findings.ok
    assert findings.messages() == []


def test_kmc_iii_services_is_not_a_party_to_the_general_agreement_before_amendment_four(seeded):
    findings = check_execution(amendment(GENERAL, 3))
    assert findings.on == dt.date(1999, 11, 15)
    assert set(names(findings.parties)) == GENERAL_AGREEMENT_PARTIES_BEFORE_AMENDMENT_FOUR


def test_the_reaffirmation_is_signed_by_its_guarantor(seeded):
    findings = check_execution(Reaffirmation.objects.get())
    assert names(findings.parties) == ["KMC Telecom Holdings, Inc."]
    assert findings.ok
    assert findings.messages() == []


def test_the_check_over_all_documents_on_file_flags_only_amendment_no_4(seeded):
    findings = execution_findings_for_all()
    by_label = {(type(f.document).__name__, f.label): f for f in findings}
    assert set(by_label) == {
        ("Amendment", "Amendment No. 4"),
        ("Amendment", "Amendment Number Four"),
        ("Reaffirmation", "Reaffirmation of Guaranty"),
    }
    assert [f.label for f in findings if not f.ok] == ["Amendment No. 4"]


def test_a_block_for_a_party_holding_no_role_is_reported(seeded):
    document = amendment(LOAN, 4)
    SignatureBlock.objects.create(
        document=document,
        position=18,
        party=Party.objects.get(legal_name="KMC Telecom III, Inc."),
        party_name_as_printed="KMC TELECOM III, INC.",
    )
    findings = check_execution(document)
    assert [block.party.legal_name for block in findings.blocks_for_non_parties] == ["KMC Telecom III, Inc."]
    assert "KMC TELECOM III, INC. signs Amendment No. 4 but is not a party to it." in findings.messages()


def test_once_a_person_resolves_the_misprint_only_the_blank_line_remains(seeded):
    document = amendment(LOAN, 4)
    block = document.signature_blocks.get(position=5)
    block.party = Party.objects.get(legal_name="KMC Telecom Leasing II LLC")
    block.save()
    findings = check_execution(document)
    assert findings.parties_without_signature == []
    assert findings.parties_signing_more_than_once == []
    assert len(findings.blank_signature_lines) == 1
    assert not findings.ok


def test_a_filled_in_blank_line_and_resolved_misprint_leave_amendment_no_4_complete(seeded):
    document = amendment(LOAN, 4)
    block = document.signature_blocks.get(position=5)
    block.party = Party.objects.get(legal_name="KMC Telecom Leasing II LLC")
    block.save()
    Signature.objects.filter(block__party__legal_name="Morgan Stanley Senior Funding, Inc.", position=2).delete()
    assert check_execution(document).ok


def test_a_role_ended_before_the_amendment_is_not_a_party_to_it(seeded):
    role = AgreementRole.objects.get(agreement__name=LOAN, party__legal_name="Keyport Life Insurance Company")
    role.holds_to = dt.date(1999, 12, 30)
    role.save()
    findings = check_execution(amendment(LOAN, 4))
    assert "Keyport Life Insurance Company" not in names(findings.parties)
    assert "KEYPORT LIFE INSURANCE COMPANY signs Amendment No. 4 but is not a party to it." in findings.messages()


def test_an_agreement_is_checked_against_its_role_holders(seeded):
    # The executed Loan Agreement is not on file: no blocks, so every party is unsigned.
    findings = check_execution(Agreement.objects.get(name=LOAN))
    assert findings.on == dt.date(1998, 12, 22)
    assert set(names(findings.parties_without_signature)) == LOAN_AGREEMENT_PARTIES


def test_document_labels(seeded):
    assert document_label(amendment(LOAN, 4)) == "Amendment No. 4"
    assert document_label(amendment(LOAN, 3)) == "Waiver and Amendment No. 3"
    assert document_label(amendment(GENERAL, 4)) == "Amendment Number Four"
    assert document_label(Agreement.objects.get(name=LOAN)) == "Loan and Security Agreement"
