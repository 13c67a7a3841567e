"""The covenants section (each covenant's terms, and its schedule row by row) and the
conditions precedent section."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from covenants.choices import Basis, Direction, MetricKind, TermsAction, ThresholdState, WindowKind
from covenants.periods import FiscalCalendar
from documents.importer.types import Covenant, ScheduleRow
from documents.review.proposed.context import Context, ItemData
from documents.review.proposed.instrument import line_item_code

COVENANTS, CONDITIONS = "covenants", "conditions"
RATIO_UNDEFINED_FLAG = "ratio_undefined"

ACTIONS = {
    "add": TermsAction.ADD,
    "state": TermsAction.ADD,
    "replace": TermsAction.REPLACE,
    "amend": TermsAction.REPLACE,
}
FREQUENCIES = {"quarterly": "quarter", "monthly": "month", "annually": "year"}
QUOTED_RE = re.compile(r'"(.+)"', re.DOTALL)
COLUMNS_RE = re.compile(r"(?<=\S)\s{3,}(?=\S)")


def printed_text(text: str) -> str:
    """The covenant's words as the document quotes them, with the page's line breaks and
    spacing undone; a schedule's rows are kept one to a line, their columns four spaces apart."""
    match = QUOTED_RE.search(text)
    quoted = match.group(1) if match else text
    out, previous_row = "", False
    for paragraph in re.split(r"\n\s*\n", quoted.strip()):
        lines = paragraph.strip().splitlines()
        is_row = all(COLUMNS_RE.search(line.strip()) for line in lines)
        if is_row:
            block = "\n".join(COLUMNS_RE.sub("    ", " ".join(line.split(" ")).strip()) for line in lines)
        else:
            block = " ".join(paragraph.split())
        out += ("\n" if is_row and previous_row else "\n\n" if out else "") + block
        previous_row = is_row
    return out


def direction(covenant: Covenant) -> str:
    """A cap on losses printed as negative amounts is a floor on the metric (EBITDA at least -X)."""
    if covenant.direction == "maximum" and "loss" not in covenant.metric.lower():
        return Direction.AT_MOST
    return Direction.AT_LEAST


def _covenant(context: Context, covenant: Covenant, section: str) -> ItemData:
    instrument = context.proposal.instrument
    effective = (
        instrument.dated.value.isoformat() if instrument and instrument.dated and instrument.dated.value else None
    )
    window = covenant.window
    value = {
        "agreement": context.agreement_key,
        "section": section,
        "name": covenant.name,
        "amendment": context.amendment_key,
        "action": ACTIONS.get(covenant.action, TermsAction.ADD) if covenant.action != "delete" else TermsAction.DELETE,
        "effective_from": effective,
        "text_as_printed": printed_text(context.proposal.text[covenant.span[0] : covenant.span[1]]),
        "reading": covenant.reading,
        "metric_kind": MetricKind.SUM,
        "line_item": line_item_code(covenant.metric),
        "window_periods": (window.quarters or 1) if window else 1,
        "window_kind": WindowKind.TRAILING,
        "direction": direction(covenant),
        "basis": covenant.basis if covenant.basis in Basis.values else Basis.COMBINED,
        "frequency": FREQUENCIES.get(covenant.frequency or "", "quarter"),
    }
    if covenant.kind == "ratio":
        value.update(ratio_fields(value["window_periods"]))
    label = f"{section} {covenant.name}"
    return ItemData(f"covenant:{section}", COVENANTS, label, value, covenant.span, covenant.confidence, covenant.reason)


def ratio_fields(window_periods: int) -> dict[str, Any]:
    """A ratio's terms as proposed: the ratio of two windowed sums, whose line items the reviewer
    gives (``line_item`` the numerator, ``denominator_line_item`` the denominator), or a defined
    term (``metric``) whose formula divides one by the other. The importer proposes neither: an
    amendment names the ratio and the credit agreement defines it; the flag says so."""
    return {
        "metric_kind": MetricKind.RATIO,
        "line_item": None,
        "denominator_line_item": None,
        "denominator_window_periods": window_periods,
        "metric": None,
        "flags": [RATIO_UNDEFINED_FLAG],
    }


#: Where a level reaches test dates the text does not list, the first of them is placed on the
#: calendar's period ends; the agreement's own fiscal calendar may differ, so the reviewer is told.
INFERRED_DATE_REASON = (
    "{level} applies to {what}; proposed from {date}, the first {period} end on calendar months on or after"
    " {after}: check it against the agreement's fiscal calendar."
)


def _first_test_date(after: dt.date, frequency: str, *, strictly: bool) -> dt.date:
    calendar = FiscalCalendar.calendar_months()
    first = calendar.period_end_on_or_after(after, frequency)
    if strictly and first == after:
        first = calendar.period_end_on_or_after(after + dt.timedelta(days=1), frequency)
    return first


def _dateless_row(
    covenant: Covenant, section: str, row: ScheduleRow, effective_from: str | None, previous: dt.date | None
) -> list[ItemData]:
    """A level the text gives without a date of its own: "(y) thereafter" (every test date after
    the previous row), a one-number replacement (every test date), or "(x) up to and including"
    (every test date from the terms' effective date to its date). Held as a row that applies
    thereafter from the first test date it reaches (the next row, if any, takes over)."""
    frequency = FREQUENCIES.get(covenant.frequency or "", "quarter")
    if row.kind == "thereafter" and previous is not None:
        start, what = _first_test_date(previous, frequency, strictly=True), "every test date after the row before"
        after = previous
    elif effective_from is not None and row.kind in ("flat", "up_to"):
        after = dt.date.fromisoformat(effective_from)
        start, what = _first_test_date(after, frequency, strictly=False), "every test date from the terms' effect"
    else:
        return []
    if row.kind == "up_to" and row.dates and row.dates[0].value is not None and start >= row.dates[0].value:
        return []  # the row at its own date already covers it
    reason = INFERRED_DATE_REASON.format(
        level=row.threshold.as_printed, what=what, date=start.isoformat(), period=frequency, after=after.isoformat()
    )
    return _row_items(covenant, section, row, [(start, start.isoformat())], thereafter=True, reason=reason)


def _rows(covenant: Covenant, section: str, row: ScheduleRow) -> list[ItemData]:
    reaching_on = row.kind in ("thereafter", "after", "flat")
    dates = row.dates[:1] if reaching_on else row.dates
    listed = [(printed.value, printed.as_printed) for printed in dates if printed.value is not None]
    last = dates[-1].value if dates else None
    # "September 30, 2005 (and thereafter)": a listed row's last date is open-ended too.
    return _row_items(covenant, section, row, listed, thereafter=reaching_on, open_last=row.open_ended, last=last)


def _row_items(
    covenant: Covenant,
    section: str,
    row: ScheduleRow,
    dates: list[tuple[dt.date, str]],
    *,
    thereafter: bool,
    open_last: bool = False,
    last: dt.date | None = None,
    reason: str | None = None,
) -> list[ItemData]:
    threshold = row.threshold
    state = ThresholdState.REDACTED if threshold.redacted else ThresholdState.SET
    if threshold.to_be_set:
        state = ThresholdState.TO_BE_SET
    items = []
    for day, as_printed in dates:
        value: dict[str, Any] = {
            "test_date": day.isoformat(),
            "threshold": str(threshold.value) if threshold.value is not None else None,
            "threshold_state": state,
            "amount_as_printed": threshold.as_printed,
            "applies_thereafter": thereafter or (open_last and day == last),
        }
        word = "minimum" if covenant.direction == "minimum" else "maximum"
        label = f"{section} {word} for {as_printed}"
        key = f"covenant:{section}:row:{value['test_date']}"
        items.append(ItemData(key, COVENANTS, label, value, row.span, row.confidence, reason or row.reason))
    return items


def covenant_items(context: Context) -> list[ItemData]:
    """Each covenant the document states or changes, then each row of its schedule."""
    items = []
    for index, covenant in enumerate(context.proposal.covenants, start=1):
        section = covenant.section or f"unnumbered {index}"
        terms = _covenant(context, covenant, section)
        items.append(terms)
        previous: dt.date | None = None
        for row in covenant.rows:
            rows = _rows(covenant, section, row)
            if not rows:
                rows = _dateless_row(covenant, section, row, terms.value["effective_from"], previous)
            elif row.kind == "up_to":
                rows = _dateless_row(covenant, section, row, terms.value["effective_from"], previous) + rows
            items.extend(rows)
            dated = [dt.date.fromisoformat(item.value["test_date"]) for item in rows]
            previous = max(dated, default=previous)
    return items


def condition_items(context: Context) -> list[ItemData]:
    """The document's conditions precedent; a deadline printed with a blank stays unknown."""
    items = []
    for index, condition in enumerate(context.proposal.conditions, start=1):
        value = {
            "amendment": context.amendment_key,
            "description": " ".join(condition.description.split()),
            "deadline": condition.deadline.isoformat() if condition.deadline else None,
            "deadline_as_printed": condition.deadline_as_printed or "",
        }
        label = f"Condition precedent {index}"
        items.append(
            ItemData(
                f"condition:{index}", CONDITIONS, label, value, condition.span, condition.confidence, condition.reason
            )
        )
    return items
