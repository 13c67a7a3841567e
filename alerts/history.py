"""
Onboarding history is not news: which of an evaluation's status changes raise an alert, and
which are only recorded (as ComplianceEvents, shown on the agreement's page).

The rule, written here only (docs/alerts.md, "History is not news"): a status change on a
test earlier than its covenant's latest test is **history**, recorded and not alerted, when

1. it is the test's **first result** and a later test of the covenant is already decided
   (compliant, breach or waived): an agreement evaluated for the first time, a covenant
   added to it, figures loaded for quarters never evaluated; or
2. the test is **long past**: its figures were due (the test date plus the agreement's
   reporting deadline, 45 days by default) more than ``LONG_PAST`` before the evaluation
   date: figures, restatements or a waiver loaded for quarters long gone.

Tests are counted per covenant, and per Borrower for each-Borrower tests. So an evaluation
of years of figures alerts, for each covenant, about its latest test alone; a test whose
figures arrive now, in their time, still alerts, as does any change to a covenant's latest
test, however old it is. The latest *decided* test counts as latest too: quarters after it
that only wait for figures (a facility whose figures stop years ago) hide nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max, Q

from compliance.choices import ResultStatus
from compliance.models import ComplianceEvent, CovenantTestResult
from compliance.writing import RecordedEvent

#: How long after its figures were due a test is long past: four quarters.
LONG_PAST = dt.timedelta(days=365)

#: The statuses that decide a test (the others wait for figures, or have none to test).
DECIDED = (ResultStatus.COMPLIANT, ResultStatus.BREACH, ResultStatus.WAIVED)

_Test = tuple[int, int | None]  # (covenant, Borrower or None for a combined test)


@dataclass(frozen=True)
class LatestTests:
    """A covenant's latest test with a current result, and its latest decided test (if any)."""

    test_date: dt.date
    decided: dt.date | None


def is_long_past(test_date: dt.date, *, reporting_deadline_days: int, on: dt.date) -> bool:
    """Whether the test's figures were due more than ``LONG_PAST`` before ``on``."""
    return test_date + dt.timedelta(days=reporting_deadline_days) + LONG_PAST < on


def latest_tests(events: Iterable[ComplianceEvent | RecordedEvent], *, on: dt.date) -> dict[_Test, LatestTests]:
    """The latest tests of the events' covenants, as their current results stand (one query)."""
    covenant_ids = {e.covenant_id for e in events}
    if not covenant_ids:
        return {}
    rows = (
        CovenantTestResult.objects.filter(covenant_id__in=covenant_ids, is_current=True, test_date__lte=on)
        .values("covenant_id", "borrower_id")
        .annotate(latest=Max("test_date"), decided=Max("test_date", filter=Q(status__in=DECIDED)))
        .order_by()
    )
    return {(r["covenant_id"], r["borrower_id"]): LatestTests(r["latest"], r["decided"]) for r in rows}


def is_history(
    event: ComplianceEvent | RecordedEvent, latest: LatestTests | None, *, reporting_deadline_days: int, on: dt.date
) -> bool:
    """Whether the status change is history, recorded and not alerted (the module's rule)."""
    if latest is None or event.test_date >= latest.test_date:
        return False  # the covenant's latest test always alerts
    if event.to_status in DECIDED and latest.decided is not None and event.test_date >= latest.decided:
        return False  # so does its latest decided test: later tests only wait for figures
    if is_long_past(event.test_date, reporting_deadline_days=reporting_deadline_days, on=on):
        return True
    first_result = not event.from_status
    return first_result and latest.decided is not None and event.test_date < latest.decided
