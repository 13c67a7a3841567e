"""
An agreement's stored texts on its page and the text view with a passage highlighted; the
review queue of an imported text (agents and administrators of the agreement only).

The text view is tested with hostile filings: whatever a filer wrote is shown as text, escaped,
and the site's policy forbids inline script besides.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from covenants.choices import Role
from covenants.models import Covenant, ThresholdStep
from documents.models import Document, ImportReview, ReviewItem, SourceSpan
from documents.review import open_review
from documents.services import document_store
from parties.choices import MembershipRole
from portal.pages.review_forms import MAX_UPLOAD_BYTES
from portal.templatetags.review_format import plain
from tests.covenants.helpers import seed_loan
from tests.factories import administrator, member, second_facility
from tests.portal.harborline import SECOND_AMENDMENT, define_leverage, harborline_agreement

ROOT = Path(__file__).resolve().parents[2]
AMENDMENT_NO_4 = ROOT / "documents" / "seed_texts" / "002_092983384245b2ee.txt"
FIXTURES = ROOT / "tests" / "documents" / "fixtures"
#: The agreement page of an agreement with no results yet (its queries are counted in
#: tests/portal/test_dashboard_and_agreement_pages.py), with its stored texts and their spans.
HARBORLINE_PAGE_QUERIES = 19

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
    assert f'href="{text_url(amendment_text)}">{escape(str(amendment_text))}</a>' in page


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


# --- The review queue ----------------------------------------------------------------------------

HARBORLINE = SECOND_AMENDMENT


@pytest.fixture
def harborline():
    return harborline_agreement()


def open_by_upload(client, agreement, path: Path = HARBORLINE):
    with path.open("rb") as handle:
        return client.post(reverse("covenants:review_list", args=[agreement.pk]), {"file": handle, "text": ""})


def the_review(agreement) -> ImportReview:
    return ImportReview.objects.get(document__agreement=agreement)


def item(review: ImportReview, key: str) -> ReviewItem:
    return review.items.get(key=key)


ROW_THEREAFTER = "covenant:7.11(a):row:2005-09-30"
ROW_DECEMBER = "covenant:7.11(a):row:2004-12-31"


def test_an_agent_uploads_a_filing_and_reviews_it_beside_its_text(client, harborline):
    agreement, users = harborline
    client.force_login(users["agent"])
    response = open_by_upload(client, agreement)
    review = the_review(agreement)
    assert response.status_code == 302
    assert response["Location"] == reverse("covenants:review_detail", args=[agreement.pk, review.pk])
    # Nothing is in the portal before the review is applied.
    assert not Covenant.objects.filter(agreement=agreement).exists()
    december = item(review, ROW_DECEMBER)
    page = client.get(f"{response['Location']}?item={december.pk}").content.decode()
    for label in ("Instrument", "Parties", "Roles", "Covenants", "Conditions precedent", "Signatures"):
        assert f">{label} <small" in page, label
    assert "7.11(a) maximum for December 31, 2004" in page
    assert f"Confidence {round(december.confidence * 100)}%" in page
    assert december.reason in page
    marked = page.split('<mark id="passage" class="passage" tabindex="-1">', 1)[1].split("</mark>", 1)[0]
    assert marked == review.document.text[december.span_start : december.span_end]
    assert "4.50 to 1.00" in marked
    assert "Not read" in page


def test_a_filing_refused_by_the_importer_stores_and_opens_nothing(client, harborline, tmp_path):
    agreement, users = harborline
    client.force_login(users["agent"])
    binary = tmp_path / "exhibit.txt"
    binary.write_bytes(b"\x00\x01\x02binary")
    response = open_by_upload(client, agreement, binary)
    assert response.status_code == 400
    assert "The text was refused: document is binary" in response.content.decode()
    wrong = tmp_path / "exhibit.pdf"
    wrong.write_bytes(b"%PDF-1.4")
    response = open_by_upload(client, agreement, wrong)
    assert "“exhibit.pdf” is not a .txt, .htm or .html file." in response.content.decode()
    response = client.post(reverse("covenants:review_list", args=[agreement.pk]), {"text": "   "})
    assert "Choose a file or paste a text, not both and not neither." in response.content.decode()
    assert not Document.objects.exists() and not ImportReview.objects.exists()


def test_an_upload_over_the_limit_is_refused_by_its_size(client, harborline, tmp_path, settings):
    agreement, users = harborline
    client.force_login(users["agent"])
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.seek(MAX_UPLOAD_BYTES)
        handle.write(b"x")
    response = open_by_upload(client, agreement, big)
    assert response.status_code == 400
    assert f"a filing may be at most {MAX_UPLOAD_BYTES:,} bytes" in response.content.decode()
    assert not Document.objects.exists()


def test_decisions_per_item_and_section_without_script_then_apply(client, harborline):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    review = the_review(agreement)
    for section in ("instrument", "parties", "roles", "covenants", "conditions"):
        url = reverse("covenants:section_decide", args=[agreement.pk, review.pk, section])
        response = client.post(url, {"decision": "accepted"})
        assert response.status_code == 302 and response["Location"].endswith(f"#section-{section}")
    december = item(review, ROW_DECEMBER)
    url = reverse("covenants:item_decide", args=[agreement.pk, review.pk, december.pk])
    assert client.post(url, {"decision": "rejected"}).status_code == 302
    december.refresh_from_db()
    assert december.decision == ReviewItem.Decision.REJECTED and december.decided_by == users["agent"]
    # Still nothing in the portal: applying is a step of its own.
    assert not Covenant.objects.filter(agreement=agreement).exists()
    # The ratio the amendment names but does not define is refused until the reviewer defines it.
    response = client.post(reverse("covenants:review_apply", args=[agreement.pk, review.pk]), follow=True)
    assert "Nothing was applied: covenant:7.11(a): line_item: 7.11(a) Maximum Total Leverage Ratio is a ratio" in (
        response.content.decode()
    )
    assert not Covenant.objects.filter(agreement=agreement).exists()
    define_leverage(users["agent"], review)
    response = client.post(reverse("covenants:review_apply", args=[agreement.pk, review.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("covenants:agreement_detail", args=[agreement.pk])
    steps = ThresholdStep.objects.filter(terms__covenant__agreement=agreement, terms__covenant__section="7.11(a)")
    assert dt.date(2004, 12, 31) not in set(steps.values_list("test_date", flat=True))
    assert steps.get(test_date=dt.date(2004, 3, 31)).threshold == Decimal("4.75")
    review.refresh_from_db()
    assert review.status == ImportReview.Status.APPLIED
    # Signatures were left pending, so no block was written.
    assert not SourceSpan.objects.filter(label__startswith="Signature block").exists()


def test_an_edit_is_checked_as_the_model_checks_it_and_names_the_field(client, harborline):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    review = the_review(agreement)
    row = item(review, ROW_DECEMBER)
    url = reverse("covenants:item_edit", args=[agreement.pk, review.pk, row.pk])
    form = client.get(url).content.decode()
    assert 'value="4.50"' in form and 'value="2004-12-31"' in form
    fields = {f"v_{name}": value for name, value in row.proposed.items()}
    response = client.post(url, {**fields, "v_threshold": "four and a half", "v_test_date": "2004-12-32"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "threshold: “four and a half” value must be a decimal number." in page
    assert "test date: “2004-12-32” value has the correct format (YYYY-MM-DD) but it is an invalid date." in page
    row.refresh_from_db()
    assert row.decision == ReviewItem.Decision.PENDING and not row.decisions.exists()
    response = client.post(url, {**fields, "v_threshold": "4.40", "note": "per the executed copy"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.decision == ReviewItem.Decision.EDITED
    assert row.edited == {**row.proposed, "threshold": "4.40"}
    page = client.get(reverse("covenants:review_detail", args=[agreement.pk, review.pk])).content.decode()
    assert "Edited from the proposal:" in page
    assert "<del>4.50</del> → <ins>4.40</ins>" in page
    assert "per the executed copy" in page


def test_htmx_decisions_swap_in_the_item_and_the_section(client, harborline):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    review = the_review(agreement)
    row = item(review, ROW_THEREAFTER)
    hx = {"HTTP_HX_REQUEST": "true"}
    url = reverse("covenants:item_decide", args=[agreement.pk, review.pk, row.pk])
    response = client.post(url, {"decision": "accepted"}, **hx)
    assert response.status_code == 200 and response["HX-Retarget"] == f"#item-{row.pk}"
    body = response.content.decode()
    assert body.strip().startswith(f'<article id="item-{row.pk}"') and "decision-accepted" in body
    url = reverse("covenants:item_edit", args=[agreement.pk, review.pk, row.pk])
    fields = {f"v_{name}": value for name, value in row.proposed.items()}
    response = client.post(url, {**fields, "v_applies_thereafter": "perhaps"}, **hx)
    assert response.status_code == 200 and "applies thereafter: Enter true or false." in response.content.decode()
    assert response.content.decode().startswith(f'<form id="edit-{row.pk}"')
    response = client.post(url, {**fields, "v_applies_thereafter": "true"}, **hx)
    assert response["HX-Retarget"] == f"#item-{row.pk}" and "decision-edited" in response.content.decode()
    url = reverse("covenants:section_decide", args=[agreement.pk, review.pk, "signatures"])
    response = client.post(url, {"decision": "rejected"}, **hx)
    body = response.content.decode()
    assert body.strip().startswith('<section id="section-signatures"')
    assert "2 items of the section decided." in body
    assert review.items.filter(section="signatures", decision="rejected").count() == 2


def test_conflicts_with_what_the_portal_holds_show_old_and_proposed(client, loan, agent, amendment_text):
    review = open_review(agent, amendment_text, agreement=loan.agreement)
    conflicting = review.items.exclude(conflict={}).first()
    assert conflicting is not None
    client.force_login(agent)
    page = client.get(reverse("covenants:review_detail", args=[loan.agreement.pk, review.pk])).content.decode()
    assert "Differs from what the portal holds:" in page
    name, change = next(iter(conflicting.conflict.items()))
    old, new = change["portal"], change["proposed"]
    assert f"<del>{escape(plain(old))}</del> → <ins>{escape(plain(new))}</ins>" in page
    # What the importer kept as printed is listed with its passage.
    assert "Read as printed, and kept" in page and "Borrower with no signature block as printed" in page


def test_the_decision_history_says_who_when_and_what_changed(client, harborline):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    review = the_review(agreement)
    row = item(review, ROW_DECEMBER)
    decide_url = reverse("covenants:item_decide", args=[agreement.pk, review.pk, row.pk])
    client.post(decide_url, {"decision": "accepted"})
    client.post(decide_url, {"decision": "rejected", "note": "superseded by the side letter"})
    page = client.get(reverse("covenants:review_detail", args=[agreement.pk, review.pk])).content.decode()
    history = page.split('<ol class="decision-history">', 1)[1].split("</ol>", 1)[0]
    entries = [e for e in history.split("<li>") if e.strip()]
    assert len(entries) == 2
    assert (
        "Meridian" in entries[0] and "Accepted" in entries[0] and "7.11(a) maximum for December 31, 2004" in entries[0]
    )
    assert "Rejected" in entries[1] and "superseded by the side letter" in entries[1]


def test_only_the_agreements_agents_and_administrators_reach_the_queue(client, harborline, loan):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    review = the_review(agreement)
    row = review.items.first()
    urls = [
        ("get", reverse("covenants:review_list", args=[agreement.pk])),
        ("get", reverse("covenants:review_detail", args=[agreement.pk, review.pk])),
        ("get", reverse("covenants:item_edit", args=[agreement.pk, review.pk, row.pk])),
        ("post", reverse("covenants:item_decide", args=[agreement.pk, review.pk, row.pk])),
        ("post", reverse("covenants:section_decide", args=[agreement.pk, review.pk, "parties"])),
        ("post", reverse("covenants:review_apply", args=[agreement.pk, review.pk])),
    ]
    seed_agent = member("firstunion.ops", MembershipRole.AGENT, role_party(loan, Role.AGENT))
    for user in (users["borrower"], seed_agent):
        client.force_login(user)
        for method, url in urls:
            response = getattr(client, method)(url, {"decision": "accepted"} if method == "post" else None)
            assert response.status_code == 404, (user.username, url)
        # Nor through an agreement they do administer: the review belongs to Harborline's.
        url = reverse("covenants:review_detail", args=[loan.agreement.pk, review.pk])
        assert client.get(url).status_code == 404
    assert not review.items.exclude(decision="pending").exists()
    client.force_login(administrator())
    assert client.get(reverse("covenants:review_detail", args=[agreement.pk, review.pk])).status_code == 200


def test_an_agreement_without_stored_texts_reads_no_passages(client, harborline):
    """No stored text, no passage a value was read from: the page does not look for any."""
    agreement, users = harborline
    client.force_login(users["agent"])
    url = reverse("covenants:agreement_detail", args=[agreement.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert "No texts of this agreement are stored yet." in page
    assert any("documents_document" in q["sql"] for q in queries.captured_queries)
    assert not any("documents_sourcespan" in q["sql"] for q in queries.captured_queries)


def test_applied_values_link_to_their_passages_on_the_agreement_page(client, harborline, django_assert_num_queries):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    review = the_review(agreement)
    for section in ("instrument", "parties", "roles", "covenants", "conditions"):
        client.post(
            reverse("covenants:section_decide", args=[agreement.pk, review.pk, section]), {"decision": "accepted"}
        )
    define_leverage(users["agent"], review)
    client.post(reverse("covenants:review_apply", args=[agreement.pk, review.pk]))
    url = reverse("covenants:agreement_detail", args=[agreement.pk])
    client.get(url)
    # Every span of the page (19 here) is read in one query, whatever their number.
    with django_assert_num_queries(HARBORLINE_PAGE_QUERIES) as queries:
        page = client.get(url).content.decode()
    assert sum("documents_sourcespan" in q["sql"] for q in queries.captured_queries) == 1
    assert SourceSpan.objects.filter(document=review.document).count() > 10
    step = ThresholdStep.objects.get(terms__covenant__agreement=agreement, test_date=dt.date(2004, 12, 31))
    span = SourceSpan.objects.get(object_id=step.pk, content_type__model="thresholdstep")
    link = f'href="{text_url(review.document)}?span={span.start}-{span.end}#passage"'
    assert link.replace("?span=", "&span=", 0) in page.replace("&amp;", "&")
    assert 'title="Read from the text: 7.11(a) maximum for December 31, 2004"' in page
    text = client.get(f"{text_url(review.document)}?span={span.start}-{span.end}").content.decode()
    assert "December 31, 2004" in text.split('<mark id="passage"', 1)[1].split("</mark>", 1)[0]
    # The condition precedent and the roles link to theirs too.
    assert page.count('class="source-link"') >= 10


PASTED = """                     FIFTH AMENDMENT TO CREDIT AGREEMENT

     This FIFTH AMENDMENT TO CREDIT AGREEMENT (this "Amendment") is dated as of
January 10, 2022, between WILLOWBROOK FARMS, INC., a Delaware corporation (the
"Borrower"), and GRANITE STATE BANK, as lender (the "Lender").

     1. Section 6.8 of the Credit Agreement is hereby amended and restated to read:
          "6.8 Minimum EBITDA. The Borrower shall not permit EBITDA for the four fiscal
     quarters then ending to be less than the amount set forth below for such date:

          March 31, 2022                            $2,000,000
          June 30, 2022                             see Schedule 6.8"
"""


def test_a_pasted_text_opens_a_review_that_lists_what_was_not_read(client, harborline):
    agreement, users = harborline
    client.force_login(users["agent"])
    response = client.post(reverse("covenants:review_list", args=[agreement.pk]), {"text": PASTED})
    assert response.status_code == 302
    review = the_review(agreement)
    assert review.document.filename == "pasted text" and review.document.text == PASTED
    page = client.get(response["Location"]).content.decode()
    not_read = page.split('id="unread-heading"', 1)[1].split("</section>", 1)[0]
    assert "schedule line without a level" in not_read
    assert "see Schedule 6.8" in not_read
    start = PASTED.index("June 30, 2022")
    assert f"?span={start}-" in not_read
    # The queue lists it, open, with its items still to decide.
    queue = client.get(reverse("covenants:review_list", args=[agreement.pk])).content.decode()
    assert "FIFTH AMENDMENT TO CREDIT AGREEMENT" in queue and "Open" in queue


def test_the_review_page_reads_in_as_many_queries_whatever_its_items(client, harborline, loan, agent, amendment_text):
    agreement, users = harborline
    client.force_login(users["agent"])
    open_by_upload(client, agreement)
    small = the_review(agreement)
    large = open_review(agent, amendment_text, agreement=loan.agreement)
    assert large.items.count() > 3 * small.items.count()
    admin = administrator()
    client.force_login(admin)
    counts = []
    for review in (small, large):
        url = reverse("covenants:review_detail", args=[review.document.agreement_id, review.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
