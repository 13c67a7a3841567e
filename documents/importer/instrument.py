"""The instrument: its title, date, the earlier instruments it recites, its governing law."""

from __future__ import annotations

import re

from .places import PLACE_ALT, canonical_place
from .text import Flat, iter_lines, printed_case, squash
from .types import Change, GoverningLaw, Instrument, InstrumentRef, PrintedDate, Span
from .values import DATE_RE, DAY_OF_RE, find_dates, parse_date

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_ORDINAL_WORDS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
NUMBER_WORDS = {w: i for i, w in enumerate(_WORDS)}
ORDINALS = {w: i for i, w in enumerate((*_ORDINAL_WORDS, "tenth", "eleventh", "twelfth"))}
_NUM = r"(?:[0-9]{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_ORD = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
TITLE_KIND_RE = re.compile(
    rf"\b(amended and restated |waiver and |consent and )?(?:(amendment|waiver)(?: no\.?| number)[ ]?({_NUM})\b"
    rf"|({_ORD}) (amendment|waiver)\b)",
    re.IGNORECASE,
)
AGREEMENT_NAME_RE = re.compile(
    r"\bto (?:the )?((?:[A-Za-z,&]{1,20} ){0,6}?(?:agreement|indenture|guaranty))\b(?! agreement)", re.I
)
# An exhibit label above the title, as printed ("EXHIBIT 10.2") or as EDGAR types it ("EX-10.1").
EXHIBIT_RE = re.compile(r"(?:exhibit[ ]{1,4}|ex-)[0-9a-z][0-9a-z.()\-]{0,12}", re.IGNORECASE)
INSTRUMENT_WORD_RE = re.compile(r"\b(?:AMENDMENT|AGREEMENT|WAIVER|CONSENT|GUARANTY|INDENTURE)\b")
TITLE_CUT_RE = re.compile(r" (?:by and among|among|between|by and between|dated)\b.{0,2000}", re.IGNORECASE)
DATED_RE = re.compile(r"\b((?:dated|made|entered into|effective)(?: effective)?(?: as of)?) ", re.IGNORECASE)
RECITED_RE = re.compile(
    rf"\b(?:((?:Waiver and |Consent and )?(?:Amendment|Waiver)(?: No\.?| Number) ?{_NUM})\b"
    rf"|that certain ((?:[A-Z][A-Za-z&]{{0,20}} ){{0,6}}?(?:Agreement|Guaranty|Indenture|Note))\b(?! Agreement)"
    rf"|((?:Waiver and |Consent and )?{_ORD} (?:Amendment|Waiver))\b)",
    re.IGNORECASE,
)
CONTRACT_RE = re.compile(r"\(\s?Contract (?:Number|No\.?) ?([A-Z0-9][A-Z0-9\-]{2,30})\s?\)", re.IGNORECASE)
RECITED_DATE_RE = re.compile(r"\b(?:dated|effective)(?: as of)? $", re.IGNORECASE)
LAW_RE = re.compile(
    r"\bgoverned by(?: and construed in accordance with)?[^.]{0,240}?\blaws? (?:\([^()]{0,120}\) )?of the "
    rf"(State|Commonwealth|Province) of ({PLACE_ALT})\b",
    re.IGNORECASE,
)
REAFFIRM_RE = re.compile(r"\bREAFFIRMATION OF (GUARANTY|GUARANTEE)\b")
AS_OF_THIS_RE = re.compile(r"\bas of (?:this|the) ", re.IGNORECASE)


def number_of(word: str | None) -> int | None:
    if not word:
        return None
    w = word.lower()
    if w.isdigit():
        return int(w)
    return NUMBER_WORDS.get(w, ORDINALS.get(w))


def read_title(text: str) -> tuple[str, Span] | None:
    """The first group of heading lines naming an instrument (an exhibit label or legend is skipped)."""
    groups: list[list[tuple[str, int, int]]] = [[]]
    for offset, line in iter_lines(text, 0, min(len(text), 6000)):
        stripped = line.strip()
        if not stripped:
            continue
        if EXHIBIT_RE.fullmatch(stripped):
            continue
        words = [w.strip("()\"',.;:") for w in stripped.split()]
        # A heading is set in capitals; the first lowercase word or quotation opens the text.
        lower = [w for w in words if w.isalpha() and w.islower() and w not in ("to", "the", "of", "and")]
        if lower or '"' in stripped:
            break
        start = offset + line.find(stripped[0])
        groups[-1].append((stripped, start, offset + len(line.rstrip())))
        if stripped.endswith("."):
            groups.append([])
    for group in groups:
        joined = squash(" ".join(t for t, _, _ in group))
        if group and INSTRUMENT_WORD_RE.search(joined):
            return joined, (group[0][1], group[-1][2])
    return None


def read_instrument(text: str, flat: Flat, changes: tuple[Change, ...]) -> Instrument | None:
    found = read_title(text)
    if found is None:
        return None
    title_full, span = found
    title = TITLE_CUT_RE.sub("", title_full)
    kind, number = "agreement", None
    m = TITLE_KIND_RE.search(title)
    if m:
        prefix = (m.group(1) or "").strip().lower()
        base = (m.group(2) or m.group(5) or "amendment").lower()
        kind = f"{prefix} {base}".strip()
        number = number_of(m.group(3) or m.group(4))
    elif "amended and restated" in title.lower():
        kind = "amended and restated agreement"
    amends = None
    a = AGREEMENT_NAME_RE.search(title)
    if a and kind != "agreement":
        amends = printed_case(flat, a.group(1))
    dated, label = _dated(flat, title_end=flat.to_flat(span[1]))
    chain = tuple(read_chain(flat, number, dated))
    reason = "heading lines at the top of the document"
    return Instrument(title, kind, number, amends, dated, label, chain, read_law(flat), changes, span, 0.9, reason)


def _dated(flat: Flat, title_end: int) -> tuple[PrintedDate | None, str]:
    """The first "dated as of" / "effective as of" date after the title."""
    window = flat.text[title_end : title_end + 3000]
    for m in DATED_RE.finditer(window):
        d = DATE_RE.match(window, m.end())
        if d:
            pd = parse_date(d)
            span = flat.span(title_end + d.start(), title_end + d.end())
            label = squash(m.group(1)).lower()
            return PrintedDate(
                pd.as_printed, pd.value, span, pd.confidence, f'"{label}" date', pd.day_printed, pd.flags
            ), label
    return None, ""


def read_chain(flat: Flat, own_number: int | None, own_date: PrintedDate | None) -> list[InstrumentRef]:
    """Earlier instruments recited anywhere in the text, each once, in order of appearance."""
    matches = list(RECITED_RE.finditer(flat.text))
    reaffirmed = _reaffirmed(flat)
    out: list[InstrumentRef] = []
    seen: set[tuple[object, ...]] = set()
    for i, m in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else min(len(flat.text), m.end() + 400)
        window = flat.text[m.end() : min(stop, m.end() + 400)]
        name = squash(m.group(1) or m.group(2) or m.group(3))
        dated = _recited_date(flat, window, m.end())
        if dated is None:
            continue  # a mention ("this Amendment", "the Loan Agreement") without a date is no recital
        kind, number = _kind_of(name)
        if number is not None and number == own_number and own_date and dated.value == own_date.value:
            continue
        key = (kind, number if number is not None else name.lower(), dated.value)
        if key in seen:
            continue
        seen.add(key)
        contract = CONTRACT_RE.search(window[:120])
        span = flat.span(m.start(), m.end())
        out.append(
            InstrumentRef(
                printed_case(flat, name),
                kind,
                number,
                dated,
                contract.group(1) if contract else None,
                span,
                0.85,
                "recited with its date",
                reaffirmed if kind == "guaranty" else None,
            )
        )
    return out


def _recited_date(flat: Flat, window: str, base: int) -> PrintedDate | None:
    for d in DATE_RE.finditer(window):
        if RECITED_DATE_RE.search(window[max(0, d.start() - 20) : d.start()]):
            pd = parse_date(d)
            span = flat.span(base + d.start(), base + d.end())
            return PrintedDate(pd.as_printed, pd.value, span, pd.confidence, pd.reason, pd.day_printed, pd.flags)
    return None


def _kind_of(name: str) -> tuple[str, int | None]:
    low = name.lower()
    m = TITLE_KIND_RE.search(name)
    if m:
        prefix = (m.group(1) or "").strip().lower()
        base = (m.group(2) or m.group(5) or "amendment").lower()
        return f"{prefix} {base}".strip(), number_of(m.group(3) or m.group(4))
    for word in ("guaranty", "indenture", "note"):
        if low.endswith(word):
            return word, None
    return "agreement", None


def _reaffirmed(flat: Flat) -> PrintedDate | None:
    """A guaranty reaffirmed in the same filing: the date the reaffirmation is executed as of."""
    m = REAFFIRM_RE.search(flat.text)
    if not m:
        return None
    for a in AS_OF_THIS_RE.finditer(flat.text, m.end(), m.end() + 20000):
        d = DAY_OF_RE.match(flat.text, a.end()) or DATE_RE.match(flat.text, a.end())
        if d:
            pd = parse_date(d)
            span = flat.span(d.start(), d.end())
            return PrintedDate(pd.as_printed, pd.value, span, pd.confidence, "reaffirmation executed as of", True)
    return None


def read_law(flat: Flat) -> GoverningLaw | None:
    m = LAW_RE.search(flat.text)
    if not m:
        return None
    place = canonical_place(m.group(2))
    return GoverningLaw(place, m.group(), flat.span(m.start(), m.end()), 0.9, f"laws of the {m.group(1).title()}")


def first_date(text: str) -> PrintedDate | None:
    dates = find_dates(text)
    return dates[0] if dates else None
