"""Late financials: the day after a quarter's reporting deadline, one alert for each Borrower
whose statement is missing, naming it; and amendments still pending after a known deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.choices import AlertKind
from alerts.deadlines import alerts_raise_late_financials, alerts_raise_overdue_amendments
from alerts.models import Alert
from compliance.late_financials import late_financials, late_quarters
from covenants.choices import AmendmentStatus, Role
from covenants.models import AgreementRole, Amendment, ConditionPrecedent
from parties.models import Party
from tests.factories import second_facility

from .helpers import Q3_2019, revenue_rows, submit

pytestmark = pytest.mark.django_db

D = dt.date
Q2_2019 = D(2019, 6, 30)
DEADLINE_Q3 = D(2019, 11, 14)  # September 30 + 45 days


@pytest.fixture
def harbor():
    """Harbor (dated June 28, 2019) with both Borrowers' Q2 2019 statements and only the first
    Borrower's Q3 2019 statement."""
    facility = second_facility("Harbor")
    submit(facility, revenue_rows(facility, Q2_2019, 2_000_000))
    rows = [r for r in revenue_rows(facility, Q3_2019, 2_000_000) if r[0] == facility.borrowers[0].legal_name]
    submit(facility, rows)
    return facility


def test_nothing_is_late_on_the_deadline_itself(harbor):
    assert alerts_raise_late_financials(as_of=DEADLINE_Q3) == []
    assert not Alert.objects.exists()


def test_the_day_after_the_deadline_the_missing_borrower_only_is_named(harbor):
    raised = alerts_raise_late_financials(as_of=DEADLINE_Q3 + dt.timedelta(days=1))
    assert len(raised) == 1
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.FINANCIALS_LATE
    assert alert.borrower == harbor.borrowers[1]  # Harbor Parts LLC did not report; Harbor Widgets did
    assert alert.test_date == Q3_2019
    assert alert.covenant is None
    assert alert.title == "Financials late: Harbor Parts LLC, fiscal quarter ending September 30, 2019"
    assert alert.message == (
        'The financial statements of Harbor Parts LLC ("Borrower 2") for the fiscal quarter ending September 30, '
        "2019 were due by November 14, 2019 (45 days after the quarter end under the Credit Agreement) and have "
        "not been received. Until they are, the covenant tests that need them cannot be decided."
    )
    # Every user of the agreement's parties is told, in the inbox at least.
    assert set(alert.deliveries.filter(channel="in_app").values_list("user__username", flat=True)) == {
        u.username for u in harbor.users.values()
    }


def test_raising_again_the_next_day_changes_nothing(harbor):
    alerts_raise_late_financials(as_of=D(2019, 11, 15))
    assert alerts_raise_late_financials(as_of=D(2019, 11, 16)) == []
    assert Alert.objects.count() == 1


def test_a_statement_received_before_the_run_means_no_alert(harbor):
    rows = [r for r in revenue_rows(harbor, Q3_2019, 2_000_000) if r[0] == harbor.borrowers[1].legal_name]
    submit(harbor, rows)
    assert alerts_raise_late_financials(as_of=D(2019, 11, 15)) == []


def test_the_reporting_deadline_is_a_setting_of_each_agreement(harbor):
    harbor.agreement.reporting_deadline_days = 90
    harbor.agreement.save()
    assert alerts_raise_late_financials(as_of=D(2019, 12, 29)) == []  # September 30 + 90 days
    assert [a.borrower for a in alerts_raise_late_financials(as_of=D(2019, 12, 30))] == [harbor.borrowers[1]]


def test_a_borrower_is_late_only_for_quarters_it_holds_the_role(harbor):
    newcomer = Party.objects.create(legal_name="Harbor Newco LLC")
    AgreementRole.objects.create(
        agreement=harbor.agreement, party=newcomer, role=Role.BORROWER, holds_from=D(2019, 10, 1)
    )
    raised = alerts_raise_late_financials(as_of=D(2019, 11, 15))
    assert [a.borrower for a in raised] == [harbor.borrowers[1]]
    raised = alerts_raise_late_financials(as_of=D(2020, 2, 15))  # the fourth quarter is now late too
    assert {(a.borrower.legal_name, a.test_date) for a in raised} == {
        ("Harbor Widgets Inc.", D(2019, 12, 31)),
        ("Harbor Parts LLC", D(2019, 12, 31)),
        ("Harbor Newco LLC", D(2019, 12, 31)),
    }


def test_only_quarters_a_covenant_needs_are_late_and_the_look_back_is_bounded(harbor):
    agreement = harbor.agreement
    # June 30, 2019 ends a quarter after the agreement's date, but no covenant tests it: 6.1 starts
    # on September 30, 2019, and 6.2's four-quarter EBITDA from June 30, 2020 reaches back to
    # September 30, 2019 only.
    late = late_financials([agreement], as_of=D(2019, 11, 15), lookback=8)[agreement.pk]
    assert [(i.borrower, i.period_end) for i in late] == [("Harbor Parts LLC", Q3_2019)]
    # Ten years on, only the latest eight quarters the covenants need, oldest first.
    late = late_financials([agreement], as_of=D(2030, 1, 1), lookback=8)[agreement.pk]
    quarters = sorted({i.period_end for i in late})
    assert len(quarters) == 8
    assert quarters[0] == D(2027, 12, 31) and quarters[-1] == D(2029, 9, 30)
    assert late_quarters([Q2_2019, Q3_2019], as_of=DEADLINE_Q3, reporting_deadline_days=45) == (Q2_2019,)


def test_an_agreement_without_borrowers_is_never_late(harbor):
    harbor.agreement.roles.filter(role=Role.BORROWER).delete()
    assert alerts_raise_late_financials(as_of=D(2021, 1, 1)) == []


# --- Amendments past their conditions-precedent deadline ---------------------------------


@pytest.fixture
def pending_amendment(harbor):
    amendment = Amendment.objects.create(
        agreement=harbor.agreement, number=1, title="Amendment No. 1", status=AmendmentStatus.PENDING
    )
    return amendment


def test_an_unknown_deadline_never_alerts(pending_amendment):
    ConditionPrecedent.objects.create(
        amendment=pending_amendment,
        description="The Agents shall have received executed originals",
        deadline=None,
        deadline_as_printed="January __, 2000",
    )
    assert alerts_raise_overdue_amendments(as_of=D(2030, 1, 1)) == []


def test_a_pending_amendment_alerts_the_day_after_its_known_deadline(pending_amendment):
    ConditionPrecedent.objects.create(
        amendment=pending_amendment,
        description="The Agents shall have received executed originals.",
        deadline=D(2020, 1, 15),
    )
    assert alerts_raise_overdue_amendments(as_of=D(2020, 1, 15)) == []
    raised = alerts_raise_overdue_amendments(as_of=D(2020, 1, 16))
    assert len(raised) == 1
    alert = raised[0]
    assert alert.kind == AlertKind.AMENDMENT_OVERDUE and alert.amendment == pending_amendment
    assert alert.title == "Amendment No. 1 still pending after January 15, 2020"
    assert "were to be satisfied on or prior to January 15, 2020" in alert.message
    assert "The Agents shall have received executed originals" in alert.message
    assert alerts_raise_overdue_amendments(as_of=D(2020, 1, 17)) == []  # once only


def test_a_satisfied_or_effective_amendment_does_not_alert(pending_amendment):
    ConditionPrecedent.objects.create(
        amendment=pending_amendment,
        description="Originals received",
        deadline=D(2020, 1, 15),
        satisfied_on=D(2020, 1, 10),
    )
    assert alerts_raise_overdue_amendments(as_of=D(2020, 2, 1)) == []
    ConditionPrecedent.objects.create(amendment=pending_amendment, description="Fees paid", deadline=D(2020, 1, 20))
    pending_amendment.status = AmendmentStatus.EFFECTIVE
    pending_amendment.save()
    assert alerts_raise_overdue_amendments(as_of=D(2020, 2, 1)) == []
