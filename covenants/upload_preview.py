"""
The preview of a statement file before it is confirmed: every row as the user wrote it,
with each error placed on its row and column.

The figures themselves are checked by :func:`covenants.services.statement_file_parse`;
this module only reads the cells back for display, with the same readers the parser uses
(so row numbers agree) and the same guards and limits against hostile files (a workbook is
read by the bounded streaming reader, with the limits the parser used). A cell is shown cut
to :data:`MAX_CELL_CHARS` characters. Nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from . import uploads
from .uploads import COLUMNS, ParsedUpload, UploadError

__all__ = ["PreviewRow", "PreviewTable", "preview_table"]

#: Rows without errors shown at most; rows with errors are always shown.
MAX_CLEAN_ROWS_SHOWN = 200
#: Characters of a cell shown; a statement's cells are short, and a page need not carry more.
MAX_CELL_CHARS = 200


@dataclass
class PreviewCell:
    """A cell as written, and the problems found in it."""

    column: str
    text: str
    errors: list[str] = field(default_factory=list)


@dataclass
class PreviewRow:
    """A row of the file as written, with its problems by column and those of the row as a whole."""

    number: int
    cells: list[PreviewCell]
    row_errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.row_errors) or any(cell.errors for cell in self.cells)


@dataclass
class PreviewTable:
    """The file's rows for the preview, and the problems that belong to no row."""

    columns: tuple[str, ...]
    rows: list[PreviewRow]
    file_errors: list[str]
    rows_hidden: int = 0
    readable: bool = True

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(len(r.row_errors) + sum(len(c.errors) for c in r.cells) for r in self.rows)


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = uploads._str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _csv_cells(content: bytes, filename: str) -> Iterator[tuple[int, Sequence[object]]]:
    text = uploads._decode_csv(content, filename)
    yield from uploads._csv_rows(text)


def _xlsx_cells(content: bytes, limits: uploads.XlsxLimits) -> Iterator[tuple[int, Sequence[object]]]:
    yield from uploads.xlsx_rows(content, limits)


def _read(parsed: ParsedUpload, content: bytes, max_rows: int) -> tuple[dict[int, dict[str, str]], int | None]:
    """Row number -> {column: text} for the data rows, and the header's row number."""
    if parsed.format == "xlsx":
        limits = parsed.xlsx_limits or uploads.XlsxLimits(max_columns=uploads.MAX_XLSX_COLUMNS)
        cells = _xlsx_cells(content, limits)
    else:
        cells = _csv_cells(content, parsed.filename)
    header: dict[int, str] | None = None
    header_row = None
    table: dict[int, dict[str, str]] = {}
    for number, row in cells:
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        if header is None:
            header = {}
            for index, cell in enumerate(row):
                column = uploads._column_for(cell) if cell is not None else None
                if column is not None:
                    header[index] = column
            header_row = number
            continue
        table[number] = {header[i]: _shown(cell) for i, cell in enumerate(row) if i in header}
        if len(table) >= max_rows:
            break
    return table, header_row


def preview_table(*, parsed: ParsedUpload, content: bytes, max_rows: int = 20_000) -> PreviewTable:
    """The preview of a parsed file: its rows with their errors. A file the parser refused as a
    whole (not CSV or XLSX, unsafe, unreadable) gives no rows, only its errors."""
    by_row: dict[int, list[UploadError]] = defaultdict(list)
    file_errors = []
    for error in parsed.errors:
        if error.row is None:
            file_errors.append(str(error))
        else:
            by_row[error.row].append(error)
    refused = not parsed.rows and parsed.errors and all(e.row is None for e in parsed.errors)
    try:
        if refused:
            raise ValueError("refused as a whole")
        table, header_row = _read(parsed, content, max_rows)
    except Exception:  # refused or unreadable: the parser's errors already say why
        return PreviewTable(columns=COLUMNS, rows=[], file_errors=[str(e) for e in parsed.errors], readable=False)
    rows = []
    for number in sorted(set(table) | set(by_row)):
        values = table.get(number, {})
        cells = [PreviewCell(column, values.get(column, "")) for column in COLUMNS]
        row = PreviewRow(number, cells)
        for error in by_row.get(number, []):
            if error.column in COLUMNS and number != header_row:
                cells[COLUMNS.index(error.column)].errors.append(error.message)
            elif number == header_row:
                file_errors.append(str(error))
            else:
                row.row_errors.append(error.message)
        if number != header_row:
            rows.append(row)
    shown, hidden, clean = [], 0, 0
    for row in rows:
        if row.has_errors:
            shown.append(row)
        elif clean < MAX_CLEAN_ROWS_SHOWN:
            shown.append(row)
            clean += 1
        else:
            hidden += 1
    return PreviewTable(columns=COLUMNS, rows=shown, file_errors=file_errors, rows_hidden=hidden)
