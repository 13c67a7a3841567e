"""Signature blocks and lines exactly as printed: headings, entities, "By:" through another
entity, names, titles, blank lines, two-column pages. Nothing is corrected here; the
discrepancies are reported by the caller."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .parties import SUFFIXES, role_of
from .text import PAGE_NUMBER_RE, RULE_TOKEN_RE, TOKEN_RE, iter_lines, name_key, squash
from .types import Role, SignatoryEntity, SignatureBlock, SignatureLine, Span, Through

WITNESS_RE = re.compile(r"IN[ \t]{1,4}WITNESS[ \t]{1,4}WHEREOF", re.IGNORECASE)
COLUMN_KEY_RE = re.compile(r"\b(?:By|Name|Title):")
BY_RE = re.compile(r"By:[ \t]{0,40}(.{0,200})")
NAME_RE = re.compile(r"Name:[ \t]{0,40}(.{0,200})")
TITLE_RE = re.compile(r"Title:[ \t]{0,40}(.{0,200})")
LABEL_RE = re.compile(r"([A-Z][A-Z ,.&'/-]{2,40}:)(?:[ \t]{2,200}|$)")
TITLE_WORDS_RE = re.compile(
    r"(?:(?:Senior|Executive|Assistant|First|Managing|Authorized|Area|General|Vice|Chief|Financial|Operating|"
    r"Executive|Portfolio|Duly|Signatory|President|Director|Manager|Officer|Secretary|Treasurer|Partner|"
    r"Member|Controller|Counsel|CFO|CEO|COO|Principal|Associate|Analyst|Agent)[ ,&]{0,3}){1,8}",
)
CAPACITY_SPLIT_RE = re.compile(r" and |, ")
PROSE_WORD_RE = re.compile(r"\b[a-z]{2,20}\b")


@dataclass
class _Item:
    text: str
    span: Span
    blank: bool = False
    page_break: bool = False


@dataclass
class _Block:
    heading: str | None
    entity_parts: list[list[tuple[str, Span]]] = field(default_factory=list)
    through: list[list[tuple[str, Span]]] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    shared: bool = False
    start: int = 0
    end: int = 0


def regions(text: str) -> list[Span]:
    """Each signature page: from "IN WITNESS WHEREOF" to the next prose paragraph or heading."""
    out: list[Span] = []
    for m in WITNESS_RE.finditer(text):
        para_end = text.find("\n\n", m.end())
        start = len(text) if para_end < 0 else para_end
        end = len(text)
        last_caps: int | None = None
        for offset, line in iter_lines(text, start):
            stripped = line.strip()
            if len(PROSE_WORD_RE.findall(stripped)) >= 6 or WITNESS_RE.search(stripped):
                end = last_caps if last_caps is not None else offset
                break
            if stripped and stripped.isupper() and len(line) - len(line.lstrip()) >= 20 and "," not in stripped:
                last_caps = offset if last_caps is None else last_caps
            elif stripped and not PAGE_NUMBER_RE.fullmatch(stripped):
                last_caps = None
        out.append((start, end))
    return out


def read_signatures(text: str) -> list[SignatureBlock]:
    blocks: list[SignatureBlock] = []
    for start, end in regions(text):
        for column in _columns(text, start, end):
            blocks += _parse(column)
    return sorted(blocks, key=lambda b: b.span)


def _columns(text: str, start: int, end: int) -> list[list[_Item]]:
    lines = list(iter_lines(text, start, end))
    cuts = []
    for _, line in lines:
        keys = list(COLUMN_KEY_RE.finditer(line))
        if len(keys) >= 2:
            cuts.append(keys[1].start())
    if not cuts:
        return [[_item(offset, line) for offset, line in lines]]
    cut = min(cuts)
    left: list[_Item] = []
    right: list[_Item] = []
    for offset, line in lines:
        if PAGE_NUMBER_RE.fullmatch(line.strip()) and line.strip():
            left.append(_Item("", (offset, offset), page_break=True))
            right.append(_Item("", (offset, offset), page_break=True))
            continue
        at = _split_at(line, cut)
        head, tail = (line, "") if at is None else (line[:at], line[at:])
        item = _item(offset, head)
        # A sole member's capacity wrapped to the margin ("as Sole" / "Member") belongs on the right.
        if not item.blank and right and _continues_right(right, left, item.text):
            right[-1] = _Item(right[-1].text + " " + item.text, (right[-1].span[0], item.span[1]))
            left.append(_Item("", (offset, offset), blank=True))
            right.append(_item(offset + cut, tail) if tail else _Item("", (offset, offset), blank=True))
            continue
        left.append(item)
        right.append(_item(offset + cut, tail) if tail else _Item("", (offset, offset), blank=True))
    return [left, right]


def _split_at(line: str, cut: int) -> int | None:
    """Where the right column starts on this line: at the cut, or at a gap a few columns either side."""
    if len(line) <= cut or line[cut - 1] == " " or line[cut] == " ":
        return cut
    for at in range(cut - 6, cut + 3):
        if 2 <= at < len(line) and line[at - 2 : at] == "  " and line[at] != " ":
            return at
    return None


def _continues_right(right: list[_Item], left: list[_Item], text: str) -> bool:
    prev_right = right[-1]
    prev_left = left[-1] if left else None
    return (
        not prev_right.blank
        and prev_right.text.startswith("By:")
        and (prev_left is None or prev_left.blank)
        and not text.isupper()
        and not COLUMN_KEY_RE.search(text)
        and len(text.split()) <= 3
    )


def _item(offset: int, line: str) -> _Item:
    stripped = line.strip()
    if not stripped:
        return _Item("", (offset, offset), blank=True)
    if PAGE_NUMBER_RE.fullmatch(stripped):
        return _Item("", (offset, offset), page_break=True)
    lead = len(line) - len(line.lstrip())
    return _Item(stripped, (offset + lead, offset + lead + len(stripped)))


def _parse(items: list[_Item]) -> list[SignatureBlock]:
    blocks: list[_Block] = []
    state = _State()
    for item in items:
        state.feed(item, blocks)
    return [b for b in (_finish(b) for b in blocks) if b is not None]


class _State:
    def __init__(self) -> None:
        self.heading: str | None = None
        self.cur: _Block | None = None
        self.last = ""  # what the previous non-blank item was: entity, through, title
        self.gap = True

    def feed(self, item: _Item, blocks: list[_Block]) -> None:
        if item.page_break:
            self.heading, self.last, self.gap = None, "", True
            return
        if item.blank:
            self.gap = True
            return
        text, span = item.text, item.span
        label = LABEL_RE.match(text)
        if label and not COLUMN_KEY_RE.match(text):
            self.heading = label.group(1).rstrip(":").strip()
            rest = text[label.end() :].strip()
            if not rest:
                return
            span = (span[1] - len(rest), span[1])
            text = rest
        if text.lower().startswith("in each case"):
            if self.cur:
                self.cur.shared = True
            self.last, self.gap = "", False
            return
        if RULE_TOKEN_RE.fullmatch(text):
            return
        self._line(text, span, blocks)
        self.gap = False

    def _line(self, text: str, span: Span, blocks: list[_Block]) -> None:
        by, name, title = BY_RE.match(text), NAME_RE.match(text), TITLE_RE.match(text)
        if by and _is_through(by.group(1).strip()):
            self._block(span, blocks).through.append([(by.group(1).strip(), span)])
            self.last = "through"
        elif by:
            rest = by.group(1).strip()
            self._block(span, blocks).lines.append({"by": rest, "span": span, "title": [], "name": None})
            self.last = "by"
        elif name or title:
            blk = self._block(span, blocks)
            if not blk.lines or (name and blk.lines[-1]["name"] is not None):
                blk.lines.append({"by": None, "span": span, "title": [], "name": None})
            line = blk.lines[-1]
            if name:
                line["name"] = name.group(1).strip()
            else:
                line["title"].append(title.group(1).strip())
            line["span"] = (line["span"][0], span[1])
            self.last = "title" if title else "name"
        elif self.cur is not None and self.last == "title" and not self.gap:
            line = self.cur.lines[-1]
            line["title"].append(text)
            line["span"] = (line["span"][0], span[1])
        elif self.cur is not None and self.last == "through" and not self.gap:
            self.cur.through[-1].append((text, span))
        else:
            self._entity(text, span, blocks)
        if self.cur:
            self.cur.end = max(self.cur.end, span[1])

    def _block(self, span: Span, blocks: list[_Block]) -> _Block:
        if self.cur is None:
            self.cur = _Block(self.heading, start=span[0], end=span[1])
            blocks.append(self.cur)
        return self.cur

    def _entity(self, text: str, span: Span, blocks: list[_Block]) -> None:
        cur = self.cur
        if cur is None or cur.lines or cur.through:
            cur = self.cur = _Block(self.heading, start=span[0], end=span[1])
            blocks.append(cur)
            cur.entity_parts.append([(text, span)])
        elif self.last == "entity" and not self.gap:
            cur.entity_parts[-1].append((text, span))
        else:
            cur.entity_parts.append([(text, span)])
        self.last = "entity"


def _is_through(rest: str) -> bool:
    low = rest.lower()
    if not rest or low.startswith("/s/"):
        return False
    if " as " in f" {low} " or "its " in low:
        return True
    return any(low.rstrip(",").endswith(s) for s in SUFFIXES)


def _finish(b: _Block) -> SignatureBlock | None:
    entities = tuple(_entity_of(parts) for parts in b.entity_parts)
    through = tuple(_through_of(parts) for parts in b.through)
    lines = tuple(_line_of(line) for line in b.lines)
    if not entities and not lines:
        return None
    flags = []
    if not entities:
        flags.append("no_entity")
    if not lines:
        flags.append("no_signature_line")
    confidence = 0.9 if entities and lines else 0.5
    reason = "signature block as printed"
    return SignatureBlock(
        b.heading, entities, through, lines, b.shared, (b.start, b.end), confidence, reason, tuple(flags)
    )


def _joined(parts: list[tuple[str, Span]]) -> tuple[str, Span]:
    return squash(" ".join(t for t, _ in parts)), (parts[0][1][0], parts[-1][1][1])


def _entity_of(parts: list[tuple[str, Span]]) -> SignatoryEntity:
    printed, span = _joined(parts)
    name, capacity = printed, ""
    cut = printed.find(", as ")
    if cut >= 0:
        name, capacity = printed[:cut], printed[cut + 2 :]
    former = None
    aff = name.find(", an affiliate of ")
    if aff >= 0:
        name = name[:aff]
    opened = name.find("(")
    if opened >= 0 and name.rstrip().endswith(")"):
        inner = name[opened + 1 : name.rfind(")")]
        for marker in ("f/k/a ", "formerly known as "):
            if inner.lower().startswith(marker):
                former = squash(inner[len(marker) :])
        name = name[:opened]
    name = squash(name).rstrip(",")
    return SignatoryEntity(
        printed, name, name_key(name), capacity, former, _words_span(parts, len(name.split())) or span
    )


def _words_span(parts: list[tuple[str, Span]], count: int) -> Span | None:
    """The source span of the first `count` words of a heading printed over several lines."""
    seen = 0
    for text, (start, _) in parts:
        for tok in TOKEN_RE.finditer(text):
            seen += 1
            if seen == count:
                end = start + tok.end() - (1 if tok.group().endswith(",") else 0)
                return (parts[0][1][0], end)
    return None


def _through_of(parts: list[tuple[str, Span]]) -> Through:
    printed, span = _joined(parts)
    rest = printed[3:].strip() if printed.startswith("By:") else printed
    cut = rest.rfind(", as ")
    if cut < 0:
        cut = rest.rfind(", its ")
    if cut < 0:
        cut = rest.rfind(" as ")
    entity, capacity = (rest[:cut], rest[cut:].strip(" ,")) if cut >= 0 else (rest, "")
    capacity = capacity.removeprefix("as ").removeprefix("its ").strip()
    entity = entity.strip(" ,")
    return Through(printed, entity, name_key(entity), capacity, span)


def _line_of(line: dict) -> SignatureLine:
    by = line["by"] or ""
    conformed = by.startswith("/s/")
    name = line["name"] or None
    if conformed and not name and by[3:].strip():
        name = by[3:].strip()
    titles = line["title"]
    title, behalf = None, None
    if titles:
        first = titles[0]
        full = TITLE_WORDS_RE.fullmatch(first)
        if len(titles) > 1 and full and not first.rstrip().endswith((",", "and", "&")):
            # "Vice President" then a firm's name: the firm is whom the signer acts for.
            title, behalf = first, squash(" ".join(titles[1:]))
        else:
            title = squash(" ".join(titles)) or None
    blank = not conformed and not by.strip() and not name and not title
    reason = "conformed signature (/s/)" if conformed else ("blank signature line" if blank else "signature line")
    return SignatureLine(by, conformed, name, title, blank, line["span"], 0.9, reason, behalf)


def roles_from_capacity(capacity: str, span: Span) -> list[Role]:
    """'as the Agent and as a Lender' -> Agent, Lender."""
    out = []
    for part in CAPACITY_SPLIT_RE.split(capacity):
        role = role_of(part.strip().removeprefix("as ").strip())
        if role:
            out.append(Role(role, capacity, span, 0.85, "capacity in a signature block"))
    return out
