"""A real Celery worker on Redis evaluates what a borrower uploads through the page."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from parties.choices import MembershipRole
from parties.models import Membership

from .helpers import combined_rows, csv_bytes, seed_loan

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


def test_a_statement_uploaded_through_the_page_is_evaluated_by_the_worker(client, celery_worker):
    import datetime as dt

    loan = seed_loan()
    user = get_user_model().objects.create_user("kmc.cfo", password="x-portal-test-1")
    for party in loan.borrowers.values():
        Membership.objects.create(user=user, party=party, role=MembershipRole.BORROWER)
    client.force_login(user)

    quarter = dt.date(1999, 12, 31)
    rows = combined_rows(loan, quarter, revenues=17_999_999, ebitda=-1_000_000)
    rows += combined_rows(loan, dt.date(1999, 9, 30), revenues=10_000_000, ebitda=-1_000_000)
    content = csv_bytes(rows)
    upload = SimpleUploadedFile("q4-1999.csv", content, content_type="text/csv")
    response = client.post(reverse("covenants:statement_upload", args=[loan.agreement.pk]), {"file": upload})
    assert response.status_code == 200, response.content.decode()[:2000]  # checked and previewed, not yet saved
    confirm = reverse("covenants:statement_confirm", args=[loan.agreement.pk])
    response = client.post(confirm, {"sha256": hashlib.sha256(content).hexdigest(), "action": "confirm"})
    assert response.status_code == 302

    revenue = wait_for(
        lambda: CovenantTestResult.objects.filter(
            covenant=loan.covenants["7.01(b)"], test_date=quarter, is_current=True, value__isnull=False
        ).first()
    )
    assert revenue.status == ResultStatus.BREACH
    assert revenue.value == 17_999_999
    ebitda = CovenantTestResult.objects.get(covenant=loan.covenants["7.01(c)(i)"], test_date=quarter, is_current=True)
    assert ebitda.status == ResultStatus.COMPLIANT
    assert ebitda.value == -2_000_000
    loan.agreement.refresh_from_db()
    assert loan.agreement.evaluation_requested_at is None
