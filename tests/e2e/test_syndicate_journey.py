"""
Amendment No. 4 from the consent request to the next quarter's signed certificate, in a real
Chromium against a live server, each person in their own browser session (their own context,
signed in through the login page): the seed Loan Agreement with the demo commitments
(``syndicate.demo``: Dresdner a Defaulting Lender, Requisite Lenders more than 50%).

1. The Agent opens a consent request on Amendment No. 4; Newcourt's and CIBC's signatories
   consent, each in their own session; the Agent's page shows the tally by commitment, who has
   not answered, and the threshold not reached; once First Union, Keyport and Stein Roe consent
   too (through the service, as their signatories would), reached.
2. The same two signatories execute their blocks on the execution page (password again); the
   Agent's page shows the Requisite share signed rising and what is still missing, including
   KMC Telecom Leasing II LLC, which has no block as printed, and the Agent records Leasing II's
   original received on paper, with the reason, on that page.
3. For speed, every other block but the last is executed through the service layer
   (``execution.services.block_execute``, by each block's signatory of record, as the page does);
   the last, KMC Telecom Inc.'s, is executed in the browser by its signatory, and that signature
   makes the amendment effective: the Agent's page says so and the agreement page no longer
   marks results provisional.
4. The Borrowers' Responsible Officer prepares and signs the certificate for the quarter ending
   March 31, 2000 (password again) in their session; the Agent accepts it in theirs; CIBC's
   signatory sees it signed and accepted.

Tasks run in-process (the suite's autouse fixture), so the re-evaluation an effective amendment
requests completes when the last signature commits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.models import Alert
from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import AmendmentStatus
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate
from execution.services import block_execute
from statements.services import statement_records_submit
from syndicate import consents
from syndicate.choices import Answer
from syndicate.models import ConsentRequest
from tests.covenants.helpers import combined_rows
from tests.e2e.conftest import ARTIFACTS, artifact_name
from tests.execution import conftest as execution_tests
from tests.execution.conftest import AS_OF, reauthentication
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The execution tests' fixtures, as this module's too: the seed's Amendment No. 4 ready to execute
# (stored text, figures evaluated provisionally, demo commitments, a user per signatory of record),
# KMC Telecom Inc.'s Responsible Officer, and the fast hasher that keeps the many sign-ins quick.
deal = execution_tests.deal
officer = execution_tests.officer
fast_password_hashing = execution_tests.fast_password_hashing

NEXT_QUARTER = dt.date(2000, 3, 31)
LEASING_II = "KMC Telecom Leasing II LLC"
PAPER = "Original executed by KMC Telecom II, Inc. as sole member of Leasing II received on paper."
KMC = "KMC Telecom Inc."


@pytest.fixture
def session(chromium, live_server, request: pytest.FixtureRequest) -> Iterator[Callable[[str], object]]:
    """Sign a user in through the login page in a browser context of their own, and return its page.
    On failure, each session's last page is saved as test-artifacts/<test>-<user>.png."""
    contexts: dict[str, object] = {}

    def signed_in(username: str):
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts[username] = context
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield signed_in
    report = getattr(request.node, "report_call", None)
    for username, context in contexts.items():
        if report is not None and report.failed and context.pages:
            folder = request.config.rootpath / ARTIFACTS
            folder.mkdir(exist_ok=True)
            name = artifact_name(f"{request.node.nodeid}-{username}")
            context.pages[-1].screenshot(path=str(folder / name), full_page=True)
        context.close()


def next_quarter_figures(seed_deal) -> None:
    """The Borrowers' figures for the quarter after Amendment No. 4's, evaluated (the certificate's period)."""
    rows = combined_rows(seed_deal.loan, NEXT_QUARTER, revenues=24_500_000, ebitda=-17_000_000)
    records = [dict(zip(("entity", "period_end", "line_item", "amount"), row, strict=True)) for row in rows]
    outcome = statement_records_submit(agreement=seed_deal.agreement, user=None, records=records, source="command")
    assert outcome.ok, outcome.errors
    agreement_evaluate(agreement_id=seed_deal.agreement.pk, as_of=AS_OF)


def tally_row(page, lender: str):
    return page.locator("#tally tr", has=page.locator("th", has_text=lender))


def lender_consents(page, base_url: str, title: str) -> None:
    """A Lender's signatory finds the request in the inbox, reads the document, and consents."""
    page.goto(f"{base_url}/syndicate/")
    page.get_by_role("link", name=title).click()
    page.locator(".request-facts").get_by_role("link").first.click()
    assert "AMENDMENT NO. 4" in page.locator("pre.document-text").inner_text().upper()
    page.get_by_role("link", name="Back to the consent request").click()
    page.get_by_label("Consents").check()
    page.get_by_role("button", name="Record the vote").click()
    page.get_by_text("Your Lender's vote is recorded").wait_for()
    assert "Consents" in page.locator(".own-vote").inner_text()
    leave_the_polling_tally(page, base_url)


def leave_the_polling_tally(page, base_url: str) -> None:
    """Leave a request's page once read: its tally polls the server every ten seconds, and on SQLite
    the live server's threads and the test share one in-memory connection, so a poll arriving during
    another session's request, or the test's own service calls, could break that transaction (not
    so on PostgreSQL, where each thread has its own connection)."""
    page.goto(f"{base_url}/syndicate/")


def executes_own_block(page, base_url: str, amendment_pk: int, block) -> None:
    """A signatory executes the one block they sign on the execution page, with the password again."""
    page.goto(f"{base_url}/execution/amendments/{amendment_pk}/")
    row = page.locator(f"tr[data-block='{block.pk}']")
    assert page.locator("form.sign-form").count() == 1  # their block only
    form = row.locator("form.sign-form")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Execute this block").click()
    page.get_by_text(f"You have executed the block of {block.party_name_as_printed}").wait_for()
    assert row.get_attribute("data-executed") == "yes"


def missing(page) -> list[str]:
    return [line.strip() for line in page.locator(".condition ul.missing li").all_inner_texts()]


def test_consent_execution_by_counterparts_and_the_next_certificate_across_sessions(
    deal, officer, session, live_server
):
    base = live_server.url
    next_quarter_figures(deal)
    newcourt = next(b for b in deal.blocks if b.party_name_as_printed.startswith("NEWCOURT"))
    cibc = next(b for b in deal.blocks if b.party_name_as_printed.startswith("CANADIAN IMPERIAL"))
    last = next(b for b in deal.blocks if b.party.legal_name == KMC and b.through_party_id is None)
    newcourt_signer, cibc_signer, last_signer = (deal.signer_of(b) for b in (newcourt, cibc, last))
    title = "Amendment No. 4"

    # 1. The Agent opens the consent request in the browser.
    agent = session(deal.agent.username)
    agent.get_by_role("link", name="Consent requests").first.click()
    agent.get_by_role("link", name=f"Open a consent request under {deal.agreement.name}").click()
    agent.get_by_label("Document").select_option(str(deal.document.pk))
    agent.get_by_label("Title").fill(title)
    agent.get_by_label("Kind").select_option("amendment")
    agent.get_by_label("Vote needed").select_option("requisite")
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=7))
    agent.get_by_label("Deadline").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    agent.get_by_label("Record date").fill("2000-01-10")
    agent.get_by_role("button", name="Open the request").click()
    agent.get_by_text("The consent request is open").wait_for()
    consent = ConsentRequest.objects.get(agreement=deal.agreement)
    assert agent.locator("#tally [data-figure=not-answered]").inner_text() == "11 Lenders"
    assert "Demo figures" in agent.locator("#tally").inner_text()
    request_url = agent.url
    leave_the_polling_tally(agent, base)

    # Two Lenders' signatories consent, each in their own session.
    lender_a = session(newcourt_signer.username)
    lender_consents(lender_a, base, title)
    lender_b = session(cibc_signer.username)
    lender_consents(lender_b, base, title)

    # The Agent's page: the share by commitment, who has not answered, the threshold not reached.
    agent.goto(request_url)
    summary = agent.locator("#tally .tally-summary")
    assert summary.get_attribute("data-outcome") == "not_reached"
    assert re.search(r"Requisite Lenders: 27\.0% of .*in favour, more than 50% .*needed", summary.inner_text())
    assert tally_row(agent, "Newcourt").get_attribute("data-answer") == "consent"
    assert "14.86%" in tally_row(agent, "Newcourt").inner_text()
    assert "12.16%" in tally_row(agent, "Canadian Imperial").inner_text()
    assert agent.locator("#tally [data-figure=not-answered]").inner_text() == "9 Lenders"
    assert tally_row(agent, "Keyport").get_attribute("data-answer") == "none"
    assert "Defaulting Lender: not counted" in tally_row(agent, "Dresdner").inner_text()

    # Three more Lenders consent (through the service, as their signatories would): Stein Roe's
    # $20,000,000 takes the vote over 50% of the $370,000,000 Dresdner leaves.
    leave_the_polling_tally(agent, base)
    for heading in ("FIRST UNION NATIONAL BANK", "KEYPORT", "STEIN ROE"):
        block = next(b for b in deal.blocks if b.party_name_as_printed.startswith(heading))
        consents.vote_cast(
            request_id=consent.pk, lender_id=block.party_id, answer=Answer.CONSENT, cast_by=deal.signer_of(block)
        )
    agent.goto(request_url)
    assert summary.get_attribute("data-outcome") == "reached"
    assert "54.1%" in summary.inner_text()
    assert agent.locator("#tally [data-figure=not-answered]").inner_text() == "6 Lenders"

    # 2. The execution page: what is missing before anyone signs.
    agent.goto(f"{base}/agreements/{deal.agreement.pk}/")
    chain = agent.locator("li.timeline-entry", has_text="Amendment No. 4")
    chain.get_by_role("link", name="Signature pages and conditions precedent").click()
    agent.wait_for_url(f"**/execution/amendments/{deal.amendment.pk}/")
    condition = agent.locator("article.condition")
    assert condition.get_attribute("data-met") == "no"
    assert f"{LEASING_II}: no signature block in the document as printed" in missing(agent)
    assert "Requisite Lenders: 0.0% of commitments signed, more than 50% needed" in missing(agent)

    # The two signatories execute their own blocks, each in their session, with the password again.
    executes_own_block(lender_a, base, deal.amendment.pk, newcourt)
    executes_own_block(lender_b, base, deal.amendment.pk, cibc)
    agent.reload()
    assert condition.locator(".vote-share").get_attribute("data-percent") == "27.0"
    assert "Requisite Lenders: 27.0% of commitments signed, more than 50% needed" in missing(agent)
    assert newcourt.party.legal_name + ": not yet executed" not in missing(agent)

    # Leasing II has no block as printed: the Agent records its original received on paper.
    record = condition.locator("form.record-form")
    record.get_by_label("Party").select_option(label=LEASING_II)
    record.get_by_label("Reason").fill(PAPER)
    record.get_by_label("Satisfied on").fill("2000-01-20")
    record.get_by_role("button", name="Record satisfied by other means").click()
    agent.get_by_text("Recorded, with the reason").wait_for()
    assert f"{LEASING_II}: no signature block in the document as printed" not in missing(agent)
    assert PAPER in condition.locator("ul.recorded").inner_text()
    assert condition.get_attribute("data-met") == "no"

    # 3. Every other block but the last, through the service layer, by its signatory of record.
    for block in deal.blocks:
        if block in (newcourt, cibc, last):
            continue
        block_execute(
            user=deal.signer_of(block),
            block=block,
            reauthentication=reauthentication(),
            document_sha256=deal.document.sha256,
        )
    agent.reload()
    assert missing(agent) == [f"{KMC}: not yet executed"]
    assert agent.locator("[data-amendment-status]").get_attribute("data-amendment-status") == AmendmentStatus.PENDING
    assert CovenantTestResult.objects.filter(agreement=deal.agreement, is_current=True, provisional=True).exists()

    # The last signature, in the browser, makes the amendment effective.
    borrower = session(last_signer.username)
    executes_own_block(borrower, base, deal.amendment.pk, last)
    agent.reload()
    status = agent.locator("[data-amendment-status]")
    assert status.get_attribute("data-amendment-status") == AmendmentStatus.EFFECTIVE
    assert "effective as of December 31, 1999" in status.inner_text()
    assert condition.get_attribute("data-met") == "yes"
    agent.goto(f"{base}/agreements/{deal.agreement.pk}/")
    agent.locator("section.covenant").first.wait_for()
    assert agent.locator(".notice-pending").count() == 0
    assert agent.locator("small.provisional").count() == 0
    assert not CovenantTestResult.objects.filter(agreement=deal.agreement, is_current=True, provisional=True).exists()
    assert Alert.objects.filter(kind=AlertKind.AMENDMENT_EFFECTIVE, amendment=deal.amendment).count() == 1

    # 4. The Responsible Officer prepares and signs the next quarter's certificate in their session.
    cfo = session(officer.username)
    cfo.goto(f"{base}/agreements/{deal.agreement.pk}/")
    cfo.get_by_role("link", name="Signed certificates").click()
    cfo.get_by_label("Fiscal quarter ending").select_option(NEXT_QUARTER.isoformat())
    cfo.get_by_role("button", name="Prepare the certificate from the results").click()
    cfo.locator("form.sign-certificate").wait_for()
    assert "Fiscal quarter ending March 31, 2000" in cfo.locator("article.certificate").inner_text()
    assert "(provisional)" not in cfo.locator("article.certificate").inner_text()
    cfo.locator("form.sign-certificate").get_by_label("Password").fill(PASSWORD)
    cfo.get_by_role("button", name="Sign the certificate").click()
    cfo.get_by_text("The certificate is signed").wait_for()
    certificate = ComplianceCertificate.objects.get(agreement=deal.agreement, period_end=NEXT_QUARTER)
    assert certificate.status == CertificateStatus.SIGNED

    # The Agent accepts it in theirs.
    agent.goto(f"{base}/execution/agreements/{deal.agreement.pk}/certificates/")
    agent.get_by_role("link", name="March 31, 2000").click()
    review = agent.locator("form.review-certificate")
    review.get_by_label("Decision").select_option("accept")
    review.get_by_role("button", name="Record the review").click()
    agent.locator("[data-status=accepted]").wait_for()

    # A Lender sees the certificate signed and accepted.
    lender_b.goto(f"{base}/agreements/{deal.agreement.pk}/")
    lender_b.get_by_role("link", name="Signed certificates").click()
    listed = lender_b.locator(f"tr[data-certificate='{certificate.pk}']")
    assert listed.get_attribute("data-status") == CertificateStatus.ACCEPTED
    listed.get_by_role("link", name="March 31, 2000").click()
    shown = lender_b.locator("article.certificate").inner_text()
    assert "Signed: " in shown and "Chief Financial Officer of KMC Telecom Inc." in shown
    assert lender_b.locator("article.certificate .review").inner_text().endswith(": accepted.")
    assert lender_b.locator("form.sign-certificate, form.review-certificate").count() == 0
