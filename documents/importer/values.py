"""Dates, amounts and ratios as printed, and their readings."""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from .types import PrintedDate, Span, Threshold

MONTHS = {
    name: i
    for i, names in enumerate(
        (
            (),
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        )
    )
    for name in names
}
MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
)
# "December 31, 1999", "December  31,1999", "June, 2019" (no day), "January __, 2000" (blank).
DATE_RE = re.compile(
    rf"\b({MONTH})\.?(?:[ \t]{{1,4}}(?:([0-9]{{1,2}})(?:st|nd|rd|th)?|(_{{1,12}})))?"
    rf"[ \t]{{0,4}},?[ \t]{{1,4}}([0-9]{{4}})\b",
    re.IGNORECASE,
)
# "31st day of December, 1999"
DAY_OF_RE = re.compile(
    rf"\b([0-9]{{1,2}})(?:st|nd|rd|th)?[ \t]{{1,3}}day[ \t]{{1,3}}of[ \t]{{1,3}}({MONTH}),?[ \t]{{1,3}}([0-9]{{4}})\b",
    re.IGNORECASE,
)
# "$18,000,000", "($50,400,000)", "-$5", "$3.5 million"; in HTML tables a cell may hold the "$" and the
# next one the figure, its parenthesis opened after the "$" and closed a few spaces on.
AMOUNT_RE = re.compile(
    r"(?P<open>\()?[ \t]?(?P<minus>-)?[ \t]?\$[ \t]{0,3}(?P<open2>\()?[ \t]{0,2}"
    r"(?P<digits>[0-9]{1,3}(?:,[0-9]{3}){1,6}|[0-9]{1,15})(?:\.(?P<cents>[0-9]{1,4}))?"
    r"(?:[ \t]{1,2}(?P<scale>million|billion))?[ \t]{0,3}(?P<close>\))?",
    re.IGNORECASE,
)
# Tables often print amounts without the dollar sign: read only in a schedule's rows.
BARE_AMOUNT_RE = re.compile(
    r"(?P<open>\()?(?P<minus>-)?\b(?P<digits>[0-9]{1,3}(?:,[0-9]{3}){1,6})(?:\.(?P<cents>[0-9]{1,4}))?(?![0-9,])"
    r"[ \t]{0,3}(?P<close>\))?"
)
RATIO_RE = re.compile(r"\b([0-9]{1,3}(?:\.[0-9]{1,4})?)[ \t]{0,3}(?:to|:)[ \t]{0,3}(1(?:\.0{1,4})?)\b", re.IGNORECASE)
TIMES_RE = re.compile(r"\b([0-9]{1,3}\.[0-9]{1,4})[ \t]?x\b", re.IGNORECASE)
REDACTED_RE = re.compile(r"\[[ \t]{0,2}\*{1,6}[ \t]{0,2}\]|\*{3,6}")
TO_BE_SET_RE = re.compile(r"\b(?:to be (?:set|determined|agreed|established)|tbd)\b", re.IGNORECASE)


def parse_date(match: re.Match[str], offset: int = 0) -> PrintedDate:
    """The reading of a DATE_RE or DAY_OF_RE match; spans shifted by offset."""
    span: Span = (match.start() + offset, match.end() + offset)
    printed = " ".join(match.group().split())
    if match.re is DAY_OF_RE:
        day_s, month_s, year_s, blank = match.group(1), match.group(2), match.group(3), None
    else:
        month_s, day_s, blank, year_s = match.group(1), match.group(2), match.group(3), match.group(4)
    month = MONTHS[month_s.lower()]
    year = int(year_s)
    if blank:
        return PrintedDate(printed, None, span, 0.95, "the day is left blank in the text", False, ("day_blank",))
    if day_s is None:
        last = calendar.monthrange(year, month)[1]
        return PrintedDate(
            printed,
            date(year, month, last),
            span,
            0.6,
            "printed without a day: read as the month's last day",
            False,
            ("day_not_printed",),
        )
    try:
        value = date(year, month, int(day_s))
    except ValueError:
        return PrintedDate(printed, None, span, 0.3, "not a date in the calendar", True, ("invalid_date",))
    return PrintedDate(printed, value, span, 0.98, "month, day and year printed", True)


def find_dates(text: str, offset: int = 0) -> list[PrintedDate]:
    found = [parse_date(m, offset) for m in DATE_RE.finditer(text)]
    found += [parse_date(m, offset) for m in DAY_OF_RE.finditer(text)]
    found.sort(key=lambda d: (d.span[0], -d.span[1]))
    out: list[PrintedDate] = []
    for item in found:
        if not out or item.span[0] >= out[-1].span[1]:
            out.append(item)
    return out


def parse_amount(match: re.Match[str], offset: int = 0) -> Threshold:
    g = match.groupdict()
    opened, minus, digits, cents, scale, closed = (
        g["open"] or g.get("open2"),
        g["minus"],
        g["digits"],
        g["cents"],
        g.get("scale"),
        g["close"],
    )
    raw = match.group()
    lead = len(raw) - len(raw.lstrip())
    span: Span = (match.start() + lead + offset, match.start() + len(raw.rstrip()) + offset)
    printed = raw.strip()
    try:
        value = Decimal(digits.replace(",", "") + (f".{cents}" if cents else ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        value = Decimal(0)
    if scale:
        value *= Decimal(1_000_000 if scale.lower() == "million" else 1_000_000_000)
        value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
    # A lone parenthesis belongs to the prose around the amount, not to its sign.
    negative = bool(minus) or bool(opened and closed)
    if opened and not closed and printed.startswith("("):
        printed = printed[1:].lstrip()
        span = (span[1] - len(printed), span[1])
    if closed and not opened:
        printed = printed[:-1].rstrip()
        span = (span[0], span[0] + len(printed))
    reason = "amount in parentheses: negative" if opened and closed else "dollar amount"
    return Threshold(printed, -value if negative else value, "USD", span, 0.95, reason, negative=negative)


def parse_ratio(match: re.Match[str], offset: int = 0) -> Threshold:
    span: Span = (match.start() + offset, match.end() + offset)
    printed = " ".join(match.group().split())
    if match.re is TIMES_RE:
        return Threshold(printed, Decimal(match.group(1)), "ratio", span, 0.9, "ratio printed as a multiple")
    # "4.00 to 1.00" keeps its printed places; a ratio to anything but one is divided out.
    denominator = Decimal(match.group(2))
    value = Decimal(match.group(1)) if denominator == 1 else Decimal(match.group(1)) / denominator
    return Threshold(printed, value, "ratio", span, 0.95, "ratio")


def find_thresholds(text: str, offset: int = 0, *, bare: bool = False) -> list[Threshold]:
    """Every level printed in a piece of text, in order: amounts, ratios, redactions, blanks."""
    found: list[Threshold] = [parse_amount(m, offset) for m in AMOUNT_RE.finditer(text)]
    if bare:
        found += [parse_amount(m, offset) for m in BARE_AMOUNT_RE.finditer(text)]
    found += [parse_ratio(m, offset) for m in RATIO_RE.finditer(text)]
    found += [parse_ratio(m, offset) for m in TIMES_RE.finditer(text)]
    for m in REDACTED_RE.finditer(text):
        span = (m.start() + offset, m.end() + offset)
        found.append(Threshold(m.group(), None, "", span, 0.9, "redacted in the filed copy", redacted=True))
    for m in TO_BE_SET_RE.finditer(text):
        span = (m.start() + offset, m.end() + offset)
        found.append(Threshold(m.group(), None, "", span, 0.8, "level left to be set", to_be_set=True))
    found.sort(key=lambda t: t.span)
    return _without_overlaps(found)


def _without_overlaps(items: list[Threshold]) -> list[Threshold]:
    out: list[Threshold] = []
    for item in items:
        if out and item.span[0] < out[-1].span[1]:
            continue
        out.append(item)
    return out
