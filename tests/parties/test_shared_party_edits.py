"""A party's record is shared by every deal it is in: one deal's Agent changes it only where
every deal the party is in is one it administers; administrators and the party's own users
always may. The same for a signatory and the documents they sign."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from parties.choices import MembershipRole
from parties.models import Party, Person, Signature, SignatureBlock
from tests.factories import administrator, member, second_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals():
    """Deal A; deal C (own Agent and Borrower) shares A's Lender; deal D shares A's Agent."""
    alpha = second_facility("Alpha")
    gamma = second_facility("Gamma")
    AgreementRole.objects.create(agreement=gamma.agreement, party=alpha.lender, role=Role.LENDER)
    delta = second_facility("Delta")
    AgreementRole.objects.create(agreement=delta.agreement, party=alpha.agent, role=Role.AGENT)
    return alpha, gamma, delta


def patch(user, party: Party, **changes):
    client = APIClient()
    client.force_authenticate(user)
    return client.patch(reverse("api:party-detail", args=[party.pk]), changes, format="json")


def test_another_deals_agent_cannot_change_a_shared_lender(deals):
    alpha, gamma, _ = deals
    before = Party.objects.get(pk=alpha.lender.pk)
    response = patch(gamma.users["agent"], alpha.lender, legal_name="Renamed Bank", jurisdiction="Cayman Islands")
    assert response.status_code == 403
    assert "also a party to agreements you do not administer" in response.json()["detail"]
    after = Party.objects.get(pk=alpha.lender.pk)
    assert (after.legal_name, after.jurisdiction) == (before.legal_name, before.jurisdiction)


def test_an_agent_changes_the_parties_only_in_deals_it_administers(deals):
    alpha, gamma, delta = deals
    assert patch(gamma.users["agent"], gamma.borrowers[0], jurisdiction="Delaware").status_code == 200
    # Alpha's Agent is Delta's Agent too: Delta's Borrower is its to change; Gamma's Lender
    # (also Alpha's) is not, since it does not administer Gamma.
    assert patch(alpha.users["agent"], delta.borrowers[0], jurisdiction="New York").status_code == 200
    assert patch(alpha.users["agent"], alpha.lender, jurisdiction="Ontario").status_code == 403
    assert Party.objects.get(pk=alpha.lender.pk).jurisdiction != "Ontario"


def test_the_partys_own_users_and_administrators_change_it(deals):
    alpha, _, _ = deals
    assert patch(alpha.users["lender"], alpha.lender, jurisdiction="Canada").status_code == 200
    assert patch(administrator(), alpha.lender, legal_name="Alpha Life Insurance Co.").status_code == 200
    assert Party.objects.get(pk=alpha.lender.pk).legal_name == "Alpha Life Insurance Co."
    # A Lender's user is not an Agent: it changes no other party, and records none.
    assert patch(alpha.users["lender"], alpha.borrowers[0], jurisdiction="Texas").status_code == 403
    client = APIClient()
    client.force_authenticate(alpha.users["lender"])
    assert client.post(reverse("api:party-list"), {"legal_name": "New Bank"}, format="json").status_code == 403


def test_agent_powers_come_from_the_partys_role_not_the_membership_label(deals):
    """A user with a Lender membership in a party that is an Agent holds agent powers."""
    alpha, gamma, _ = deals
    clerk = member("gamma.clerk", MembershipRole.LENDER, gamma.agent)
    assert patch(clerk, gamma.borrowers[0], jurisdiction="Nevada").status_code == 200
    assert patch(clerk, alpha.lender, jurisdiction="Nevada").status_code == 403


def test_a_signatory_of_another_deals_documents_is_not_an_agents_to_change(deals):
    alpha, gamma, _ = deals
    officer = Person.objects.create(full_name="Pat Lender-Officer")
    agreement_type = ContentType.objects.get_for_model(Agreement)
    for position, deal in enumerate((alpha, gamma), start=1):
        block = SignatureBlock.objects.create(
            document_type=agreement_type,
            document_id=deal.agreement.pk,
            position=position,
            party=alpha.lender,
            party_name_as_printed=alpha.lender.legal_name.upper(),
        )
        Signature.objects.create(block=block, person=officer, title="Managing Director")
    client = APIClient()
    client.force_authenticate(gamma.users["agent"])
    url = reverse("api:person-detail", args=[officer.pk])
    response = client.patch(url, {"email": "attacker@example.com"}, format="json")
    assert response.status_code == 403
    assert Person.objects.get(pk=officer.pk).email == ""
    client.force_authenticate(administrator())
    assert client.patch(url, {"email": "pat@alpha.example"}, format="json").status_code == 200
