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

All money is Decimal, never float. A ratio is divided with 28 significant digits and
reported to six decimal places, rounded against compliance (up for a maximum, down for a
minimum); the status is decided on the reported value, so value, headroom and status always
agree and a ratio a hair over its maximum is never shown as compliant. Headroom percent is
rounded down to two places, so it is under the warning band exactly when the headroom is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

import orjson

from .fiscal_calendar import (
    FISCAL_YTD,
    TRAILING,
    check_fiscal_year_end_month,
    is_fiscal_quarter_end,
    next_quarter_end,
    previous_quarter_end,
    quarter_end_on_or_after,
    quarter_ends_in_window,
)
from .formatting import headroom as headroom_words
from .formatting import long_date, money, ratio

__all__ = [
    "BREACH",
    "COMPLIANT",
    "FISCAL_YTD",
    "INCOMPLETE",
    "NOT_TESTED",
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

# Status strings equal covenants.choices.ResultStatus values (the engine imports no Django).
COMPLIANT, BREACH, INCOMPLETE, NOT_TESTED, WAIVED = "compliant", "breach", "incomplete", "not_tested", "waived"

# Other strings equal the TextChoices values in covenants/choices.py.
ADD, REPLACE, DELETE = "add", "replace", "delete"
SUM, RATIO = "sum", "ratio"
AT_LEAST, AT_MOST = "at_least", "at_most"
COMBINED, EACH_BORROWER = "combined", "each_borrower"
THRESHOLD_SET, THRESHOLD_TO_BE_SET, THRESHOLD_REDACTED = "set", "to_be_set", "redacted"

# Sums are exact for any amount a statement can hold (20 digits, thousands of lines).
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
# Ratios are divided at the agreed precision, rounded away from compliance (see _ratio):
# a ratio a hair over its maximum must not be shown as the maximum itself.
_RATIO_UP = Context(prec=28, rounding=ROUND_CEILING)
_RATIO_DOWN = Context(prec=28, rounding=ROUND_FLOOR)
_RATIO_PLACES = Decimal("0.000001")
_PERCENT_PLACES = Decimal("0.01")
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


# ---------------------------------------------------------------------------
# Inputs and results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    """A row of a covenant's schedule: the threshold for a test date (and later ones, with ``applies_thereafter``)."""

    test_date: date
    threshold: Decimal | None
    threshold_state: str = THRESHOLD_SET
    applies_thereafter: bool = False
    amount_as_printed: str = ""


@dataclass(frozen=True)
class TermsVersion:
    """One version of a covenant's terms, in force from ``effective_from`` until the next version."""

    terms_id: int
    effective_from: date
    action: str
    metric_kind: str = SUM
    line_item: str | None = None
    window_quarters: int = 1
    window_kind: str = TRAILING
    denominator_line_item: str | None = None
    denominator_window_quarters: int | None = None
    denominator_window_kind: str = TRAILING
    direction: str = AT_LEAST
    basis: str = COMBINED
    schedule: tuple[ScheduleRow, ...] = ()
    provisional: bool = False
    source: str = ""


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
        parts: list[object] = [
            self.terms_id,
            self.status,
            _text(self.value),
            _text(self.threshold),
            _text(self.headroom),
            _text(self.headroom_percent),
            self.provisional,
            self.explanation,
            self.inputs,
        ]
        if self.near_breach:
            parts.append("near_breach")
        return hashlib.blake2b(orjson.dumps(parts, default=str), digest_size=16).hexdigest()


def _text(amount: Decimal | None) -> str | None:
    # Normalised, so the digest depends on the amount, not on how many zeros it was written with.
    return None if amount is None else str(amount.normalize()) if amount else "0"


# ---------------------------------------------------------------------------
# Fiscal quarters: covenants.fiscal_calendar, the one calendar (re-exported here, as before)
# ---------------------------------------------------------------------------

_check_month = check_fiscal_year_end_month
_next_quarter_end = next_quarter_end


# ---------------------------------------------------------------------------
# Terms and schedules
# ---------------------------------------------------------------------------


def terms_in_force(versions: Sequence[TermsVersion], test_date: date) -> TermsVersion | None:
    """
    The version of the terms in force on ``test_date``: the latest effective on or before it
    (on a tie, the last given). None when there is none or it deletes the covenant.
    """
    in_force: TermsVersion | None = None
    for version in versions:
        if version.effective_from <= test_date and (
            in_force is None or version.effective_from >= in_force.effective_from
        ):
            in_force = version
    if in_force is None or in_force.action == DELETE:
        return None
    return in_force


def schedule_row_for(terms: TermsVersion, test_date: date) -> ScheduleRow | None:
    """
    The schedule row that sets the threshold for ``test_date``: the row for that date, or
    else the latest earlier row that applies thereafter, unless a later row comes between.
    """
    latest: ScheduleRow | None = None
    for row in terms.schedule:
        if row.test_date <= test_date and (latest is None or row.test_date >= latest.test_date):
            latest = row
    if latest is None:
        return None
    if latest.test_date == test_date or latest.applies_thereafter:
        return latest
    return None


def test_dates_for(
    covenant: CovenantSpec, *, as_of: date, figure_dates: Iterable[date], fiscal_year_end_month: int = 12
) -> list[date]:
    """
    The fiscal quarter ends on which the covenant is reported, sorted.

    The schedule's own dates up to ``as_of``; for a row that applies thereafter, each later
    quarter end up to ``as_of`` while its version is in force, until the next row or the
    next version of the terms; and every quarter with figures, so that figures with no
    threshold show as not tested.
    """
    _check_month(fiscal_year_end_month)
    dates: set[date] = set()
    ordered = sorted(enumerate(covenant.versions), key=lambda pair: (pair[1].effective_from, pair[0]))
    for position, (_, version) in enumerate(ordered):
        next_version_from = ordered[position + 1][1].effective_from if position + 1 < len(ordered) else None
        # One row per date, the last given, as schedule_row_for reads them.
        rows = sorted({row.test_date: row for row in version.schedule}.values(), key=lambda row: row.test_date)
        for index, row in enumerate(rows):
            if row.test_date <= as_of and is_fiscal_quarter_end(row.test_date, fiscal_year_end_month):
                dates.add(row.test_date)
            if not row.applies_thereafter or version.action == DELETE:
                continue
            stop = rows[index + 1].test_date if index + 1 < len(rows) else None
            if next_version_from is not None and (stop is None or next_version_from < stop):
                stop = next_version_from
            # Quarters before the version takes effect are tested under the terms then in force.
            day = quarter_end_on_or_after(max(row.test_date, version.effective_from), fiscal_year_end_month)
            while day <= as_of and (stop is None or day < stop):
                dates.add(day)
                day = _next_quarter_end(day)
    for day in figure_dates:
        if is_fiscal_quarter_end(day, fiscal_year_end_month):
            dates.add(day)
    return sorted(dates)


# Its name begins with "test": keep test runners from collecting it where tests import it.
test_dates_for.__test__ = False  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------

_LINE_ITEM_LABELS = {
    "ebitda": "EBITDA",
    "adjusted_ebitda": "Adjusted EBITDA",
    "revenues": "revenues",
    "total_debt": "total debt",
    "interest_expense": "interest expense",
}
_COUNT_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def _label(line_item: str | None) -> str:
    if not line_item:
        return "the figure"
    return _LINE_ITEM_LABELS.get(line_item, line_item.replace("_", " "))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# Figures and dates as the agreements print them: covenants.formatting, the one place.
_long_date = long_date
_money = money
_ratio_text = ratio


def _window_text(quarters: tuple[date, ...], kind: str, test_date: date) -> str:
    if kind == FISCAL_YTD:
        return f"the fiscal year to date ending {_long_date(test_date)}"
    if len(quarters) == 1:
        return f"the fiscal quarter ending {_long_date(test_date)}"
    count = _COUNT_WORDS[len(quarters)] if len(quarters) < len(_COUNT_WORDS) else str(len(quarters))
    return f"the {count} fiscal quarters ending {_long_date(test_date)}"


def _where(covenant: CovenantSpec, terms: TermsVersion) -> str:
    if terms.source:
        return f"Section {covenant.section}, as amended by {terms.source}"
    return f"Section {covenant.section}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@lru_cache(maxsize=8192)
def _iso(day: date) -> str:
    return day.isoformat()


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------

_FigureIndex = dict[tuple[int, date, str], Figure]


def _index_figures(figures: Iterable[Figure]) -> _FigureIndex:
    """
    Figures keyed (party, quarter, line item). The caller passes current versions only;
    should two still share a key, the latest statement version wins whatever the order given.
    """
    index: _FigureIndex = {}
    for figure in figures:
        key = (figure.party_id, figure.period_end, figure.line_item)
        held = index.get(key)
        if held is None or (figure.statement_version, figure.statement_id, figure.amount) > (
            held.statement_version,
            held.statement_id,
            held.amount,
        ):
            index[key] = figure
    return index


@dataclass
class _Window:
    """One windowed sum over some Borrowers: its quarters, the figures found and those missing."""

    line_item: str | None
    quarters: tuple[date, ...]
    total: Decimal = _ZERO  # of the figures found; the sum only when nothing is missing
    used: list[Figure] = field(default_factory=list)
    missing: list[tuple[BorrowerSpan, date, str | None]] = field(default_factory=list)


def _window_sum(
    line_item: str | None, quarters: tuple[date, ...], borrowers: Sequence[BorrowerSpan], figures: _FigureIndex
) -> _Window:
    window = _Window(line_item=line_item, quarters=quarters)
    used, missing, find, add = window.used, window.missing, figures.get, _EXACT.add
    total = _ZERO
    for quarter in quarters:
        for borrower in borrowers:
            figure = find((borrower.party_id, quarter, line_item)) if line_item else None
            if figure is None:
                missing.append((borrower, quarter, line_item))
            else:
                used.append(figure)
                total = add(total, figure.amount)
    window.total = total
    return window


_Records = dict[tuple[date, int, str], dict]


def _figure_records(figures: _FigureIndex) -> _Records:
    """Each figure as a result's inputs cite it, keyed (quarter, party, line item). Built once
    per agreement: a result takes a fresh copy of each record it cites."""
    return {
        (figure.period_end, figure.party_id, figure.line_item): {
            "statement_id": figure.statement_id,
            "statement_version": figure.statement_version,
            "party_id": figure.party_id,
            "period_end": _iso(figure.period_end),
            "line_item": figure.line_item,
            "amount": str(figure.amount),
        }
        for figure in figures.values()
    }


def _base_inputs(covenant: CovenantSpec, terms: TermsVersion | None) -> dict:
    return {
        "section": covenant.section,
        "source": terms.source if terms else "",
        "effective_from": _iso(terms.effective_from) if terms else None,
        "window": [],
        "denominator_window": [],
        "borrowers": [],
        "figures": [],
        "missing": [],
    }


def _not_tested(covenant: CovenantSpec, terms: TermsVersion | None, test_date: date, deleted_by: str | None) -> Result:
    reason = f"No threshold is in force for the test date {_long_date(test_date)} under Section {covenant.section}"
    if deleted_by is not None:
        reason += f", which was deleted by {deleted_by or 'the agreement'}"
    inputs = _base_inputs(covenant, terms)
    return Result(
        covenant_id=covenant.covenant_id,
        terms_id=terms.terms_id if terms else None,
        test_date=test_date,
        party_id=None,
        status=NOT_TESTED,
        value=None,
        threshold=None,
        headroom=None,
        headroom_percent=None,
        provisional=False,
        explanation=f"{reason}, so it is not tested.",
        inputs=inputs,
    )


def _deleting_version(versions: Sequence[TermsVersion], test_date: date) -> TermsVersion | None:
    """The version that deleted the covenant, when a deletion is what leaves it without terms."""
    latest: TermsVersion | None = None
    for version in versions:
        if version.effective_from <= test_date and (latest is None or version.effective_from >= latest.effective_from):
            latest = version
    return latest if latest is not None and latest.action == DELETE else None


def _missing_text(missing: list[tuple[BorrowerSpan, date, str | None]]) -> str:
    """ "figures are missing from Leasing II for the fiscal quarter ending March 31, 2000 (revenues)"."""
    by_borrower: dict[int, tuple[BorrowerSpan, list[date], list[str]]] = {}
    for borrower, quarter, line_item in missing:
        entry = by_borrower.setdefault(borrower.party_id, (borrower, [], []))
        if quarter not in entry[1]:
            entry[1].append(quarter)
        if _label(line_item) not in entry[2]:
            entry[2].append(_label(line_item))
    parts = []
    for borrower, quarters, labels in by_borrower.values():
        quarters.sort()
        noun = "fiscal quarter" if len(quarters) == 1 else "fiscal quarters"
        parts.append(
            f"{borrower.name} for the {noun} ending {_join([_long_date(q) for q in quarters])} ({_join(labels)})"
        )
    return "figures are missing from " + "; and from ".join(parts)


def _evaluate_scope(
    covenant: CovenantSpec,
    terms: TermsVersion,
    row: ScheduleRow,
    test_date: date,
    scope: Sequence[BorrowerSpan],
    party_id: int | None,
    figures: _FigureIndex,
    waivers: frozenset[WaiverKey],
    fiscal_year_end_month: int,
    records: _Records,
) -> Result:
    """Test the covenant on one test date for the given Borrowers (all of them, or one).

    ``records`` are the figures' citations, made once for the agreement (see _figure_records)."""
    is_ratio = terms.metric_kind == RATIO
    numerator = _window_sum(
        terms.line_item,
        quarter_ends_in_window(
            test_date, terms.window_quarters, kind=terms.window_kind, fiscal_year_end_month=fiscal_year_end_month
        ),
        scope,
        figures,
    )
    denominator: _Window | None = None
    if is_ratio:
        denominator = _window_sum(
            terms.denominator_line_item,
            quarter_ends_in_window(
                test_date,
                terms.denominator_window_quarters or terms.window_quarters,
                kind=terms.denominator_window_kind or TRAILING,
                fiscal_year_end_month=fiscal_year_end_month,
            ),
            scope,
            figures,
        )

    # What was read and what is missing, each piece once, in a stable order.
    windows = [numerator] if denominator is None else [numerator, denominator]
    used = {(f.period_end, f.party_id, f.line_item): f for w in windows for f in w.used}
    missing_pieces: dict[tuple[date, int, str], tuple[BorrowerSpan, date, str | None]] = {}
    for w in windows:
        for borrower, quarter, line_item in w.missing:
            missing_pieces.setdefault((quarter, borrower.party_id, line_item or ""), (borrower, quarter, line_item))
    missing = [missing_pieces[key] for key in sorted(missing_pieces)]

    threshold = row.threshold if row.threshold_state == THRESHOLD_SET else None
    inputs = _base_inputs(covenant, terms)
    inputs.update(
        {
            "metric_kind": terms.metric_kind,
            "line_item": terms.line_item,
            "window_kind": terms.window_kind,
            "window": [_iso(q) for q in numerator.quarters],
            "direction": terms.direction,
            "basis": terms.basis,
            "threshold_state": row.threshold_state,
            "threshold": str(threshold) if threshold is not None else None,
            "amount_as_printed": row.amount_as_printed,
            "schedule_row_date": _iso(row.test_date),
            "applies_thereafter": row.applies_thereafter,
            "borrowers": [{"party_id": b.party_id, "name": b.name} for b in scope],
            "figures": [dict(records[key]) for key in sorted(used)],
            "missing": [
                {"party_id": b.party_id, "name": b.name, "period_end": _iso(q), "line_item": item}
                for b, q, item in missing
            ],
        }
    )
    if denominator is not None:
        inputs["denominator_line_item"] = terms.denominator_line_item
        inputs["denominator_window_kind"] = terms.denominator_window_kind or TRAILING
        inputs["denominator_window"] = [_iso(q) for q in denominator.quarters]

    scope_text = "all the Borrowers on a combined basis" if party_id is None else scope[0].name
    where = _where(covenant, terms)
    window_text = _window_text(numerator.quarters, terms.window_kind, test_date)
    if denominator is None:
        subject = f"{_capitalised(_label(terms.line_item))} of {scope_text} for {window_text}"
    else:
        subject = (
            f"The ratio of {_label(terms.line_item)} for {window_text} to {_label(terms.denominator_line_item)} "
            f"for {_window_text(denominator.quarters, terms.denominator_window_kind, test_date)}, for {scope_text},"
        )
    limit_word = "minimum" if terms.direction == AT_LEAST else "maximum"
    threshold_text = ""
    if threshold is not None:
        threshold_text = row.amount_as_printed or (_ratio_text(threshold) if is_ratio else _money(threshold))
    provisional_note = (
        f" (provisional: {terms.source or 'the amendment'} is pending its conditions precedent)"
        if terms.provisional
        else ""
    )

    def result(status: str, explanation: str, **values: object) -> Result:
        if status == BREACH and WaiverKey(covenant.covenant_id, test_date, party_id) in waivers:
            status = WAIVED
            explanation += " This breach has been waived for this test date."
        inputs["numerator"] = None if missing else str(numerator.total)
        if denominator is not None:
            inputs["denominator"] = None if missing else str(denominator.total)
        return Result(
            covenant_id=covenant.covenant_id,
            terms_id=terms.terms_id,
            test_date=test_date,
            party_id=party_id,
            status=status,
            value=values.get("value"),  # type: ignore[arg-type]
            threshold=threshold,
            headroom=values.get("headroom"),  # type: ignore[arg-type]
            headroom_percent=values.get("headroom_percent"),  # type: ignore[arg-type]
            provisional=terms.provisional,
            explanation=explanation,
            inputs=inputs,
            near_breach=bool(values.get("near_breach", False)),
        )

    # Undecidable: figures missing, or the metric not stated.
    if missing:
        reasons = [_missing_text(missing)]
        if threshold is None:
            reasons.append(_unknown_threshold_text(row))
        return result(
            INCOMPLETE,
            f"{subject} cannot be decided ({where}): {'; and '.join(reasons)}. "
            f"It is not shown as compliant until they are received{provisional_note}.",
        )

    # The value, or for a ratio with a denominator that is not positive, no value.
    value: Decimal | None
    if denominator is None:
        value = numerator.total
    else:
        value = _ratio(numerator.total, denominator.total, terms.direction) if denominator.total > 0 else None

    if threshold is None:
        shown = "cannot be computed" if value is None and denominator is not None else f"amounted to {_shown(value)}"
        if value is None:
            shown += " (ratio undefined: denominator not positive)"
        return result(
            INCOMPLETE,
            f"{subject} {shown}, but {_unknown_threshold_text(row)} ({where}). "
            f"The test is not decided{provisional_note}.",
            value=value,
        )

    if value is None and denominator is not None:
        because = (
            f"{subject} cannot be computed ({where}): ratio undefined: denominator not positive, "
            f"as {_label(terms.denominator_line_item)} amounted to {_money(denominator.total)}."
        )
        if terms.direction == AT_LEAST and denominator.total == 0 and numerator.total > 0:
            return result(
                COMPLIANT,
                f"{because} With positive {_label(terms.line_item)} and no {_label(terms.denominator_line_item)}, "
                f"the minimum of {threshold_text} is met{provisional_note}.",
            )
        return result(
            BREACH, f"{because} It is treated as a breach of the {limit_word} of {threshold_text}{provisional_note}."
        )

    assert value is not None  # a sum always has one; a ratio without one was decided above
    # Headroom is positive on the compliant side in both directions.
    headroom = _EXACT.subtract(threshold, value) if terms.direction == AT_MOST else _EXACT.subtract(value, threshold)
    headroom_percent = None
    if threshold != 0:
        # Rounded down, so that the percent shown is under the band exactly when the headroom is.
        headroom_percent = _EXACT.divide(_EXACT.multiply(headroom, _HUNDRED), abs(threshold)).quantize(
            _PERCENT_PLACES, rounding=ROUND_FLOOR, context=_EXACT
        )
    compliant = headroom >= 0
    near = is_near_breach(
        status=COMPLIANT if compliant else BREACH,
        headroom=headroom,
        threshold=threshold,
        warning_band_percent=covenant.warning_band_percent,
    )

    value_text = _ratio_text(value) if is_ratio else _money(value)
    headroom_text = headroom_words(headroom, is_ratio=is_ratio)
    statement = f"{subject} amounted to {value_text} against a {limit_word} of {threshold_text} ({where})."
    percent_text = f" ({headroom_percent}%)" if headroom_percent is not None else ""
    if compliant:
        if near:
            verdict = (
                f" Compliant{provisional_note}, but within the {covenant.warning_band_percent.normalize():f}% "
                f"warning band: headroom of {headroom_text}{percent_text}."
            )
        else:
            verdict = f" Compliant{provisional_note}, with headroom of {headroom_text}{percent_text}."
        status = COMPLIANT
    else:
        shortfall = headroom_words(-headroom, is_ratio=is_ratio)
        verdict = f" Breach{provisional_note}: {'short' if terms.direction == AT_LEAST else 'over'} by {shortfall}."
        status = BREACH
    return result(
        status,
        statement + verdict,
        value=value,
        headroom=headroom,
        headroom_percent=headroom_percent,
        near_breach=near,
    )


def is_near_breach(
    *, status: str, headroom: Decimal | None, threshold: Decimal | None, warning_band_percent: Decimal
) -> bool:
    """
    The near-breach rule, the only place it is written: compliant, with headroom under the
    covenant's warning band, a percent of the threshold (strictly under: 10% headroom with a
    10% band is not near). A threshold of zero has no percent and is never near; a result
    without headroom (no value, or undecided) is never near.

    The engine decides it with every result (``Result.near_breach``) and the evaluation stores
    it; pages, exports, alerts and the API read the stored flag. Exact: the headroom percent
    shown is rounded down, so it is under the band exactly when this is true.
    """
    if status != COMPLIANT or headroom is None or threshold is None or threshold == 0:
        return False
    return _EXACT.multiply(headroom, _HUNDRED) < _EXACT.multiply(warning_band_percent, abs(threshold))


def _ratio(numerator: Decimal, denominator: Decimal, direction: str) -> Decimal:
    """
    numerator / denominator (denominator positive) to six decimal places, rounded against
    compliance: up for a maximum, down for a minimum. The status, decided on this value,
    is then the status the exact ratio would have against any threshold of six places or
    fewer, and the value shown never hides a breach.
    """
    context, rounding = (_RATIO_UP, ROUND_CEILING) if direction == AT_MOST else (_RATIO_DOWN, ROUND_FLOOR)
    return context.divide(numerator, denominator).quantize(_RATIO_PLACES, rounding=rounding, context=_EXACT)


def _shown(value: Decimal | None) -> str:
    return "no value" if value is None else _money(value)


def _unknown_threshold_text(row: ScheduleRow) -> str:
    if row.threshold_state == THRESHOLD_REDACTED:
        return f"the threshold for {_long_date(row.test_date)} is redacted in the copy on file"
    if row.threshold_state == THRESHOLD_TO_BE_SET:
        return f"the threshold for {_long_date(row.test_date)} is to be set"
    return f"no threshold amount is recorded for {_long_date(row.test_date)}"


def _no_borrowers(covenant: CovenantSpec, terms: TermsVersion, row: ScheduleRow, test_date: date) -> Result:
    inputs = _base_inputs(covenant, terms)
    threshold = row.threshold if row.threshold_state == THRESHOLD_SET else None
    return Result(
        covenant_id=covenant.covenant_id,
        terms_id=terms.terms_id,
        test_date=test_date,
        party_id=None,
        status=INCOMPLETE,
        value=None,
        threshold=threshold,
        headroom=None,
        headroom_percent=None,
        provisional=terms.provisional,
        explanation=(
            f"Section {covenant.section} cannot be decided for {_long_date(test_date)}: "
            "no Borrower is recorded under the agreement on that date."
        ),
        inputs=inputs,
    )


def _borrowers_on(borrowers: Sequence[BorrowerSpan], day: date) -> list[BorrowerSpan]:
    """The Borrowers on ``day``, each party once, in party order."""
    holding: dict[int, BorrowerSpan] = {}
    for span in borrowers:
        if span.holds_on(day) and span.party_id not in holding:
            holding[span.party_id] = span
    return [holding[party_id] for party_id in sorted(holding)]


def evaluate_agreement(inputs: AgreementInputs) -> list[Result]:
    """
    Test every covenant of the agreement on every test date up to ``inputs.as_of``.

    Results come in the order of the covenants given, then by test date, then by Borrower
    (the combined test first). The same inputs always give the same results.
    """
    fiscal_year_end_month = inputs.fiscal_year_end_month
    _check_month(fiscal_year_end_month)
    figures = _index_figures(inputs.figures)
    figure_dates = {figure.period_end for figure in inputs.figures}
    records = _figure_records(figures)
    borrowers_cache: dict[date, list[BorrowerSpan]] = {}
    results: list[Result] = []
    for covenant in inputs.covenants:
        covenant_results: list[Result] = []
        for test_date in test_dates_for(
            covenant, as_of=inputs.as_of, figure_dates=figure_dates, fiscal_year_end_month=fiscal_year_end_month
        ):
            terms = terms_in_force(covenant.versions, test_date)
            row = schedule_row_for(terms, test_date) if terms is not None else None
            if terms is None or row is None:
                deleting = _deleting_version(covenant.versions, test_date) if terms is None else None
                covenant_results.append(
                    _not_tested(covenant, terms, test_date, deleting.source if deleting is not None else None)
                )
                continue
            borrowers = borrowers_cache.get(test_date)
            if borrowers is None:
                borrowers = borrowers_cache[test_date] = _borrowers_on(inputs.borrowers, test_date)
            if not borrowers:
                covenant_results.append(_no_borrowers(covenant, terms, row, test_date))
                continue
            if terms.basis == EACH_BORROWER:
                for borrower in borrowers:
                    covenant_results.append(
                        _evaluate_scope(
                            covenant,
                            terms,
                            row,
                            test_date,
                            [borrower],
                            borrower.party_id,
                            figures,
                            inputs.waivers,
                            fiscal_year_end_month,
                            records,
                        )
                    )
            else:
                covenant_results.append(
                    _evaluate_scope(
                        covenant,
                        terms,
                        row,
                        test_date,
                        borrowers,
                        None,
                        figures,
                        inputs.waivers,
                        fiscal_year_end_month,
                        records,
                    )
                )
        # Already in order: test dates come sorted, Borrowers in party order.
        results.extend(covenant_results)
    return results
