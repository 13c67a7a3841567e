"""
Bounded XML streaming for the workbook reader (:mod:`statements.xlsx_workbook`): the limits,
the refusals, and the expat parser fed 64 KB at a time with every count checked.

openpyxl, even in read-only mode, builds ``xl/styles.xml`` whole into objects and hands over
each row as one tuple, so a 1.4 MB file with millions of ``<xf/>`` style entries, or one row
of millions of empty ``<c/>`` cells, costs minutes and gigabytes while passing every byte-size
and compression check made on the archive. This reader never hands a part to openpyxl: it
streams each XML part it needs through expat, 64 KB at a time, and counts as it goes (style
entries, shared strings and their characters, rows, cells in a row and in the sheet, elements
in a part, characters in one value, bytes of one unfinished tag) and checks the clock. The
first count over its limit stops the reading with a sentence naming what is wrong, before
anything more is built. Only what a statement needs is kept: the number format of each cell
style (to tell dates from numbers), the shared strings, and one row at a time, cut to the
first :attr:`XlsxLimits.max_columns` columns.

Entity declarations are refused (they expand without limit or read other files); a document
type declaration alone is harmless and allowed, as defusedxml allows it.
"""

from __future__ import annotations

import posixpath
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn
from xml.parsers import expat

__all__ = [
    "SEPARATOR",
    "Clock",
    "TextCollector",
    "XlsxDamaged",
    "XlsxEntities",
    "XlsxLimits",
    "XlsxRefused",
    "feed",
    "local_name",
    "new_parser",
    "parse_whole",
    "part_name",
    "whole_number",
]

#: Bytes handed to expat at a time.
_CHUNK = 64 * 1024
#: An unfinished tag, comment or declaration longer than this is refused: expat holds it whole
#: (and, before expat 2.6, parses it again with every chunk).
_MAX_PENDING_BYTES = 1024 * 1024
SEPARATOR = " "


@dataclass(frozen=True)
class XlsxLimits:
    """How much of a workbook is read before it is refused. Each limit is far above what a
    statement workbook saved by Excel needs, and far below what costs a second to read."""

    #: Elements in the styles part (cell formats, fonts, fills, borders...): a few hundred in practice.
    max_style_entries: int = 100_000
    #: Distinct texts in the shared strings part, and their characters in all.
    max_shared_strings: int = 50_000
    max_shared_string_chars: int = 5_000_000
    #: ``<c>`` elements in one row, and in the whole sheet, blank or not.
    max_cells_per_row: int = 1_000
    max_cells: int = 250_000
    #: ``<row>`` elements in the sheet, blank or not.
    max_rows: int = 100_000
    #: Cells kept from each row: the first columns only.
    max_columns: int = 64
    #: Elements of any kind in one part.
    max_part_elements: int = 1_000_000
    #: Characters in one value: Excel's own limit for a cell.
    max_value_chars: int = 32_767
    #: Wall-clock seconds for reading the whole workbook, including what the caller does with
    #: each row while it reads.
    max_seconds: float = 20.0


class XlsxRefused(Exception):
    """The workbook goes past a limit, or is not a workbook a statement can be read from.
    The message is a sentence for the user."""


class XlsxDamaged(Exception):
    """The workbook's parts cannot be read: broken XML, a missing part, a value of the wrong kind."""


class XlsxEntities(Exception):
    """An XML part declares entities."""


# --- Parts -----------------------------------------------------------------------------------------


def local_name(name: str) -> str:
    """An element's name without its namespace (the handlers called for every element of a
    part write this out rather than call it)."""
    return name.rpartition(SEPARATOR)[2]


class Clock:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise XlsxRefused(
                f"The workbook took more than {self.seconds:g} seconds to read, far longer than a statement needs; "
                "it is refused (save the figures in a new workbook, or as CSV, and upload that)"
            )


def _refuse_entities(*_args: object) -> NoReturn:
    raise XlsxEntities("entity declaration")


def new_parser() -> Any:
    parser = expat.ParserCreate(namespace_separator=SEPARATOR)
    parser.buffer_text = True
    parser.buffer_size = 16 * 1024
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    return parser


def feed(
    archive: zipfile.ZipFile, name: str, parser: Any, clock: Clock, limits: XlsxLimits, counter: list[int]
) -> Iterator[None]:
    """Stream one part through ``parser``, yielding after each chunk so the caller can hand on
    what the handlers collected. ``counter[0]`` counts the part's elements (handlers add to it)."""
    fed = 0
    try:
        with archive.open(name) as member:
            while True:
                chunk = member.read(_CHUNK)
                if not chunk:
                    break
                parser.Parse(chunk, False)
                fed += len(chunk)
                if fed - max(parser.CurrentByteIndex, 0) > _MAX_PENDING_BYTES:
                    raise XlsxRefused(
                        f"The workbook part {name} holds a single XML tag, comment or declaration of more than "
                        f"{_MAX_PENDING_BYTES // 2**20} MB; it is refused as unsafe"
                    )
                if counter[0] > limits.max_part_elements:
                    raise XlsxRefused(
                        f"The workbook part {name} has more than {limits.max_part_elements:,} XML elements, "
                        "far more than a statement needs; it is refused as unsafe"
                    )
                clock.check()
                yield
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxDamaged(f"{name}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError) as exc:
        # A bad CRC arrives as BadZipFile, a name the archive lacks as KeyError.
        raise XlsxDamaged(f"{name}: {exc}") from None
    yield


def parse_whole(
    archive: zipfile.ZipFile, name: str, parser: Any, clock: Clock, limits: XlsxLimits, counter: list[int]
) -> None:
    for _ in feed(archive, name, parser, clock, limits, counter):
        pass


def part_name(base: str, target: str) -> str:
    """An archive name from a relationship's target, relative to the part's folder or absolute."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(base, target))


def whole_number(text: str, part: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = 0.5
        if number.is_integer():
            return int(number)
        raise XlsxDamaged(f"{part}: {text!r} is not a whole number") from None


class TextCollector:
    """Collects the text of ``<t>`` elements (outside phonetic runs) into one value, counting
    its characters as they arrive."""

    def __init__(self, parser: Any, limits: XlsxLimits, what: Callable[[], str]) -> None:
        self.parser = parser
        self.limits = limits
        self.what = what
        self.parts: list[str] = []
        self.chars = 0

    def start(self) -> None:
        self.parser.CharacterDataHandler = self.data

    def stop(self) -> None:
        self.parser.CharacterDataHandler = None

    def data(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.limits.max_value_chars:
            raise XlsxRefused(
                f"{self.what()} holds more than {self.limits.max_value_chars:,} characters, more than Excel allows "
                "in a cell; the workbook is refused as unsafe"
            )
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts = []
        self.chars = 0
        return text
