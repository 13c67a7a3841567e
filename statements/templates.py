"""The statement file a Borrower starts from: CSV or XLSX, prefilled for a period the agreement reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from .spreadsheet_safety import neutralise, write_text
from .types import COLUMNS, UploadContext
from .validation import period_end_problem

__all__ = ["build_template"]


def build_template(
    *, context: UploadContext, borrowers: Sequence[tuple[int, str]], period_end: date, fmt: str
) -> bytes:
    """
    A statement file to fill in: the long layout with one row per Borrower (legal name)
    and required line item (display name) for the period ending ``period_end`` (a period end
    of the agreement's calendar at its reporting frequency), amounts empty. ``fmt`` is "csv"
    (UTF-8 with a byte-order mark, for Excel) or "xlsx". Filled in and saved, it is accepted
    back as it is. Names are written as text a spreadsheet will not run
    (:func:`statements.spreadsheet_safety.neutralise`, which the parser undoes): a party's
    name is set by people other than the Borrower.
    """
    problem = period_end_problem(context, period_end)
    if problem:
        raise ValueError(problem)
    items = [context.line_item_names.get(code, code) for code in context.required_line_items]
    rows = [(name, period_end, item) for _party_id, name in borrowers for item in items]
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for name, day, item in rows:
            writer.writerow([neutralise(name), day.isoformat(), neutralise(item), ""])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx_template(rows)
    raise ValueError(f"{fmt!r} is not a template format; use csv or xlsx")


def _xlsx_template(rows: Sequence[tuple[str, date, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Statement"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    amount_format = "#,##0.00"
    for number, (name, day, item) in enumerate(rows, start=2):
        for column, text in ((1, name), (3, item)):
            cell = sheet.cell(row=number, column=column)
            write_text(cell, text)
            cell.number_format = "@"
        sheet.cell(row=number, column=2, value=day).number_format = "yyyy-mm-dd"
        sheet.cell(row=number, column=4).number_format = amount_format
    widths = {
        "A": max([len("entity"), *(len(r[0]) for r in rows)]) + 2,
        "B": 14,
        "C": max([len("line_item"), *(len(r[2]) for r in rows)]) + 2,
        "D": 20,
    }
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
