"""
The compliance table as CSV and XLSX (text that a spreadsheet would run as a formula is
neutralised, numbers stay numbers), and the printable compliance certificate for a quarter.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from compliance.models import CovenantTestResult
from covenants.models import Covenant
from parties.choices import MembershipRole
from parties.models import Party
from portal.pages import exports
from tests.factories import member

from .test_dashboard_and_agreement_pages import unlabelled_controls

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://example.com","x")'


@pytest.fixture
def lender(loan, client):
    user = member(
        "cibc.credit", MembershipRole.LENDER, Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    )
    client.force_login(user)
    return user


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_a_spreadsheet_would_run_is_neutralised(start):
    assert exports.neutralise(f"{start}1+1") == f"'{start}1+1"
    assert exports.neutralise(f"Minimum revenues {start}") == f"Minimum revenues {start}"


def test_the_csv_export_has_every_current_result_with_numbers_as_numbers(client, lender, loan):
    Covenant.objects.filter(pk=loan.covenants["7.01(b)"].pk).update(name=FORMULA)
    response = client.get(reverse("covenants:compliance_csv", args=[loan.agreement.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="compliance-kmc-telecom-loan')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).count()
    breach = next(r for r in rows if r["Section"] == "7.01(b)" and r["Test date"] == "2001-03-31")
    assert breach["Covenant"] == "'" + FORMULA
    assert breach["Status"] == "Breach"
    assert (breach["Value"], breach["Threshold"], breach["Headroom"], breach["Headroom %"]) == (
        "53940000",
        "54678000",
        "-738000",  # a negative number stays a number, not neutralised text
        "-1.35",
    )
    near = next(r for r in rows if r["Section"] == "7.01(c)(i)" and r["Test date"] == "2000-12-31")
    # The pages' word: "Near breach", not "Compliant" beside a warning.
    assert (near["Status"], near["Value"]) == ("Near breach", "-3750000")
    assert near["Warning"] == "Headroom under the 10% warning band"
    assert near["Provisional"] == "Yes"


def test_the_xlsx_export_keeps_numbers_numeric_and_text_inert(client, lender, loan):
    Covenant.objects.filter(pk=loan.covenants["7.01(b)"].pk).update(name=FORMULA)
    response = client.get(reverse("covenants:compliance_xlsx", args=[loan.agreement.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header == list(exports.COMPLIANCE_COLUMNS)
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    breach = next(
        r for r in rows if r["Section"].value == "7.01(b)" and r["Test date"].value.date() == dt.date(2001, 3, 31)
    )
    assert breach["Covenant"].value == "'" + FORMULA and breach["Covenant"].data_type == "s"
    assert breach["Headroom"].data_type == "n" and Decimal(str(breach["Headroom"].value)) == Decimal("-738000")
    assert breach["Value"].value == 53940000
    assert all(not (isinstance(c.value, str) and c.value.startswith("=")) for r in rows for c in r.values())


def sheets_xml(content: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]


def test_every_spreadsheet_the_portal_writes_escapes_text_with_one_function(client, loan):
    """A Borrower's legal name and a covenant's are set by others (an Agent): in the statement
    templates and the compliance exports, as CSV and as XLSX, they are inert text, never a live
    formula."""
    from statements import spreadsheet_safety, templates

    assert templates.neutralise is exports.neutralise is spreadsheet_safety.neutralise
    Party.objects.filter(legal_name="KMC Telecom Inc.").update(legal_name=FORMULA)  # in the templates
    Covenant.objects.filter(pk=loan.covenants["7.01(b)"].pk).update(name=FORMULA)  # in the exports
    client.force_login(member("kmc.finance", MembershipRole.BORROWER, *loan.borrowers.values()))
    pk = loan.agreement.pk
    template_url = reverse("covenants:statement_template", args=[pk])
    files = {
        "template.xlsx": client.get(template_url, {"format": "xlsx", "period_end": "2001-03-31"}),
        "template.csv": client.get(template_url, {"format": "csv", "period_end": "2001-03-31"}),
        "compliance.xlsx": client.get(reverse("covenants:compliance_xlsx", args=[pk])),
        "compliance.csv": client.get(reverse("covenants:compliance_csv", args=[pk])),
    }
    assert {name: r.status_code for name, r in files.items()} == dict.fromkeys(files, 200)
    for name, response in files.items():
        if name.endswith(".xlsx"):
            assert all(b"<f>" not in xml and b"<f " not in xml for xml in sheets_xml(response.content)), name
            cells = [c for row in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows() for c in row]
            guarded = [c for c in cells if c.value == "'" + FORMULA]
            assert guarded and all(c.data_type == "s" for c in guarded), name
            assert not any(isinstance(c.value, str) and c.value.startswith("=") for c in cells), name
        else:
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            assert any("'" + FORMULA in row for row in rows), name
            assert not any(
                cell.startswith(spreadsheet_safety.FORMULA_STARTS)
                for row in rows
                for cell in row
                if cell and not cell.lstrip("-").replace(".", "").isdigit()
            ), name


def test_the_certificate_lists_each_covenants_computation_and_the_certifying_officer(client, loan):
    officer = member("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values())
    client.force_login(officer)
    url = reverse("covenants:compliance_certificate", args=[loan.agreement.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert unlabelled_controls(form_page.content.decode()) == []

    response = client.get(
        url,
        {"test_date": "2001-03-31", "officer_name": "James D. Grenfell", "officer_title": "Chief Financial Officer"},
    )
    assert response.status_code == 200
    certificate = response.context["certificate"]
    assert [(e.section, e.status) for e in certificate.entries] == [("7.01(b)", "breach"), ("7.01(c)(ii)", "compliant")]
    revenues = certificate.entries[0]
    assert len(revenues.lines) == 5 and sum(line.amount for line in revenues.lines) == 53_940_000
    assert (revenues.value_text, revenues.threshold_text, revenues.headroom_text) == (
        "$53,940,000",
        "$54,678,000",
        "($738,000)",
    )
    ebitda = certificate.entries[1]
    assert {line.period_end for line in ebitda.lines} == {dt.date(2000, 12, 31), dt.date(2001, 3, 31)}
    page = html.unescape(response.content.decode())
    assert "The undersigned, James D. Grenfell, Chief Financial Officer, certifies" in page
    assert "the Borrowers are <strong>not in compliance</strong> with Section 7.01(b)." in page
    assert "<strong>James D. Grenfell</strong><br>Chief Financial Officer" in page
    assert 'href="/static/css/print.css" media="print"' in page
    assert "data-print" in page and "js/print.js" in page


def test_the_certificate_needs_the_officers_title(client, loan):
    client.force_login(member("kmc.cfo", MembershipRole.BORROWER, *loan.borrowers.values()))
    url = reverse("covenants:compliance_certificate", args=[loan.agreement.pk])
    response = client.get(url, {"test_date": "2001-03-31", "officer_name": "James D. Grenfell", "officer_title": ""})
    assert response.status_code == 400
    assert "Enter the officer&#x27;s title" in response.content.decode()
    assert response.context["certificate"] is None
    response = client.get(url, {"test_date": "1999-09-30", "officer_name": "A", "officer_title": "B"})
    assert response.status_code == 400  # not a tested quarter
