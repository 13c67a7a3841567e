"""The engine's explanations: every sentence a result gives, in the words of the agreement.

Figures and dates are written by compliance.formatting, the one place that writes them as the
agreements print them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from compliance.engine.types import (
    AT_LEAST,
    BALANCE,
    CONSOLIDATED,
    MONTH,
    QUARTER,
    THRESHOLD_REDACTED,
    THRESHOLD_TO_BE_SET,
    YEAR,
    BorrowerSpan,
    CovenantSpec,
    MetricSpec,
    ScheduleRow,
    TermsVersion,
)
from compliance.formatting import headroom as headroom_words
from compliance.formatting import long_date, money, ratio
from covenants.calendar import FISCAL_YTD

from .figures import Window
from .metrics import explained

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


# A period of each frequency, one and several ("the fiscal quarter", "the two fiscal quarters").
_NOUNS = {
    MONTH: ("month", "months"),
    QUARTER: ("fiscal quarter", "fiscal quarters"),
    YEAR: ("fiscal year", "fiscal years"),
}
_NO_LABELS: Mapping[str, str] = {}


def label(line_item: str | None, labels: Mapping[str, str] = _NO_LABELS) -> str:
    """A line item as the explanations name it: by its name, never its code."""
    if not line_item:
        return "the figure"
    return _LINE_ITEM_LABELS.get(line_item) or labels.get(line_item) or line_item.replace("_", " ")


def _count(number: int) -> str:
    return _COUNT_WORDS[number] if number < len(_COUNT_WORDS) else str(number)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _window_text(quarters: tuple[date, ...], kind: str, test_date: date, frequency: str = QUARTER) -> str:
    if kind == FISCAL_YTD:
        return f"the fiscal year to date ending {long_date(test_date)}"
    one, several = _NOUNS.get(frequency, _NOUNS[QUARTER])
    if len(quarters) == 1:
        return f"the {one} ending {long_date(test_date)}"
    return f"the {_count(len(quarters))} {several} ending {long_date(test_date)}"


def _scope_text(terms: TermsVersion, scope: Sequence[BorrowerSpan], party_id: int | None) -> str:
    """For whom: a Borrower by name, the Borrowers combined, or the group as one party reports it."""
    if terms.basis == CONSOLIDATED and terms.reporting_party_id is not None:
        return f"the group, consolidated, as reported by {terms.reporting_party_name}"
    if party_id is not None or len(scope) == 1:
        return scope[0].name
    return "all the Borrowers on a combined basis"


def _measured_text(terms: TermsVersion, labels: Mapping[str, str]) -> str:
    """What the covenant measures: a defined term by its label, or a line item by its name."""
    return terms.metric.label if terms.metric is not None else label(terms.line_item, labels)


def _where(covenant: CovenantSpec, terms: TermsVersion) -> str:
    if terms.source:
        return f"Section {covenant.section}, as amended by {terms.source}"
    return f"Section {covenant.section}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class Words:
    """The pieces every explanation of one test is made of."""

    subject: str  # what is tested, for whom and over which quarters
    where: str  # the section, and the amendment that changed it
    limit_word: str  # "minimum" or "maximum"
    threshold_text: str  # as printed in the agreement, or written as the agreements write amounts
    provisional_note: str  # empty unless the terms wait on conditions precedent
    labels: Mapping[str, str] = field(default_factory=dict)  # line items' names, by code
    period_noun: str = "fiscal quarter"  # the statements' period, as missing figures are named
    detail: str = ""  # a defined term's figures and formula, after the verdict


def words_for(
    *,
    covenant: CovenantSpec,
    terms: TermsVersion,
    row: ScheduleRow,
    threshold: Decimal | None,
    scope: list[BorrowerSpan] | tuple[BorrowerSpan, ...],
    party_id: int | None,
    test_date: date,
    quarters: tuple[date, ...],
    denominator_quarters: tuple[date, ...] | None,
    is_ratio: bool | None = None,
    relative_base: Decimal | None = None,
    labels: Mapping[str, str] = _NO_LABELS,
    period_noun: str = "fiscal quarter",
) -> Words:
    """The words of a test of ``covenant`` for the Borrowers in ``scope`` (combined when
    ``party_id`` is None) over the numerator's and, for a ratio, the denominator's periods."""
    scope_text = _scope_text(terms, scope, party_id)
    measured = _measured_text(terms, labels)
    if terms.metric is not None and terms.metric.nature == BALANCE:
        period_text = f"at {long_date(test_date)}"
    else:
        period_text = f"for {_window_text(quarters, terms.window_kind, test_date, terms.frequency)}"
    if denominator_quarters is None:
        subject = f"{_capitalised(measured)} of {scope_text} {period_text}"
    else:
        denominator_window = _window_text(
            denominator_quarters, terms.denominator_window_kind, test_date, terms.frequency
        )
        subject = (
            f"The ratio of {measured} {period_text} to {label(terms.denominator_line_item, labels)} "
            f"for {denominator_window}, for {scope_text},"
        )
    if is_ratio is None:
        is_ratio = denominator_quarters is not None
    threshold_text = _threshold_text(terms, row, threshold, is_ratio, relative_base, labels)
    provisional_note = (
        f" (provisional: {terms.source or 'the amendment'} is pending its conditions precedent)"
        if terms.provisional
        else ""
    )
    where = _where(covenant, terms)
    if row.date_reading:
        where += f"; date as printed: '{row.date_as_printed}', read as {long_date(row.test_date)}"
    return Words(
        subject=subject,
        where=where,
        limit_word="minimum" if terms.direction == AT_LEAST else "maximum",
        threshold_text=threshold_text,
        provisional_note=provisional_note,
        labels=labels,
        period_noun=period_noun,
    )


def _threshold_text(
    terms: TermsVersion,
    row: ScheduleRow,
    threshold: Decimal | None,
    is_ratio: bool,
    relative_base: Decimal | None,
    labels: Mapping[str, str],
) -> str:
    """The threshold as printed, or as the agreements write amounts; a relative one with its
    arithmetic: "85% of Budgeted EBITDA $10,000,000 = $8,500,000"."""
    if threshold is None:
        return ""
    if terms.threshold_relative_to and row.threshold is not None and relative_base is not None:
        percent = f"{row.threshold.normalize():f}%"
        base = label(terms.threshold_relative_to, labels)
        return f"{percent} of {base} {money(relative_base)} = {money(threshold)}"
    return row.amount_as_printed or (ratio(threshold) if is_ratio else money(threshold))


def metric_text(
    words: Words,
    metric: MetricSpec,
    items: Sequence[Window],
    values: Mapping[str, Decimal | None],
    labels: Mapping[str, str],
) -> Words:
    """The words with a defined term's figures: each line item's sum, and the formula with values."""
    sums = _join([f"{label(w.line_item, labels)} of {money(w.total)}" for w in items if w.line_item])
    formula = explained(metric, values, labels=False)
    return replace(words, detail=f" {metric.label} is computed from {sums}: {formula}.")


def no_value_text(words: Words) -> str:
    """A defined term with no value (its formula divides by zero): the test is not decided."""
    return (
        f"{words.subject} has no value ({words.where}): its definition divides by zero. "
        f"The test is not decided{words.provisional_note}."
    )


def missing_text(
    missing: list[tuple[BorrowerSpan, date, str | None]],
    labels: Mapping[str, str] = _NO_LABELS,
    period_noun: str = "fiscal quarter",
) -> str:
    """ "figures are missing from Leasing II for the fiscal quarter ending March 31, 2000 (revenues)"."""
    by_borrower: dict[int, tuple[BorrowerSpan, list[date], list[str]]] = {}
    for borrower, quarter, line_item in missing:
        entry = by_borrower.setdefault(borrower.party_id, (borrower, [], []))
        if quarter not in entry[1]:
            entry[1].append(quarter)
        if label(line_item, labels) not in entry[2]:
            entry[2].append(label(line_item, labels))
    parts = []
    for borrower, quarters, names in by_borrower.values():
        quarters.sort()
        noun = period_noun if len(quarters) == 1 else period_noun + "s"
        parts.append(
            f"{borrower.name} for the {noun} ending {_join([long_date(q) for q in quarters])} ({_join(names)})"
        )
    return "figures are missing from " + "; and from ".join(parts)


def unknown_threshold_text(row: ScheduleRow, test_date: date | None = None) -> str:
    """Why a schedule row gives no threshold to compare with on ``test_date`` (by default the row's own)."""
    day = long_date(test_date or row.test_date)
    if row.threshold_state == THRESHOLD_REDACTED:
        return f"the threshold for {day} is redacted in the copy on file"
    if row.threshold_state == THRESHOLD_TO_BE_SET:
        return f"the threshold for {day} is to be set"
    return f"no threshold amount is recorded for {day}"


def incomplete_text(words: Words, *, missing: str, unknown_threshold: str | None) -> str:
    """Figures are missing (and perhaps the threshold too): the test cannot be decided."""
    reasons = [missing] if unknown_threshold is None else [missing, unknown_threshold]
    return (
        f"{words.subject} cannot be decided ({words.where}): {'; and '.join(reasons)}. "
        f"It is not shown as compliant until they are received{words.provisional_note}."
    )


def undecided_text(words: Words, *, value: Decimal | None, is_ratio: bool, unknown_threshold: str) -> str:
    """The figures are all there but no threshold is known: the test is not decided."""
    shown = "cannot be computed" if value is None and is_ratio else f"amounted to {_shown(value, is_ratio)}"
    if value is None:
        shown += " (ratio undefined: denominator not positive)"
    return (
        f"{words.subject} {shown}, but {unknown_threshold} ({words.where}). "
        f"The test is not decided{words.provisional_note}."
    )


def _shown(value: Decimal | None, is_ratio: bool = False) -> str:
    if value is None:
        return "no value"
    return ratio(value) if is_ratio else money(value)


def undefined_ratio_text(words: Words, *, terms: TermsVersion, denominator: Decimal, met: bool) -> str:
    """A ratio whose denominator is not positive: met when a minimum is over nothing, else a breach."""
    because = (
        f"{words.subject} cannot be computed ({words.where}): ratio undefined: denominator not positive, "
        f"as {label(terms.denominator_line_item, words.labels)} amounted to {money(denominator)}."
    )
    if met:
        return (
            f"{because} With positive {_measured_text(terms, words.labels)} and no "
            f"{label(terms.denominator_line_item, words.labels)}, "
            f"the minimum of {words.threshold_text} is met{words.provisional_note}."
        )
    return (
        f"{because} It is treated as a breach of the {words.limit_word} of {words.threshold_text}"
        f"{words.provisional_note}."
    )


def compared_text(
    words: Words,
    *,
    value: Decimal,
    headroom: Decimal,
    headroom_percent: Decimal | None,
    is_ratio: bool,
    near: bool,
    direction: str,
    warning_band_percent: Decimal,
) -> str:
    """The value against its threshold, and the verdict: compliant (near breach or not) or a breach."""
    value_text = ratio(value) if is_ratio else money(value)
    statement = (
        f"{words.subject} amounted to {value_text} against a {words.limit_word} of {words.threshold_text} "
        f"({words.where})."
    )
    percent_text = f" ({headroom_percent}%)" if headroom_percent is not None else ""
    note = words.provisional_note
    if headroom < 0:
        shortfall = headroom_words(-headroom, is_ratio=is_ratio)
        return statement + f" Breach{note}: {'short' if direction == AT_LEAST else 'over'} by {shortfall}."
    headroom_text = headroom_words(headroom, is_ratio=is_ratio)
    if near:
        return statement + (
            f" Compliant{note}, but within the {warning_band_percent.normalize():f}% "
            f"warning band: headroom of {headroom_text}{percent_text}."
        )
    return statement + f" Compliant{note}, with headroom of {headroom_text}{percent_text}."


def not_tested_text(covenant: CovenantSpec, test_date: date, deleted_by: str | None) -> str:
    """No threshold in force on the test date (perhaps because an amendment deleted the covenant)."""
    reason = f"No threshold is in force for the test date {long_date(test_date)} under Section {covenant.section}"
    if deleted_by is not None:
        reason += f", which was deleted by {deleted_by or 'the agreement'}"
    return f"{reason}, so it is not tested."


def no_borrowers_text(covenant: CovenantSpec, test_date: date) -> str:
    """No Borrower on the test date: nobody to test."""
    return (
        f"Section {covenant.section} cannot be decided for {long_date(test_date)}: "
        "no Borrower is recorded under the agreement on that date."
    )


def calendar_gap_text(covenant: CovenantSpec, test_date: date, why: str) -> str:
    """The agreement's fiscal calendar does not give the periods the test needs."""
    return (
        f"Section {covenant.section} cannot be decided for {long_date(test_date)}: the fiscal calendar "
        f"does not give the periods its window needs ({why.rstrip('.')}). It is not shown as compliant."
    )
