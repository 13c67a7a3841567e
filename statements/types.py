"""
What a statement upload is checked against and what comes of it: the layout's columns, the
context a caller builds from the database, the errors (each placed on a row and column), the
figures that passed, and the refusal of a file as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from covenants.periods import QUARTER, FiscalCalendar

from .xlsx_stream import XlsxLimits

__all__ = [
    "COLUMNS",
    "MAX_ERRORS",
    "ParsedRow",
    "ParsedUpload",
    "Refused",
    "UploadContext",
    "UploadError",
    "finished_errors",
]

#: The columns of the long layout, in the template's order.
COLUMNS: tuple[str, ...] = ("entity", "period_end", "line_item", "amount")
COLUMN_ORDER = {name: index for index, name in enumerate(COLUMNS)}
COLUMNS_TEXT = "entity, period_end, line_item and amount"

#: Errors listed in full; the rest are counted in one closing entry.
MAX_ERRORS = 200
#: Amounts are whole currency units with cents; anything larger is a slip of the keyboard.


@dataclass(frozen=True)
class UploadContext:
    """
    What a file for one agreement may name, built by the caller from the database.

    ``entities`` maps each Borrower's legal name and defined term, normalised with
    :func:`normalize_name`, to its party id; ``line_items`` maps normalised codes and names
    to line item codes; ``required_line_items`` are the codes every statement must carry.
    """

    entities: Mapping[str, int]
    entity_names: Mapping[int, str]
    line_items: Mapping[str, str]
    line_item_names: Mapping[str, str]
    required_line_items: tuple[str, ...]
    fiscal_year_end_month: int = 12
    #: The agreement's fiscal calendar (None: calendar months ending the year in
    #: ``fiscal_year_end_month``) and how often it reports: a statement per period of it.
    calendar: FiscalCalendar | None = None
    frequency: str = QUARTER
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 20_000
    #: The fiscal quarters a statement may be for, both ends included: a window around the
    #: agreement's life (None: no bound on that side).
    earliest_period: date | None = None
    latest_period: date | None = None
    #: Statements (one per Borrower and fiscal quarter) one file may carry.
    max_statements: int = 500
    #: How much of a workbook is read before it is refused (rows follow ``max_rows``).
    xlsx_limits: XlsxLimits = field(default_factory=XlsxLimits)

    def __post_init__(self) -> None:
        if not 1 <= self.fiscal_year_end_month <= 12:
            raise ValueError("The fiscal year must end in a month from 1 to 12.")
        if self.earliest_period and self.latest_period and self.earliest_period > self.latest_period:
            raise ValueError("The earliest period a statement may cover must not be after the latest.")

    @property
    def fiscal_calendar(self) -> FiscalCalendar:
        """The calendar statements' period ends are checked against."""
        return self.calendar or FiscalCalendar.calendar_months(self.fiscal_year_end_month)


@dataclass(frozen=True)
class UploadError:
    """One thing wrong with an upload, placed where the user sees it in the file."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return f"Row {self.row}, column {self.column}: {self.message}"
        if self.row is not None:
            return f"Row {self.row}: {self.message}"
        if self.column:
            return f"Column {self.column}: {self.message}"
        return self.message


@dataclass(frozen=True)
class ParsedRow:
    """One figure that passed every check: a Borrower's line item for a fiscal quarter."""

    row: int
    party_id: int
    period_end: date
    line_item: str
    amount: Decimal


@dataclass
class ParsedUpload:
    """
    The outcome of parsing one upload: its identity (name, size, SHA-256) and either the
    figures it carries or everything wrong with it.

    ``rows`` holds the rows that passed their own checks even when other rows failed, so a
    page can show them; only an upload that is :attr:`ok` may be recorded.
    """

    filename: str
    format: str
    size: int
    sha256: str
    content_type: str
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[UploadError] = field(default_factory=list)
    #: The data rows as read (row number -> {column: cell}), when the caller asked for them
    #: (the preview shows them without reading the file again), and the header's row number.
    cells: dict[int, dict[str, object]] = field(default_factory=dict)
    header_row: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def statements(self) -> dict[tuple[int, date], dict[str, Decimal]]:
        """(party id, period end) -> {line item code: amount}, in the file's order."""
        result: dict[tuple[int, date], dict[str, Decimal]] = {}
        for row in self.rows:
            result.setdefault((row.party_id, row.period_end), {})[row.line_item] = row.amount
        return result


class Refused(Exception):
    """The upload is refused as a whole; its row errors, if any, no longer matter."""

    def __init__(self, *errors: UploadError) -> None:
        super().__init__(errors[0].message if errors else "")
        self.errors = list(errors)


def finished_errors(errors: list[UploadError]) -> list[UploadError]:
    """Errors in file order (file-level first), capped with a count of the rest."""
    ordered = sorted(errors, key=lambda e: (e.row or 0, COLUMN_ORDER.get(e.column or "", -1)))
    if len(ordered) <= MAX_ERRORS:
        return ordered
    rest = len(ordered) - MAX_ERRORS
    return [*ordered[:MAX_ERRORS], UploadError(None, None, f"…and {rest:,} more error{'s' if rest > 1 else ''}")]
