"""The reporting party of consolidated terms (a parent or guarantor, not a Borrower) submits the
group's statement for the agreement that names it, by page and by API, and for no other deal."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from covenants import access
from covenants.choices import Basis, Role
from covenants.models import AgreementRole, Covenant, CovenantTerms, ThresholdStep
from parties.choices import EntityKind, MembershipRole
from parties.models import Party
from statements.models import FinancialStatement
from tests.covenants.helpers import csv_bytes
from tests.factories import line_item, member, second_facility

pytestmark = pytest.mark.django_db
QUARTER = dt.date(2020, 3, 31)


def consolidated_deal(prefix: str):
    """A facility whose leverage test is consolidated, reported by a holding company that
    guarantees the loan, with one user of that holding company."""
    facility = second_facility(prefix)
    holdings = Party.objects.create(legal_name=f"{prefix} Holdings Inc.", kind=EntityKind.CORPORATION)
    AgreementRole.objects.create(agreement=facility.agreement, party=holdings, role=Role.GUARANTOR)
    covenant = Covenant.objects.create(agreement=facility.agreement, section="6.3", name="Consolidated revenues")
    terms = CovenantTerms.objects.create(
        covenant=covenant,
        effective_from=dt.date(2019, 6, 28),
        line_item=line_item("revenues", "Revenues"),
        basis=Basis.CONSOLIDATED,
        reporting_party=holdings,
    )
    ThresholdStep.objects.create(terms=terms, test_date=dt.date(2019, 9, 30), applies_thereafter=True, threshold=1)
    facility.holdings = holdings
    facility.users["reporter"] = member(f"{prefix.lower()}.reporter", MembershipRole.BORROWER, holdings)
    return facility


@pytest.fixture
def deals():
    cache.clear()
    return consolidated_deal("Harbor"), consolidated_deal("Delta")


def group_file(facility) -> bytes:
    items = (("Revenues", "9,000,000"), ("EBITDA", "2,000,000"), ("Total Debt", "5,000,000"))
    return csv_bytes([(facility.holdings.legal_name, QUARTER.isoformat(), item, amount) for item, amount in items])


def test_the_reporting_party_may_submit_for_its_deal_only(deals):
    harbor, delta = deals
    reporter = harbor.users["reporter"]
    assert access.may(reporter, "submit", harbor.agreement)
    assert access.submittable_borrower_ids(reporter, harbor.agreement) == {harbor.holdings.pk}
    assert not access.may(reporter, "submit", delta.agreement)
    assert harbor.agreement.pk in access.submittable_agreement_ids(reporter)
    assert delta.agreement.pk not in access.submittable_agreement_ids(reporter)
    # A Borrower's user does not submit the group's statement; the Agent keys it in for them.
    assert harbor.holdings.pk not in access.submittable_borrower_ids(harbor.users["borrower"], harbor.agreement)
    assert harbor.holdings.pk in access.submittable_borrower_ids(harbor.users["agent"], harbor.agreement)


def test_the_reporting_party_uploads_its_statement_on_the_page(client, deals):
    harbor, _ = deals
    client.force_login(harbor.users["reporter"])
    content = group_file(harbor)
    url = reverse("covenants:statement_upload", args=[harbor.agreement.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": SimpleUploadedFile("group.csv", content)})
    assert response.status_code == 200
    assert "Confirm and submit" in response.content.decode()
    confirm = reverse("covenants:statement_confirm", args=[harbor.agreement.pk])
    response = client.post(confirm, {"sha256": hashlib.sha256(content).hexdigest(), "action": "confirm"})
    assert response.status_code == 302
    statement = FinancialStatement.objects.get()
    assert (statement.borrower, statement.period_end) == (harbor.holdings, QUARTER)


def test_another_deals_reporter_is_refused_on_the_page(client, deals):
    harbor, delta = deals
    client.force_login(delta.users["reporter"])
    url = reverse("covenants:statement_upload", args=[harbor.agreement.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"file": SimpleUploadedFile("group.csv", group_file(harbor))})
    assert response.status_code == 404
    assert not FinancialStatement.objects.exists()


def api_client(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_reporting_party_uploads_by_api_and_another_deals_reporter_is_refused(deals):
    harbor, delta = deals
    url = reverse("api:financialstatement-list")
    payload = {"agreement": harbor.agreement.pk, "file": SimpleUploadedFile("group.csv", group_file(harbor))}
    refused = api_client(delta.users["reporter"]).post(url, payload, format="multipart")
    assert refused.status_code in (400, 403, 404)
    assert not FinancialStatement.objects.exists()
    payload = {"agreement": harbor.agreement.pk, "file": SimpleUploadedFile("group.csv", group_file(harbor))}
    response = api_client(harbor.users["reporter"]).post(url, payload, format="multipart")
    assert response.status_code == 201, response.content
    assert FinancialStatement.objects.get().borrower == harbor.holdings


def test_the_reporting_party_may_not_submit_a_borrowers_figures(deals):
    harbor, _ = deals
    rows = [(harbor.borrowers[0].legal_name, QUARTER.isoformat(), "Revenues", "1")]
    url = reverse("api:financialstatement-list")
    payload = {"agreement": harbor.agreement.pk, "file": SimpleUploadedFile("b.csv", csv_bytes(rows))}
    response = api_client(harbor.users["reporter"]).post(url, payload, format="multipart")
    assert response.status_code == 400
    assert "You may not submit figures for Harbor Widgets Inc." in response.content.decode()
