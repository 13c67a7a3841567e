"""
The first worksheet of an uploaded workbook (XLSX), read through the bounded XML streaming of
:mod:`statements.xlsx_stream`: the workbook's sheets and relationships, the number format of
each cell style (to tell dates from numbers), the shared strings, then the sheet row by row,
cut to the first :attr:`XlsxLimits.max_columns` columns.

Values come back as openpyxl gives them with ``data_only=True``: text, int or float, bool,
datetime for numbers in a date format, the error text (``#DIV/0!``) for an error, None for a
blank or a formula without a saved value.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from statements.xlsx_stream import (
    SEPARATOR,
    Clock,
    TextCollector,
    XlsxDamaged,
    XlsxEntities,
    XlsxLimits,
    XlsxRefused,
    local_name,
    new_parser,
    parse_whole,
    part_name,
    whole_number,
)

from . import xlsx_stream

__all__ = ["XlsxDamaged", "XlsxEntities", "XlsxLimits", "XlsxRefused", "read_first_sheet"]

#: Sheets and workbook relationships kept while looking for the first worksheet: Excel
#: workbooks have a few; a hostile workbook.xml could list millions.
_MAX_SHEETS = 1_000
_MAX_RELATIONSHIPS = 10_000

_RELATIONSHIP_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships id"
_PURL_RELATIONSHIP_ID = "http://purl.oclc.org/ooxml/officeDocument/relationships id"

# --- Workbook, relationships, styles, shared strings ---------------------------------------------


@dataclass
class _Sheet:
    name: str
    relationship: str


def _read_workbook(archive: zipfile.ZipFile, clock: Clock, limits: XlsxLimits) -> tuple[list[_Sheet], bool]:
    """The sheets in the workbook's order, and whether dates count from 1904."""
    sheets: list[_Sheet] = []
    date1904 = [False]
    counter = [0]

    def start(name: str, attrs: dict[str, str]) -> None:
        counter[0] += 1
        local = local_name(name)
        if local == "sheet":
            if len(sheets) >= _MAX_SHEETS:
                raise XlsxRefused(
                    f"The workbook has more than {_MAX_SHEETS:,} sheets; it is refused as unsafe "
                    "(put the figures on the first sheet of a new workbook, or save them as CSV, and upload that)"
                )
            relationship = attrs.get(_RELATIONSHIP_ID) or attrs.get(_PURL_RELATIONSHIP_ID) or ""
            sheets.append(_Sheet(attrs.get("name", ""), relationship))
        elif local == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    parser = new_parser()
    parser.StartElementHandler = start
    parse_whole(archive, "xl/workbook.xml", parser, clock, limits, counter)
    return sheets, date1904[0]


def _read_relationships(archive: zipfile.ZipFile, clock: Clock, limits: XlsxLimits) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, archive name) for the workbook's parts."""
    name = "xl/_rels/workbook.xml.rels"
    relationships: dict[str, tuple[str, str]] = {}
    if name not in archive.NameToInfo:
        return relationships
    counter = [0]

    def start(tag: str, attrs: dict[str, str]) -> None:
        counter[0] += 1
        if local_name(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            if len(relationships) >= _MAX_RELATIONSHIPS:
                raise XlsxRefused(f"The workbook has more than {_MAX_RELATIONSHIPS:,} parts; it is refused as unsafe")
            relationships[attrs.get("Id", "")] = (attrs.get("Type", ""), part_name("xl", attrs.get("Target", "")))

    parser = new_parser()
    parser.StartElementHandler = start
    parse_whole(archive, name, parser, clock, limits, counter)
    return relationships


def _findpart_name(relationships: dict[str, tuple[str, str]], kind: str, default: str) -> str:
    for rel_type, target in relationships.values():
        if rel_type.endswith("/" + kind):
            return target
    return default


@dataclass
class _Styles:
    dates: frozenset[int]
    timedeltas: frozenset[int]


def _read_styles(archive: zipfile.ZipFile, name: str, clock: Clock, limits: XlsxLimits) -> _Styles:
    """Which cell styles show numbers as dates (or durations): all that is needed of the styles."""
    if name not in archive.NameToInfo:
        return _Styles(frozenset(), frozenset())
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    cell_formats: list[int] = []
    custom: dict[int, str] = {}
    counter = [0]
    depth_in_cell_xfs = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        counter[0] += 1
        if counter[0] > limits.max_style_entries:
            raise XlsxRefused(
                f"The workbook's styles ({name}) have more than {limits.max_style_entries:,} entries, far more "
                "than a statement needs; it is refused as unsafe (copy the figures into a new workbook, or save "
                "them as CSV, and upload that)"
            )
        local = tag.rpartition(SEPARATOR)[2]
        if local == "cellXfs":
            depth_in_cell_xfs[0] = True
        elif local == "xf" and depth_in_cell_xfs[0]:
            cell_formats.append(whole_number(attrs.get("numFmtId", "0"), name))
        elif local == "numFmt":
            custom[whole_number(attrs.get("numFmtId", "0"), name)] = attrs.get("formatCode", "")

    def end(tag: str) -> None:
        if tag.rpartition(SEPARATOR)[2] == "cellXfs":
            depth_in_cell_xfs[0] = False

    parser = new_parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parse_whole(archive, name, parser, clock, limits, counter)
    dates, timedeltas = set(), set()
    verdicts: dict[int, tuple[bool, bool]] = {}
    for index, number_format in enumerate(cell_formats):
        verdict = verdicts.get(number_format)
        if verdict is None:
            code = custom[number_format] if number_format in custom else BUILTIN_FORMATS.get(number_format)
            verdict = verdicts[number_format] = (is_date_format(code), is_timedelta_format(code))
        if verdict[0]:
            dates.add(index)
        if verdict[1]:
            timedeltas.add(index)
    return _Styles(frozenset(dates), frozenset(timedeltas))


def _read_shared_strings(archive: zipfile.ZipFile, name: str, clock: Clock, limits: XlsxLimits) -> list[str]:
    if name not in archive.NameToInfo:
        return []
    strings: list[str] = []
    counter = [0]
    total = [0]
    parser = new_parser()
    text = TextCollector(parser, limits, lambda: f"The shared text number {len(strings) + 1:,}")
    phonetic = [0]

    def start(tag: str, attrs: dict[str, str]) -> None:
        counter[0] += 1
        local = tag.rpartition(SEPARATOR)[2]
        if local == "t" and not phonetic[0]:
            text.start()
        elif local == "rPh":
            phonetic[0] += 1
        elif local == "si" and len(strings) >= limits.max_shared_strings:
            raise XlsxRefused(
                f"The workbook has more than {limits.max_shared_strings:,} different texts, far more than a "
                "statement needs; it is refused as unsafe"
            )

    def end(tag: str) -> None:
        local = tag.rpartition(SEPARATOR)[2]
        if local == "t":
            text.stop()
        elif local == "rPh":
            phonetic[0] -= 1
        elif local == "si":
            value = text.take()
            total[0] += len(value)
            if total[0] > limits.max_shared_string_chars:
                raise XlsxRefused(
                    f"The workbook's texts run to more than {limits.max_shared_string_chars:,} characters, far more "
                    "than a statement needs; it is refused as unsafe"
                )
            strings.append(value)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parse_whole(archive, name, parser, clock, limits, counter)
    return strings


# --- The sheet ---------------------------------------------------------------------------------------


def _column_index(reference: str) -> int:
    """1 for "A1", 28 for "AB7"; 0 when the reference names no column."""
    index = 0
    letters = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            index = index * 26 + ord(char) - 96
        elif char == "$" and not letters:
            continue
        else:
            break
        letters += 1
        if letters > 3:
            return 0
    return index


class _SheetReader:
    """Handlers for one worksheet part: rows collected as they end, counted as they start."""

    def __init__(
        self,
        parser: Any,
        *,
        sheet_name: str,
        strings: list[str],
        styles: _Styles,
        epoch: dt.datetime,
        limits: XlsxLimits,
    ) -> None:
        self.parser = parser
        self.sheet_name = sheet_name
        self.strings = strings
        self.styles = styles
        self.epoch = epoch
        self.limits = limits
        self.counter = [0]
        self.rows_seen = 0
        self.cells_seen = 0
        self.ready: list[tuple[int, tuple[object, ...]]] = []
        self.row_number = 0
        self.last_yielded = 0
        self.row_cells: dict[int, object] | None = None
        self.row_cell_count = 0
        self.column = 0
        self.cell: tuple[int, str, int] | None = None  # column, type, style
        self.value: str | None = None
        self.inline = False
        self.phonetic = 0
        self.text = TextCollector(parser, limits, self._where)
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def _where(self) -> str:
        return f"A cell of row {self.row_number:,} of the worksheet '{self.sheet_name}'"

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.counter[0] += 1
        local = tag.rpartition(SEPARATOR)[2]
        if local == "c":
            self._start_cell(attrs)
        elif (local == "v" and self.cell is not None) or (local == "t" and self.inline and not self.phonetic):
            self.text.start()
        elif local == "is" and self.cell is not None:
            self.inline = True
        elif local == "rPh":
            self.phonetic += 1
        elif local == "row":
            self._start_row(attrs)

    def _start_row(self, attrs: dict[str, str]) -> None:
        self.rows_seen += 1
        if self.rows_seen > self.limits.max_rows:
            raise XlsxRefused(
                f"The worksheet '{self.sheet_name}' has more than {self.limits.max_rows:,} rows, counting blank "
                "ones, far more than a statement file needs; delete the empty rows below the figures, or save "
                "them as CSV, and upload the file again"
            )
        reference = attrs.get("r")
        self.row_number = whole_number(reference, "the worksheet") if reference else self.row_number + 1
        self.row_cells = {}
        self.row_cell_count = 0
        self.column = 0

    def _start_cell(self, attrs: dict[str, str]) -> None:
        self.cells_seen += 1
        self.row_cell_count += 1
        if self.row_cell_count > self.limits.max_cells_per_row:
            raise XlsxRefused(
                f"The worksheet '{self.sheet_name}' has a row (row {self.row_number:,}) with more than "
                f"{self.limits.max_cells_per_row:,} cells; a statement file has four columns, so the workbook is "
                "refused as unsafe (delete the unused columns, or save the figures as CSV, and upload that)"
            )
        if self.cells_seen > self.limits.max_cells:
            raise XlsxRefused(
                f"The worksheet '{self.sheet_name}' has more than {self.limits.max_cells:,} cells, blank or not, "
                "far more than a statement file needs; it is refused as unsafe (delete the unused rows and "
                "columns, or save the figures as CSV, and upload that)"
            )
        reference = attrs.get("r")
        if reference:
            column = _column_index(reference)
            if not column:
                raise XlsxDamaged(f"the cell reference {reference[:20]!r} names no column")
            self.column = column
        else:
            self.column += 1
        style = attrs.get("s")
        self.cell = (self.column, attrs.get("t", "n"), whole_number(style, "the worksheet") if style else 0)
        self.value = None
        self.inline = False

    def end(self, tag: str) -> None:
        local = tag.rpartition(SEPARATOR)[2]
        if local == "v" and self.cell is not None:
            self.text.stop()
            self.value = self.text.take()
        elif local == "t" and self.inline and not self.phonetic:
            self.text.stop()
        elif local == "is" and self.cell is not None:
            self.inline = False
            self.value = self.text.take()
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "c" and self.cell is not None:
            self._end_cell()
        elif local == "row":
            self._end_row()

    def _end_cell(self) -> None:
        assert self.cell is not None
        column, kind, style = self.cell
        self.cell = None
        if self.row_cells is None or column > self.limits.max_columns:
            return
        value = self._value(kind, style, self.value)
        if value is not None:
            self.row_cells[column] = value

    def _value(self, kind: str, style: int, text: str | None) -> object:
        if kind == "inlineStr":
            return text
        if not text:
            return None
        try:
            if kind == "n":
                number: int | float = float(text) if ("." in text or "e" in text or "E" in text) else int(text)
                if style in self.styles.dates:
                    from openpyxl.utils.datetime import from_excel

                    try:
                        return from_excel(number, self.epoch, timedelta=style in self.styles.timedeltas)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if kind == "s":
                index = int(text)
                if index < 0:
                    raise IndexError("a shared text's number cannot be negative")
                return self.strings[index]
            if kind == "b":
                return bool(int(text))
            if kind == "d":
                from openpyxl.utils.datetime import from_ISO8601

                return from_ISO8601(text)
        except (ValueError, IndexError, TypeError) as exc:
            raise XlsxDamaged(f"a cell of kind {kind!r} holds {text[:20]!r}: {exc}") from None
        return text  # "str" (a formula's text), "e" (an error such as #DIV/0!)

    def _end_row(self) -> None:
        cells = self.row_cells
        self.row_cells = None
        if cells is None or self.row_number <= self.last_yielded:
            return  # a row out of order or repeated: read once, as openpyxl does
        self.last_yielded = self.row_number
        width = max(cells, default=0)
        row: list[object] = [None] * width
        for column, value in cells.items():
            row[column - 1] = value
        self.ready.append((self.row_number, tuple(row)))


def read_first_sheet(
    archive: zipfile.ZipFile, limits: XlsxLimits | None = None
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """
    (row number, values) for each row of the workbook's first worksheet that has a ``<row>``
    element, in order; values are cut to ``limits.max_columns`` columns and to the last cell
    holding a value. Raises :class:`XlsxRefused` with a sentence for the user,
    :class:`XlsxDamaged` or :class:`XlsxEntities`; the archive's own size checks are the
    caller's.
    """
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

    limits = limits or XlsxLimits()
    clock = Clock(limits.max_seconds)
    sheets, date1904 = _read_workbook(archive, clock, limits)
    relationships = _read_relationships(archive, clock, limits)
    worksheets = []
    for sheet in sheets:
        rel_type, target = relationships.get(sheet.relationship, ("", ""))
        if target in archive.NameToInfo and not rel_type.endswith("/chartsheet"):
            worksheets.append((sheet, target))
    if not worksheets:
        if any(relationships.get(s.relationship, ("", ""))[0].endswith("/chartsheet") for s in sheets):
            raise XlsxRefused("The first sheet of the workbook is a chart; put the figures on the first sheet")
        raise XlsxRefused("The workbook has no sheets")
    sheet, target = worksheets[0]
    styles = _read_styles(archive, _findpart_name(relationships, "styles", "xl/styles.xml"), clock, limits)
    strings = _read_shared_strings(
        archive, _findpart_name(relationships, "sharedStrings", "xl/sharedStrings.xml"), clock, limits
    )
    parser = new_parser()
    reader = _SheetReader(
        parser,
        sheet_name=sheet.name,
        strings=strings,
        styles=styles,
        epoch=MAC_EPOCH if date1904 else WINDOWS_EPOCH,
        limits=limits,
    )
    for _ in xlsx_stream.feed(archive, target, parser, clock, limits, reader.counter):
        if reader.ready:
            ready, reader.ready = reader.ready, []
            yield from ready
