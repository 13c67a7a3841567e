"""
Each status rule written once: near breach decided by the engine, stored with the result and read
by the pages, the exports, the alerts and the API; one late-financials rule read by the
dashboard, a Borrower's home, the agreement page, the daily alert task and the API; one fiscal
calendar for the engine and uploads.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib
import io
from decimal import Decimal
from types import SimpleNamespace

import orjson
import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.choices import AlertKind
from alerts.models import Alert
from compliance import engine
from compliance.choices import ResultStatus
from compliance.engine import periods as engine_periods
from compliance.models import CovenantTestResult, EvaluatedInputs
from compliance.services import agreement_evaluate
from compliance.statuses import NEAR_BREACH, status_label
from covenants import calendar as fiscal_calendar
from covenants import period_checks, periods
from execution.tasks import raise_late_financials
from portal.pages import selectors as page_selectors
from statements import validation
from tests.alerts.helpers import Q3_2019, minimum_revenues, revenue_rows, submit
from tests.factories import second_facility

pytestmark = pytest.mark.django_db

D = dt.date
Q2_2019 = D(2019, 6, 30)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- Late financials --------------------------------------------------------------------------


def test_dashboard_agreement_page_alerts_and_api_name_the_same_late_financials():
    """Harbor (dated June 28, 2019) first tests a covenant on September 30, 2019: no covenant
    needs the quarter of June 30, 2019, though it ends after the agreement's date and within the
    alerts' old look-back. The alerts used to name both Borrowers for it while the dashboard did
    not; now every reader names only Harbor Parts, for September 30, 2019."""
    harbor = second_facility("Harbor")
    widgets = harbor.borrowers[0].legal_name
    submit(harbor, [r for r in revenue_rows(harbor, Q3_2019, 2_000_000) if r[0] == widgets])
    as_of = D(2019, 11, 15)
    expected = [("Harbor Parts LLC", Q3_2019)]

    lender, borrower = harbor.users["lender"], harbor.users["borrower"]
    dashboard = page_selectors.portfolio_dashboard(lender, today=as_of)
    assert [(i.borrower, i.period_end) for i in dashboard.late] == expected
    home = page_selectors.borrower_home(borrower, today=as_of)
    assert [(i.borrower, i.period_end) for i in home.dashboard.late] == expected
    page = page_selectors.agreement_page(lender, harbor.agreement.pk, today=as_of)
    assert [(i.borrower, i.period_end) for i in page.late] == expected

    # The daily task raises the late statement, and the period's compliance certificate (none
    # signed) by the same rule, in the same run.
    assert raise_late_financials(as_of.isoformat()) == 2
    alerts = Alert.objects.filter(kind=AlertKind.FINANCIALS_LATE)
    assert [(a.borrower.legal_name, a.test_date) for a in alerts] == expected
    certificates = Alert.objects.filter(kind=AlertKind.CERTIFICATE_LATE)
    assert [a.test_date for a in certificates] == [Q3_2019]

    listed = api(lender).get(reverse("api:alert-list"), {"page_size": 100}).json()["results"]
    late = [
        (item["borrower"], D.fromisoformat(item["test_date"]))
        for item in listed
        if item["kind"] == AlertKind.FINANCIALS_LATE
    ]
    assert late == expected


# --- Near breach ----------------------------------------------------------------------------


@pytest.fixture
def near_harbor():
    """Harbor with combined revenues of $1,050,000 against its $1,000,000 minimum for September 30,
    2019: compliant with 5% headroom, under the 10% warning band."""
    harbor = second_facility("Harbor")
    submit(harbor, revenue_rows(harbor, Q3_2019, 1_050_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=D(2019, 12, 1))
    return harbor


def near_result(harbor) -> CovenantTestResult:
    return CovenantTestResult.objects.get(covenant=minimum_revenues(harbor), test_date=Q3_2019, is_current=True)


def test_near_breach_is_stored_from_the_engine_and_every_reader_says_near_breach(client, near_harbor):
    result = near_result(near_harbor)
    assert result.status == ResultStatus.COMPLIANT and result.near_breach
    assert result.headroom_percent == Decimal("5.00")
    lender = near_harbor.users["lender"]

    board = page_selectors.portfolio_dashboard(lender, today=D(2019, 12, 1))
    row = next(r for r in board.rows if r.covenant.section == "6.1")
    assert (row.status, row.status_label) == (NEAR_BREACH, "Near breach")
    assert board.near_breaches == 1
    page = page_selectors.agreement_page(lender, near_harbor.agreement.pk, today=D(2019, 12, 1))
    panel = next(p for p in page.covenants if p.covenant.section == "6.1")
    assert [(v.result.test_date, v.status_label) for v in panel.results] == [(Q3_2019, "Near breach")]

    client.force_login(lender)
    response = client.get(reverse("covenants:compliance_csv", args=[near_harbor.agreement.pk]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    exported = next(r for r in rows if r["Section"] == "6.1" and r["Test date"] == Q3_2019.isoformat())
    assert exported["Status"] == "Near breach"

    listed = api(lender).get(reverse("api:covenanttest-list"), {"page_size": 100}).json()["results"]
    shown = next(r for r in listed if r["id"] == result.pk)
    assert (shown["status"], shown["near_breach"]) == ("compliant", True)
    detail = api(lender).get(reverse("api:covenanttest-detail", args=[result.pk])).json()
    assert detail["near_breach"] is True

    alert = Alert.objects.get(kind=AlertKind.NEAR_BREACH)
    assert alert.result_id == result.pk
    assert status_label(result.status, result.near_breach) == "Near breach"


def test_a_stored_result_is_read_as_stored_not_decided_again(near_harbor):
    """The pages read the stored flag: a covenant's band changed without a re-evaluation (a
    raw update, which no signal sees) does not change what a page says."""
    covenant = minimum_revenues(near_harbor)
    type(covenant).objects.filter(pk=covenant.pk).update(warning_band_percent=Decimal("1"))
    board = page_selectors.portfolio_dashboard(near_harbor.users["lender"], today=D(2019, 12, 1))
    assert board.near_breaches == 1
    # The next evaluation decides it again, with the new band, and stores that.
    agreement_evaluate(agreement_id=near_harbor.agreement.pk, as_of=D(2019, 12, 1))
    assert not near_result(near_harbor).near_breach
    board = page_selectors.portfolio_dashboard(near_harbor.users["lender"], today=D(2019, 12, 1))
    assert board.near_breaches == 0 and board.counts[ResultStatus.COMPLIANT] >= 1


def test_the_backfill_flags_stored_results_by_the_engines_rule_without_rewriting_them(near_harbor):
    CovenantTestResult.objects.update(near_breach=False)
    EvaluatedInputs.objects.all().delete()  # results stored before the flag were before digests too
    migration = importlib.import_module("covenants.migrations.0007_result_near_breach")
    # The migration ran while results lived in the covenants app; its model is today's.
    migration.backfill(SimpleNamespace(get_model=lambda app, name: apps.get_model("compliance", name)), None)
    result = near_result(near_harbor)
    assert result.near_breach and result.fingerprint == ""
    assert CovenantTestResult.objects.filter(near_breach=True).count() == 1
    # The next evaluation finds it unchanged (compared field by field) and only fills in its fingerprint.
    summary = agreement_evaluate(agreement_id=near_harbor.agreement.pk, as_of=D(2019, 12, 1))
    assert summary.changed == 0
    again = near_result(near_harbor)
    assert again.pk == result.pk and again.fingerprint != ""


def test_the_engines_rule_is_strictly_under_the_band_and_never_near_a_zero_threshold():
    def near(headroom: str, threshold: str, status: str = engine.COMPLIANT) -> bool:
        return engine.is_near_breach(
            status=status, headroom=Decimal(headroom), threshold=Decimal(threshold), warning_band_percent=Decimal(10)
        )

    assert near("99999", "1000000")
    assert not near("100000", "1000000")  # exactly 10% is not near
    assert near("0", "-50400000")  # a negative threshold: its magnitude
    assert not near("5", "0")
    assert not near("5", "100", status=engine.BREACH)


def test_a_result_that_is_not_near_keeps_the_fingerprint_it_had():
    base = {
        "covenant_id": 1,
        "terms_id": 2,
        "test_date": Q3_2019,
        "party_id": None,
        "status": engine.COMPLIANT,
        "value": Decimal(2),
        "threshold": Decimal(1),
        "headroom": Decimal(1),
        "headroom_percent": Decimal(100),
        "provisional": False,
        "explanation": "Compliant.",
        "inputs": {},
    }
    plain = engine.Result(**base)
    # The digest as it was before results kept near breach: results stored then are not rewritten.
    before = orjson.dumps([2, "compliant", "2", "1", "1", "1E+2", False, "Compliant.", {}], default=str)
    assert plain.fingerprint() == hashlib.blake2b(before, digest_size=16).hexdigest()
    assert engine.Result(**base, near_breach=True).fingerprint() != plain.fingerprint()


# --- The fiscal calendar ---------------------------------------------------------------------------


def test_the_engine_and_uploads_ask_the_one_fiscal_calendar():
    # Uploads check period ends on the agreement's covenants.periods calendar (through
    # covenants.period_checks); the engine reads the same calendar, and keeps the quarters of
    # covenants.calendar for calendar months.
    assert validation.not_a_period_end is period_checks.not_a_period_end
    assert engine_periods.FiscalCalendar is periods.FiscalCalendar
    assert engine.is_fiscal_quarter_end is fiscal_calendar.is_fiscal_quarter_end
    assert engine.quarter_ends_in_window is fiscal_calendar.quarter_ends_in_window
    assert fiscal_calendar.quarter_end_months(6) == [3, 6, 9, 12]
    assert fiscal_calendar.quarter_end_months(1) == [1, 4, 7, 10]
    assert fiscal_calendar.quarter_ends_between(D(2019, 6, 28), D(2020, 3, 31)) == [
        Q2_2019,
        Q3_2019,
        D(2019, 12, 31),
        D(2020, 3, 31),
    ]
    assert fiscal_calendar.quarter_ends_between(D(2000, 1, 15), D(2000, 6, 1), 1) == [D(2000, 1, 31), D(2000, 4, 30)]
    assert validation.quarter_ends_description(12) == "March 31, June 30, September 30 and December 31"
