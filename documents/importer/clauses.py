"""Amendment clauses: "Section 7.01(b) is hereby amended ...", each up to the next clause or
the next top-level paragraph, with what it does to the section."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from .text import Flat, squash
from .types import Change, Span

SECTION = r"(\d{1,3}(?:\.\d{1,3}){0,3}(?:\([a-zA-Z0-9]{1,6}\)){0,4})"
ANCHOR_RE = re.compile(
    rf"\bSection {SECTION}([^.;:\"]{{0,160}}?),? (?:is|shall be|are) (?:hereby )?(?:further )?"
    r"(amended|deleted|restated|replaced|modified|supplemented)\b",
    re.IGNORECASE,
)
TOPLEVEL_RE = re.compile(r"(?:^| )(?:SECTION |Section )?(\d{1,2})\. ([A-Z][A-Za-z ,&]{3,60}?)\.(?= )")
PAREN_NAME_RE = re.compile(r"\(([A-Z][A-Za-z ,\-]{3,60})\)")
_HEADING = r"((?:[A-Z][A-Za-z\-]{1,20} ){0,6}[A-Z][A-Za-z\-]{1,20})\. "
# "(a) Maximum Leverage Ratio. " inside a restated section: one covenant each.
SUBITEM_RE = re.compile(rf"(?:^|[ \"“])\(([a-z]|[ivx]{{1,4}})\) {_HEADING}")
# "Section 7.11 Financial Covenants. " in an agreement itself (not an amending clause).
STATED_RE = re.compile(rf"(?:^| )(?:Section |SECTION )?(\d{{1,2}}\.\d{{1,2}}(?:\([a-z]\))?)\.? {_HEADING}")
COVENANT_WORD_RE = re.compile(
    r"\b(?:Ratio|EBITDA|Net Worth|Liquidity|Revenues?|Capital Expenditures|Coverage|Leverage|Cash|Indebtedness|"
    r"Debt|Income|Sales|Availability|Tangible)\b"
)
DEFINITION_CHANGE_RE = re.compile(
    r"\b(?:the )?definition of \"([^\"]{1,60})\"[^.;]{0,120}? (?:is|shall be) (?:hereby )?(amended|deleted|restated)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Clause:
    section: str
    name_hint: str | None
    action: str
    start: int  # flat offsets
    end: int
    head: str


def action_of(head: str) -> str:
    """What a clause does, read from its opening words."""
    low = head.lower()
    if "amended and restated" in low or "restated in its entirety" in low:
        return "replace"
    if ("deleted" in low or "delete" in low or "deleting" in low) and (
        "replaced" in low or "substitut" in low or "insert" in low
    ):
        return "replace" if "by replacing" not in low and 'by deleting "' not in low else "amend"
    if "replacing" in low or "replaced by" in low:
        return "amend"
    if "deleted in its entirety" in low:
        return "delete"
    if "to add" in low or "by adding" in low or "by inserting" in low or "supplemented" in low:
        return "add"
    return "amend"


def read_clauses(flat: Flat) -> list[Clause]:
    text = flat.text
    anchors = list(ANCHOR_RE.finditer(text))
    tops = [m.start() for m in TOPLEVEL_RE.finditer(text)]
    out: list[Clause] = []
    for i, m in enumerate(anchors):
        end = anchors[i + 1].start() if i + 1 < len(anchors) else len(text)
        k = bisect_right(tops, m.end())
        if k < len(tops) and tops[k] < end:
            end = tops[k]
        head_end = text.find(":", m.end(), min(end, m.end() + 500))
        head = text[m.start() : head_end if head_end > 0 else min(end, m.end() + 300)]
        hint = PAREN_NAME_RE.search(m.group(2))
        out.append(Clause(m.group(1), hint.group(1) if hint else None, action_of(head), m.start(), end, head))
    return out


def covenant_units(flat: Flat, clauses: list[Clause]) -> list[Clause]:
    """The pieces to read a covenant from: each amending clause, split where it restates several
    headed covenants, and sections of the agreement itself headed with a covenant's name."""
    out: list[Clause] = []
    for clause in clauses:
        out += _split(flat, clause)
    starts = [c.start for c in clauses]
    for stated in _stated(flat):
        k = bisect_right(starts, stated.start) - 1
        if k >= 0 and stated.start < clauses[k].end:
            continue  # restated inside an amending clause: read there
        out += [c for c in _split(flat, stated) if c.name_hint and COVENANT_WORD_RE.search(c.name_hint)]
    return sorted(out, key=lambda c: c.start)


def _split(flat: Flat, clause: Clause) -> list[Clause]:
    items = [m for m in SUBITEM_RE.finditer(flat.text, clause.start, clause.end) if COVENANT_WORD_RE.search(m.group(2))]
    if len(items) < 2:
        return [clause]
    out = []
    for i, m in enumerate(items):
        end = items[i + 1].start() if i + 1 < len(items) else clause.end
        section = f"{clause.section}({m.group(1)})"
        out.append(Clause(section, m.group(2), clause.action, m.start(), end, clause.head))
    return out


def _stated(flat: Flat) -> list[Clause]:
    text = flat.text
    heads = list(STATED_RE.finditer(text))
    tops = [m.start() for m in TOPLEVEL_RE.finditer(text)]
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else min(len(text), m.end() + 3000)
        k = bisect_right(tops, m.end())
        if k < len(tops) and tops[k] < end:
            end = tops[k]
        out.append(Clause(m.group(1), m.group(2), "state", m.start(), end, m.group()))
    return out


def read_changes(flat: Flat, clauses: list[Clause]) -> tuple[Change, ...]:
    """What the document does to the earlier text, clause by clause, definitions included."""
    out = [
        Change(
            f"Section {c.section}",
            c.action,
            squash(c.head)[:300],
            flat.span(c.start, c.start + len(c.head)),
            0.85,
            "amending clause names the section and what is done to it",
        )
        for c in clauses
    ]
    for m in DEFINITION_CHANGE_RE.finditer(flat.text):
        head = flat.text[m.start() : min(len(flat.text), m.end() + 120)]
        out.append(
            Change(
                f'definition of "{m.group(1)}"',
                action_of(head),
                squash(m.group()),
                flat.span(m.start(), m.end()),
                0.8,
                "amending clause names a definition",
            )
        )
    return tuple(sorted(out, key=lambda c: c.span))


def clause_span(flat: Flat, clause: Clause) -> Span:
    return flat.span(clause.start, clause.end)
