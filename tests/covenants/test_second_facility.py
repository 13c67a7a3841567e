"""Forms beyond the seeds, through the database: a flat minimum that holds thereafter and a
leverage ratio of total debt to four-quarter EBITDA."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from statements.services import statement_file_submit

from ..factories import second_facility
from .helpers import csv_bytes

pytestmark = pytest.mark.django_db
QUARTERS = [dt.date(2019, 9, 30), dt.date(2019, 12, 31), dt.date(2020, 3, 31), dt.date(2020, 6, 30)]


def test_leverage_ratio_and_flat_minimum(django_capture_on_commit_callbacks):
    facility = second_facility()
    rows = []
    for quarter in QUARTERS:
        for borrower in facility.borrowers:
            rows += [
                (borrower.legal_name, quarter.isoformat(), "Revenues", "600,000"),
                (borrower.legal_name, quarter.isoformat(), "EBITDA", "100,000"),
                (borrower.legal_name, quarter.isoformat(), "Total Debt", "2,300,000"),
            ]
    outcome = statement_file_submit(agreement=facility.agreement, user=None, filename="f.csv", content=csv_bytes(rows))
    assert outcome.ok, [str(e) for e in outcome.errors]
    agreement_evaluate(agreement_id=facility.agreement.pk, as_of=dt.date(2020, 8, 20))
    results = CovenantTestResult.objects.filter(agreement=facility.agreement, is_current=True)
    revenue = {r.test_date: r for r in results if r.covenant.section == "6.1"}
    assert [revenue[q].status for q in QUARTERS] == [ResultStatus.COMPLIANT] * 4
    leverage = results.get(covenant__section="6.2", test_date=dt.date(2020, 6, 30))
    # 4,600,000 of debt over 800,000 of four-quarter EBITDA is 5.75x: equality passes.
    assert leverage.value == 5.75 and leverage.status == ResultStatus.COMPLIANT
    # Earlier quarters precede the leverage schedule: not tested.
    assert results.get(covenant__section="6.2", test_date=dt.date(2020, 3, 31)).status == ResultStatus.NOT_TESTED
