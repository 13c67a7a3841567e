"""Late financials of a covenant tested on a consolidated basis through a named reporting party (a
holding company that guarantees the loan and is no Borrower): the rule chases that party for the
quarters those tests need, and the Borrowers only for the quarters the other covenants need, in
the alerts, the dashboard's count and the lists alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from alerts.deadlines import alerts_raise_late_financials
from compliance.late_financials import late_financials, late_financials_page, statements_due
from covenants.choices import Basis, Role
from covenants.models import AgreementRole, CovenantTerms, ThresholdStep
from parties.choices import EntityKind
from parties.models import Party
from tests.factories import second_facility

from .helpers import Q3_2019, Q4_2019, submit

pytestmark = pytest.mark.django_db

D = dt.date
Q1_2020, Q2_2020 = D(2020, 3, 31), D(2020, 6, 30)
HOLDINGS = "Harbor Holdings Inc."
BORROWERS = ("Harbor Parts LLC", "Harbor Widgets Inc.")


@pytest.fixture
def harbor():
    """Harbor (second_facility): 6.1 minimum revenues each quarter from September 30, 2019, 6.2
    leverage over four quarters' EBITDA from June 30, 2020; a holding company guarantees it.
    Nobody has reported anything."""
    facility = second_facility("Harbor")
    facility.holdings = Party.objects.create(legal_name=HOLDINGS, kind=EntityKind.CORPORATION)
    AgreementRole.objects.create(
        agreement=facility.agreement, party=facility.holdings, role=Role.GUARANTOR, defined_term="Holdings"
    )
    return facility


def consolidate(facility, section: str, **filters) -> None:
    CovenantTerms.objects.filter(covenant__agreement=facility.agreement, covenant__section=section, **filters).update(
        basis=Basis.CONSOLIDATED, reporting_party=facility.holdings
    )


def late(facility, as_of: dt.date) -> set[tuple[str, dt.date]]:
    items = late_financials([facility.agreement], as_of=as_of).get(facility.agreement.pk, [])
    return {(item.borrower, item.period_end) for item in items}


def test_the_reporting_party_is_chased_and_the_borrowers_are_not(harbor):
    consolidate(harbor, "6.1")
    # September 30, 2019 is needed by 6.1 alone (6.2 first tests June 30, 2020): Holdings owes it.
    raised = alerts_raise_late_financials(as_of=D(2019, 11, 15))
    assert [(a.borrower.legal_name, a.test_date) for a in raised] == [(HOLDINGS, Q3_2019)]
    assert raised[0].message.startswith(
        f'The financial statements of {HOLDINGS} ("Holdings") for the fiscal quarter ending September 30, 2019'
    )
    due = statements_due([harbor.agreement], as_of=D(2019, 11, 15))[harbor.agreement.pk]
    assert due.borrowers == () and due.reporters == ((harbor.holdings.pk, (Q3_2019,)),)
    # Holdings files it: nothing is late, though neither Borrower ever reported.
    items = (("Revenues", "9,000,000"), ("EBITDA", "2,000,000"), ("Total Debt", "5,000,000"))
    submit(harbor, [(HOLDINGS, Q3_2019.isoformat(), item, amount) for item, amount in items])
    assert late(harbor, D(2019, 11, 15)) == set()


def test_a_combined_covenant_beside_it_still_needs_the_borrowers(harbor):
    consolidate(harbor, "6.1")
    # June 30, 2020: 6.2 (combined) needs the Borrowers' four quarters to that date; 6.1 Holdings'.
    quarters = (Q3_2019, Q4_2019, Q1_2020, Q2_2020)
    expected = {(name, q) for q in quarters for name in (HOLDINGS, *BORROWERS)}
    assert late(harbor, D(2020, 8, 15)) == expected
    page = late_financials_page([harbor.agreement], as_of=D(2020, 8, 15), counted=[harbor.agreement.pk])
    assert page.total == page.counts[harbor.agreement.pk] == len(expected) and page.quarters == 4
    # Consolidated everywhere: only Holdings is chased.
    consolidate(harbor, "6.2")
    assert late(harbor, D(2020, 8, 15)) == {(HOLDINGS, q) for q in quarters}


def test_terms_turning_consolidated_move_the_chase_from_their_effective_date(harbor):
    # 6.1 is tested on the Borrowers' combined revenues until an amendment's terms of January 1,
    # 2020 test it on Holdings' consolidated statement from March 31, 2020.
    first = CovenantTerms.objects.get(covenant__agreement=harbor.agreement, covenant__section="6.1")
    later = CovenantTerms.objects.get(pk=first.pk)
    later.pk = None
    later.effective_from = D(2020, 1, 1)
    later.save()
    ThresholdStep.objects.create(terms=later, test_date=Q1_2020, applies_thereafter=True, threshold=Decimal(1))
    consolidate(harbor, "6.1", effective_from=D(2020, 1, 1))
    expected = {(name, q) for q in (Q3_2019, Q4_2019) for name in BORROWERS} | {(HOLDINGS, Q1_2020)}
    assert late(harbor, D(2020, 5, 20)) == expected
    assert {(a.borrower.legal_name, a.test_date) for a in alerts_raise_late_financials(as_of=D(2020, 5, 20))} == (
        expected
    )
