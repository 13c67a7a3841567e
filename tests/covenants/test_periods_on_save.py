"""Schedules, terms and printed dates are checked against the agreement's calendar when saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from covenants.choices import Basis, Frequency
from covenants.models import CovenantTerms, DefinedMetric, ThresholdStep
from covenants.period_checks import read_printed_date
from covenants.periods import FiscalCalendar
from parties.models import Party
from tests.factories import line_item, second_facility

pytestmark = pytest.mark.django_db
D = dt.date


def errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


@pytest.fixture
def facility():
    return second_facility("Harbor")


def revenue_terms(facility) -> CovenantTerms:
    return CovenantTerms.objects.get(covenant__section="6.1", covenant__agreement=facility.agreement)


def test_read_printed_date_reads_what_agreements_print():
    assert read_printed_date("June, 2019") == (D(2019, 6, 30), "no day printed: read as the last day of June 2019")
    assert read_printed_date("January __, 2000") == (None, "day left blank")
    assert read_printed_date("June 30, 2019") == (D(2019, 6, 30), "")
    assert read_printed_date("December 31, 1999") == (D(1999, 12, 31), "")
    assert read_printed_date("February, 2000")[0] == D(2000, 2, 29)


def test_a_test_date_off_the_calendar_is_refused_naming_the_nearest(facility):
    terms = revenue_terms(facility)
    message = errors(ThresholdStep(terms=terms, test_date=D(2019, 12, 30), threshold=Decimal(1)))["test_date"][0]
    assert "2019-12-30 is not the last day of a fiscal quarter" in message
    assert "the nearest are 2019-09-30 and 2019-12-31" in message
    ThresholdStep(terms=terms, test_date=D(2019, 12, 31), threshold=Decimal(1)).full_clean()


def test_a_52_53_week_calendar_takes_its_own_quarter_ends(facility):
    agreement = facility.agreement
    agreement.fiscal_calendar = FiscalCalendar.weeks(12, "saturday", "last").to_dict()
    agreement.save()
    terms = revenue_terms(facility)
    ThresholdStep(terms=terms, test_date=D(2023, 12, 30), threshold=Decimal(1)).full_clean()
    message = errors(ThresholdStep(terms=terms, test_date=D(2023, 12, 31), threshold=Decimal(1)))["test_date"][0]
    assert "the nearest are 2023-12-30 and 2024-03-30" in message


def test_rows_outside_their_terms_time_in_force_are_refused(facility):
    terms = revenue_terms(facility)
    message = errors(ThresholdStep(terms=terms, test_date=D(2019, 3, 31), threshold=Decimal(1)))["test_date"][0]
    assert "2019-03-31 is before these terms of 6.1 take effect (2019-06-28)" in message
    CovenantTerms.objects.create(
        covenant=terms.covenant, effective_from=D(2021, 1, 1), line_item=terms.line_item, basis=Basis.COMBINED
    )
    message = errors(ThresholdStep(terms=terms, test_date=D(2021, 3, 31), threshold=Decimal(1)))["test_date"][0]
    assert "after these terms of 6.1 give way to the next version (from 2021-01-01)" in message


def test_a_monthly_covenant_on_an_agreement_reporting_quarterly_is_refused(facility):
    terms = revenue_terms(facility)
    terms.frequency = Frequency.MONTH
    assert "reports quarterly" in errors(terms)["frequency"][0]
    facility.agreement.reporting_frequency = Frequency.MONTH
    facility.agreement.save()
    terms.covenant.agreement.refresh_from_db()
    terms.full_clean()


def test_consolidated_terms_need_a_reporting_party_in_the_agreement(facility):
    terms = revenue_terms(facility)
    terms.basis = Basis.CONSOLIDATED
    assert "names the party" in errors(terms)["reporting_party"][0]
    terms.reporting_party = Party.objects.create(legal_name="Stranger Holdings Inc.")
    assert "holds no role in Harbor Credit Agreement" in errors(terms)["reporting_party"][0]
    terms.reporting_party = facility.borrowers[0]
    terms.full_clean()


def test_a_relative_threshold_needs_a_line_item_the_statements_carry(facility):
    terms = revenue_terms(facility)
    terms.threshold_relative_to = line_item("budget_revenues", "Budgeted Revenues")
    assert "needs a line item the statements carry" in errors(terms)["threshold_relative_to"][0]
    facility.agreement.required_line_items.add(terms.threshold_relative_to)
    terms.full_clean()


def test_a_printed_date_read_as_another_carries_its_reading(facility):
    terms = revenue_terms(facility)
    row = ThresholdStep(terms=terms, test_date=D(2019, 12, 31), threshold=Decimal(1), date_as_printed="December, 2019")
    assert "no day printed" in errors(row)["date_reading"][0]
    row.date_reading = "no day printed: read as the last day of December 2019"
    row.full_clean()
    ThresholdStep(
        terms=terms, test_date=D(2019, 12, 31), threshold=Decimal(1), date_as_printed="December 31, 2019"
    ).full_clean()


def test_the_agreement_page_flags_a_read_date_and_lists_the_defined_terms(client, facility):
    terms = revenue_terms(facility)
    ThresholdStep.objects.create(
        terms=terms,
        test_date=D(2019, 12, 31),
        threshold=Decimal(1),
        date_as_printed="December, 2019",
        date_reading="no day printed: read as the last day of December 2019",
    )
    DefinedMetric.objects.create(
        agreement=facility.agreement, name="adjusted_ebitda", label="Adjusted EBITDA", formula="ebitda + revenues"
    )
    client.force_login(facility.users["lender"])
    page = client.get(reverse("covenants:agreement_detail", args=[facility.agreement.pk])).content.decode()
    assert "date as printed: December, 2019 (no day printed: read as the last day of December 2019)" in page
    assert "Adjusted EBITDA" in page and "ebitda + revenues" in page
