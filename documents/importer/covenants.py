"""Covenants in amending clauses: section, name, metric, direction, window, frequency, basis,
and the schedule of levels."""

from __future__ import annotations

import re

from .clauses import Clause
from .schedules import replacement, table_rows, xy_rows
from .text import Flat, squash
from .types import Covenant, PrintedDate, ScheduleRow, Threshold, Unread, Window
from .values import DATE_RE, find_thresholds, parse_date

MAX_RE = re.compile(r"\b(?:to exceed|not (?:to )?exceed|(?:be )?(?:greater|more) than|at most|maximum)\b", re.I)
MIN_RE = re.compile(r"\b(?:to be less than|(?:be )?less than|at least|no less than|minimum)\b", re.I)
METRIC_RE = re.compile(
    r"\b(?:not permit (?:the )?|Permit (?:the )?|shall (?:on a combined basis |at all times |on a consolidated basis )?"
    r"(?:have|maintain)(?: an| a)? )([A-Za-z][A-Za-z \-']{1,60}?)(?:,| for\b| as of\b| at\b| to exceed\b| to be\b"
    r"| of\b| on a\b| in an\b| equal\b| not\b| tested\b)"
)
NAME_HEAD_RE = re.compile(
    r"[\"“](?:\([a-z0-9]{1,4}\) |Section [0-9.()a-z]{1,16} )?((?:[A-Z][A-Za-z\-]{1,20} ){0,6}[A-Z][A-Za-z\-]{1,20})\. "
)
QUARTERS_WINDOW_RE = re.compile(
    r"\b(two|three|four|2|3|4) (?:consecutive )?fiscal quarters(?: (?:then )?end(?:ed|ing))?", re.I
)
MONTHS_WINDOW_RE = re.compile(r"\b(three|six|nine|twelve|3|6|9|12)[ -]month period", re.I)
TTM_WINDOW_RE = re.compile(r"\btrailing (twelve|12)[ -]months?\b", re.I)
TRAILING_QUARTERS_RE = re.compile(r"\btrailing (four|4) (?:fiscal )?quarters?\b", re.I)
YTD_WINDOW_RE = re.compile(
    r"\b(?:fiscal )?year[ -]to[ -]date\b|\bfrom the (?:first|beginning) day of (?:such|the) fiscal year", re.I
)
WINDOW_RES = (
    (QUARTERS_WINDOW_RE, "q"),
    (MONTHS_WINDOW_RE, "m"),
    (TTM_WINDOW_RE, "m"),
    (TRAILING_QUARTERS_RE, "q"),
    (YTD_WINDOW_RE, "ytd"),
)
MONTHLY_RE = re.compile(r"\b(?:last day of each (?:calendar )?month|each month|month[ -]end)\b", re.I)
QUARTERLY_RE = re.compile(r"\bfiscal quarter\b", re.I)
ANNUAL_RE = re.compile(r"\b(?:each fiscal year|fiscal year ending)\b", re.I)
AFTER_RE = re.compile(r"\b(?:beginning|ending|commencing|occurring) (?:on or )?after ", re.I)
AS_OF_ONE_RE = re.compile(r"\b(?:fiscal quarter|month|fiscal year) ending ", re.I)
RATIO_UNDEFINED = (
    "its numerator and denominator are defined in the credit agreement, not in this text: "
    "give them (or a defined term) before applying"
)
RATIO_NAME_RE = re.compile(r"\bRatio\b")
NUMBERS = {"two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "twelve": 12}


def read_covenant(flat: Flat, clause: Clause) -> tuple[Covenant | None, list[Unread]]:
    body = flat.text[clause.start : clause.end]
    span = flat.span(clause.start, clause.end)
    swap = replacement(body, clause.start, flat.span)
    direction_found = _direction(body)
    if direction_found is None and swap is None:
        return None, []
    metric = _metric(body)
    rows, header, unread = table_rows(flat.source, span[0], span[1])
    how = "table"
    if not rows:
        rows, how = xy_rows(body, clause.start, flat.span), "(x)/(y) sentence"
    if not rows and swap:
        rows, how = [ScheduleRow("flat", (), False, swap[1], swap[1].span, 0.85, "replacement level")], "replacement"
    if not rows:
        rows, how = _single(flat, clause, body), "single level"
    name, name_reason = _name(clause, body, header, direction_found, metric)
    direction, direction_reason = direction_found or (_direction_from_name(name), "read from the covenant's name")
    kind = _kind(name, metric, rows, swap[0] if swap else None)
    flags = _flags(rows, direction, kind)
    if not rows:
        unread.append(Unread(span, "covenant found but its levels could not be read", squash(body[:200])))
    reason = f"section {clause.section}; {name_reason}; {direction_reason}; levels from a {how}"
    if kind == "ratio":
        reason += f"; a ratio: {RATIO_UNDEFINED}"
    if not metric:
        metric = name.split(" ", 1)[1] if _direction_from_name(name) and " " in name else name
    covenant = Covenant(
        clause.section,
        name,
        metric,
        clause.action,
        direction,
        _window(flat, clause, body),
        _frequency(body),
        _basis(body),
        tuple(rows),
        span,
        0.85 if rows else 0.4,
        reason,
        swap[0] if swap else None,
        _reading(metric, direction, rows),
        flags,
        kind,
    )
    return covenant, unread


def _kind(name: str, metric: str, rows: list[ScheduleRow], replaced: Threshold | None) -> str:
    """A ratio when a level is printed as one ("4.00 to 1.00", "3.75x") or the covenant is named one."""
    levels = [r.threshold for r in rows] + ([replaced] if replaced else [])
    if any(level.unit == "ratio" for level in levels) or RATIO_NAME_RE.search(f"{name} {metric}"):
        return "ratio"
    return "amount"


def _flags(rows: list[ScheduleRow], direction: str | None, kind: str = "amount") -> tuple[str, ...]:
    """What a person must look at: no levels, no direction, levels redacted or to be set, a dayless
    date, a ratio whose numerator and denominator the text does not define."""
    flags = []
    if kind == "ratio":
        # An amendment names the ratio; its terms are defined in the credit agreement, which
        # the importer does not have: a person says what the ratio divides by what.
        flags.append("ratio_undefined")
    if not rows:
        flags.append("levels_unread")
    if direction is None:
        flags.append("direction_unknown")
    if any(r.threshold.redacted for r in rows):
        flags.append("redacted")
    if any(r.threshold.to_be_set for r in rows):
        flags.append("to_be_set")
    if any("day_not_printed" in d.flags for r in rows for d in r.dates):
        flags.append("day_not_printed")
    return tuple(flags)


def _direction(body: str) -> tuple[str, str] | None:
    hi, lo = MAX_RE.search(body), MIN_RE.search(body)
    if hi and (not lo or hi.start() < lo.start()):
        return "maximum", f'"{hi.group()}"'
    if lo:
        return "minimum", f'"{lo.group()}"'
    return None


def _direction_from_name(name: str) -> str | None:
    low = name.lower()
    if low.startswith(("maximum", "max")):
        return "maximum"
    if low.startswith(("minimum", "min")):
        return "minimum"
    return None


def _metric(body: str) -> str:
    m = METRIC_RE.search(body)
    return squash(m.group(1)) if m else ""


def _name(clause: Clause, body: str, header: list[str], direction, metric: str) -> tuple[str, str]:
    if clause.name_hint:
        return clause.name_hint, "name in parentheses after the section"
    m = NAME_HEAD_RE.search(body)
    if m:
        return m.group(1), "heading of the new text"
    if len(header) >= 2:
        cell = header[-1].title().replace("Ebitda", "EBITDA")
        if direction and not cell.lower().startswith(("minimum", "maximum")):
            cell = f"{direction[0].title()} {cell}"
        return cell, "inferred from the schedule's column heading"
    if metric:
        word = direction[0].title() if direction else ""
        return squash(f"{word} {metric}"), "inferred from the metric and direction"
    return f"Section {clause.section}", "no name printed"


def _window(flat: Flat, clause: Clause, body: str) -> Window | None:
    for pattern, unit in WINDOW_RES:
        m = pattern.search(body)
        if not m:
            continue
        span = flat.span(clause.start + m.start(), clause.start + m.end())
        if unit == "ytd":
            return Window(m.group(), "year_to_date", None, None, span, 0.8, "cumulative from the fiscal year's start")
        n = m.group(1).lower()
        count = NUMBERS.get(n) or int(n)
        months = count * 3 if unit == "q" else count
        quarters = months // 3 if months % 3 == 0 else None
        kind = "quarter" if months == 3 else "trailing"
        reason = f"{months} months = {quarters} quarters" if quarters else f"{months} months"
        return Window(m.group(), kind, months, quarters, span, 0.9, reason)
    return None


def _frequency(body: str) -> str | None:
    if MONTHLY_RE.search(body):
        return "monthly"
    if QUARTERLY_RE.search(body):
        return "quarterly"
    if ANNUAL_RE.search(body):
        return "annually"
    return None


def _basis(body: str) -> str | None:
    low = body.lower()
    if "combined basis" in low:
        return "combined"
    if "consolidated" in low:
        return "consolidated"
    return None


def _single(flat: Flat, clause: Clause, body: str) -> list[ScheduleRow]:
    levels = list(find_thresholds(body))
    if len(levels) != 1:
        return []
    level = levels[0]
    level = Threshold(
        level.as_printed,
        level.value,
        level.unit,
        flat.span(clause.start + level.span[0], clause.start + level.span[1]),
        level.confidence,
        level.reason,
        level.negative,
        level.redacted,
        level.to_be_set,
    )
    kind, reason = "flat", "one level for every test date"
    dates = _date_after(flat, clause, body, AFTER_RE)
    if dates:
        kind, reason = "after", "one level for every test date after the date named"
    else:
        dates = _date_after(flat, clause, body, AS_OF_ONE_RE)
        if dates:
            kind, reason = "dates", "one level for the date named"
    return [ScheduleRow(kind, dates, kind == "after", level, level.span, 0.85, reason)]


def _date_after(flat: Flat, clause: Clause, body: str, lead: re.Pattern[str]) -> tuple[PrintedDate, ...]:
    """The date printed right after a lead phrase ("fiscal quarter ending", "beginning after")."""
    for m in lead.finditer(body):
        d = DATE_RE.match(body, m.end())
        if d:
            pd = parse_date(d)
            s = flat.span(clause.start + d.start(), clause.start + d.end())
            return (PrintedDate(pd.as_printed, pd.value, s, pd.confidence, pd.reason, pd.day_printed, pd.flags),)
    return ()


def _reading(metric: str, direction: str | None, rows) -> str:
    negative = any(r.threshold.negative for r in rows)
    if "loss" in metric.lower() and direction == "maximum" and negative:
        base = metric.lower().replace("losses", "").replace("loss", "").strip() or "the metric"
        return f"losses capped at a printed negative amount: {base} must be at least that amount (equality passes)"
    if direction == "minimum" and negative:
        return "a negative minimum: the metric may be negative down to the amount (equality passes)"
    if direction == "minimum":
        return "at least the level (equality passes)"
    if direction == "maximum":
        return "at most the level (equality passes)"
    return ""
