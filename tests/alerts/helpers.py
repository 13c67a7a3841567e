"""Builders for the alert tests: the Harbor credit agreement (tests.factories.second_facility)
with figures that put its minimum revenues covenant (Section 6.1, combined revenues of at
least $1,000,000 each fiscal quarter) where a test wants it."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from alerts.models import Alert, AlertDelivery
from compliance.services import agreement_evaluate
from covenants.models import Covenant
from statements.services import statement_file_submit
from tests.covenants.helpers import csv_bytes
from tests.factories import Facility

D = dt.date
Q3_2019 = D(2019, 9, 30)
Q4_2019 = D(2019, 12, 31)
AS_OF = D(2020, 2, 1)  # every 2019 quarter is tested; no 2020 quarter yet
MINIMUM = Decimal("1000000")


def revenue_rows(facility: Facility, quarter: dt.date, total: int) -> list[tuple[str, str, str, str]]:
    """Rows giving the two Borrowers these combined revenues (split 40/60) for the quarter."""
    first = total * 2 // 5
    rows = []
    for borrower, revenues in zip(facility.borrowers, (first, total - first), strict=True):
        for item, amount in (("Revenues", revenues), ("EBITDA", 100_000), ("Total Debt", 400_000)):
            rows.append((borrower.legal_name, quarter.isoformat(), item, f"{amount:,}"))
    return rows


def submit(facility: Facility, rows: list[tuple[str, str, str, str]]):
    outcome = statement_file_submit(
        agreement=facility.agreement, user=None, filename="figures.csv", content=csv_bytes(rows), source="command"
    )
    assert outcome.ok, [str(e) for e in outcome.errors]
    return outcome


def revenues(facility: Facility, quarter: dt.date, total: int, *, as_of: dt.date = AS_OF):
    """Submit combined revenues for a quarter and evaluate now (as the task would)."""
    submit(facility, revenue_rows(facility, quarter, total))
    return agreement_evaluate(agreement_id=facility.agreement.pk, as_of=as_of)


def minimum_revenues(facility: Facility) -> Covenant:
    return facility.agreement.covenants.get(section="6.1")


def deliveries(alert: Alert, channel: str) -> list[AlertDelivery]:
    return list(alert.deliveries.filter(channel=channel).select_related("user", "subscription").order_by("pk"))


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")
