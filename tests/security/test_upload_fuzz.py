"""
Uploads fuzzed end to end (1,100 generated files per run): through the submission service
with the database, and through the upload page. Whatever arrives, the answer is a saved
file whole or a message naming the problem: never an exception, never a 500, never part
of a file saved.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from statements.models import FinancialStatement, StatementLine, StatementUpload
from statements.services import statement_file_submit

from ..covenants.helpers import seed_loan
from ..factories import administrator

pytestmark = pytest.mark.django_db
HEADER = ["entity", "period_end", "line_item", "amount"]
CELL = st.one_of(
    st.text(max_size=14),
    st.sampled_from(
        ["KMC", "Leasing II", "KMC Telecom Inc.", "kmc  telecom ii, inc", "KMC Telecom III, Inc.", "Lucent"]
    ),
    st.sampled_from(["2000-03-31", "2000-06-30", "2000-03-30", "31/03/2000", "2000-13-31", ""]),
    st.sampled_from(["Revenues", "EBITDA", "ebitda", "Total Debt", "revenue"]),
    st.sampled_from(["18,000,000", "$18,000,000", "(4,157,000)", "-4157000", "18000000.00", "n/a", "1e9", "0.001"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12).map(str),
)
ROWS = st.lists(st.lists(CELL, min_size=0, max_size=5), max_size=14)
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def loan():
    return seed_loan()


@pytest.fixture
def signed_in(client):
    client.force_login(administrator("fuzz.admin"))
    return client


def saved() -> tuple[int, int, int]:
    return StatementUpload.objects.count(), FinancialStatement.objects.count(), StatementLine.objects.count()


def check_whole_or_nothing(loan, outcome, before: tuple[int, int, int]) -> None:
    after = saved()
    if outcome.ok:
        groups = outcome.parsed.statements()
        assert after[0] == before[0] + 1
        assert after[1] - before[1] == len(outcome.statements) <= len(groups)
        assert after[2] - before[2] == sum(len(groups[(s.borrower_id, s.period_end)]) for s in outcome.statements)
    else:
        assert after == before, "a refused file saved something"
        assert all(error.message.strip() for error in outcome.errors)


def csv_content(header: list[str], rows: list[list[str]], delimiter: str) -> bytes:
    lines = [delimiter.join(header), *(delimiter.join(f'"{c}"' if "," in c else c for c in row) for row in rows)]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def xlsx_content(header: list[str], rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        # A spreadsheet cannot hold control characters, so neither can a real workbook.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c.encode("utf-8", "ignore").decode("utf-8")) for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@settings(FUZZ, max_examples=600)
@given(
    header=st.one_of(st.just(HEADER), st.lists(st.sampled_from([*HEADER, "x", "", "Amount "]), max_size=5)),
    rows=ROWS,
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_fuzzed_csv_files_are_saved_whole_or_refused_with_a_message(loan, header, rows, delimiter):
    before = saved()
    outcome = statement_file_submit(
        agreement=loan.agreement, user=None, filename="fuzz.csv", content=csv_content(header, rows, delimiter)
    )
    check_whole_or_nothing(loan, outcome, before)


@settings(FUZZ, max_examples=300)
@given(header=st.one_of(st.just(HEADER), st.lists(st.sampled_from([*HEADER, "x"]), max_size=5)), rows=ROWS)
def test_fuzzed_xlsx_files_are_saved_whole_or_refused_with_a_message(loan, header, rows):
    before = saved()
    outcome = statement_file_submit(
        agreement=loan.agreement, user=None, filename="fuzz.xlsx", content=xlsx_content(header, rows)
    )
    check_whole_or_nothing(loan, outcome, before)


@settings(FUZZ, max_examples=200)
@given(
    content=st.one_of(
        st.binary(max_size=600),
        ROWS.map(lambda rows: csv_content(HEADER, rows, ",")),
        ROWS.map(lambda rows: xlsx_content(HEADER, rows)),
    ),
    filename=st.sampled_from(["f.csv", "f.xlsx", "f.txt", "f", "f.exe"]),
)
def test_the_upload_page_never_answers_500_and_saves_nothing_before_confirmation(signed_in, loan, content, filename):
    before = saved()
    response = signed_in.post(
        reverse("covenants:statement_upload", args=[loan.agreement.pk]),
        {"file": SimpleUploadedFile(filename, content)},
    )
    assert response.status_code in (200, 400), response.status_code
    assert saved() == before  # the page only previews; nothing is saved before the user confirms
