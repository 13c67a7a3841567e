"""
The covenant engine: tests an agreement's financial covenants against its Borrowers' figures.

Pure Python over plain data. The caller loads the terms in force, the Borrowers and the
current figures into the frozen dataclasses below and calls :func:`evaluate_agreement`;
the engine reads no database, no file and no clock (the evaluation date is ``as_of``).

The readings it applies, which the seed documents' words leave to the reader:

- A fiscal quarter is identified by its last day; fiscal quarters end every third month
  counting from the agreement's fiscal year end month.
- A window of N fiscal quarters is the N quarters ending on the test date; a fiscal
  year-to-date window runs from the first quarter of the fiscal year containing the test date.
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
and thresholds in force), ``evaluation`` (the tests, decided, and the arithmetic: Decimal,
ratios rounded against compliance), ``wording`` (the explanations); the fiscal calendar is
``covenants.calendar``. Import the engine from here.
"""

from __future__ import annotations

from compliance.engine.types import (
    AT_LEAST,
    AT_MOST,
    BREACH,
    COMPLIANT,
    INCOMPLETE,
    NOT_TESTED,
    RATIO,
    SUM,
    WAIVED,
    AgreementInputs,
    BorrowerSpan,
    CovenantSpec,
    Figure,
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
    "BREACH",
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
