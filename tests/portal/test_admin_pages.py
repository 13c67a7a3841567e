"""Admin pages in words and within weight: a signature block's document chosen by name, history
pages with labels rather than stored values, and the agreement page without scripts it never uses."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from covenants.models import Agreement, Amendment
from parties.choices import EntityKind
from parties.models import Party, SignatureBlock
from tests.admin_forms import change_form_data
from tests.covenants.helpers import seed_loan
from tests.factories import administrator, second_facility

pytestmark = pytest.mark.django_db

#: The seed Loan Agreement's change page, HTML alone: about 167,000 bytes since the tabular
#: inlines drop the whitespace between their tags (197,000 before, a third of it indentation;
#: 198,000 earlier still, when every role row carried a "delete this party" link that the
#: party's PROTECT refuses anyway).
AGREEMENT_PAGE_HTML_BUDGET = 175_000
#: The same page with the scripts and style sheets it loads (about 530,000 bytes; 710,000 when
#: every page loaded the 160 KiB XRegExp and the slug scripts for prepopulated fields).
AGREEMENT_PAGE_TOTAL_BUDGET = 600_000


def admin_url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def key(document: Agreement | Amendment) -> str:
    return f"{ContentType.objects.get_for_model(document).pk}-{document.pk}"


@pytest.fixture
def deals():
    harbor, other = second_facility("Harbor"), second_facility("Other")
    amendment = Amendment.objects.create(
        agreement=harbor.agreement, number=1, title="First Amendment", dated_as_of=dt.date(2020, 1, 15)
    )
    agent = harbor.users["agent"]
    agent.is_staff = True
    agent.save(update_fields=["is_staff"])
    agent.user_permissions.set(Permission.objects.filter(content_type__app_label__in=("parties", "covenants")))
    client = Client()
    client.force_login(agent)
    return harbor, other, amendment, client


def block_data(client: Client, url: str, **fields: str) -> dict:
    data = change_form_data(client.get(url))
    data.update(fields)
    return data


# --- (a) a signature block's document, by name ---------------------------------------------


def test_a_block_is_added_to_a_document_chosen_by_name(deals) -> None:
    harbor, other, amendment, client = deals
    url = admin_url(SignatureBlock, "add")
    response = client.get(url)
    page = response.content.decode()
    assert "Document id" not in page and "Document type" not in page
    groups = dict(response.context["adminform"].form.fields["signed_document"].choices)
    assert groups["Agreements"] == [(key(harbor.agreement), "Harbor Credit Agreement")]
    assert groups["Amendments"] == [(key(amendment), "First Amendment (Harbor Credit Agreement)")]
    assert "Other Credit Agreement" not in page  # another deal's document is not offered

    data = block_data(
        client,
        url,
        signed_document=key(harbor.agreement),
        position="1",
        party=str(harbor.agent.pk),
        party_name_as_printed="HARBOR NATIONAL BANK",
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    block = SignatureBlock.objects.get(party_name_as_printed="HARBOR NATIONAL BANK")
    assert block.document_type == ContentType.objects.get_for_model(Agreement)
    assert block.document_id == harbor.agreement.pk


def test_a_block_is_moved_to_another_document_on_its_page(deals) -> None:
    harbor, _, amendment, client = deals
    block = SignatureBlock.objects.create(
        document=harbor.agreement, position=1, party=harbor.agent, party_name_as_printed="HARBOR NATIONAL BANK"
    )
    url = admin_url(SignatureBlock, "change", block.pk)
    data = change_form_data(client.get(url))
    assert data["signed_document"] == key(harbor.agreement)
    data["signed_document"] = key(amendment)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    block.refresh_from_db()
    assert (block.document_type, block.document_id) == (ContentType.objects.get_for_model(Amendment), amendment.pk)


def test_a_block_without_a_document_or_on_another_deals_is_refused_with_a_sentence(deals) -> None:
    harbor, other, _, client = deals
    url = admin_url(SignatureBlock, "add")
    fields = {"position": "1", "party": str(harbor.agent.pk), "party_name_as_printed": "HARBOR NATIONAL BANK"}

    missing = client.post(url, block_data(client, url, **fields))
    assert missing.status_code == 200
    assert missing.context["adminform"].form.errors["signed_document"] == [
        "Choose the document whose signature pages print this block."
    ]
    elsewhere = client.post(url, block_data(client, url, signed_document=key(other.agreement), **fields))
    assert elsewhere.status_code == 200
    assert "not on file or not yours to see" in elsewhere.context["adminform"].form.errors["signed_document"][0]
    assert not SignatureBlock.objects.exists()


def test_a_second_block_at_a_taken_position_is_refused_with_a_sentence(deals) -> None:
    harbor, _, _, client = deals
    SignatureBlock.objects.create(
        document=harbor.agreement, position=1, party=harbor.agent, party_name_as_printed="HARBOR NATIONAL BANK"
    )
    url = admin_url(SignatureBlock, "add")
    data = block_data(
        client,
        url,
        signed_document=key(harbor.agreement),
        position="1",
        party=str(harbor.lender.pk),
        party_name_as_printed="HARBOR LIFE INSURANCE COMPANY",
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["position"] == [
        "Another block already stands at this position on the document."
    ]


# --- (b) history pages in words -------------------------------------------------------------


def test_a_partys_history_shows_the_kinds_label_and_no_none() -> None:
    client = Client()
    client.force_login(administrator())
    party = Party.objects.create(legal_name="Harbor Trust Company", kind=EntityKind.CORPORATION, jurisdiction="")
    url = admin_url(Party, "change", party.pk)
    data = change_form_data(client.get(url))
    data["kind"] = EntityKind.NATIONAL_BANK
    assert client.post(url, data).status_code == 302

    history = client.get(admin_url(Party, "history", party.pk)).content.decode()
    start = history.index('<table id="change-history"')
    table = history[start : history.index("</table>", start)]
    assert "National bank" in table and "Corporation" in table
    assert "national_bank" not in table and "corporation" not in table
    assert re.search(r"Corporation\s*&nbsp;&rarr;&nbsp;&nbsp;National bank", table)
    assert "None" not in table  # no change reason, no user for the first version
    assert '<th scope="col">Kind</th>' in table


# --- (d) the agreement page's weight ---------------------------------------------------------


def test_the_seed_agreement_page_stays_within_its_weight(settings) -> None:
    settings.DEBUG = False  # the scripts as production serves them (minified)
    loan = seed_loan()
    client = Client()
    client.force_login(administrator())
    response = client.get(admin_url(Agreement, "change", loan.agreement.pk))
    assert response.status_code == 200
    page = response.content
    assets = dict.fromkeys(re.findall(rb'(?:src|href)="/static/([^"?]+)', page))
    sizes = {asset.decode(): Path(finders.find(asset.decode())).stat().st_size for asset in assets}
    assert not [asset for asset in sizes if "xregexp" in asset or "urlify" in asset]
    assert len(page) < AGREEMENT_PAGE_HTML_BUDGET, f"{len(page)} bytes of HTML"
    assert len(page) + sum(sizes.values()) < AGREEMENT_PAGE_TOTAL_BUDGET


def test_a_page_with_a_prepopulated_field_still_loads_its_scripts() -> None:
    client = Client()
    client.force_login(administrator())
    page = client.get(reverse("admin:covenants_lineitem_add")).content.decode()
    assert "admin/js/urlify.js" in page and "xregexp" in page
