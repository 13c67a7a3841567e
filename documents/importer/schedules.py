"""Schedules of levels: tables of dates and amounts (grouped dates, open-ended rows, ranges),
"(x) ... (y) thereafter" sentences, one-number replacements and single levels."""

from __future__ import annotations

import re
from collections.abc import Callable

from .text import iter_lines, squash
from .types import PrintedDate, ScheduleRow, Span, Threshold, Unread
from .values import find_dates, find_thresholds

# Maps a span in the flat text read by a sentence reader to a span in the source text.
ToSource = Callable[[int, int], Span]
WORD_RE = re.compile(r"[A-Za-z]{1,30}")
CONTINUATION_WORDS = frozenset(
    ("and", "through", "to", "including", "the", "last", "day", "of", "each", "fiscal", "quarter", "month")
    + ("year", "ending", "ended", "thereafter", "calendar", "on", "or", "after")
)
THEREAFTER_RE = re.compile(r"\bthereafter\b", re.IGNORECASE)
OPEN_START_RE = re.compile(
    r"(?:\"|“)?(?:thereafter|each (?:fiscal quarter|month|fiscal year)[^0-9$]{0,40}thereafter)\b", re.IGNORECASE
)
THROUGH_RE = re.compile(r"\b(?:through|to and including|until)\b", re.IGNORECASE)
LOWER_WORD_RE = re.compile(r"\b[a-z]{2,20}\b")
CELL_SPLIT_RE = re.compile(r"[ \t]{3,}")
COLUMN_GAP_RE = re.compile(r"\S[ \t]{3,}\S")
REPLACE_RE = re.compile(
    r"\b(?:replacing|deleting|substituting for) (?:the (?:ratio|amount|figure|number|reference to) )?"
    r"[\"“]([^\"”]{1,40})[\"”]"
    r"[^\"“]{0,80}?(?:with|by|and (?:inserting|substituting)(?: in lieu thereof)?) (?:the )?[\"“]([^\"”]{1,40})[\"”]",
    re.IGNORECASE,
)
X_RE = re.compile(r"\(x\) ")
Y_RE = re.compile(r"\(y\) ")
UP_TO_RE = re.compile(
    r"\b(?:up to and including|on or before|on or prior to|through and including|through|prior to)\b", re.IGNORECASE
)


def table_rows(text: str, start: int, end: int) -> tuple[list[ScheduleRow], list[str], list[Unread]]:
    """Rows of a schedule printed as a table in text[start:end], its header cells, and lines not read."""
    rows: list[ScheduleRow] = []
    header: list[str] = []
    unread: list[Unread] = []
    pending: list[PrintedDate] = []
    pending_start = -1
    for offset, line in iter_lines(text, start, end):
        body = line.strip().strip('"“”')
        if not body:
            continue
        lead = offset + line.find(body[:1]) if body else offset
        dates = find_dates(line, offset)
        levels = [t for t in find_thresholds(line, offset, bare=True) if not _inside(t.span, dates)]
        starts_open = OPEN_START_RE.match(body) is not None
        starts_date = bool(dates) and dates[0].span[0] - lead <= 1
        if not (starts_date or starts_open or pending):
            if not dates and not levels and _is_header(body):
                header = [squash(c) for c in CELL_SPLIT_RE.split(body) if c.strip()]
            continue
        if _prose(line, dates, levels) and not pending:
            continue
        pending += dates
        if pending_start < 0:
            pending_start = lead
        level = _last_level(line, offset, levels, starts_open or bool(THEREAFTER_RE.search(line)))
        if level is None:
            if (not dates and not starts_open) or not _continues(line, offset, dates):
                unread.append(Unread((lead, offset + len(line.rstrip())), "schedule line without a level", body))
                pending, pending_start = [], -1
            continue
        rows.append(_row(pending, level, text, (pending_start, level.span[1]), starts_open))
        pending, pending_start = [], -1
    if pending:
        span = (pending[0].span[0], pending[-1].span[1])
        unread.append(Unread(span, "schedule dates without a level", text[span[0] : span[1]]))
    return rows, header, unread


def _continues(line: str, offset: int, dates: list[PrintedDate]) -> bool:
    """A line of dates that a following line completes: nothing on it but dates and joining words."""
    rest = line
    for d in reversed(dates):
        rest = rest[: d.span[0] - offset] + " " + rest[d.span[1] - offset :]
    if any(ch.isdigit() or ch == "$" for ch in rest):
        return False  # a figure that is not a level: the line is not only dates
    return all(w.lower() in CONTINUATION_WORDS for w in WORD_RE.findall(rest))


def _inside(span: Span, dates: list[PrintedDate]) -> bool:
    return any(d.span[0] <= span[0] < d.span[1] for d in dates)


def _is_header(body: str) -> bool:
    return bool(COLUMN_GAP_RE.search(body)) or (body.isupper() and len(body) < 80)


def _prose(line: str, dates: list[PrintedDate], levels: list[Threshold]) -> bool:
    rest = line
    for item in sorted([*dates, *levels], key=lambda x: x.span, reverse=True):
        rest = rest.replace(item.as_printed, " ")
    return len(LOWER_WORD_RE.findall(rest)) > 10


def _last_level(line: str, offset: int, levels: list[Threshold], open_row: bool) -> Threshold | None:
    if not levels:
        return None
    last = levels[-1]
    tail = line[last.span[1] - offset :].strip(' \t"”;.,:')
    if not tail or last.to_be_set or (open_row and len(tail) < 40):
        return last
    return None


def _row(dates: list[PrintedDate], level: Threshold, text: str, span: Span, starts_open: bool) -> ScheduleRow:
    printed = text[span[0] : span[1]]
    open_ended = bool(THEREAFTER_RE.search(printed))
    kind = "dates"
    reason = "table row"
    if not dates:
        kind, reason = "thereafter", "row for every test date after the previous row"
    elif len(dates) == 2 and THROUGH_RE.search(text[dates[0].span[1] : dates[1].span[0]]):
        kind, reason = "range", "row for every test date from the first date through the second"
    elif len(dates) > 1:
        reason = "grouped dates sharing one level"
    if open_ended and dates:
        reason += "; open-ended: applies to every later test date"
    confidence = min([0.9, level.confidence, *(d.confidence for d in dates)])
    return ScheduleRow(kind, tuple(dates), open_ended, level, span, confidence, reason)


def xy_rows(sentence: str, base: int, to_source: ToSource) -> list[ScheduleRow]:
    """'(x) 2.50 to 1.00 for periods ending up to and including June 30, 2003 and (y) 3.00 to 1.00 thereafter'."""
    x, y = X_RE.search(sentence), Y_RE.search(sentence)
    if not x or not y or y.start() < x.start():
        return []
    first, second = sentence[x.end() : y.start()], sentence[y.end() : y.end() + 300]
    lx, ly = find_thresholds(first), find_thresholds(second)
    dx = find_dates(first)
    if not lx or not ly:
        return []
    rows = []
    sx = to_source(base + x.start(), base + y.start())
    level_x = _shift(lx[0], base + x.end(), to_source)
    dates_x = tuple(_shift_date(d, base + x.end(), to_source) for d in dx[:1])
    kind = "up_to" if dx and UP_TO_RE.search(first) else ("dates" if dx else "flat")
    rows.append(ScheduleRow(kind, dates_x, False, level_x, sx, 0.85, "(x) clause: level up to and including the date"))
    level_y = _shift(ly[0], base + y.end(), to_source)
    after = THEREAFTER_RE.search(second) is not None or "after" in second.lower()
    sy = to_source(base + y.start(), base + y.end() + ly[0].span[1])
    reason = "(y) clause: level for every later test date"
    rows.append(ScheduleRow("thereafter" if after else "flat", (), after, level_y, sy, 0.85, reason))
    return rows


def replacement(sentence: str, base: int, to_source: ToSource) -> tuple[Threshold, Threshold] | None:
    """'by replacing "4.00 to 1.00" with "3.50 to 1.00"': the old and new level."""
    m = REPLACE_RE.search(sentence)
    if not m:
        return None
    old = find_thresholds(m.group(1))
    new = find_thresholds(m.group(2))
    if not old or not new:
        return None
    return _shift(old[0], base + m.start(1), to_source), _shift(new[0], base + m.start(2), to_source)


def _shift(t: Threshold, base: int, to_source: ToSource) -> Threshold:
    return Threshold(
        t.as_printed,
        t.value,
        t.unit,
        to_source(base + t.span[0], base + t.span[1]),
        t.confidence,
        t.reason,
        t.negative,
        t.redacted,
        t.to_be_set,
    )


def _shift_date(d: PrintedDate, base: int, to_source: ToSource) -> PrintedDate:
    return PrintedDate(
        d.as_printed,
        d.value,
        to_source(base + d.span[0], base + d.span[1]),
        d.confidence,
        d.reason,
        d.day_printed,
        d.flags,
    )
