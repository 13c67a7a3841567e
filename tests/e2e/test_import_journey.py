"""
Importing an amendment, in a real Chromium against a live server: the Agent uploads the text
of a Second Amendment (tests/documents/fixtures/ratio_table_grouped.txt, in the layout of a
credit agreement amendment filed as an SEC exhibit), reviews the proposal beside the text,
corrects one value the importer read wrong, defines the ratio the amendment names (its
numerator and denominator are in the credit agreement, which applying asks for), accepts,
applies, and finds the new terms on the agreement page, printed as ratios, with a link back to
the words each row was read from.

A filing with scripts in it is shown as text and runs nothing in the reviewer's browser.
"""

from __future__ import annotations

import pytest

from covenants.models import Agreement, Covenant
from documents.review import open_review
from documents.services import document_store
from tests.factories import PASSWORD
from tests.portal.harborline import SECOND_AMENDMENT, harborline_agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMENDMENT = SECOND_AMENDMENT
THEREAFTER_ROW = "7.11(a) maximum for September 30, 2005"
HOSTILE = (
    "<html><head><script>window.stolen = 'head script ran'</script></head><body>"
    "<p>AMENDMENT NO. 9 TO CREDIT AGREEMENT</p>"
    "<p>Quoted in the filing: &lt;script&gt;window.stolen = 'quoted script ran'&lt;/script&gt;"
    "<img src=x onerror=\"window.stolen = 'onerror ran'\"></p></body></html>"
)


def harborline() -> Agreement:
    agreement, _ = harborline_agreement()
    return agreement


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def passage_in_view(page) -> bool:
    return page.evaluate(
        """() => {
            const mark = document.getElementById('passage');
            if (!mark) return false;
            const box = mark.getBoundingClientRect();
            return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
        }"""
    )


def test_an_agent_imports_an_amendment_corrects_a_value_and_sees_the_new_terms(page, live_server):
    agreement = harborline()
    sign_in(page, live_server.url, "meridian.agent")
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    page.get_by_role("link", name="Review queue: read a filing").click()
    page.get_by_label("The filing as a file (.txt, .htm or .html)").set_input_files(str(AMENDMENT))
    page.get_by_role("button", name="Read it for review").click()
    page.wait_for_url(f"**/agreements/{agreement.pk}/reviews/*/")
    assert "SECOND AMENDMENT TO CREDIT AGREEMENT was read" in page.locator(".messages").inner_text()
    assert not Covenant.objects.filter(agreement=agreement).exists()  # nothing applied yet

    # The row the importer read, beside the words it was read from.
    row = page.locator("article.review-item", has_text=THEREAFTER_ROW)
    assert "Confidence" in row.inner_text()
    row.get_by_role("link", name="Show in the text").click()
    page.wait_for_function(
        "() => (document.querySelector('#text-pane #passage') || {}).textContent?.includes('September 30, 2005')"
    )
    assert "(and thereafter)" in page.locator("#text-pane #passage").inner_text()
    assert passage_in_view(page)

    # Accept everything but the signatures, a section at a time (htmx swaps each section).
    for section in ("instrument", "parties", "roles", "covenants", "conditions precedent"):
        page.get_by_role("button", name=f"Accept all {section}").click()
        page.wait_for_function(
            "(label) => [...document.querySelectorAll('.review-section')].some(s => s.textContent.includes(label)"
            " && s.textContent.includes('of the section decided'))",
            arg=section.title() if section != "conditions precedent" else "Conditions precedent",
        )

    # The importer read "(and thereafter)"; the reviewer corrects that row's level, once refused.
    row = page.locator("article.review-item", has_text=THEREAFTER_ROW)
    row.get_by_role("link", name="Edit").click()
    row.get_by_label("threshold", exact=True).fill("three point eight")
    row.get_by_role("button", name="Save the edit").click()
    assert "threshold:" in row.locator(".field-error").inner_text()
    row.get_by_label("threshold", exact=True).fill("3.80")
    row.get_by_label("Why (kept with the decision)").fill("as the executed copy prints it")
    row.get_by_role("button", name="Save the edit").click()
    row = page.locator("article.review-item", has_text=THEREAFTER_ROW)
    row.locator(".decision-edited").first.wait_for()
    assert "as the executed copy prints it" in row.inner_text()

    # The amendment names the Total Leverage Ratio but the Credit Agreement defines it: applying
    # is refused, naming the item, until the reviewer says what it divides by what.
    page.get_by_role("button", name="Apply the accepted items").click()
    page.wait_for_url("**/reviews/*/#apply")
    refused = page.locator(".messages").inner_text()
    assert "Nothing was applied: covenant:7.11(a): line_item:" in refused and "is a ratio" in refused
    ratio = page.locator("article.review-item", has_text="7.11(a) Maximum Total Leverage Ratio")
    assert "ratio_undefined" in ratio.inner_text()
    ratio.get_by_role("link", name="Edit").click()
    for label, value in (
        ("line item", "total_debt"),
        ("window periods", "1"),
        ("denominator line item", "ebitda"),
        ("denominator window periods", "4"),
    ):
        ratio.get_by_label(label, exact=True).fill(value)
    ratio.get_by_label("Why (kept with the decision)").fill("as the Credit Agreement defines it")
    ratio.get_by_role("button", name="Save the edit").click()
    page.locator("article.review-item", has_text="7.11(a) Maximum Total Leverage Ratio").locator(
        ".decision-edited"
    ).first.wait_for()

    page.get_by_role("button", name="Apply the accepted items").click()
    page.wait_for_url(f"{live_server.url}/agreements/{agreement.pk}/")
    assert "Applied:" in page.locator(".messages").inner_text()

    # The new terms on the agreement page, each row linked to its words.
    covenant = page.locator("section.covenant", has_text="7.11(a)")
    covenant.locator("summary", has_text="Schedule and text as printed").click()
    schedule = covenant.locator("table.schedule")
    assert "4.75 to 1.00" in schedule.inner_text()
    last = schedule.locator("tr", has_text="2005-09-30")
    assert "each fiscal quarter thereafter" in last.inner_text()
    # The level as printed stays beside the level the reviewer set.
    assert "3.75 to 1.00" in last.inner_text() and "at most 3.80 to 1.00" in last.inner_text()
    assert "$" not in schedule.inner_text()  # a ratio's levels are never money
    last.get_by_role("link", name="source").click()
    page.wait_for_url("**/documents/*/?span=*")
    assert "September 30, 2005 (and thereafter)" in page.locator("#passage").inner_text()
    assert passage_in_view(page)


def test_a_filing_with_scripts_runs_nothing_in_the_reviewers_browser(page, live_server, tmp_path):
    agreement = harborline()
    filing = tmp_path / "ex10-9.htm"
    filing.write_text(HOSTILE, encoding="utf-8")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server.url, "meridian.agent")
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/reviews/")
    page.get_by_label("The filing as a file (.txt, .htm or .html)").set_input_files(str(filing))
    page.get_by_role("button", name="Read it for review").click()
    page.wait_for_url(f"**/agreements/{agreement.pk}/reviews/*/")
    assert "<script>window.stolen = 'quoted script ran'</script>" in page.locator("#text-pane").inner_text()
    page.get_by_role("link", name="The text as stored").click()
    page.wait_for_url("**/documents/*/")
    text = page.locator("pre.document-text").inner_text()
    assert "<script>window.stolen = 'quoted script ran'</script>" in text
    assert page.evaluate("() => window.stolen") is None
    assert page.locator("pre.document-text script, pre.document-text img").count() == 0
    assert not dialogs


def test_the_import_pages_fit_a_phone(chromium, live_server):
    agreement, users = harborline_agreement()
    stored = document_store(
        user=users["agent"], agreement=agreement, content=AMENDMENT.read_bytes(), filename=AMENDMENT.name
    )
    review = open_review(users["agent"], stored.document, agreement=agreement)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "meridian.agent")
        too_wide = {}
        for path in (
            f"/agreements/{agreement.pk}/",
            f"/agreements/{agreement.pk}/reviews/",
            f"/agreements/{agreement.pk}/reviews/{review.pk}/",
            f"/agreements/{agreement.pk}/documents/{stored.document.pk}/?span=1931-2035",
        ):
            assert page.goto(live_server.url + path).status == 200, path
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            wider = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if wider > 0:
                too_wide[path] = wider
        assert too_wide == {}, f"pages wider than a 390 px phone (px too wide): {too_wide}"
    finally:
        context.close()
