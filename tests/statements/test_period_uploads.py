"""Statements are made per period of the agreement's calendar at its reporting frequency: monthly
statements for an agreement reporting monthly, 52/53-week quarter ends; others are refused
naming the nearest valid period ends. Late financials and the upload page count the same periods."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from compliance.late_financials import late_financials
from covenants.choices import Frequency
from covenants.periods import FiscalCalendar
from portal.pages.selectors.upload import quarter_choices
from statements.limits import statement_period_window
from statements.services import statement_records_submit, upload_context_for
from statements.templates import build_template
from tests.factories import second_facility

pytestmark = pytest.mark.django_db
D = dt.date
ITEMS = (("Revenues", "600,000"), ("EBITDA", "250,000"), ("Total Debt", "1,000,000"))


def records(facility, period_end: dt.date) -> list[dict[str, str]]:
    return [
        {"entity": b.legal_name, "period_end": period_end.isoformat(), "line_item": item, "amount": amount}
        for b in facility.borrowers
        for item, amount in ITEMS
    ]


def submit(facility, period_end: dt.date):
    return statement_records_submit(agreement=facility.agreement, user=None, records=records(facility, period_end))


@pytest.fixture
def monthly():
    facility = second_facility("Harbor")
    facility.agreement.reporting_frequency = Frequency.MONTH
    facility.agreement.save()
    return facility


@pytest.fixture
def retail():
    facility = second_facility("Ridge")
    facility.agreement.fiscal_calendar = FiscalCalendar.weeks(12, "saturday", "last").to_dict()
    facility.agreement.save()
    return facility


def test_a_monthly_reporting_agreement_takes_month_ends(monthly):
    outcome = submit(monthly, D(2020, 1, 31))
    assert outcome.ok, outcome.errors
    assert {s.period_end for s in outcome.statements} == {D(2020, 1, 31)}


def test_a_monthly_reporting_agreement_refuses_other_days_naming_the_nearest(monthly):
    outcome = submit(monthly, D(2020, 1, 30))
    message = outcome.errors[0].message
    assert "2020-01-30 is not the last day of a fiscal month" in message
    assert "the nearest are 2019-12-31 and 2020-01-31" in message


def test_a_52_53_week_calendar_takes_its_quarter_ends_and_refuses_the_calendar_ones(retail):
    assert submit(retail, D(2023, 12, 30)).ok
    outcome = submit(retail, D(2023, 12, 31))
    assert "2023-12-31 is not the last day of a fiscal quarter" in outcome.errors[0].message
    assert "the nearest are 2023-12-30 and 2024-03-30" in outcome.errors[0].message


def test_the_period_window_and_the_template_follow_the_calendar(retail):
    earliest, latest = statement_period_window(retail.agreement)
    calendar = retail.agreement.calendar()
    assert calendar.is_period_end(earliest, "quarter") and calendar.is_period_end(latest, "quarter")
    context = upload_context_for(retail.agreement)
    content = build_template(
        context=context, borrowers=[(1, "Ridge Widgets Inc.")], period_end=D(2023, 12, 30), fmt="csv"
    )
    assert "2023-12-30" in content.decode("utf-8-sig")
    with pytest.raises(ValueError, match="the nearest are 2023-12-30 and 2024-03-30"):
        build_template(context=context, borrowers=[], period_end=D(2023, 12, 31), fmt="csv")


def test_the_template_download_refuses_a_day_that_is_no_period_end(client, monthly):
    client.force_login(monthly.users["borrower"])
    url = reverse("covenants:statement_template", args=[monthly.agreement.pk])
    assert client.get(url, {"period_end": "2020-02-29", "format": "csv"}).status_code == 200
    response = client.get(url, {"period_end": "2020-02-28", "format": "csv"})
    assert response.status_code == 400
    assert "not the last day of a fiscal month" in response.content.decode()


def test_late_financials_count_each_month_of_a_quarter_tested_over_monthly_statements(monthly):
    # The revenue test of 2019-09-30 needs July, August and September; due 45 days after each.
    late = late_financials([monthly.agreement], as_of=D(2019, 11, 20)).get(monthly.agreement.pk, [])
    assert sorted({item.period_end for item in late}) == [D(2019, 7, 31), D(2019, 8, 31), D(2019, 9, 30)]
    late = late_financials([monthly.agreement], as_of=D(2019, 10, 20)).get(monthly.agreement.pk, [])
    assert sorted({item.period_end for item in late}) == [D(2019, 7, 31), D(2019, 8, 31)]
    assert {item.due_on for item in late} >= {D(2019, 9, 14)}


def test_the_upload_page_offers_month_ends_for_a_monthly_agreement(client, monthly):
    options = quarter_choices(monthly.agreement, today=D(2019, 11, 20))
    assert {o.quarter for o in options} >= {D(2019, 7, 31), D(2019, 8, 31), D(2019, 9, 30)}
    assert all(monthly.agreement.calendar().is_period_end(o.quarter, "month") for o in options)
    client.force_login(monthly.users["borrower"])
    page = client.get(reverse("covenants:statement_upload", args=[monthly.agreement.pk]), {"quarter": "2019-08-31"})
    assert page.status_code == 200
    assert "Choose the fiscal month" in page.content.decode()
    assert "Submit monthly financials" in page.content.decode()
