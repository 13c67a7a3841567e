"""
The upload page as a Borrower's finance team meets it in Chromium: after "Check the file" the
answer is in view (the preview with "Confirm and submit", or the problems), a refused file is an
ordinary page (no failed load in the console), the quarter to send next can be chosen and stays
chosen everywhere on the page, and a file that restates figures says so before it is confirmed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from parties.choices import MembershipRole
from portal.management.commands.load_demo_figures import quarter_file
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan

from .test_journeys import sign_in, user_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUARTER = dt.date(2000, 3, 31)


def demo_loan():
    """The seed Loan Agreement with the demo figures (seven quarters to March 31, 2001; Leasing II's
    June 30, 2000 statement missing)."""
    loan = seed_loan()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True):
        call_command("load_demo_figures", stdout=StringIO())
    return loan


def upload_page(page, live_server, loan, quarter: dt.date | None = None) -> None:
    query = f"?quarter={quarter.isoformat()}" if quarter else ""
    page.goto(f"{live_server.url}/agreements/{loan.agreement.pk}/statements/upload/{query}")


def check_file(page, path) -> int:
    """Choose the file and check it; the status of the page that answers."""
    page.get_by_label("Drop the CSV or XLSX file here, or choose it").set_input_files(str(path))
    with page.expect_navigation() as answer:
        page.get_by_role("button", name="Check the file").click()
    return answer.value.status


def test_the_answer_to_check_the_file_is_in_view_and_a_refused_file_is_an_ordinary_page(page, live_server, tmp_path):
    loan = seed_loan()
    user_of("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values())
    sign_in(page, live_server.url, "kmc.cfo")
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    upload_page(page, live_server, loan, QUARTER)

    rows = combined_rows(loan, QUARTER, revenues=24_000_000, ebitda=-1_000_000)
    wrong = list(rows)
    wrong[2] = (*wrong[2][:3], "about a million")
    path = tmp_path / "q1-2000.csv"
    path.write_bytes(csv_bytes(wrong))

    assert check_file(page, path) == 200
    problems = page.get_by_role("heading", name="q1-2000.csv was not accepted: 1 problem")
    expect(problems).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0
    assert "q1-2000.csv was not accepted" in page.locator(".dropzone").inner_text()
    assert console_errors == []

    path.write_bytes(csv_bytes(rows))
    assert check_file(page, path) == 200
    expect(page.get_by_role("button", name="Confirm and submit")).to_be_in_viewport()
    expect(page.locator("#preview .outcome-ok")).to_be_in_viewport()
    assert "Checked: q1-2000.csv, no problems found" in page.locator(".dropzone").inner_text()
    assert console_errors == []


def test_the_preview_says_which_statements_restate_figures_on_file_and_what_changes(page, live_server, tmp_path):
    loan = demo_loan()
    user_of("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values())
    sign_in(page, live_server.url, "kmc.cfo")
    quarter = dt.date(2000, 12, 31)
    upload_page(page, live_server, loan, quarter)

    # The demo's file for the quarter, with four Borrowers' revenues raised by $1,000; Leasing II's as sent.
    rows = list(csv.reader(io.StringIO(quarter_file(quarter).decode())))
    kept = loan.borrowers["Leasing II"].legal_name
    before = {}
    for row in rows[1:]:
        if row[2] == "Revenues" and row[0] != kept:
            before[row[0]] = row[3]
            row[3] = f"{int(row[3].replace(',', '')) + 1_000:,}"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path = tmp_path / "q4-2000-restated.csv"
    path.write_text(out.getvalue())
    check_file(page, path)

    preview = page.locator("#preview")
    notice = preview.locator(".restatement-notice").inner_text()
    assert "4 of the 5 statements restate figures already on file" in notice
    assert "1 statement is the same as the version on file and will record nothing" in notice
    kmc = preview.locator("table.statements-in-file tr", has_text=loan.borrowers["KMC"].legal_name)
    text = kmc.inner_text()
    old = int(before[loan.borrowers["KMC"].legal_name].replace(",", ""))
    assert "Restates version 1" in text
    assert f"Revenues: ${old:,}" in text and f"${old + 1_000:,}" in text
    assert "EBITDA:" not in text  # only what changes
    same = preview.locator("table.statements-in-file tr", has_text=kept).inner_text()
    assert "The same as version 1: nothing changes" in same
    expect(preview.get_by_role("button", name="Confirm and submit")).to_be_visible()


def chosen(page) -> dict:
    """What the page says the chosen quarter is: the list, the template's words and links, the form."""
    return page.evaluate(
        """() => ({
            selected: document.querySelector('#id_quarter').value,
            words: document.querySelector('[aria-labelledby=template-heading]').innerText,
            template: document.querySelector('#template-csv') && document.querySelector('#template-csv').href,
            form: document.querySelector('.upload-form input[name=quarter]')
                && document.querySelector('.upload-form input[name=quarter]').value,
        })"""
    )


def test_the_quarter_to_send_next_can_be_chosen_and_stays_chosen(page, live_server):
    loan = demo_loan()
    user_of("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values())
    sign_in(page, live_server.url, "kmc.cfo")
    upload_page(page, live_server, loan)

    # Late first, then the quarter after the latest on file, then the quarters on file, newest first.
    values = page.locator("#id_quarter option").evaluate_all("options => options.map(o => o.value)")
    assert values == [
        "2000-06-30",
        "2001-06-30",
        "2001-03-31",
        "2000-12-31",
        "2000-09-30",
        "2000-03-31",
        "1999-12-31",
        "1999-09-30",
    ]
    late = page.locator("#id_quarter option[value='2000-06-30']").inner_text()
    assert "late" in late and loan.borrowers["Leasing II"].legal_name in late
    assert "next to report" in page.locator("#id_quarter option[value='2001-06-30']").inner_text()
    assert chosen(page)["selected"] == "2000-06-30"
    assert "June 30, 2000" in chosen(page)["words"]

    page.get_by_label("Fiscal quarter ending").select_option("2001-06-30")
    page.get_by_role("button", name="Use this quarter").click()
    page.wait_for_url("**quarter=2001-06-30")
    state = chosen(page)
    assert state["selected"] == "2001-06-30"
    assert "for the fiscal quarter ending June 30, 2001" in state["words"]
    assert "period_end=2001-06-30" in state["template"]
    assert state["form"] == "2001-06-30"

    # A quarter asked for by its address is the one the list shows.
    upload_page(page, live_server, loan, dt.date(2001, 9, 30))
    state = chosen(page)
    assert state["selected"] == "2001-09-30" and "September 30, 2001" in state["words"]
    assert state["form"] == "2001-09-30"

    # A day that ends no quarter is not passed off as another quarter.
    page.goto(f"{live_server.url}/agreements/{loan.agreement.pk}/statements/upload/?quarter=2001-06-29")
    state = chosen(page)
    assert state["selected"] == "" and state["template"] is None and state["form"] is None
    assert "2001-06-29 is not the last day of a fiscal quarter" in state["words"]
