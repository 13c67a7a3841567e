"""
An agreement's stored texts on its page and the text view with a passage highlighted; the
review queue of an imported text (agents and administrators of the agreement only).

The text view is tested with hostile filings: whatever a filer wrote is shown as text, escaped,
and the site's policy forbids inline script besides.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from covenants.choices import Role
from documents.models import Document
from documents.services import document_store
from parties.choices import MembershipRole
from tests.covenants.helpers import seed_loan
from tests.factories import administrator, member, second_facility

SEEDS = Path(__file__).resolve().parents[2] / "documents" / "seed_texts"
AMENDMENT_NO_4 = SEEDS / "002_092983384245b2ee.txt"

pytestmark = pytest.mark.django_db

HOSTILE_HTML = (
    "<html><head><script>window.parent.stolen = document.cookie</script></head><body>"
    "<p>AMENDMENT NO. 9 TO CREDIT AGREEMENT</p>"
    "<p>The Borrower shall not permit &lt;script&gt;alert('filed')&lt;/script&gt; to exceed 4.00 to 1.00."
    '<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">here</a></p>'
    "<iframe src='https://evil.example/'></iframe></body></html>"
)


@pytest.fixture
def loan():
    return seed_loan()


def role_party(loan, role: str):
    return loan.agreement.roles.filter(role=role).select_related("party").first().party


@pytest.fixture
def agent(loan):
    return member("firstunion.ops", MembershipRole.AGENT, role_party(loan, Role.AGENT))


@pytest.fixture
def lender(loan):
    return member("cibc.credit", MembershipRole.LENDER, role_party(loan, Role.LENDER))


@pytest.fixture
def amendment_text(loan, agent) -> Document:
    return document_store(
        user=agent, agreement=loan.agreement, content=AMENDMENT_NO_4.read_bytes(), filename=AMENDMENT_NO_4.name
    ).document


def text_url(document: Document, span: str = "") -> str:
    url = reverse("covenants:document_detail", args=[document.agreement_id, document.pk])
    return f"{url}?span={span}" if span else url


# --- Stored texts on the agreement page and the text view ----------------------------------------


def test_the_agreement_page_lists_each_stored_text_with_its_sha256(client, lender, amendment_text):
    client.force_login(lender)
    page = client.get(reverse("covenants:agreement_detail", args=[amendment_text.agreement_id])).content.decode()
    assert 'id="documents-heading"' in page
    assert amendment_text.sha256 in page
    assert f'href="{text_url(amendment_text)}"' in page
    assert "AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT" in page


def test_the_text_view_marks_the_passage_asked_for(client, lender, amendment_text):
    text = amendment_text.text
    start = text.index("March 31, 2000")
    end = text.index("\n", start)
    client.force_login(lender)
    response = client.get(text_url(amendment_text, f"{start}-{end}"))
    assert response.status_code == 200
    page = response.content.decode()
    marked = page.split('<mark id="passage" class="passage" tabindex="-1">', 1)[1].split("</mark>", 1)[0]
    assert marked == text[start:end].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert "March 31, 2000" in marked and "23,821,000" in marked
    assert amendment_text.sha256 in page
    assert f"from line {text[:start].count(chr(10)) + 1}" in page


@pytest.mark.parametrize("span", ["9-3", "0-999999999", "abc", "12"])
def test_a_passage_outside_the_text_is_named_and_the_whole_text_shown(client, lender, amendment_text, span):
    client.force_login(lender)
    page = client.get(text_url(amendment_text, span)).content.decode()
    assert '<mark id="passage"' not in page
    assert "The whole text is shown." in page
    assert "AMENDMENT NO. 4 TO LOAN AND SECURITY AGREEMENT" in page


def test_a_filing_with_scripts_is_shown_as_escaped_text_under_a_strict_policy(client, loan, agent):
    stored = document_store(
        user=agent, agreement=loan.agreement, content=HOSTILE_HTML.encode(), filename="ex10-9.htm"
    ).document
    # The filing's own script is dropped when read; its escaped prose is text, shown escaped.
    assert "document.cookie" not in stored.text
    assert "<script>alert('filed')</script>" in stored.text
    client.force_login(agent)
    start = stored.text.index("<script>")
    response = client.get(text_url(stored, f"{start}-{start + 8}"))
    page = response.content.decode()
    body = page.split('<pre class="document-text"', 1)[1].split("</pre>", 1)[0]
    assert "<script" not in body and "<img" not in body and "<iframe" not in body and "<a " not in body
    assert "&lt;script&gt;alert(&#x27;filed&#x27;)&lt;/script&gt;" in body.replace(
        '<mark id="passage" class="passage" tabindex="-1">', ""
    ).replace("</mark>", "")
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"]


def test_a_text_is_reached_only_through_its_own_agreement(client, loan, amendment_text):
    harbor = second_facility()
    client.force_login(harbor.users["agent"])
    assert client.get(text_url(amendment_text)).status_code == 404
    # Not even under the Harbor agreement's own address.
    url = reverse("covenants:document_detail", args=[harbor.agreement.pk, amendment_text.pk])
    assert client.get(url).status_code == 404
    client.force_login(administrator())
    assert client.get(url).status_code == 404
    assert client.get(text_url(amendment_text)).status_code == 200
