"""Onboarding history is not news (alerts.history): a first evaluation, or figures for quarters
long past loaded in bulk, alert about each covenant's latest test only; every change is still
recorded as an event; a test whose figures arrive in their time still alerts."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from alerts.choices import AlertKind
from alerts.history import LONG_PAST, is_long_past
from alerts.models import Alert
from compliance.choices import ResultStatus
from compliance.models import ComplianceEvent, CovenantTestResult
from compliance.services import agreement_evaluate
from tests.covenants.helpers import seed_loan
from tests.factories import second_facility

from .helpers import Q3_2019, Q4_2019, D, minimum_revenues, revenue_rows, submit

pytestmark = pytest.mark.django_db

Q1_2020 = D(2020, 3, 31)
Q2_2020 = D(2020, 6, 30)


@pytest.fixture
def harbor():
    return second_facility("Harbor")


def alerted(agreement) -> list[tuple[str, str, dt.date]]:
    raised = Alert.objects.filter(agreement=agreement).select_related("covenant")
    return sorted((a.kind, a.covenant.section, a.test_date) for a in raised)


def test_long_past_is_a_year_after_the_figures_were_due():
    # December 31, 2020 is due February 14, 2021 (45 days); long past from February 15, 2022.
    assert dt.timedelta(days=365) == LONG_PAST
    assert not is_long_past(D(2020, 12, 31), reporting_deadline_days=45, on=D(2022, 2, 14))
    assert is_long_past(D(2020, 12, 31), reporting_deadline_days=45, on=D(2022, 2, 15))
    assert not is_long_past(D(2020, 12, 31), reporting_deadline_days=90, on=D(2022, 2, 15))


def test_first_evaluation_of_the_seed_with_the_demo_figures_alerts_each_covenants_latest_decided_test():
    """The demo's seven quarters (1999-2001) evaluated for the first time: the breach of 7.01(b)
    at March 31, 2001, its latest test, alerts, and so does the near breach of 7.01(c)(i) at
    December 31, 2000, that covenant's latest decided test (its March 31, 2001 test is not
    tested); the near breaches of 7.01(b) before its latest test are events, shown, and not
    alerted. The same two as when the quarters arrive one file at a time."""
    loan = seed_loan()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True):
        call_command("load_demo_figures", stdout=StringIO())
    agreement = loan.agreement
    assert sorted(alerted(agreement)) == [
        (AlertKind.BREACH, "7.01(b)", D(2001, 3, 31)),
        (AlertKind.NEAR_BREACH, "7.01(c)(i)", D(2000, 12, 31)),
    ]

    # Every test's first result is recorded, near breaches included.
    results = CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
    events = ComplianceEvent.objects.filter(agreement=agreement)
    assert {(e.covenant_id, e.test_date) for e in events} == {(r.covenant_id, r.test_date) for r in results}
    near = sorted((e.covenant.section, e.test_date) for e in events.filter(result__near_breach=True))
    assert near == [("7.01(b)", D(2000, 9, 30)), ("7.01(b)", D(2000, 12, 31)), ("7.01(c)(i)", D(2000, 12, 31))]


def test_onboarding_history_alerts_each_covenants_latest_decided_test_and_later_breaches_alert(harbor):
    """Three quarters loaded at once, evaluated for the first time: the two breaches before the
    latest decided test are history; the latest (a near breach) alerts. Then the next quarter's
    figures, in their time, breach: that alerts, and so does a restatement curing a breach
    that is not long past."""
    for quarter, total in ((Q3_2019, 900_000), (Q4_2019, 950_000), (Q1_2020, 1_050_000)):
        submit(harbor, revenue_rows(harbor, quarter, total))
    summary = agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=D(2020, 5, 20))
    covenant = minimum_revenues(harbor)
    assert [(e.test_date, e.from_status, e.to_status) for e in summary.events if e.covenant_id == covenant.pk] == [
        (Q3_2019, "", ResultStatus.BREACH),
        (Q4_2019, "", ResultStatus.BREACH),
        (Q1_2020, "", ResultStatus.COMPLIANT),
    ]
    assert alerted(harbor.agreement) == [(AlertKind.NEAR_BREACH, "6.1", Q1_2020)]

    submit(harbor, revenue_rows(harbor, Q2_2020, 800_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=D(2020, 8, 20))
    submit(harbor, revenue_rows(harbor, Q4_2019, 1_500_000))  # restated: December 31, 2019 is cured
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=D(2020, 8, 20))
    assert alerted(harbor.agreement) == [
        (AlertKind.BREACH, "6.1", Q2_2020),
        (AlertKind.CURE, "6.1", Q4_2019),
        (AlertKind.NEAR_BREACH, "6.1", Q1_2020),
    ]


def test_figures_for_quarters_long_past_loaded_in_bulk_are_recorded_not_alerted(harbor):
    """An agreement in service since 2019 whose old statements arrive in 2022: the quarters whose
    figures were due more than a year before are history; a quarter due within the year, filed
    late, still alerts."""
    as_of = D(2022, 5, 20)
    submit(harbor, revenue_rows(harbor, D(2022, 3, 31), 2_000_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=as_of)
    assert alerted(harbor.agreement) == []

    old = [Q3_2019, Q4_2019, Q1_2020, Q2_2020]
    for quarter in [*old, D(2021, 12, 31)]:
        submit(harbor, revenue_rows(harbor, quarter, 900_000))
    summary = agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=as_of)
    covenant = minimum_revenues(harbor)
    breaches = [
        (e.test_date, e.from_status)
        for e in summary.events
        if e.covenant_id == covenant.pk and e.to_status == ResultStatus.BREACH
    ]
    assert breaches == [(q, ResultStatus.INCOMPLETE) for q in [*old, D(2021, 12, 31)]]
    # December 31, 2021 was due February 14, 2022: not long past, and it alerts.
    assert alerted(harbor.agreement) == [(AlertKind.BREACH, "6.1", D(2021, 12, 31))]
