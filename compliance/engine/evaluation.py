"""Evaluation: every covenant of an agreement tested on every test date, from plain data.

All money is Decimal, never float. A ratio is divided with 28 significant digits and
reported to six decimal places, rounded against compliance (up for a maximum, down for a
minimum); the status is decided on the reported value, so value, headroom and status always
agree and a ratio a hair over its maximum is never shown as compliant. Headroom percent is
rounded down to two places, so it is under the warning band exactly when the headroom is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from compliance.engine.figures import (
    FigureIndex,
    Records,
    Window,
    base_inputs,
    figure_records,
    index_figures,
)
from compliance.engine.types import (
    AT_LEAST,
    AT_MOST,
    BREACH,
    COMPLIANT,
    CONSOLIDATED,
    DELETE,
    EACH_BORROWER,
    INCOMPLETE,
    MONTH,
    NOT_TESTED,
    THRESHOLD_SET,
    WAIVED,
    YEAR,
    AgreementInputs,
    BorrowerSpan,
    CovenantSpec,
    Result,
    ScheduleRow,
    TermsVersion,
    WaiverKey,
)
from compliance.engine.wording import (
    Words,
    calendar_gap_text,
    compared_text,
    incomplete_text,
    metric_text,
    missing_text,
    no_borrowers_text,
    no_value_text,
    not_tested_text,
    undecided_text,
    undefined_ratio_text,
    unknown_threshold_text,
    words_for,
)
from covenants.periods import FiscalCalendar

from .citations import scope_inputs
from .figures import EXACT as _EXACT
from .measures import Measure, measure
from .measures import ratio as _ratio
from .periods import calendar_for
from .schedules import schedule_row_for, terms_in_force, test_dates_for

_PERCENT_PLACES = Decimal("0.01")
_HUNDRED = Decimal(100)


# ---------------------------------------------------------------------------
# Deciding one test
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Test:
    """One test being decided: the covenant on a test date for some Borrowers, with what it
    measured, what its result cites and the words its explanations share."""

    covenant: CovenantSpec
    terms: TermsVersion
    row: ScheduleRow
    test_date: date
    party_id: int | None
    waivers: frozenset[WaiverKey]
    measured: Measure
    inputs: dict
    words: Words

    @property
    def threshold(self) -> Decimal | None:
        return self.measured.threshold

    @property
    def numerator(self) -> Window:
        return self.measured.numerator

    @property
    def denominator(self) -> Window | None:
        return self.measured.denominator


@dataclass(frozen=True)
class _Agreement:
    """What every test of one agreement shares."""

    figures: FigureIndex
    records: Records
    waivers: frozenset[WaiverKey]
    calendar: FiscalCalendar
    reporting: str
    labels: Mapping[str, str]


def _evaluate_scope(
    covenant: CovenantSpec,
    terms: TermsVersion,
    row: ScheduleRow,
    test_date: date,
    scope: Sequence[BorrowerSpan],
    party_id: int | None,
    shared: _Agreement,
) -> Result:
    """Test the covenant on one test date for the given Borrowers (all of them, one, or the
    party reporting for the group)."""
    try:
        measured = measure(terms, row, test_date, scope, shared.figures, shared.calendar, shared.reporting)
    except ValueError as error:  # a listed calendar that does not reach back to the window's start
        return _calendar_gap(covenant, terms, row, test_date, party_id, str(error))
    words = words_for(
        covenant=covenant,
        terms=terms,
        row=row,
        threshold=measured.threshold,
        scope=list(scope),
        party_id=party_id,
        test_date=test_date,
        quarters=measured.numerator.quarters,
        denominator_quarters=measured.denominator.quarters if measured.denominator is not None else None,
        is_ratio=measured.is_ratio,
        relative_base=measured.relative.total if measured.relative is not None and not measured.missing else None,
        labels=shared.labels,
        period_noun=_period_noun(terms, measured, shared.reporting),
    )
    if terms.metric is not None and measured.values is not None:
        words = metric_text(words, terms.metric, measured.items, measured.values, shared.labels)
    test = _Test(
        covenant=covenant,
        terms=terms,
        row=row,
        test_date=test_date,
        party_id=party_id,
        waivers=shared.waivers,
        measured=measured,
        inputs=scope_inputs(covenant, terms, row, scope, measured, shared.records),
        words=words,
    )
    return _decide(test)


def _period_noun(terms: TermsVersion, measured: Measure, reporting: str) -> str:
    """The statements' period, as missing figures name it: a month of a quarter tested over months."""
    numerator = measured.numerator
    frequency = reporting if numerator.periods != numerator.quarters else terms.frequency
    return "month" if frequency == MONTH else "fiscal year" if frequency == YEAR else "fiscal quarter"


def _decide(test: _Test) -> Result:
    """Undecidable (figures missing, or no threshold), a ratio with no value, or compared."""
    known = test.row.threshold_state == THRESHOLD_SET
    if test.measured.missing:
        unknown = None if known else unknown_threshold_text(test.row, test.test_date)
        return _result(
            test,
            INCOMPLETE,
            incomplete_text(
                test.words,
                missing=missing_text(test.measured.missing, test.words.labels, test.words.period_noun),
                unknown_threshold=unknown,
            ),
        )
    if test.measured.undefined:
        return _result(test, INCOMPLETE, no_value_text(test.words))
    # The value, or for a ratio with a denominator that is not positive, no value.
    numerator, denominator = test.numerator, test.denominator
    value: Decimal | None
    if denominator is None:
        value = numerator.total
    else:
        value = _ratio(numerator.total, denominator.total, test.terms.direction) if denominator.total > 0 else None
    if test.threshold is None:
        text = undecided_text(
            test.words,
            value=value,
            is_ratio=test.measured.is_ratio,
            unknown_threshold=unknown_threshold_text(test.row, test.test_date),
        )
        return _result(test, INCOMPLETE, text, value=value)
    if value is None:
        assert denominator is not None  # a sum always has a value
        return _undefined_ratio(test, denominator)
    return _compared(test, value, test.threshold)


def _undefined_ratio(test: _Test, denominator: Window) -> Result:
    """A ratio over a denominator that is not positive: a minimum over nothing, with a positive
    numerator, is met; anything else is treated as a breach."""
    met = test.terms.direction == AT_LEAST and denominator.total == 0 and test.numerator.total > 0
    text = undefined_ratio_text(test.words, terms=test.terms, denominator=denominator.total, met=met)
    return _result(test, COMPLIANT if met else BREACH, text)


def _compared(test: _Test, value: Decimal, threshold: Decimal) -> Result:
    """The value against the threshold: headroom, its percent, compliant or breach, near breach."""
    direction = test.terms.direction
    # Headroom is positive on the compliant side in both directions.
    headroom = _EXACT.subtract(threshold, value) if direction == AT_MOST else _EXACT.subtract(value, threshold)
    headroom_percent = None
    if threshold != 0:
        # Rounded down, so that the percent shown is under the band exactly when the headroom is.
        headroom_percent = _EXACT.divide(_EXACT.multiply(headroom, _HUNDRED), abs(threshold)).quantize(
            _PERCENT_PLACES, rounding=ROUND_FLOOR, context=_EXACT
        )
    status = COMPLIANT if headroom >= 0 else BREACH
    near = is_near_breach(
        status=status,
        headroom=headroom,
        threshold=threshold,
        warning_band_percent=test.covenant.warning_band_percent,
    )
    text = compared_text(
        test.words,
        value=value,
        headroom=headroom,
        headroom_percent=headroom_percent,
        is_ratio=test.measured.is_ratio,
        near=near,
        direction=direction,
        warning_band_percent=test.covenant.warning_band_percent,
    )
    return _result(
        test, status, text, value=value, headroom=headroom, headroom_percent=headroom_percent, near_breach=near
    )


def _result(
    test: _Test,
    status: str,
    explanation: str,
    *,
    value: Decimal | None = None,
    headroom: Decimal | None = None,
    headroom_percent: Decimal | None = None,
    near_breach: bool = False,
) -> Result:
    """The result of a decided test; a breach the Lenders waived is WAIVED."""
    explanation += test.words.detail
    if status == BREACH and WaiverKey(test.covenant.covenant_id, test.test_date, test.party_id) in test.waivers:
        status = WAIVED
        explanation += " This breach has been waived for this test date."
    return Result(
        covenant_id=test.covenant.covenant_id,
        terms_id=test.terms.terms_id,
        test_date=test.test_date,
        party_id=test.party_id,
        status=status,
        value=value,
        threshold=test.threshold,
        headroom=headroom,
        headroom_percent=headroom_percent,
        provisional=test.terms.provisional,
        explanation=explanation,
        inputs=test.inputs,
        near_breach=near_breach,
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


# ---------------------------------------------------------------------------
# Tests with nothing to decide
# ---------------------------------------------------------------------------


def _not_tested(covenant: CovenantSpec, terms: TermsVersion | None, test_date: date, deleted_by: str | None) -> Result:
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
        explanation=not_tested_text(covenant, test_date, deleted_by),
        inputs=base_inputs(covenant, terms),
    )


def _deleting_version(versions: Sequence[TermsVersion], test_date: date) -> TermsVersion | None:
    """The version that deleted the covenant, when a deletion is what leaves it without terms."""
    latest: TermsVersion | None = None
    for version in versions:
        if version.effective_from <= test_date and (latest is None or version.effective_from >= latest.effective_from):
            latest = version
    return latest if latest is not None and latest.action == DELETE else None


def _no_borrowers(covenant: CovenantSpec, terms: TermsVersion, row: ScheduleRow, test_date: date) -> Result:
    inputs = base_inputs(covenant, terms)
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
        explanation=no_borrowers_text(covenant, test_date),
        inputs=inputs,
    )


def _calendar_gap(
    covenant: CovenantSpec, terms: TermsVersion, row: ScheduleRow, test_date: date, party_id: int | None, why: str
) -> Result:
    """The fiscal calendar does not give the window's periods: the test cannot be decided."""
    return Result(
        covenant_id=covenant.covenant_id,
        terms_id=terms.terms_id,
        test_date=test_date,
        party_id=party_id,
        status=INCOMPLETE,
        value=None,
        threshold=row.threshold if row.threshold_state == THRESHOLD_SET else None,
        headroom=None,
        headroom_percent=None,
        provisional=terms.provisional,
        explanation=calendar_gap_text(covenant, test_date, why),
        inputs=base_inputs(covenant, terms),
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
    calendar = calendar_for(inputs)
    figures = index_figures(inputs.figures)
    figure_dates = {figure.period_end for figure in inputs.figures}
    shared = _Agreement(
        figures=figures,
        records=figure_records(figures),
        waivers=inputs.waivers,
        calendar=calendar,
        reporting=inputs.reporting_frequency,
        labels=dict(inputs.line_item_labels),
    )
    borrowers_cache: dict[date, list[BorrowerSpan]] = {}
    results: list[Result] = []
    for covenant in inputs.covenants:
        for test_date in test_dates_for(covenant, as_of=inputs.as_of, figure_dates=figure_dates, calendar=calendar):
            terms = terms_in_force(covenant.versions, test_date)
            row = schedule_row_for(terms, test_date) if terms is not None else None
            if terms is None or row is None:
                deleting = _deleting_version(covenant.versions, test_date) if terms is None else None
                results.append(
                    _not_tested(covenant, terms, test_date, deleting.source if deleting is not None else None)
                )
                continue
            borrowers = borrowers_cache.get(test_date)
            if borrowers is None:
                borrowers = borrowers_cache[test_date] = _borrowers_on(inputs.borrowers, test_date)
            if not borrowers and terms.basis != CONSOLIDATED:
                results.append(_no_borrowers(covenant, terms, row, test_date))
                continue
            # Already in order: test dates come sorted, Borrowers in party order.
            for scope, party_id in _scopes(terms, borrowers):
                results.append(_evaluate_scope(covenant, terms, row, test_date, scope, party_id, shared))
    return results


def _scopes(terms: TermsVersion, borrowers: list[BorrowerSpan]) -> list[tuple[list[BorrowerSpan], int | None]]:
    """Each Borrower on its own, all of them combined, or the party whose consolidated statement
    stands for the group (party None for the last two)."""
    if terms.basis == EACH_BORROWER:
        return [([borrower], borrower.party_id) for borrower in borrowers]
    if terms.basis == CONSOLIDATED and terms.reporting_party_id is not None:
        return [([BorrowerSpan(terms.reporting_party_id, terms.reporting_party_name)], None)]
    return [(borrowers, None)]
