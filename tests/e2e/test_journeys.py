"""
The journeys users rely on, in a real Chromium against a live server: a Borrower's finance
team submits a quarter (template, a file with an error, the fix, confirmation, the breach it
causes); a Lender sees that breach and its chart; nobody reaches another agreement.

Tasks run in-process here (the suite's autouse fixture), so the evaluation completes when the
submission commits; the page still learns of it the way it always does, through htmx.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model

from covenants.choices import Role
from parties.choices import MembershipRole
from parties.models import Membership
from statements import services as statement_services
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.factories import PASSWORD, second_facility

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUARTER = dt.date(2000, 3, 31)
MINIMUM_REVENUES = 23_821_000  # 7.01(b) at March 31, 2000
REVENUES = 23_000_000  # short by $821,000


def user_of(username: str, role: str, *parties, first_name: str = "", last_name: str = ""):
    user = get_user_model().objects.create_user(
        username, password=PASSWORD, first_name=first_name, last_name=last_name, email=f"{username}@example.com"
    )
    for party in parties:
        Membership.objects.create(user=user, party=party, role=role)
    return user


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def fill_template(template: str, amounts: dict[tuple[str, str], str]) -> bytes:
    """The downloaded template with each (entity, line item)'s amount written in."""
    rows = list(csv.reader(io.StringIO(template.lstrip("\ufeff"))))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rows[0])
    for entity, period_end, line_item, _ in rows[1:]:
        writer.writerow([entity, period_end, line_item, amounts[(entity, line_item)]])
    return out.getvalue().encode()


def test_a_borrower_submits_a_quarter_fixes_an_error_and_sees_the_breach(page, live_server, tmp_path):
    loan = seed_loan()
    user_of("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values(), first_name="James", last_name="Grenfell")
    sign_in(page, live_server.url, "kmc.cfo")

    # The Borrower's home leads with submitting figures.
    page.get_by_role("link", name="Submit financials for KMC Telecom Loan and Security Agreement").click()
    page.get_by_label("Fiscal quarter ending").select_option(QUARTER.isoformat())
    page.get_by_role("button", name="Use this quarter").click()

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV template").click()
    template = download.value.path().read_text(encoding="utf-8")
    names = [party.legal_name for party in loan.borrowers.values()]
    shares = dict(zip(names, ("9,200,000", "6,900,000", "3,450,000", "2,300,000", "1,150,000"), strict=True))
    amounts = {(name, "Revenues"): shares[name] for name in names}
    amounts |= {(name, "EBITDA"): "(1,000,000)" for name in names}
    wrong = dict(amounts)
    wrong[(loan.borrowers["Leasing I"].legal_name, "EBITDA")] = "about a million"
    path = tmp_path / "q1-2000.csv"
    path.write_bytes(fill_template(template, wrong))

    page.get_by_label("Drop the CSV or XLSX file here, or choose it").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()

    # The error is on its row and in its column, and nothing is saved.
    rows = list(csv.reader(io.StringIO(template.lstrip("\ufeff"))))
    row_number = 1 + next(
        i
        for i, r in enumerate(rows[1:], start=1)
        if r[0] == loan.borrowers["Leasing I"].legal_name and r[2] == "EBITDA"
    )
    cell = page.locator(f"tr[data-row='{row_number}'] td[data-column='amount']")
    assert "cell-error" in (cell.get_attribute("class") or "")
    assert "'about a million' is not an amount" in cell.inner_text()
    assert page.locator("td.cell-error").count() == 1
    assert "Nothing was saved" in page.locator("#preview").inner_text()

    # Fixed, checked again, confirmed.
    path.write_bytes(fill_template(template, amounts))
    page.get_by_label("Drop the CSV or XLSX file here, or choose it").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    assert "No problems found" in page.locator("#preview").inner_text()
    page.get_by_role("button", name="Confirm and submit").click()

    # The results arrive through htmx; the outcome is stated plainly.
    page.wait_for_selector("[data-evaluation=done]")
    outcome = page.locator("#evaluation").inner_text()
    assert "1 covenant test is in breach" in outcome
    assert "7.01(b) Minimum revenues" in outcome
    assert "$23,000,000 against a minimum of $23,821,000" in outcome
    assert "short by $821,000" in outcome
    assert page.locator("#evaluation .status-breach").first.inner_text().strip().endswith("Breach")


def test_a_lender_sees_the_breach_on_the_dashboard_and_its_chart(page, live_server):
    loan = seed_loan()
    rows = combined_rows(loan, QUARTER, revenues=REVENUES, ebitda=-5_000_000)
    rows += combined_rows(loan, dt.date(1999, 12, 31), revenues=19_000_000, ebitda=-5_000_000)
    outcome = statement_services.statement_file_submit(
        agreement=loan.agreement, user=None, filename="figures.csv", content=csv_bytes(rows), source="command"
    )
    assert outcome.ok
    cibc = loan.agreement.roles.get(role=Role.LENDER, party__legal_name="Canadian Imperial Bank of Commerce").party
    user_of("cibc.credit", MembershipRole.LENDER, cibc)
    sign_in(page, live_server.url, "cibc.credit")

    breach_card = page.locator(".card-breach")
    assert breach_card.locator(".card-figure").inner_text() == "1"
    row = page.locator("table.results tbody tr", has_text="7.01(b)").filter(has_text="Breach")
    assert "Breach" in row.inner_text()
    assert "$23,000,000" in row.inner_text() and "$23,821,000" in row.inner_text()

    row.get_by_role("link", name="KMC Telecom Loan and Security Agreement").click()
    canvas = page.locator("canvas[data-chart=value]").first
    canvas.wait_for()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart=value]'))")
    plotted = page.evaluate(
        """() => {
            const canvas = document.querySelector('canvas[data-chart=value]');
            const chart = Chart.getChart(canvas);
            const values = chart.data.datasets[0].data.filter(v => v !== null);
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) painted++; }
            return {values, painted, width: canvas.width, height: canvas.height};
        }"""
    )
    assert plotted["values"] == [19_000_000, 23_000_000]
    assert plotted["width"] > 0 and plotted["height"] > 0
    assert plotted["painted"] > 1000  # axes, line and points drawn, not an empty canvas

    # Each figure is explained on demand, with the keyboard alone.
    breach_row = page.locator("tr.row-breach").first
    summary = breach_row.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    explanation = breach_row.locator(".explanation")
    explanation.wait_for()
    assert explanation.locator("table.figures tbody tr").count() == 5  # the five Borrowers' revenues
    assert "version 1" in explanation.inner_text()


def test_nobody_reaches_an_agreement_they_are_not_party_to(page, live_server):
    loan = seed_loan()
    harbor = second_facility()
    user_of("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values())

    sign_in(page, live_server.url, "kmc.cfo")
    response = page.goto(f"{live_server.url}/agreements/{harbor.agreement.pk}/")
    assert response.status == 404
    assert "Harbor" not in page.content()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "harbor.lender")
    response = page.goto(f"{live_server.url}/agreements/{loan.agreement.pk}/")
    assert response.status == 404
    assert "KMC" not in page.content()
