"""
Exports of an agreement's compliance: the compliance table as CSV and XLSX, and the
compliance certificate for one test date.

Spreadsheets run a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula, so every text cell goes through the one escaping function of
every file the portal writes, :func:`statements.spreadsheet_safety.neutralise` (a leading
apostrophe); numbers stay numbers (a negative headroom is a number, not text). Amounts are
Decimals from the database to the file, never floats.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from compliance.choices import ResultStatus
from compliance.formatting import figure, headroom, money
from compliance.statuses import NEAR_BREACH, status_label
from portal.pages.selectors import CertificateItem, ResultView
from statements.spreadsheet_safety import neutralise, write_text

__all__ = [
    "COMPLIANCE_COLUMNS",
    "Certificate",
    "certificate",
    "compliance_csv",
    "compliance_rows",
    "compliance_xlsx",
    "money",
    "neutralise",
]

COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "Agreement",
    "Section",
    "Covenant",
    "Test date",
    "Borrower",
    "Status",
    "Warning",
    "Value",
    "Threshold",
    "Headroom",
    "Headroom %",
    "Provisional",
    "Explanation",
)

Cell = str | Decimal | dt.date | None


def _number(value: Decimal | None) -> Decimal | None:
    """A stored amount without the trailing zeros of its column's scale (23000000.000000 -> 23000000)."""
    if value is None:
        return None
    normal = value.normalize()
    # normalize() writes 23000000 as 2.3E+7: quantize back to an integer exponent.
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal


def compliance_rows(agreement_name: str, views: Sequence[ResultView]) -> list[list[Cell]]:
    """The compliance table, one row per current result: text, dates and Decimals, not yet neutralised."""
    rows: list[list[Cell]] = []
    for view in views:
        r = view.result
        warning = ""
        if view.status == NEAR_BREACH:
            warning = f"Headroom under the {r.covenant.warning_band_percent.normalize():f}% warning band"
        rows.append(
            [
                agreement_name,
                r.covenant.section,
                r.covenant.name,
                r.test_date,
                view.borrower_name,
                # The word the pages, alerts and API use: "Near breach", not "Compliant" beside a warning.
                status_label(r.status, r.near_breach),
                warning,
                _number(r.value),
                _number(r.threshold),
                _number(r.headroom),
                _number(r.headroom_percent),
                "Yes" if r.provisional else "No",
                r.explanation,
            ]
        )
    return rows


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return neutralise(str(cell))


def compliance_csv(rows: Sequence[Sequence[Cell]]) -> bytes:
    """The table as CSV, UTF-8 with a byte-order mark so Excel reads the names right."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COMPLIANCE_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def compliance_xlsx(rows: Sequence[Sequence[Cell]]) -> bytes:
    """The table as an Excel workbook: numbers as numbers, dates as dates, text neutralised
    (openpyxl would otherwise store a text beginning with = as a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Compliance"
    sheet.append(list(COMPLIANCE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    amounts = {COMPLIANCE_COLUMNS.index(name) + 1 for name in ("Value", "Threshold", "Headroom")}
    percent = COMPLIANCE_COLUMNS.index("Headroom %") + 1
    for number, row in enumerate(rows, start=2):
        for index, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=index)
            if isinstance(value, str):
                write_text(cell, value)
            else:
                cell.value = value
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif index in amounts and value is not None:
                cell.number_format = "#,##0.######;(#,##0.######)"
            elif index == percent and value is not None:
                cell.number_format = "0.00"
    widths = (34, 10, 26, 12, 30, 12, 30, 16, 16, 16, 11, 11, 80)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The compliance certificate -------------------------------------------------------------------


@dataclass
class ComputationLine:
    """One figure in a covenant's computation on the certificate."""

    borrower: str
    period_end: dt.date
    line_item: str
    amount: Decimal
    version: int
    filename: str


@dataclass
class CertificateEntry:
    """A covenant as the certificate states it: terms, figures, total, threshold, outcome."""

    section: str
    name: str
    reading: str
    source: str
    borrower: str
    lines: list[ComputationLine]
    value_text: str
    threshold_text: str
    headroom_text: str
    status: str
    status_label: str
    explanation: str
    provisional: bool
    missing: list[dict] = field(default_factory=list)


@dataclass
class Certificate:
    """A compliance certificate for one test date, certified by a named officer."""

    agreement_name: str
    agreement_title: str
    test_date: dt.date
    officer_name: str
    officer_title: str
    certified_on: dt.date
    prepared_by: str
    entries: list[CertificateEntry]

    @property
    def in_compliance(self) -> bool:
        return bool(self.entries) and all(
            e.status in (ResultStatus.COMPLIANT, NEAR_BREACH, ResultStatus.WAIVED) for e in self.entries
        )

    @property
    def breaches(self) -> list[CertificateEntry]:
        return [e for e in self.entries if e.status == ResultStatus.BREACH]

    @property
    def undecided(self) -> list[CertificateEntry]:
        return [e for e in self.entries if e.status == ResultStatus.INCOMPLETE]


def certificate(
    *,
    agreement_name: str,
    agreement_title: str,
    test_date: dt.date,
    items: Sequence[CertificateItem],
    officer_name: str,
    officer_title: str,
    certified_on: dt.date,
    prepared_by: str,
) -> Certificate:
    """The certificate's content from the covenants tested on the date (no queries)."""
    entries = []
    for item in items:
        view = item.view
        r = view.result
        terms = item.terms
        entries.append(
            CertificateEntry(
                section=item.covenant.section,
                name=item.covenant.name,
                reading=terms.reading if terms else "",
                source=(terms.amendment.title if terms and terms.amendment_id else "the agreement as signed"),
                borrower=view.borrower_name,
                lines=[
                    ComputationLine(f.borrower, f.period_end, f.line_item, f.amount, f.version, f.filename)
                    for f in view.figures
                ],
                value_text=figure(r.value, is_ratio=view.is_ratio),
                threshold_text=item.amount_as_printed or figure(r.threshold, is_ratio=view.is_ratio),
                headroom_text=headroom(r.headroom, is_ratio=view.is_ratio),
                status=view.status,
                status_label=status_label(view.status),
                explanation=r.explanation,
                provisional=r.provisional,
                missing=view.missing,
            )
        )
    return Certificate(
        agreement_name=agreement_name,
        agreement_title=agreement_title,
        test_date=test_date,
        officer_name=officer_name,
        officer_title=officer_title,
        certified_on=certified_on,
        prepared_by=prepared_by,
        entries=entries,
    )
