"""The engine's explanations: every sentence a result gives, in the words of the agreement.

Figures and dates are written by compliance.formatting, the one place that writes them as the
agreements print them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from compliance.engine.types import (
    AT_LEAST,
    THRESHOLD_REDACTED,
    THRESHOLD_TO_BE_SET,
    BorrowerSpan,
    CovenantSpec,
    ScheduleRow,
    TermsVersion,
)
from compliance.formatting import headroom as headroom_words
from compliance.formatting import long_date, money, ratio
from covenants.calendar import FISCAL_YTD

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


def label(line_item: str | None) -> str:
    """A line item as the explanations name it."""
    if not line_item:
        return "the figure"
    return _LINE_ITEM_LABELS.get(line_item, line_item.replace("_", " "))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _window_text(quarters: tuple[date, ...], kind: str, test_date: date) -> str:
    if kind == FISCAL_YTD:
        return f"the fiscal year to date ending {long_date(test_date)}"
    if len(quarters) == 1:
        return f"the fiscal quarter ending {long_date(test_date)}"
    count = _COUNT_WORDS[len(quarters)] if len(quarters) < len(_COUNT_WORDS) else str(len(quarters))
    return f"the {count} fiscal quarters ending {long_date(test_date)}"


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
) -> Words:
    """The words of a test of ``covenant`` for the Borrowers in ``scope`` (combined when
    ``party_id`` is None) over the numerator's and, for a ratio, the denominator's quarters."""
    scope_text = "all the Borrowers on a combined basis" if party_id is None else scope[0].name
    window_text = _window_text(quarters, terms.window_kind, test_date)
    if denominator_quarters is None:
        subject = f"{_capitalised(label(terms.line_item))} of {scope_text} for {window_text}"
    else:
        subject = (
            f"The ratio of {label(terms.line_item)} for {window_text} to {label(terms.denominator_line_item)} "
            f"for {_window_text(denominator_quarters, terms.denominator_window_kind, test_date)}, for {scope_text},"
        )
    threshold_text = ""
    if threshold is not None:
        is_ratio = denominator_quarters is not None
        threshold_text = row.amount_as_printed or (ratio(threshold) if is_ratio else money(threshold))
    provisional_note = (
        f" (provisional: {terms.source or 'the amendment'} is pending its conditions precedent)"
        if terms.provisional
        else ""
    )
    return Words(
        subject=subject,
        where=_where(covenant, terms),
        limit_word="minimum" if terms.direction == AT_LEAST else "maximum",
        threshold_text=threshold_text,
        provisional_note=provisional_note,
    )


def missing_text(missing: list[tuple[BorrowerSpan, date, str | None]]) -> str:
    """ "figures are missing from Leasing II for the fiscal quarter ending March 31, 2000 (revenues)"."""
    by_borrower: dict[int, tuple[BorrowerSpan, list[date], list[str]]] = {}
    for borrower, quarter, line_item in missing:
        entry = by_borrower.setdefault(borrower.party_id, (borrower, [], []))
        if quarter not in entry[1]:
            entry[1].append(quarter)
        if label(line_item) not in entry[2]:
            entry[2].append(label(line_item))
    parts = []
    for borrower, quarters, labels in by_borrower.values():
        quarters.sort()
        noun = "fiscal quarter" if len(quarters) == 1 else "fiscal quarters"
        parts.append(
            f"{borrower.name} for the {noun} ending {_join([long_date(q) for q in quarters])} ({_join(labels)})"
        )
    return "figures are missing from " + "; and from ".join(parts)


def unknown_threshold_text(row: ScheduleRow) -> str:
    """Why a schedule row gives no threshold to compare with."""
    if row.threshold_state == THRESHOLD_REDACTED:
        return f"the threshold for {long_date(row.test_date)} is redacted in the copy on file"
    if row.threshold_state == THRESHOLD_TO_BE_SET:
        return f"the threshold for {long_date(row.test_date)} is to be set"
    return f"no threshold amount is recorded for {long_date(row.test_date)}"


def incomplete_text(words: Words, *, missing: str, unknown_threshold: str | None) -> str:
    """Figures are missing (and perhaps the threshold too): the test cannot be decided."""
    reasons = [missing] if unknown_threshold is None else [missing, unknown_threshold]
    return (
        f"{words.subject} cannot be decided ({words.where}): {'; and '.join(reasons)}. "
        f"It is not shown as compliant until they are received{words.provisional_note}."
    )


def undecided_text(words: Words, *, value: Decimal | None, is_ratio: bool, unknown_threshold: str) -> str:
    """The figures are all there but no threshold is known: the test is not decided."""
    shown = "cannot be computed" if value is None and is_ratio else f"amounted to {_shown(value)}"
    if value is None:
        shown += " (ratio undefined: denominator not positive)"
    return (
        f"{words.subject} {shown}, but {unknown_threshold} ({words.where}). "
        f"The test is not decided{words.provisional_note}."
    )


def _shown(value: Decimal | None) -> str:
    return "no value" if value is None else money(value)


def undefined_ratio_text(words: Words, *, terms: TermsVersion, denominator: Decimal, met: bool) -> str:
    """A ratio whose denominator is not positive: met when a minimum is over nothing, else a breach."""
    because = (
        f"{words.subject} cannot be computed ({words.where}): ratio undefined: denominator not positive, "
        f"as {label(terms.denominator_line_item)} amounted to {money(denominator)}."
    )
    if met:
        return (
            f"{because} With positive {label(terms.line_item)} and no {label(terms.denominator_line_item)}, "
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
