"""
Two deals that share a party with the seed Loan Agreement (deal A), for the access tests:

- Gamma (deal C): its own Borrowers, Agent (Gamma National Bank), Collateral Agent and
  Lender, and Canadian Imperial Bank of Commerce, a Lender of A, as a Lender too. Tefta
  Chilaga, who signs for that bank in A, signs for it in C as well.
- Delta (deal D): its own Borrowers, Collateral Agent and Lender, with First Union National
  Bank, A's Agent, as its Agent (and a Lender). Elizabeth Elmore, who signs for First Union in
  A, signs for it in D as well.

An independent attack found isolation holding between deals that share no party and
breaking where a party sits in two deals; these builders give the matrices such deals.
Build them after the seed documents are loaded (``tests.covenants.helpers.seed_loan``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole, Amendment, Reaffirmation
from parties.models import Party, Person, Signature, SignatureBlock
from tests.factories import Facility, second_facility

CIBC = "Canadian Imperial Bank of Commerce"
FIRST_UNION = "First Union National Bank"
NEWCOURT = "Newcourt Commercial Finance Corporation"
CIBC_SIGNATORY = "Tefta Chilaga"
FIRST_UNION_SIGNATORY = "Elizabeth Elmore"


def gamma_deal() -> Facility:
    """Deal C: a Lender of the seed agreement (CIBC) is a Lender here too."""
    cibc = Party.objects.get(legal_name=CIBC)
    gamma = second_facility("Gamma")
    AgreementRole.objects.create(agreement=gamma.agreement, party=cibc, role=Role.LENDER, defined_term="Lenders")
    sign(gamma.agreement, gamma.agent, Person.objects.create(full_name="Gina Gamma"), "Managing Director")
    sign(gamma.agreement, cibc, Person.objects.get(full_name=CIBC_SIGNATORY), "Executive Director")
    return gamma


def delta_deal() -> Facility:
    """Deal D: the seed agreement's Agent (First Union) is the Agent here too. Its users are
    not the builder's to make: ``users`` holds the borrower's, collateral agent's and lender's."""
    first_union = Party.objects.get(legal_name=FIRST_UNION)
    delta = second_facility("Delta")
    own_agent = delta.agent
    AgreementRole.objects.filter(agreement=delta.agreement, party=own_agent).update(party=first_union)
    delta.users.pop("agent").delete()
    own_agent.delete()
    delta.agent = first_union
    sign(delta.agreement, delta.borrowers[0], Person.objects.create(full_name="Dana Delta"), "President")
    sign(delta.agreement, first_union, Person.objects.get(full_name=FIRST_UNION_SIGNATORY), "Vice President")
    return delta


def sign(agreement: Agreement, party: Party, person: Person, title: str) -> SignatureBlock:
    """``person`` signs for ``party`` on the agreement itself (a block of its own)."""
    agreement_type = ContentType.objects.get_for_model(Agreement)
    position = SignatureBlock.objects.filter(document_type=agreement_type, document_id=agreement.pk).count() + 1
    block = SignatureBlock.objects.create(
        document_type=agreement_type,
        document_id=agreement.pk,
        position=position,
        party=party,
        party_name_as_printed=party.legal_name.upper(),
    )
    Signature.objects.create(block=block, person=person, title=title, title_as_printed=title)
    return block


def revenue_rows(facility: Facility, quarter: dt.date, revenues: int = 400_000) -> list[tuple[str, str, str, str]]:
    """Statement rows for every Borrower of a built facility: combined revenues under its
    $1,000,000 minimum (a breach, so alerts are raised) unless told otherwise."""
    rows = []
    share = revenues // len(facility.borrowers)
    for party in facility.borrowers:
        for item, amount in (("Revenues", share), ("EBITDA", 100_000), ("Total Debt", 3_000_000)):
            rows.append((party.legal_name, quarter.isoformat(), item, f"{amount:,}"))
    return rows


# --- Who stands where: read from the data, as the rules state them --------------------------


def agreements_of_party(party: Party) -> set[int]:
    """The agreements in which the party holds any role."""
    return set(AgreementRole.objects.filter(party=party).values_list("agreement_id", flat=True))


def administered_by(user) -> set[int]:
    """The agreements the user's parties are Agent or Collateral Agent in (every one for a superuser)."""
    if user.is_superuser:
        return set(Agreement.objects.values_list("pk", flat=True))
    return set(
        AgreementRole.objects.filter(
            role__in=(Role.AGENT, Role.COLLATERAL_AGENT), party__memberships__user=user
        ).values_list("agreement_id", flat=True)
    )


def document_agreements() -> dict[tuple[int, int], int]:
    """(content type, document id) -> the agreement the document belongs to: an agreement itself,
    an amendment's agreement, a reaffirmation's guaranty."""
    types = ContentType.objects.get_for_models(Agreement, Amendment, Reaffirmation)
    found = {(types[Agreement].pk, pk): pk for pk in Agreement.objects.values_list("pk", flat=True)}
    for pk, agreement_id in Amendment.objects.values_list("pk", "agreement_id"):
        found[(types[Amendment].pk, pk)] = agreement_id
    for pk, guaranty_id in Reaffirmation.objects.values_list("pk", "guaranty_id"):
        found[(types[Reaffirmation].pk, pk)] = guaranty_id
    return found


def agreements_signed_by(person: Person) -> set[int]:
    """The agreements whose documents the person signs."""
    documents = document_agreements()
    return {
        documents[key]
        for key in Signature.objects.filter(person=person).values_list("block__document_type_id", "block__document_id")
        if key in documents
    }
