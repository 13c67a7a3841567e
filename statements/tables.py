"""A table of cells (a CSV file or a worksheet): the header, then every data row validated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .text import cell_text, is_blank, normalize_name, quote
from .types import COLUMNS, COLUMNS_TEXT, Refused, UploadError
from .validation import RowValidator

__all__ = ["PHYSICAL_ROWS_FACTOR", "column_for", "parse_table"]

#: Blank rows cost time to read: a sheet may run to this many times max_rows, blank or not.
PHYSICAL_ROWS_FACTOR = 5


def column_for(header: object) -> str | None:
    key = normalize_name(cell_text(header))
    for column in COLUMNS:
        if key == normalize_name(column):
            return column
    return None


def parse_table(
    rows: Iterable[tuple[int, Sequence[object]]],
    validator: RowValidator,
    *,
    describe_extra: Callable[[int, int, object], str],
) -> None:
    """
    Read a header, then validate every data row.

    ``rows`` yields (row number as the user sees it, cells). ``describe_extra`` words the
    error for a value in a column the header does not name.
    """
    context = validator.context
    header: dict[int, str | None] | None = None
    physical = 0
    max_physical = max(context.max_rows * PHYSICAL_ROWS_FACTOR, 1_000)
    for row_number, row_cells in rows:
        cells = _trimmed(row_cells)
        if header is not None:
            physical += 1
            if physical > max_physical:
                raise Refused(
                    UploadError(
                        None,
                        None,
                        f"The file runs to more than {max_physical:,} rows below the header, counting blank rows; "
                        "delete the empty rows below the figures and upload it again",
                    )
                )
        if all(is_blank(cell) for cell in cells):
            continue
        if header is None:
            validator.header_row = row_number
            header, header_errors = _read_header(row_number, cells)
            validator.errors.extend(header_errors)
            continue
        if validator.figures >= context.max_rows:
            raise Refused(
                UploadError(
                    None,
                    None,
                    f"The file has more than {context.max_rows:,} rows of figures; "
                    f"split it into files of at most {context.max_rows:,} rows",
                )
            )
        values: dict[str, object] = {}
        extra_reported = False
        for index, cell in enumerate(cells):
            column = header.get(index)
            if column is not None:
                values[column] = cell
            elif index not in header and not is_blank(cell) and not extra_reported:
                validator.errors.append(UploadError(row_number, None, describe_extra(row_number, index, cell)))
                extra_reported = True
        if validator.cells is not None:
            validator.cells[row_number] = values
        validator.add(row_number, values)
    if header is None:
        raise Refused(UploadError(None, None, "The file has no figures: it is empty"))
    validator.finish()


def _trimmed(cells: Sequence[object]) -> Sequence[object]:
    """The cells up to the last one that holds anything (sheet rows come padded with None)."""
    end = len(cells)
    while end and cells[end - 1] is None:
        end -= 1
    return cells[:end]


def _read_header(row_number: int, cells: Sequence[object]) -> tuple[dict[int, str | None], list[UploadError]]:
    """
    Map cell positions to columns (None for a column the layout does not have).

    A header naming none of the columns, or lacking one, or naming one twice, refuses the
    file; an unknown extra column is an error, but the rows are still checked.
    """
    found: dict[int, str | None] = {}
    errors: list[UploadError] = []
    fatal = False
    for index, cell in enumerate(cells):
        if is_blank(cell):
            continue  # extra empty columns are ignored
        column = column_for(cell)
        if column is None:
            found[index] = None
            errors.append(
                UploadError(
                    row_number,
                    None,
                    f"{quote(cell_text(cell))} is not a column of the layout; the columns are {COLUMNS_TEXT}",
                )
            )
        elif column in found.values():
            fatal = True
            errors.append(UploadError(row_number, column, f"The header names the column {column} twice"))
        else:
            found[index] = column
    if not any(found.values()):
        shown = quote(", ".join(cell_text(c) for c in cells if not is_blank(c)))
        raise Refused(
            UploadError(
                row_number,
                None,
                f"The first row must be the header naming the columns {COLUMNS_TEXT}; it reads {shown}",
            )
        )
    for column in COLUMNS:
        if column not in found.values():
            fatal = True
            errors.append(
                UploadError(row_number, column, f"The header has no {column} column; the columns are {COLUMNS_TEXT}")
            )
    if fatal:
        raise Refused(*errors)
    return found, errors
