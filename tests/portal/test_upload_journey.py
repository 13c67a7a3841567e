"""
The Borrower's upload journey through the pages: a file is checked and shown row by row with
every error on its row and column, nothing is saved until it is confirmed, what is confirmed is
exactly what was previewed, and the page follows the evaluation until the outcome is in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from covenants.models import Agreement
from parties.choices import MembershipRole
from portal.pages.views import MAX_PROGRESS_POLLS, PREVIEW_SESSION_KEY
from statements.models import FinancialStatement, StatementUpload
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.factories import member

from .test_dashboard_and_agreement_pages import unlabelled_controls

pytestmark = pytest.mark.django_db

QUARTER = dt.date(2000, 3, 31)


@pytest.fixture
def loan():
    return seed_loan()


@pytest.fixture
def borrower(loan, client):
    user = member("kmc.controller", MembershipRole.BORROWER, *loan.borrowers.values())
    client.force_login(user)
    return user


def check(client, loan, content: bytes, name: str = "figures.csv", quarter: str = "2000-03-31"):
    url = reverse("covenants:statement_upload", args=[loan.agreement.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content), "quarter": quarter})


def confirm(client, loan, content: bytes, action: str = "confirm"):
    url = reverse("covenants:statement_confirm", args=[loan.agreement.pk])
    return client.post(url, {"sha256": hashlib.sha256(content).hexdigest(), "action": action})


def good_file(loan, quarter=QUARTER, revenues=24_000_000) -> bytes:
    return csv_bytes(combined_rows(loan, quarter, revenues=revenues, ebitda=-1_000_000))


def test_every_error_is_marked_on_its_row_and_column_and_nothing_is_saved(client, loan, borrower):
    rows = combined_rows(loan, QUARTER, revenues=24_000_000, ebitda=-1_000_000)
    rows[1] = (rows[1][0], rows[1][1], rows[1][2], "n/a")  # file row 3: amount
    rows[3] = (rows[3][0], "2000-03-30", rows[3][2], rows[3][3])  # file row 5: period_end
    rows[6] = ("KMC Telecom III, Inc.", *rows[6][1:])  # file row 8: not a Borrower here
    response = check(client, loan, csv_bytes(rows))
    assert response.status_code == 200
    table = response.context["table"]
    marked = {(row.number, cell.column) for row in table.rows for cell in row.cells if cell.errors}
    assert marked == {(3, "amount"), (5, "period_end"), (8, "entity")}
    page = response.content.decode()
    for number, column in marked:
        cell = re.search(
            rf'data-row="{number}">.*?<td data-column="{column}" class="cell-error">(.*?)</td>', page, re.S
        )
        assert cell and "cell-problem" in cell.group(1), (number, column)
    text = html.unescape(page)
    assert "'n/a' is not an amount" in text
    assert "'KMC Telecom III, Inc.' is not a Borrower under this agreement" in text
    assert "Nothing was saved" in page
    assert StatementUpload.objects.count() == FinancialStatement.objects.count() == 0
    assert not client.session.get(PREVIEW_SESSION_KEY)


def test_an_xlsx_is_previewed_with_its_errors_in_place(client, loan, borrower):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["entity", "period_end", "line_item", "amount"])
    for entity, period_end, item, amount in combined_rows(loan, QUARTER, revenues=24_000_000, ebitda=-1_000_000):
        sheet.append([entity, dt.date.fromisoformat(period_end), item, amount])
    sheet["D4"] = "twelve"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = check(client, loan, buffer.getvalue(), name="figures.xlsx")
    assert response.status_code == 200
    rows = {row.number: row for row in response.context["table"].rows}
    assert [c.text for c in rows[4].cells][:2] == [loan.borrowers["KMC Virginia"].legal_name, "2000-03-31"]
    assert rows[4].cells[3].errors == [
        "'twelve' is not an amount; write a figure such as 18,000,000, (4,157,000) or 18000000.00"
    ]


def test_a_file_refused_as_a_whole_shows_why_without_a_table(client, loan, borrower):
    response = check(client, loan, b"%PDF-1.4 not figures", name="figures.csv")
    assert response.status_code == 200
    assert response.context["table"].rows == []
    assert "figures.csv is not a CSV file: it looks like a PDF document" in response.content.decode()


def test_a_good_file_waits_unsaved_until_confirmed_and_the_bytes_confirmed_are_those_previewed(
    client, loan, borrower, django_capture_on_commit_callbacks
):
    content = good_file(loan)
    response = check(client, loan, content)
    assert response.status_code == 200
    page = response.content.decode()
    assert "No problems found" in page
    assert page.count("<td>2000-03-31</td>") == 5  # the statements it will record
    assert StatementUpload.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, loan, content)
    upload = StatementUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("covenants:submission_detail", args=[loan.agreement.pk, upload.pk])
    assert bytes(upload.content) == content and upload.uploaded_by == borrower
    assert FinancialStatement.objects.filter(upload=upload).count() == 5
    assert not client.session.get(PREVIEW_SESSION_KEY)
    # Confirming again has nothing to confirm.
    response = confirm(client, loan, content)
    assert StatementUpload.objects.count() == 1
    assert "There is no checked file waiting" in client.get(response["Location"]).content.decode()


def test_a_confirmation_for_a_file_no_longer_waiting_is_refused(client, loan, borrower):
    first, second = good_file(loan), good_file(loan, revenues=25_000_000)
    check(client, loan, first)
    check(client, loan, second)  # another check since: the first no longer waits
    response = confirm(client, loan, first)
    assert StatementUpload.objects.count() == 0
    assert "not the one last checked" in client.get(response["Location"]).content.decode()
    confirm(client, loan, second)
    assert bytes(StatementUpload.objects.get().content) == second


def test_a_checked_file_can_be_discarded(client, loan, borrower):
    content = good_file(loan)
    check(client, loan, content)
    page = client.get(reverse("covenants:statement_upload", args=[loan.agreement.pk])).content.decode()
    assert "A checked file is waiting for your confirmation" in page
    response = confirm(client, loan, content, action="discard")
    assert response.status_code == 302
    assert StatementUpload.objects.count() == 0
    assert not client.session.get(PREVIEW_SESSION_KEY)


def test_a_file_too_large_to_check_is_refused_with_its_size(client, loan, borrower):
    with override_settings(STATEMENT_UPLOAD_MAX_BYTES=1000):
        response = check(client, loan, good_file(loan) + b"x" * 2000)
    assert response.status_code == 200
    assert "figures.csv is too large: 2.5 KB, and a file may have at most 1,000 bytes" in response.content.decode()


def test_figures_for_another_quarter_than_chosen_are_pointed_out(client, loan, borrower):
    response = check(client, loan, good_file(loan), quarter="2000-06-30")
    assert response.status_code == 200
    assert "The file carries figures for March 31, 2000, not only the quarter you chose" in response.content.decode()


def test_the_upload_page_labels_every_control(client, loan, borrower):
    page = check(client, loan, good_file(loan)).content.decode()
    assert unlabelled_controls(page) == []


def test_the_history_shows_versions_and_restatements(client, loan, borrower):
    for revenues in (24_000_000, 24_500_000):
        content = good_file(loan, revenues=revenues)
        check(client, loan, content)
        confirm(client, loan, content)
    page = client.get(reverse("covenants:statement_upload", args=[loan.agreement.pk])).content.decode()
    kmc = loan.borrowers["KMC"].legal_name
    assert f"{kmc}, 2000-03-31: version 2 (restates version 1)" in page
    assert f'{kmc}, 2000-03-31: version 1 <span class="status status-superseded">superseded</span>' in page


# --- Following the evaluation ---------------------------------------------------------------------------


def submitted(client, loan, content, *, evaluate: bool):
    check(client, loan, content)
    if evaluate:
        response = confirm(client, loan, content)
        from compliance.services import agreement_evaluate

        agreement_evaluate(agreement_id=loan.agreement.pk)
    else:
        response = confirm(client, loan, content)  # the evaluation is queued on commit, which never comes here
    return StatementUpload.objects.latest("pk"), response


def test_the_page_polls_while_the_evaluation_runs_then_states_the_outcome(client, loan, borrower):
    content = csv_bytes(
        combined_rows(loan, QUARTER, revenues=23_000_000, ebitda=-5_000_000)
        + combined_rows(loan, dt.date(1999, 12, 31), revenues=19_000_000, ebitda=-5_000_000)
    )
    upload, _ = submitted(client, loan, content, evaluate=False)
    assert Agreement.objects.get(pk=loan.agreement.pk).evaluation_requested_at is not None
    page = client.get(reverse("covenants:submission_detail", args=[loan.agreement.pk, upload.pk])).content.decode()
    progress = reverse("covenants:submission_progress", args=[loan.agreement.pk, upload.pk])
    assert f'hx-get="{progress}" hx-trigger="load"' in page  # the results always arrive through htmx

    fragment = client.get(progress, headers={"HX-Request": "true"}).content.decode()
    assert f'hx-get="{progress}?attempt=1" hx-trigger="load delay:1s"' in fragment
    assert "Testing the covenants" in fragment
    assert "<html" not in fragment
    # The browser does not poll forever: after a few minutes it is told where the results will be.
    fragment = client.get(progress, {"attempt": MAX_PROGRESS_POLLS}, headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" not in fragment and "taking longer than usual" in fragment

    from compliance.services import agreement_evaluate

    agreement_evaluate(agreement_id=loan.agreement.pk)
    fragment = client.get(progress, headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" not in fragment  # the polling stops
    assert 'data-evaluation="done"' in fragment
    assert "1 covenant test is in breach" in fragment
    assert "Revenues of all the Borrowers on a combined basis for the fiscal quarter ending March 31, 2000" in fragment
    assert "short by $821,000" in fragment
    # Without scripts, the same as a page.
    assert "<html" in client.get(progress).content.decode()


def test_an_upload_of_unchanged_figures_says_so(client, loan, borrower):
    content = good_file(loan)
    submitted(client, loan, content, evaluate=True)
    again = content.replace(b"\r\n", b"\n") + b"\n"  # other bytes, the same figures
    upload, _ = submitted(client, loan, again, evaluate=True)
    page = client.get(reverse("covenants:submission_detail", args=[loan.agreement.pk, upload.pk])).content.decode()
    assert "The figures are the same as those already on file" in page
