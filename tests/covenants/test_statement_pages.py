"""The statement upload page: templates, errors on their row and column, nothing half-saved."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parties.choices import MembershipRole
from parties.models import Membership
from statements.models import FinancialStatement, StatementUpload

from .helpers import combined_rows, csv_bytes, seed_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan():
    return seed_loan()


def member(loan, role, *parties):
    user = get_user_model().objects.create_user(f"user-{role}-{len(parties)}", password="x-portal-test-1")
    for party in parties:
        Membership.objects.create(user=user, party=party, role=role)
    return user


@pytest.fixture
def borrower_user(loan):
    return member(loan, MembershipRole.BORROWER, *loan.borrowers.values())


def upload(client, loan, content, name="figures.csv"):
    url = reverse("covenants:statement_upload", args=[loan.agreement.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def test_the_template_downloads_in_both_formats_prefilled(client, loan, borrower_user):
    client.force_login(borrower_user)
    url = reverse("covenants:statement_template", args=[loan.agreement.pk])
    response = client.get(url, {"period_end": "2000-03-31", "format": "csv"})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].replace(" ", "") == "entity,period_end,line_item,amount"
    for party in loan.borrowers.values():
        assert party.legal_name in text
    assert "Revenues" in text and "EBITDA" in text
    response = client.get(url, {"period_end": "2000-03-31", "format": "xlsx"})
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) == 1 + 5 * 2


def test_the_template_refuses_a_date_that_is_not_a_quarter_end(client, loan, borrower_user):
    client.force_login(borrower_user)
    url = reverse("covenants:statement_template", args=[loan.agreement.pk])
    response = client.get(url, {"period_end": "2000-03-30", "format": "csv"})
    assert response.status_code == 400
    assert "not the last day of a fiscal quarter" in response.content.decode()


def test_an_upload_with_errors_names_each_row_and_column_and_saves_nothing(client, loan, borrower_user):
    client.force_login(borrower_user)
    rows = combined_rows(loan, dt.date(2000, 3, 31), revenues=24_000_000, ebitda=-1_000_000)
    rows[1] = (rows[1][0], rows[1][1], rows[1][2], "n/a")
    rows[3] = (rows[3][0], "2000-03-30", rows[3][2], rows[3][3])
    response = upload(client, loan, csv_bytes(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "<td>3</td><td>amount</td>" in page
    assert "<td>5</td><td>period_end</td>" in page
    assert StatementUpload.objects.count() == 0
    assert FinancialStatement.objects.count() == 0


def test_a_good_upload_is_previewed_then_recorded_on_confirmation_keeping_the_original_file(
    client, loan, borrower_user
):
    import hashlib

    client.force_login(borrower_user)
    content = csv_bytes(combined_rows(loan, dt.date(2000, 3, 31), revenues=24_000_000, ebitda=-1_000_000))
    response = upload(client, loan, content)
    assert response.status_code == 200
    assert "Confirm and submit" in response.content.decode()
    assert StatementUpload.objects.count() == 0  # nothing saved before confirmation
    confirm = reverse("covenants:statement_confirm", args=[loan.agreement.pk])
    response = client.post(confirm, {"sha256": hashlib.sha256(content).hexdigest(), "action": "confirm"})
    assert response.status_code == 302
    stored = StatementUpload.objects.get()
    assert bytes(stored.content) == content
    assert stored.uploaded_by == borrower_user
    assert FinancialStatement.objects.filter(upload=stored).count() == 5
    assert response["Location"] == reverse("covenants:submission_detail", args=[loan.agreement.pk, stored.pk])
    page = client.get(response["Location"]).content.decode()
    assert page.count("fiscal quarter ending March 31, 2000: version 1") == 5


def test_a_borrower_user_may_submit_only_for_their_own_entities(client, loan):
    user = member(loan, MembershipRole.BORROWER, loan.borrowers["KMC"])
    client.force_login(user)
    content = csv_bytes(combined_rows(loan, dt.date(2000, 3, 31), revenues=24_000_000, ebitda=-1_000_000))
    response = upload(client, loan, content)
    assert response.status_code == 200
    assert "You may not submit figures for KMC Telecom II, Inc." in response.content.decode()
    assert FinancialStatement.objects.count() == 0


def test_a_lender_may_read_the_agreement_but_not_upload(client, loan):
    from covenants.choices import Role

    cibc = loan.agreement.roles.get(role=Role.LENDER, party__legal_name="Canadian Imperial Bank of Commerce").party
    user = member(loan, MembershipRole.LENDER, cibc)
    client.force_login(user)
    assert client.get(reverse("covenants:agreement_detail", args=[loan.agreement.pk])).status_code == 200
    assert client.get(reverse("covenants:statement_upload", args=[loan.agreement.pk])).status_code == 403


def test_an_outsider_gets_404_for_the_agreement_and_its_upload_page(client, loan):
    from parties.models import Party

    outsider_party = Party.objects.create(legal_name="Unrelated Bank, N.A.")
    user = member(loan, MembershipRole.LENDER, outsider_party)
    client.force_login(user)
    for name in ("agreement_detail", "statement_upload", "statement_template"):
        assert client.get(reverse(f"covenants:{name}", args=[loan.agreement.pk])).status_code == 404
