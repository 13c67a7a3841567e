"""
The access rule reaches every corner: nested rows, filter choices, related fields in
writes, and the base classes fail closed. A party or person shared by both facilities
shows each side only what that side may see.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole, Covenant
from parties.choices import MembershipRole
from parties.models import Person, Signature, SignatureBlock
from portal.api.base import PortalViewSet, visible
from tests.factories import member

pytestmark = pytest.mark.django_db

NONEXISTENT = 987654


def seed_party(world, name: str):
    return world.seed.agreement.roles.get(party__legal_name=name, role=Role.LENDER).party


def test_a_party_in_both_agreements_shows_each_side_only_its_own_roles(world):
    first_union = seed_party(world, "First Union National Bank")
    AgreementRole.objects.create(agreement=world.harbor.agreement, party=first_union, role=Role.LENDER)
    url = reverse("api:party-detail", args=[first_union.pk])
    seed_view = world.client("lender").get(url).json()
    harbor_view = world.client("harbor_borrower").get(url).json()
    seed_agreements = set(Agreement.objects.exclude(pk=world.harbor.agreement.pk).values_list("pk", flat=True))
    assert {r["agreement"] for r in seed_view["roles"]} <= seed_agreements
    assert world.seed.agreement.pk in {r["agreement"] for r in seed_view["roles"]}
    assert {r["agreement"] for r in harbor_view["roles"]} == {world.harbor.agreement.pk}
    admin_view = world.client("admin").get(url).json()
    assert len(admin_view["roles"]) == len(seed_view["roles"]) + 1


def test_a_signatory_shows_only_the_capacities_on_documents_the_user_sees(world):
    grenfell = Person.objects.get(full_name="James D. Grenfell")
    block = SignatureBlock.objects.create(
        document_type=ContentType.objects.get_for_model(Agreement),
        document_id=world.harbor.agreement.pk,
        position=99,
        party=world.harbor.borrowers[0],
        party_name_as_printed="HARBOR WIDGETS INC.",
    )
    Signature.objects.create(block=block, person=grenfell, title="Chief Financial Officer")
    url = reverse("api:person-detail", args=[grenfell.pk])
    seed_view = world.client("borrower").get(url).json()
    harbor_view = world.client("harbor_borrower").get(url).json()
    assert "Harbor Widgets Inc." not in {c["party"]["legal_name"] for c in seed_view["capacities"]}
    assert len(seed_view["capacities"]) >= 5  # he signs for every KMC entity
    assert [c["party"]["legal_name"] for c in harbor_view["capacities"]] == ["Harbor Widgets Inc."]
    assert harbor_view["capacities"][0]["document_type"] == "agreement"


def test_a_role_filter_looks_only_at_agreements_the_user_sees(world):
    cibc = seed_party(world, "Canadian Imperial Bank of Commerce")
    AgreementRole.objects.create(agreement=world.harbor.agreement, party=cibc, role=Role.GUARANTOR)
    listed = world.client("borrower").get(reverse("api:party-list"), {"role": "guarantor", "page_size": 500}).json()
    assert cibc.pk not in {p["id"] for p in listed["results"]}
    harbor = world.client("harbor_agent").get(reverse("api:party-list"), {"role": "guarantor"}).json()
    assert [p["id"] for p in harbor["results"]] == [cibc.pk]
    both = world.client("borrower").get(
        reverse("api:party-list"), {"agreement": world.seed.agreement.pk, "role": "borrower", "page_size": 500}
    )
    assert {p["id"] for p in both.json()["results"]} == {p.pk for p in world.seed.borrowers.values()}


@pytest.mark.parametrize(
    ("route", "param"),
    [
        ("agreement-list", "party"),
        ("amendment-list", "agreement"),
        ("covenant-list", "agreement"),
        ("financialstatement-list", "agreement"),
        ("financialstatement-list", "borrower"),
        ("covenanttest-list", "agreement"),
        ("covenanttest-list", "covenant"),
        ("waiver-list", "covenant"),
        ("party-list", "agreement"),
        ("person-list", "party"),
    ],
)
def test_a_filter_naming_another_partys_row_is_refused_like_one_that_does_not_exist(world, route, param):
    harbor = world.harbor
    foreign = {
        "agreement": harbor.agreement.pk,
        "party": harbor.borrowers[0].pk,
        "borrower": harbor.borrowers[0].pk,
        "covenant": Covenant.objects.get(agreement=harbor.agreement, section="6.1").pk,
    }[param]
    client = world.client("borrower")
    refused = client.get(reverse(f"api:{route}"), {param: foreign})
    missing = client.get(reverse(f"api:{route}"), {param: NONEXISTENT})
    assert refused.status_code == missing.status_code == 400
    assert set(refused.json()) == {param}
    assert refused.json()[param] == [m.replace(str(NONEXISTENT), str(foreign)) for m in missing.json()[param]]
    # The other side may filter on it.
    assert world.client("harbor_agent").get(reverse(f"api:{route}"), {param: foreign}).status_code == 200


def test_the_guaranteed_agreement_is_named_only_to_those_who_see_it(world):
    guaranty = Agreement.objects.get(kind="guaranty")
    holdings = guaranty.roles.get(role=Role.GUARANTOR).party
    world.users["holdings"] = member("holdings.api", MembershipRole.BORROWER, holdings)
    mine = world.client("holdings").get(reverse("api:agreement-detail", args=[guaranty.pk])).json()
    assert mine["guaranteed_agreement"] is None  # Holdings is no party to the Loan Agreement
    admin = world.client("admin").get(reverse("api:agreement-detail", args=[guaranty.pk])).json()
    assert admin["guaranteed_agreement"] == world.seed.agreement.pk
    assert (
        world.client("holdings").get(reverse("api:agreement-detail", args=[world.seed.agreement.pk])).status_code == 404
    )


def test_the_base_classes_fail_closed(world):
    with pytest.raises(ImproperlyConfigured, match="No access scope"):
        visible(ContentType, world.users["admin"])
    with pytest.raises(ImproperlyConfigured, match="sets queryset"):

        class Leaky(PortalViewSet):  # noqa: F841 - defining it is the test
            model = Covenant
            queryset = Covenant.objects.all()
