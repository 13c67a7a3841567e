"""Input checks, HTML to text, and the flat view the sentence readers work on.

Filed agreements break sentences over lines, pad words with double spaces and drop page
numbers in the middle of a sentence. The flat view joins the words with single spaces and
leaves page numbers and rule lines out, with a map back to offsets in the text read."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import cached_property
from html.parser import HTMLParser

MAX_CHARS = 2 * 1024 * 1024


class DocumentRefused(ValueError):
    """The input is not a document the importer will read (too large, binary, undecodable)."""


# Only the start of a file is looked at, so the test is cheap on any input.
HTML_SNIFF_RE = re.compile(r"<(?:!doctype|html|body|head|p|div|table|pre|document|type|text|font|br)\b", re.IGNORECASE)
PAGE_NUMBER_RE = re.compile(
    r"(?:-[ \t]{0,2})?(?:page[ \t]{1,2})?(?:[0-9]{1,3}|[ivx]{1,5})(?:[ \t]{0,2}-)?", re.IGNORECASE
)
RULE_TOKEN_RE = re.compile(r"[-=_*]{3,80}")
TOKEN_RE = re.compile(r"\S{1,2000}")


def decode(data: str | bytes, filename: str = "") -> str:
    """The text to read, or DocumentRefused naming what is wrong."""
    if isinstance(data, bytes):
        if len(data) > MAX_CHARS * 4:
            raise DocumentRefused(f"document is {len(data)} bytes; the limit is {MAX_CHARS} characters")
        if b"\x00" in data:
            raise DocumentRefused("document is binary: it contains NUL bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentRefused(f"document is not UTF-8 text: undecodable byte at offset {exc.start}") from None
    if not isinstance(data, str):
        raise DocumentRefused(f"document must be text, not {type(data).__name__}")
    if len(data) > MAX_CHARS:
        raise DocumentRefused(f"document is {len(data)} characters; the limit is {MAX_CHARS}")
    if "\x00" in data:
        raise DocumentRefused("document is binary: it contains NUL characters")
    try:
        data.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DocumentRefused(f"document holds an undecodable character at offset {exc.start}") from None
    controls = sum(1 for ch in data[:4096] if ord(ch) < 32 and ch not in "\n\r\t\f\v")
    if controls > 16:
        raise DocumentRefused("document is binary: it is full of control characters")
    if is_html(data, filename):
        data = html_to_text(data)
    return data


def is_html(text: str, filename: str = "") -> bool:
    if filename.lower().endswith((".htm", ".html")):
        return True
    return HTML_SNIFF_RE.search(text[:2048]) is not None


BLOCK_TAGS = frozenset(
    "p div br tr li ul ol table h1 h2 h3 h4 h5 h6 title center hr blockquote document text page dd dt".split()  # noqa: SIM905
)
SGML_HEADER_TAGS = frozenset(("type", "sequence", "filename", "description"))
HTML_TAGS = frozenset(("html", "body", "p", "div", "table", "font", "br", "span", "center"))
SKIP_TAGS = frozenset(("script", "style", "head", "noscript", "template", "iframe", "object"))


class _TextParser(HTMLParser):
    """Text of an HTML page: script, style and head content dropped, blocks on their own lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        # An EDGAR submission wraps a plain-text exhibit in <DOCUMENT>/<TEXT> with no HTML: its
        # layout (columns of a schedule) is kept until a real HTML element appears.
        self.html = False
        self.header_line = False  # inside <TYPE>, <SEQUENCE>, <FILENAME> or <DESCRIPTION>: to the line's end

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.header_line = tag in SGML_HEADER_TAGS
        if tag in HTML_TAGS:
            self.html = True
        if tag in SKIP_TAGS:
            self.skip += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("td", "th"):
            # Three spaces: a column gap for the schedule reader, and close enough for "$" and its
            # figure printed in two cells to read as one amount.
            self.parts.append("   ")
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.header_line:
            # An EDGAR header value runs to the end of its line; the exhibit's text follows.
            self.header_line = False
            cut = data.find("\n")
            if cut < 0:
                return
            data = data[cut:]
        data = data.replace("\xa0", " ")
        if self.html and not self.pre:
            data = " ".join(data.split()) if data.strip() else (" " if data else "")
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    # Markup left in a converted text would be read as words; what the parser could not
    # place (a stray "<" in prose) is kept as text, tags never are.
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


class Flat:
    """The words of a text joined by single spaces, mapped back to offsets in the text."""

    def __init__(self, text: str, start: int = 0, end: int | None = None, exclude: tuple[tuple[int, int], ...] = ()):
        """exclude: sorted, non-overlapping source spans left out (signature pages)."""
        self.source = text
        end = len(text) if end is None else end
        words: list[str] = []
        self.flat_starts: list[int] = []
        self.src_starts: list[int] = []
        pos = 0
        skip_starts = [a for a, _ in exclude]
        for line_start, line in iter_lines(text, start, end):
            k = bisect_right(skip_starts, line_start) - 1
            if k >= 0 and line_start < exclude[k][1]:
                continue
            stripped = line.strip()
            if not stripped or PAGE_NUMBER_RE.fullmatch(stripped):
                continue
            for tok in TOKEN_RE.finditer(line):
                if RULE_TOKEN_RE.fullmatch(tok.group()):
                    continue
                self.flat_starts.append(pos)
                self.src_starts.append(line_start + tok.start())
                words.append(tok.group())
                pos += len(tok.group()) + 1
        self.text = " ".join(words)

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    def to_source(self, pos: int) -> int:
        if not self.flat_starts:
            return 0
        i = max(0, bisect_right(self.flat_starts, pos) - 1)
        return self.src_starts[i] + (pos - self.flat_starts[i])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source span of flat[start:end]."""
        if end <= start:
            s = self.to_source(start)
            return (s, s)
        return (self.to_source(start), self.to_source(end - 1) + 1)

    def to_flat(self, src: int) -> int:
        """The flat offset of the first word starting at or after a source offset."""
        i = bisect_right(self.src_starts, src - 1)
        return self.flat_starts[i] if i < len(self.flat_starts) else len(self.text)


def iter_lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
    """(offset, line) for each line of text[start:end], without its newline."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        yield pos, text[pos:stop]
        pos = stop + 1


def squash(value: str) -> str:
    return " ".join(value.split())


KEY_RE = re.compile(r"[^0-9a-z&]{1,200}")


def name_key(name: str) -> str:
    """A party's name reduced for matching: case, commas, periods and spacing do not count."""
    return KEY_RE.sub(" ", name.casefold()).strip()


def printed_case(flat: Flat, name: str) -> str:
    """The name as the text prints it in mixed case somewhere, else as given (capitals kept)."""
    name = squash(name)
    if not name.isupper():
        return name
    low = name.lower()
    text, hay = flat.text, flat.lower
    pos = hay.find(low)
    for _ in range(50):
        if pos < 0:
            break
        candidate = text[pos : pos + len(name)]
        if not candidate.isupper():
            return candidate
        pos = hay.find(low, pos + 1)
    return name
