"""
The covenant engine: tests an agreement's financial covenants against its Borrowers' figures.

Pure Python over plain data. The caller loads the terms in force, the Borrowers and the
current figures into the frozen dataclasses below and calls :func:`evaluate_agreement`;
the engine reads no database, no file and no clock (the evaluation date is ``as_of``).

The readings it applies, which the seed documents' words leave to the reader:

- A period is identified by its last day, on the agreement's fiscal calendar
  (covenants.periods: calendar months by default, with quarters every third month from the
  fiscal year end month; 52/53-week and listed calendars too). A covenant is tested at its
  frequency (month, quarter, year) on the schedule's period ends.
- A window of N periods is the N periods of the covenant's frequency ending on the test date;
  a fiscal year-to-date window runs from the first period of the fiscal year. A quarter tested
  over monthly statements is the sum of its months; any month missing leaves it missing.
- A defined term (a formula over line items) is evaluated on the window sums of the line
  items it names; a balance is read at the test date. A division by zero leaves no value:
  the test is undecided, never compliant.
- "Consolidated basis" reads only the reporting party's (consolidated) statement.
- A threshold relative to a line item is the schedule's percent of that line item for the
  same window and Borrowers, to the cent.
- "Combined basis" sums the line item over every Borrower on the test date and every
  quarter of the window. If any Borrower's figure for a needed quarter is missing, the test
  cannot be decided: it is INCOMPLETE, names who and what is missing, and is never compliant.
- Thresholds arrive in the sign the engine compares: "EBITDA losses may not exceed
  ($50,400,000)" is EBITDA at least -50,400,000. Equality passes in both directions.
- A threshold to be set by the Agent, or redacted in the copy on file, leaves the test
  undecided (INCOMPLETE), never compliant.
- A test date with no terms in force, or no schedule row for it, is NOT_TESTED.
- A breach the Lenders have waived for that covenant, test date and Borrower is WAIVED.

The package: ``types`` (the data in and out, and the strings compared), ``schedules`` (terms
and thresholds in force), ``periods`` (the calendar's periods a test reads), ``figures``
(windowed sums), ``metrics`` (defined terms), ``measures`` (what one test reads, its value and
threshold), ``citations`` (what a result cites), ``evaluation`` (the tests, decided: Decimal,
ratios rounded against compliance), ``wording`` (the explanations); the fiscal calendar is
``covenants.periods`` (``covenants.calendar`` for quarters of calendar months). Import the engine from here.
"""

from __future__ import annotations

from compliance.engine.types import (
    AT_LEAST,
    AT_MOST,
    BALANCE,
    BREACH,
    COMPLIANT,
    CONSOLIDATED,
    FLOW,
    INCOMPLETE,
    MONTH,
    NOT_TESTED,
    QUARTER,
    RATIO,
    SUM,
    WAIVED,
    YEAR,
    AgreementInputs,
    BorrowerSpan,
    CovenantSpec,
    Figure,
    MetricSpec,
    Result,
    ScheduleRow,
    TermsVersion,
    WaiverKey,
)
from covenants.calendar import (
    FISCAL_YTD,
    TRAILING,
    is_fiscal_quarter_end,
    previous_quarter_end,
    quarter_end_on_or_after,
    quarter_ends_in_window,
)

from .evaluation import evaluate_agreement, is_near_breach
from .schedules import schedule_row_for, terms_in_force, test_dates_for

__all__ = [
    "AT_LEAST",
    "AT_MOST",
    "BALANCE",
    "BREACH",
    "CONSOLIDATED",
    "FLOW",
    "MONTH",
    "QUARTER",
    "YEAR",
    "COMPLIANT",
    "FISCAL_YTD",
    "INCOMPLETE",
    "NOT_TESTED",
    "RATIO",
    "SUM",
    "TRAILING",
    "WAIVED",
    "AgreementInputs",
    "BorrowerSpan",
    "CovenantSpec",
    "Figure",
    "MetricSpec",
    "Result",
    "ScheduleRow",
    "TermsVersion",
    "WaiverKey",
    "evaluate_agreement",
    "is_fiscal_quarter_end",
    "is_near_breach",
    "previous_quarter_end",
    "quarter_end_on_or_after",
    "quarter_ends_in_window",
    "schedule_row_for",
    "terms_in_force",
    "test_dates_for",
]
