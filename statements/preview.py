"""
The preview of a statement file before it is confirmed: every row as the user wrote it,
with each error placed on its row and column.

The file is read once, by the parser (:func:`statements.parsing.parse_statement_file` with
``keep_cells``), which keeps the rows as it read them; this module only lays them out with the
errors found, so row numbers agree and the guards against hostile files apply once. A cell
is shown cut to :data:`MAX_CELL_CHARS` characters. Nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from .text import safe_str
from .types import COLUMNS, ParsedUpload, UploadError

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
    text = safe_str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def preview_table(*, parsed: ParsedUpload) -> PreviewTable:
    """The preview of a file parsed with ``keep_cells``: its rows with their errors. A file the
    parser refused as a whole (not CSV or XLSX, unsafe, unreadable) gives no rows, only its errors."""
    by_row: dict[int, list[UploadError]] = defaultdict(list)
    file_errors = []
    for error in parsed.errors:
        if error.row is None:
            file_errors.append(str(error))
        else:
            by_row[error.row].append(error)
    refused = not parsed.rows and parsed.errors and all(e.row is None for e in parsed.errors)
    if refused:  # the parser's errors already say why
        return PreviewTable(columns=COLUMNS, rows=[], file_errors=[str(e) for e in parsed.errors], readable=False)
    header_row = parsed.header_row
    table = {number: {column: _shown(cell) for column, cell in cells.items()} for number, cells in parsed.cells.items()}
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
