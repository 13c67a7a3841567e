"""The parties admin: every page opens, search and filters find parties, history shows who changed what."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import reverse

from covenants.choices import AgreementKind
from covenants.models import Agreement
from parties.choices import EntityKind, MembershipRole, RelationshipKind
from parties.models import (
    Address,
    FormerName,
    Membership,
    Party,
    PartyRelationship,
    Person,
    Signature,
    SignatureBlock,
)
from tests.admin_forms import change_form_data

pytestmark = pytest.mark.django_db

User = get_user_model()

PARTY_MODELS = [Party, FormerName, Address, PartyRelationship, Person, SignatureBlock, Signature, Membership]


def make_party(legal_name: str, kind: str = EntityKind.CORPORATION, jurisdiction: str = "Delaware") -> Party:
    return Party.objects.create(legal_name=legal_name, kind=kind, jurisdiction=jurisdiction)


def make_block(document: models.Model, position: int, party: Party, **fields: object) -> SignatureBlock:
    return SignatureBlock.objects.create(
        document=document, position=position, party=party, party_name_as_printed=party.legal_name.upper(), **fields
    )


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("m.okafor", "m.okafor@example.com", None)


@pytest.fixture
def client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def world(superuser: User) -> SimpleNamespace:
    """A few parties from Amendment No. 4, with names, addresses, signers and a member."""
    newcourt = make_party("Newcourt Commercial Finance Corporation")
    cit = make_party("The CIT Group, Inc.")
    kmc = make_party("KMC Telecom Inc.")
    keyport = make_party("Keyport Life Insurance Company", kind=EntityKind.INSURANCE_COMPANY, jurisdiction="")
    stein_roe = make_party(
        "Stein Roe Floating Rate Limited Liability Company", kind=EntityKind.LIMITED_LIABILITY_COMPANY
    )
    advisor = make_party("Stein Roe & Farnham Incorporated", kind=EntityKind.OTHER, jurisdiction="")
    former = FormerName.objects.create(party=newcourt, name="AT&T Commercial Finance Corporation")
    address = Address.objects.create(
        party=kmc,
        street="1545 Route 206",
        suite="Suite 300",
        city="Bedminster",
        region="New Jersey",
        postal_code="07921",
    )
    relationship = PartyRelationship.objects.create(party=newcourt, kind=RelationshipKind.AFFILIATE_OF, other=cit)
    membership = Membership.objects.create(user=superuser, party=kmc, role=MembershipRole.BORROWER)
    good = Person.objects.create(full_name="Brian W. Good")
    agreement = Agreement.objects.create(
        kind=AgreementKind.LOAN_AND_SECURITY_AGREEMENT,
        title="Loan and Security Agreement",
        name="KMC Loan and Security Agreement",
        dated_as_of=dt.date(1998, 12, 22),
    )
    keyport_block = make_block(agreement, 1, keyport)
    signature = Signature.objects.create(
        block=keyport_block, person=good, title="Vice President", title_as_printed="Vice President & Portfolio Manager"
    )
    stein_roe_block = make_block(agreement, 2, stein_roe)
    Signature.objects.create(
        block=stein_roe_block, person=good, title="Vice President", title_as_printed="Vice President", for_party=advisor
    )
    return SimpleNamespace(
        newcourt=newcourt,
        kmc=kmc,
        keyport=keyport,
        stein_roe=stein_roe,
        advisor=advisor,
        agreement=agreement,
        rows={
            Party: newcourt,
            FormerName: former,
            Address: address,
            PartyRelationship: relationship,
            Person: good,
            SignatureBlock: keyport_block,
            Signature: signature,
            Membership: membership,
        },
    )


def admin_url(model: type[models.Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_parties_model_is_in_the_admin() -> None:
    registered = {model for model in admin.site._registry if model._meta.app_label == "parties"}
    assert registered == set(PARTY_MODELS)


@pytest.mark.parametrize("model", PARTY_MODELS, ids=lambda model: model.__name__)
def test_changelist_add_and_change_pages_open(client: Client, world: SimpleNamespace, model: type) -> None:
    row = world.rows[model]
    assert client.get(admin_url(model, "changelist")).status_code == 200
    assert client.get(admin_url(model, "changelist"), {"q": "KMC"}).status_code == 200
    assert client.get(admin_url(model, "add")).status_code == 200
    change = client.get(admin_url(model, "change", row.pk))
    assert change.status_code == 200
    history = client.get(admin_url(model, "history", row.pk))
    assert history.status_code == 200


def test_models_with_history_use_the_history_admin() -> None:
    from simple_history.admin import SimpleHistoryAdmin

    for model in PARTY_MODELS:
        assert isinstance(admin.site._registry[model], SimpleHistoryAdmin), model.__name__


def test_party_is_found_by_a_former_name(client: Client, world: SimpleNamespace) -> None:
    response = client.get(admin_url(Party, "changelist"), {"q": "AT&T Commercial"})
    assert response.status_code == 200
    found = list(response.context["cl"].result_list)
    assert found == [world.newcourt]


def test_party_list_filters_by_kind_and_jurisdiction(client: Client, world: SimpleNamespace) -> None:
    by_kind = client.get(admin_url(Party, "changelist"), {"kind__exact": EntityKind.INSURANCE_COMPANY})
    assert list(by_kind.context["cl"].result_list) == [world.keyport]
    by_jurisdiction = client.get(admin_url(Party, "changelist"), {"jurisdiction": "Delaware"})
    names = {party.legal_name for party in by_jurisdiction.context["cl"].result_list}
    assert "Keyport Life Insurance Company" not in names
    assert "KMC Telecom Inc." in names


def test_party_changelist_shows_former_names(client: Client, world: SimpleNamespace) -> None:
    response = client.get(admin_url(Party, "changelist"))
    assert "AT&amp;T Commercial Finance Corporation" in response.content.decode()


def test_party_page_carries_names_addresses_relationships_and_members(client: Client, world: SimpleNamespace) -> None:
    newcourt = client.get(admin_url(Party, "change", world.newcourt.pk))
    inline_models = {inline.formset.model for inline in newcourt.context["inline_admin_formsets"]}
    assert inline_models == {FormerName, Address, PartyRelationship, Membership}
    page = newcourt.content.decode()
    assert "AT&amp;T Commercial Finance Corporation" in page
    assert "The CIT Group, Inc." in page
    kmc = client.get(admin_url(Party, "change", world.kmc.pk)).content.decode()
    assert "1545 Route 206" in kmc
    assert "m.okafor" in kmc


def test_history_page_shows_who_changed_which_field(client: Client, world: SimpleNamespace) -> None:
    url = admin_url(Party, "change", world.kmc.pk)
    data = change_form_data(client.get(url))
    assert data["jurisdiction"] == "Delaware"
    data["jurisdiction"] = "New York"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    world.kmc.refresh_from_db()
    assert world.kmc.jurisdiction == "New York"

    history = client.get(admin_url(Party, "history", world.kmc.pk)).content.decode()
    rows = re.findall(r"<tr>.*?</tr>", history, re.S)
    changed = [row for row in rows if "Jurisdiction:" in row]
    assert len(changed) == 1
    assert "m.okafor" in changed[0]
    assert re.search(r"Delaware\s*&nbsp;&rarr;&nbsp;&nbsp;New York", changed[0])


def test_person_page_lists_each_signature_with_party_and_title_as_printed(
    client: Client, world: SimpleNamespace
) -> None:
    good = world.rows[Person]
    response = client.get(admin_url(Person, "change", good.pk))
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.model is Signature
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission
    page = response.content.decode()
    assert "Keyport Life Insurance Company" in page
    assert "Vice President &amp; Portfolio Manager" in page
    assert "Stein Roe Floating Rate Limited Liability Company" in page
    assert "Stein Roe &amp; Farnham Incorporated" in page


def test_signature_block_page_edits_its_signature_lines(client: Client, world: SimpleNamespace) -> None:
    block = world.rows[SignatureBlock]
    response = client.get(admin_url(SignatureBlock, "change", block.pk))
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.model is Signature
    assert len(inline.formset.forms) == 1

    url = admin_url(SignatureBlock, "change", block.pk)
    data = change_form_data(response)
    prefix = inline.formset.prefix
    # A blank second line, as printed for Morgan Stanley Senior Funding.
    data[f"{prefix}-TOTAL_FORMS"] = "2"
    data[f"{prefix}-1-position"] = "2"
    data[f"{prefix}-1-block"] = str(block.pk)
    assert client.post(url, data).status_code == 302
    lines = list(block.signatures.order_by("position"))
    assert len(lines) == 2
    assert lines[1].is_blank


def test_signature_block_document_offers_only_signed_documents(client: Client, world: SimpleNamespace) -> None:
    response = client.get(admin_url(SignatureBlock, "add"))
    groups = dict(response.context["adminform"].form.fields["signed_document"].choices)
    assert groups["Agreements"] == [(f"{agreement_type().pk}-{world.agreement.pk}", "KMC Loan and Security Agreement")]
    assert "Parties" not in groups


def agreement_type() -> ContentType:
    return ContentType.objects.get_for_model(Agreement)


def test_user_page_shows_memberships(client: Client, world: SimpleNamespace, superuser: User) -> None:
    response = client.get(admin_url(User, "change", superuser.pk))
    assert response.status_code == 200
    assert Membership in {inline.formset.model for inline in response.context["inline_admin_formsets"]}
    assert "KMC Telecom Inc." in response.content.decode()
    assert client.get(admin_url(User, "add")).status_code == 200


def test_membership_is_found_by_user_and_party(client: Client, world: SimpleNamespace) -> None:
    by_user = client.get(admin_url(Membership, "changelist"), {"q": "okafor"})
    assert list(by_user.context["cl"].result_list) == [world.rows[Membership]]
    by_party = client.get(admin_url(Membership, "changelist"), {"q": "Newcourt"})
    assert list(by_party.context["cl"].result_list) == []


def test_party_autocomplete_answers_for_signature_blocks(client: Client, world: SimpleNamespace) -> None:
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "Keyport", "app_label": "parties", "model_name": "signatureblock", "field_name": "party"},
    )
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Keyport Life Insurance Company"]
