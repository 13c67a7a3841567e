"""The engine's data: what it is given (terms, schedules, Borrowers, figures, waivers) and what
it returns (results), as frozen dataclasses, and the strings it compares. No Django: the
strings equal the TextChoices values in covenants/choices.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import orjson

from covenants.calendar import TRAILING
from covenants.periods import FiscalCalendar

# Status strings equal covenants.choices.ResultStatus values (the engine imports no Django).
COMPLIANT, BREACH, INCOMPLETE, NOT_TESTED, WAIVED = "compliant", "breach", "incomplete", "not_tested", "waived"

# Other strings equal the TextChoices values in covenants/choices.py.
ADD, REPLACE, DELETE = "add", "replace", "delete"
SUM, RATIO = "sum", "ratio"
AT_LEAST, AT_MOST = "at_least", "at_most"
COMBINED, EACH_BORROWER, CONSOLIDATED = "combined", "each_borrower", "consolidated"
MONTH, QUARTER, YEAR = "month", "quarter", "year"
FLOW, BALANCE = "flow", "balance"
THRESHOLD_SET, THRESHOLD_TO_BE_SET, THRESHOLD_REDACTED = "set", "to_be_set", "redacted"


@dataclass(frozen=True)
class ScheduleRow:
    """A row of a covenant's schedule: the threshold for a test date (and later ones, with ``applies_thereafter``)."""

    test_date: date
    threshold: Decimal | None
    threshold_state: str = THRESHOLD_SET
    applies_thereafter: bool = False
    amount_as_printed: str = ""
    date_as_printed: str = ""
    date_reading: str = ""  # how a printed date that is not a plain date was read, flagged wherever used


@dataclass(frozen=True)
class MetricSpec:
    """A defined term a covenant tests: a formula (covenants.formulas) over the window sums of
    the line items it names. A balance is read at the test date's period, never summed.
    ``definitions`` are the agreement's other defined terms, (name, formula), that it may read."""

    name: str
    label: str
    formula: str
    nature: str = FLOW
    definitions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TermsVersion:
    """One version of a covenant's terms, in force from ``effective_from`` until the next version."""

    terms_id: int
    effective_from: date
    action: str
    metric_kind: str = SUM
    line_item: str | None = None
    window_periods: int = 1
    window_kind: str = TRAILING
    denominator_line_item: str | None = None
    denominator_window_periods: int | None = None
    denominator_window_kind: str = TRAILING
    direction: str = AT_LEAST
    basis: str = COMBINED
    schedule: tuple[ScheduleRow, ...] = ()
    provisional: bool = False
    source: str = ""
    frequency: str = QUARTER
    metric: MetricSpec | None = None
    reporting_party_id: int | None = None  # on a consolidated basis: whose statement stands for the group
    reporting_party_name: str = ""
    threshold_relative_to: str | None = None  # schedule amounts are percentages of this line item


@dataclass(frozen=True)
class CovenantSpec:
    """A financial covenant of the agreement with every version of its terms."""

    covenant_id: int
    section: str
    name: str
    versions: tuple[TermsVersion, ...]
    warning_band_percent: Decimal = Decimal("10")


@dataclass(frozen=True)
class BorrowerSpan:
    """A party's time as a Borrower under the agreement (both ends inclusive; None = open)."""

    party_id: int
    name: str
    holds_from: date | None = None
    holds_to: date | None = None

    def holds_on(self, day: date) -> bool:
        """Whether the party is a Borrower on ``day``."""
        return (self.holds_from is None or self.holds_from <= day) and (self.holds_to is None or day <= self.holds_to)


@dataclass(frozen=True)
class Figure:
    """One line item's amount in a Borrower's current statement for a fiscal quarter."""

    party_id: int
    period_end: date
    line_item: str
    amount: Decimal
    statement_id: int
    statement_version: int = 1


@dataclass(frozen=True)
class WaiverKey:
    """A waiver of one covenant on one test date, for one Borrower or (party_id None) the combined test."""

    covenant_id: int
    test_date: date
    party_id: int | None = None


@dataclass(frozen=True)
class AgreementInputs:
    """Everything the engine needs to test one agreement's covenants."""

    agreement_id: int
    as_of: date
    covenants: tuple[CovenantSpec, ...]
    borrowers: tuple[BorrowerSpan, ...]
    figures: tuple[Figure, ...]
    waivers: frozenset[WaiverKey] = frozenset()
    fiscal_year_end_month: int = 12
    # None: calendar months ending the fiscal year in ``fiscal_year_end_month``.
    calendar: FiscalCalendar | None = None
    reporting_frequency: str = QUARTER  # how often each statement is made: "month" or "quarter"
    line_item_labels: tuple[tuple[str, str], ...] = ()  # (code, name) for the explanations


@dataclass(frozen=True)
class Result:
    """The outcome of testing one covenant on one test date (for one Borrower on an each-Borrower basis)."""

    covenant_id: int
    terms_id: int | None
    test_date: date
    party_id: int | None
    status: str
    value: Decimal | None
    threshold: Decimal | None
    headroom: Decimal | None
    headroom_percent: Decimal | None
    provisional: bool
    explanation: str
    inputs: dict
    near_breach: bool = False

    def fingerprint(self) -> str:
        """A digest of everything a stored result keeps of this one (terms, status, figures,
        near breach, explanation, inputs): equal digests mean the stored result says the same.
        The engine builds every result the same way from the same inputs, so re-evaluating
        unchanged figures gives the same digest, and the caller compares 32 characters per test
        instead of reading back and decoding each result's inputs.

        Near breach is part of the digest only when it is true, so that the digests of the
        results stored before it was (every result that is not near) stay what they were."""
        return self.encoded()[0]

    def encoded(self) -> tuple[str, str]:
        """The fingerprint and the inputs as JSON text, the inputs encoded once for both (the
        fingerprint embeds the same bytes, so it is what ``fingerprint`` always gave): an
        evaluation compares the one and stores the other."""
        inputs = orjson.dumps(self.inputs, default=str)
        return self._digest(orjson.Fragment(inputs)), inputs.decode()

    def _digest(self, inputs: object) -> str:
        # The fingerprint with the inputs given already encoded (a Fragment) or as they are.
        parts: list[object] = [
            self.terms_id,
            self.status,
            _text(self.value),
            _text(self.threshold),
            _text(self.headroom),
            _text(self.headroom_percent),
            self.provisional,
            self.explanation,
            inputs,
        ]
        if self.near_breach:
            parts.append("near_breach")
        return hashlib.blake2b(orjson.dumps(parts, default=str), digest_size=16).hexdigest()


def _text(amount: Decimal | None) -> str | None:
    # Normalised, so the digest depends on the amount, not on how many zeros it was written with.
    return None if amount is None else str(amount.normalize()) if amount else "0"
