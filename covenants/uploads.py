"""
Borrowers' statement files: parsing, validation and the template they start from.

A file holds one row per figure in the long layout ``entity, period_end, line_item,
amount``, as CSV or as an Excel workbook (XLSX); the API sends the same columns as JSON
records. Everything here is pure Python over an :class:`UploadContext` that the caller
builds from the database: no queries, no clock, no I/O beyond the bytes handed in.

Every row is checked and every error reported at once, each naming the row and column
as the user sees them in the file (the header is row 1). A file that is not what it claims
to be, that is too large, or that is built to exhaust memory or time (a zip bomb, XML entity
expansion, millions of styles or of cells in a row) is refused quickly and as a whole:
workbooks are read by the bounded streaming reader of :mod:`covenants.xlsx_reader`, never
by openpyxl. A period outside the window around the agreement's life that the caller gives,
or more statements in one file than it allows, is refused too. :func:`parse_statement_file`
never raises: anything unexpected becomes a file-level error.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import json
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import PureWindowsPath
from typing import cast

from .fiscal_calendar import is_fiscal_quarter_end, quarter_end_months
from .spreadsheet_safety import FORMULA_STARTS, neutralise, write_text
from .xlsx_reader import XlsxDamaged, XlsxEntities, XlsxLimits, XlsxRefused, read_first_sheet

__all__ = [
    "COLUMNS",
    "ParsedRow",
    "ParsedUpload",
    "UploadContext",
    "UploadError",
    "XlsxLimits",
    "build_template",
    "canonical_json",
    "is_fiscal_quarter_end",
    "normalize_name",
    "parse_amount",
    "parse_statement_file",
    "parse_statement_records",
    "quarter_ends_description",
]

logger = logging.getLogger(__name__)

# --- Limits and layout ------------------------------------------------------------------

#: The columns of the long layout, in the template's order.
COLUMNS: tuple[str, ...] = ("entity", "period_end", "line_item", "amount")
_COLUMN_ORDER = {name: index for index, name in enumerate(COLUMNS)}
_COLUMNS_TEXT = "entity, period_end, line_item and amount"

#: Errors listed in full; the rest are counted in one closing entry.
MAX_ERRORS = 200
#: Amounts are whole currency units with cents; anything larger is a slip of the keyboard.
MAX_AMOUNT = Decimal(10) ** 15
#: An XLSX is refused before it is opened if it would expand beyond this ...
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
#: ... or if any large member is compressed more tightly than this (zeros compress ~1000:1).
MAX_COMPRESSION_RATIO = 100
#: Members smaller than this cannot expand to harm, whatever their ratio.
_RATIO_CHECK_FROM = 1024 * 1024
#: XML parts other than worksheets are read whole before the sheet: a statement needs little.
MAX_XLSX_PART = 25 * 1024 * 1024
#: A statement workbook has a handful of parts; thousands mean a hostile archive.
MAX_XLSX_MEMBERS = 1_000
#: Only the first columns of a sheet are read, so a cell far to the right cannot make every
#: row thousands of cells wide.
MAX_XLSX_COLUMNS = 64
#: Blank rows cost time to read: a sheet may run to this many times max_rows, blank or not.
_PHYSICAL_ROWS_FACTOR = 5

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# --- Public types -----------------------------------------------------------------------


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
    #: The limits a workbook was read within, for reading it again (the preview).
    xlsx_limits: XlsxLimits | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def statements(self) -> dict[tuple[int, date], dict[str, Decimal]]:
        """(party id, period end) -> {line item code: amount}, in the file's order."""
        result: dict[tuple[int, date], dict[str, Decimal]] = {}
        for row in self.rows:
            result.setdefault((row.party_id, row.period_end), {})[row.line_item] = row.amount
        return result


class _Refused(Exception):
    """The upload is refused as a whole; its row errors, if any, no longer matter."""

    def __init__(self, *errors: UploadError) -> None:
        super().__init__(errors[0].message if errors else "")
        self.errors = list(errors)


# --- Names, amounts and dates -----------------------------------------------------------


def normalize_name(text: str) -> str:
    """
    A name reduced to what identifies it: case, spacing and punctuation ignored.

    ``"KMC Telecom Inc."`` and ``"kmc  telecom inc"`` both give ``"kmctelecominc"``;
    ``"Leasing I"`` and ``"Leasing II"`` stay apart.
    """
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2212": "-", "\u2013": "-"})
_DIGITS = re.compile(r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?", re.ASCII)
_SCIENTIFIC = re.compile(r"[0-9.,]+[eE][+-]?[0-9]+", re.ASCII)
_EXAMPLES = "such as 18,000,000, (4,157,000) or 18000000.00"
_CENTS = Decimal("0.01")


def _str(value: object) -> str:
    """str() that cannot fail (an int of more than 4,300 digits refuses to become text)."""
    try:
        return str(value)
    except Exception:
        return "a number too long to show" if isinstance(value, int) else "a value that cannot be shown"


def _quote(value: object, limit: int = 60) -> str:
    """User text for a message: quoted, on one line, and short."""
    text = " ".join(_str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def _checked_amount(value: Decimal, shown: object) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"{_quote(shown)} is not an amount; write a figure {_EXAMPLES}")
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"{_quote(shown)} is more than 1,000,000,000,000,000, the largest amount accepted")
    cents = value.quantize(_CENTS)
    if cents != value:
        raise ValueError(f"{_quote(shown)} has more than 2 decimal places")
    # -0 from "(0)" or "-0" is zero.
    return cents if cents else Decimal("0.00")


def parse_amount(text: str | int | float | Decimal) -> Decimal:
    """
    A figure as finance teams write it, as a Decimal with two decimal places.

    Accepts thousands separators, a dollar sign, a minus sign or accounting parentheses
    for negatives (``(4,157,000)``, ``($4,157,000)``, ``-$4,157,000``), at most two
    decimal places and surrounding spaces. Raises ValueError with a sentence on anything
    else: text, a blank, scientific notation, amounts above 10^15.
    """
    if isinstance(text, bool):
        raise ValueError(f"{text} is not an amount; write a figure {_EXAMPLES}")
    if isinstance(text, Decimal):
        return _checked_amount(text, text)
    if isinstance(text, int):
        if abs(text) > MAX_AMOUNT:
            raise ValueError(f"{_quote(text)} is more than 1,000,000,000,000,000, the largest amount accepted")
        return _checked_amount(Decimal(text), text)
    if isinstance(text, float):
        # A spreadsheet hands over binary floats; their shortest repr is what the user typed.
        return _checked_amount(Decimal(str(text)), text)
    if not isinstance(text, str):
        raise ValueError(f"{_quote(text)} is not an amount; write a figure {_EXAMPLES}")

    shown = text.strip()
    body = text.translate(_SPACES).strip()
    if not body:
        raise ValueError("The amount is blank; a figure is required (write 0 for none)")
    # Signs in any order a spreadsheet writes them: "-$4,157,000", "$-4,157,000", "($4,157,000)".
    negatives = dollars = pluses = 0
    for _ in range(4):
        if body[:1] == "-":
            negatives, body = negatives + 1, body[1:].strip()
        elif body[:1] == "+":
            pluses, body = pluses + 1, body[1:].strip()
        elif body[:1] == "$":
            dollars, body = dollars + 1, body[1:].strip()
        elif body[:1] == "(" and body.endswith(")"):
            negatives, body = negatives + 1, body[1:-1].strip()
        else:
            break
    if negatives > 1:
        raise ValueError(f"{_quote(shown)} has two negative signs")
    if dollars > 1 or pluses > 1 or (pluses and negatives):
        raise ValueError(f"{_quote(shown)} is not an amount; write a figure {_EXAMPLES}")
    negative = negatives == 1
    match = _DIGITS.fullmatch(body)
    if match is None:
        if _SCIENTIFIC.fullmatch(body):
            raise ValueError(f"{_quote(shown)} is in scientific notation; write the figure in full, such as 18,000,000")
        if re.fullmatch(r"[0-9,]+(\.[0-9]+)?", body):
            raise ValueError(f"{_quote(shown)} has misplaced thousands separators; write it as 1,234,567 or 1234567")
        raise ValueError(f"{_quote(shown)} is not an amount; write a figure {_EXAMPLES}")
    integer = match["int"].replace(",", "")
    fraction = (match["frac"] or "").rstrip("0")
    if len(fraction) > 2:
        raise ValueError(f"{_quote(shown)} has more than 2 decimal places")
    if len(integer.lstrip("0")) > 16:
        # Refused before building a Decimal from a megabyte of digits.
        raise ValueError(f"{_quote(shown)} is more than 1,000,000,000,000,000, the largest amount accepted")
    value = Decimal(f"{integer}.{fraction or '0'}")
    return _checked_amount(-value if negative else value, shown)


def quarter_ends_description(fiscal_year_end_month: int = 12) -> str:
    """``"March 31, June 30, September 30 and December 31"`` for a calendar fiscal year."""
    parts = []
    for month in quarter_end_months(fiscal_year_end_month):
        last = calendar.monthrange(2001, month)[1]  # a common year; February is spelt out below
        parts.append("February 28 (29 in a leap year)" if month == 2 else f"{_MONTHS[month - 1]} {last}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?", re.ASCII)


# --- Validation of rows, whatever the format ---------------------------------------------


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The guard neutralise() puts before a formula start, as the templates and exports write it.
_NEUTRALISED = re.compile("'[" + re.escape("".join(FORMULA_STARTS)) + "]")
_EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"})


def _text(value: object) -> str:
    """A cell as text: stripped, with the apostrophe that guards against formulas removed."""
    text = value.isoformat() if isinstance(value, date) else _str(value)
    text = text.strip()
    if _NEUTRALISED.match(text):
        text = text[1:].strip()
    return text


#: A column's checked value, or None and the sentence saying what is wrong.
_Checked = tuple[object, str | None]


class _Validator:
    """Checks rows one by one, then what only the whole file can show (duplicates, gaps)."""

    def __init__(self, context: UploadContext, fmt: str) -> None:
        self.context = context
        self.fmt = fmt
        self.rows: list[ParsedRow] = []
        self.errors: list[UploadError] = []
        self.figures = 0
        self._first_row_of: dict[tuple[int, date, str], int] = {}
        self._statement_first_row: dict[tuple[int, date], int] = {}
        self._statement_items: dict[tuple[int, date], set[str]] = {}
        # Statements a row may have been meant for, though its Borrower, quarter or line item
        # could not be read: a gap in them is that row's error, not a second one.
        self._statement_unsure: set[tuple[int, date]] = set()
        self._unsure_parties: set[int] = set()
        self._unsure_periods: set[date] = set()
        self._unsure_all = False
        self._accepted_items = self._accepted_line_items()
        self._cache: dict[tuple[str, type, object], _Checked] = {}

    def _accepted_line_items(self) -> str:
        names = [f"{name} ({code})" for code, name in self.context.line_item_names.items()]
        if not names:
            return "none is set up for this agreement"
        return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]

    def _blank(self, what: str, advice: str) -> str:
        message = f"The {what} is blank; {advice}"
        if self.fmt == "xlsx":
            message += (
                "; if the cell holds a formula, open the workbook in Excel and save it, "
                "so that the formula's value is saved with it"
            )
        return message

    def _error(self, row: int, column: str | None, message: str) -> None:
        self.errors.append(UploadError(row, column, message))

    def add(self, row: int, values: Mapping[str, object]) -> None:
        """Check one data row; a row that passes every check becomes a figure."""
        self.figures += 1
        for column in COLUMNS:
            value = values.get(column)
            if isinstance(value, str) and value.strip() in _EXCEL_ERRORS:
                self._error(row, column, f"The cell holds the Excel error {value.strip()}, not a value")
                values = {**values, column: _SKIP}
        party_id = cast("int | None", self._checked(row, "entity", values.get("entity"), self._check_entity))
        period_end = cast(
            "date | None", self._checked(row, "period_end", values.get("period_end"), self._check_period_end)
        )
        line_item = cast("str | None", self._checked(row, "line_item", values.get("line_item"), self._check_line_item))
        amount = cast("Decimal | None", self._checked(row, "amount", values.get("amount"), self._check_amount))

        if party_id is None and period_end is None:
            self._unsure_all = True
        elif party_id is None:
            self._unsure_periods.add(period_end)
        elif period_end is None:
            self._unsure_parties.add(party_id)
        else:
            statement = (party_id, period_end)
            self._statement_first_row.setdefault(statement, row)
            if line_item is None:
                self._statement_unsure.add(statement)
            else:
                self._statement_items.setdefault(statement, set()).add(line_item)
                key = (party_id, period_end, line_item)
                first = self._first_row_of.setdefault(key, row)
                if first != row:
                    self._error(
                        row,
                        "line_item",
                        f"{self._entity_name(party_id)} has two figures for {self._item_name(line_item)} for the "
                        f"fiscal quarter ending {period_end.isoformat()}, in rows {first} and {row}; keep one",
                    )
                    return
        if party_id is not None and period_end is not None and line_item is not None and amount is not None:
            self.rows.append(ParsedRow(row, party_id, period_end, line_item, amount))

    def _entity_name(self, party_id: int) -> str:
        return self.context.entity_names.get(party_id, str(party_id))

    def _item_name(self, code: str) -> str:
        return self.context.line_item_names.get(code, code)

    def _checked(self, row: int, column: str, value: object, check: Callable[[object], _Checked]) -> object:
        """Run one column's check, remembering the outcome for values that repeat row after row."""
        if value is _SKIP:
            return None
        key = None
        if isinstance(value, (str, date, int, float)) and not (isinstance(value, str) and len(value) > 100):
            key = (column, type(value), value)
            cached = self._cache.get(key)
            if cached is not None:
                result, message = cached
                if message:
                    self._error(row, column, message)
                return result
        outcome = check(value)
        if key is not None and len(self._cache) < 10_000:
            self._cache[key] = outcome
        if outcome[1]:
            self._error(row, column, outcome[1])
        return outcome[0]

    def _check_entity(self, value: object) -> _Checked:
        if _is_blank(value):
            return None, self._blank("entity", "write the Borrower's legal name or defined term")
        text = _text(value)
        party_id = self.context.entities.get(normalize_name(text))
        if party_id is None:
            return None, f"{_quote(text)} is not a Borrower under this agreement"
        return party_id, None

    def _check_period_end(self, value: object) -> _Checked:
        if _is_blank(value):
            return None, self._blank("period end", "write the last day of the fiscal quarter as YYYY-MM-DD")
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return None, (
                f"{_quote(value)} is a number, not a date; write the date as YYYY-MM-DD or format the cell as a date"
            )
        else:
            text = _text(value)
            match = _ISO_DATE.fullmatch(text)
            if match is None:
                return None, f"{_quote(text)} is not a date in the form YYYY-MM-DD"
            try:
                day = date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None, f"{_quote(text)} is not a date: there is no such day"
        if not is_fiscal_quarter_end(day, self.context.fiscal_year_end_month):
            return None, (
                f"{day.isoformat()} is not the last day of a fiscal quarter "
                f"(quarters end on {quarter_ends_description(self.context.fiscal_year_end_month)})"
            )
        outside = self._outside_window(day)
        return (None, outside) if outside else (day, None)

    def _outside_window(self, day: date) -> str | None:
        earliest, latest = self.context.earliest_period, self.context.latest_period
        if (earliest is None or day >= earliest) and (latest is None or day <= latest):
            return None
        if earliest and latest:
            allowed = f"fiscal quarters ending from {earliest.isoformat()} to {latest.isoformat()}"
        elif earliest:
            allowed = f"fiscal quarters ending on or after {earliest.isoformat()}"
        else:
            allowed = f"fiscal quarters ending on or before {latest}"
        return (
            f"{day.isoformat()} is outside the periods this agreement's statements may cover: {allowed}, "
            "a window around the agreement's life"
        )

    def _check_line_item(self, value: object) -> _Checked:
        if _is_blank(value):
            return None, self._blank("line item", f"write one of the line items: {self._accepted_items}")
        text = _text(value)
        code = self.context.line_items.get(normalize_name(text))
        if code is None:
            return (
                None,
                f"{_quote(text)} is not a line item of this agreement; the line items are {self._accepted_items}",
            )
        return code, None

    def _check_amount(self, value: object) -> _Checked:
        if _is_blank(value):
            return None, self._blank("amount", "a figure is required (write 0 for none)")
        if isinstance(value, (date, datetime)):
            return None, f"{_quote(_text(value))} is a date, not an amount"
        try:
            if isinstance(value, str):
                return parse_amount(_text(value)), None
            if isinstance(value, (int, float, Decimal)):
                return parse_amount(value), None
            return parse_amount(_str(value)), None
        except ValueError as exc:
            return None, str(exc)

    def finish(self) -> None:
        """What only the whole file shows: statements lacking a required line item, no figures."""
        if not self.figures:
            raise _Refused(UploadError(None, None, "The file has no figures: there are no rows below the header"))
        count, cap = len(self._statement_first_row), self.context.max_statements
        if count > cap:
            raise _Refused(
                UploadError(
                    None,
                    None,
                    f"The file holds {count:,} statements (one for each Borrower and fiscal quarter), and a file may "
                    f"hold at most {cap:,}; split it into files of at most {cap:,} statements",
                )
            )
        required = self.context.required_line_items
        for statement, first_row in self._statement_first_row.items():
            party_id, period_end = statement
            if (
                self._unsure_all
                or statement in self._statement_unsure
                or party_id in self._unsure_parties
                or period_end in self._unsure_periods
            ):
                continue  # a row's line item is unreadable: that row's own error says enough
            present = self._statement_items.get(statement, set())
            missing = [code for code in required if code not in present]
            if missing:
                self._error(
                    first_row,
                    "line_item",
                    f"The statement of {self._entity_name(party_id)} for the fiscal quarter ending "
                    f"{period_end.isoformat()} lacks {_and(self._item_name(c) for c in missing)}; every statement "
                    f"must carry {_and(self._item_name(c) for c in required)}",
                )


class _Skip:
    """A cell already reported (an Excel error value): its column is not checked again."""


_SKIP = _Skip()


def _and(names: Iterable[str]) -> str:
    items = list(names)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _finished_errors(errors: list[UploadError]) -> list[UploadError]:
    """Errors in file order (file-level first), capped with a count of the rest."""
    ordered = sorted(errors, key=lambda e: (e.row or 0, _COLUMN_ORDER.get(e.column or "", -1)))
    if len(ordered) <= MAX_ERRORS:
        return ordered
    rest = len(ordered) - MAX_ERRORS
    return [*ordered[:MAX_ERRORS], UploadError(None, None, f"…and {rest:,} more error{'s' if rest > 1 else ''}")]


# --- Tables: header, then rows --------------------------------------------------------------


def _column_for(header: object) -> str | None:
    key = normalize_name(_text(header))
    for column in COLUMNS:
        if key == normalize_name(column):
            return column
    return None


def _parse_table(
    rows: Iterable[tuple[int, Sequence[object]]],
    validator: _Validator,
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
    max_physical = max(context.max_rows * _PHYSICAL_ROWS_FACTOR, 1_000)
    for row_number, row_cells in rows:
        cells = _trimmed(row_cells)
        if header is not None:
            physical += 1
            if physical > max_physical:
                raise _Refused(
                    UploadError(
                        None,
                        None,
                        f"The file runs to more than {max_physical:,} rows below the header, counting blank rows; "
                        "delete the empty rows below the figures and upload it again",
                    )
                )
        if all(_is_blank(cell) for cell in cells):
            continue
        if header is None:
            header, header_errors = _read_header(row_number, cells)
            validator.errors.extend(header_errors)
            continue
        if validator.figures >= context.max_rows:
            raise _Refused(
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
            elif index not in header and not _is_blank(cell) and not extra_reported:
                validator.errors.append(UploadError(row_number, None, describe_extra(row_number, index, cell)))
                extra_reported = True
        validator.add(row_number, values)
    if header is None:
        raise _Refused(UploadError(None, None, "The file has no figures: it is empty"))
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
        if _is_blank(cell):
            continue  # extra empty columns are ignored
        column = _column_for(cell)
        if column is None:
            found[index] = None
            errors.append(
                UploadError(
                    row_number,
                    None,
                    f"{_quote(_text(cell))} is not a column of the layout; the columns are {_COLUMNS_TEXT}",
                )
            )
        elif column in found.values():
            fatal = True
            errors.append(UploadError(row_number, column, f"The header names the column {column} twice"))
        else:
            found[index] = column
    if not any(found.values()):
        shown = _quote(", ".join(_text(c) for c in cells if not _is_blank(c)))
        raise _Refused(
            UploadError(
                row_number,
                None,
                f"The first row must be the header naming the columns {_COLUMNS_TEXT}; it reads {shown}",
            )
        )
    for column in COLUMNS:
        if column not in found.values():
            fatal = True
            errors.append(
                UploadError(row_number, column, f"The header has no {column} column; the columns are {_COLUMNS_TEXT}")
            )
    if fatal:
        raise _Refused(*errors)
    return found, errors


# --- Telling formats apart -----------------------------------------------------------------

_CLAIMS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx"}
_OTHER_SPREADSHEETS = {
    ".xls": "an Excel 97-2003 workbook (.xls)",
    ".xlsm": "a macro-enabled workbook (.xlsm)",
    ".xlsb": "an Excel binary workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".numbers": "a Numbers spreadsheet",
}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"\x7fELF", "elf"),
    (b"MZ", "exe"),
    (b"%PDF", "pdf"),
    (b"\x1f\x8b", "gzip"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\xca\xfe\xba\xbe", "macho"),
    (b"\xcf\xfa\xed\xfe", "macho"),
    (b"\xce\xfa\xed\xfe", "macho"),
    (b"\x00\x00\xfe\xff", "utf32"),
    (b"\xff\xfe\x00\x00", "utf32"),
    (b"\xff\xfe", "utf16"),
    (b"\xfe\xff", "utf16"),
)
_DESCRIPTIONS = {
    "xlsx": "an Excel workbook",
    "xlsb": "an Excel binary workbook (.xlsb)",
    "docx": "a Word document",
    "pptx": "a PowerPoint presentation",
    "ods": "an OpenDocument file",
    "zip": "a ZIP archive",
    "ole2": "an Excel 97-2003 workbook (.xls), a password-protected workbook or another older Office document",
    "exe": "a Windows program",
    "elf": "a Linux program",
    "macho": "a macOS program",
    "pdf": "a PDF document",
    "gzip": "a gzip archive",
    "bzip2": "a bzip2 archive",
    "xz": "an xz archive",
    "rar": "a RAR archive",
    "7z": "a 7-Zip archive",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "binary": "binary data, not text",
    "markup": "an HTML or XML document",
    "text": "CSV text",
}


def _sniff(content: bytes) -> str:
    """What the bytes are, from their first bytes and, for a ZIP, the names inside."""
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _sniff_zip(content)
    for signature, kind in _SIGNATURES:
        if content.startswith(signature):
            return kind
    if b"\x00" in content:
        head = content[:4096]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        half = max(len(head) // 2, 1)
        # ASCII text in UTF-16 has a NUL in every other byte.
        if max(even, odd) > 0.4 * half and min(even, odd) < 0.05 * half:
            return "utf16"
        return "binary"
    if content.lstrip()[:1] == b"<":
        return "markup"
    return "text"


def _sniff_zip(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except Exception:
        return "zip_broken"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "mimetype" in names and "content.xml" in names:
        return "ods"
    return "zip"


def _display_name(filename: str) -> str:
    """The name as the user knows it, without any path a browser sent along."""
    return PureWindowsPath(filename).name or filename or "The file"


def _decide_format(name: str, suffix: str, kind: str) -> str:
    """csv or xlsx, or a refusal when the content is not what the name claims."""
    claim = _CLAIMS.get(suffix)
    description = _DESCRIPTIONS.get(kind, "a ZIP archive")
    if kind in ("utf16", "utf32"):
        encoding = "UTF-16" if kind == "utf16" else "UTF-32"
        raise _Refused(
            UploadError(
                None,
                None,
                f"{name} is not UTF-8 text: it is encoded as {encoding}; save it as CSV UTF-8 and upload it again",
            )
        )
    if claim is None and suffix:
        other = _OTHER_SPREADSHEETS.get(suffix)
        if other:
            raise _Refused(
                UploadError(None, None, f"{name} is {other}; save it as an Excel workbook (.xlsx) or as CSV UTF-8")
            )
        raise _Refused(
            UploadError(None, None, f"{name} is not a CSV or Excel (.xlsx) file; upload a .csv or .xlsx file")
        )
    if claim == "csv" or (claim is None and kind in ("text", "markup")):
        if kind == "xlsx":
            raise _Refused(
                UploadError(
                    None, None, f"{name} is not a CSV file: it looks like an Excel workbook; upload it as a .xlsx file"
                )
            )
        if kind not in ("text", "markup"):
            raise _Refused(UploadError(None, None, f"{name} is not a CSV file: it looks like {description}"))
        return "csv"
    # The name claims a workbook, or claims nothing.
    if kind == "xlsx":
        return "xlsx"
    if kind == "zip_broken":
        raise _Refused(UploadError(None, None, f"{name} is damaged: it cannot be opened as an Excel workbook"))
    if claim is None:
        raise _Refused(UploadError(None, None, f"{name} is not a CSV or Excel file: it looks like {description}"))
    raise _Refused(UploadError(None, None, f"{name} is not an Excel workbook: it looks like {description}"))


# --- CSV ------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_LINE = re.compile(r"sep=(.)\r?\n", re.IGNORECASE)


def _decode_csv(content: bytes, name: str) -> str:
    """UTF-8 (with or without BOM); cp1252 only when it decodes cleanly into printable text."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"byte 0x{content[exc.start]:02X} at position {exc.start:,} is not valid UTF-8"
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            text = ""
        if not text or _CONTROL.search(text):
            raise _Refused(
                UploadError(
                    None, None, f"{name} is not UTF-8 text: {problem}; save it as CSV UTF-8 and upload it again"
                )
            )
        return text
    control = _CONTROL.search(text)
    if control:
        raise _Refused(
            UploadError(
                None,
                None,
                f"{name} is not a CSV file: it contains the control character U+{ord(control.group()):04X} "
                f"at position {control.start():,}",
            )
        )
    return text


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever makes the first non-blank line name the most columns."""
    head = text[:65536]
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        try:
            first = next((r for r in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter) if any(r)), [])
        except csv.Error:
            continue
        score = (sum(1 for cell in first if _column_for(cell)), len(first))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    number = 0
    delimiter = None
    sep = _SEP_LINE.match(text)
    if sep and sep.group(1) in ",;\t|":
        # Excel's "sep=;" hint line: the header is then on row 2.
        delimiter, text, number = sep.group(1), text[sep.end() :], 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or _sniff_delimiter(text))
    try:
        for row in reader:
            number += 1
            yield number, row
    except csv.Error as exc:
        raise _Refused(UploadError(number + 1, None, f"The CSV text cannot be read here: {exc}"))


def _read_csv(content: bytes, name: str, context: UploadContext) -> _Validator:
    text = _decode_csv(content, name)
    validator = _Validator(context, "csv")

    def extra(row: int, index: int, value: object) -> str:
        return (
            f"The row has a value ({_quote(value, 20)}) in a column the header does not name; "
            'in a CSV file, a figure with thousands separators must be in quotes ("18,000,000")'
        )

    _parse_table(_csv_rows(text), validator, describe_extra=extra)
    return validator


# --- XLSX ------------------------------------------------------------------------------------------


def _check_archive(content: bytes) -> None:
    """Refuse, before opening it, a workbook built to expand beyond any statement's needs."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except Exception as exc:
        raise _damaged(exc)
    if len(members) > MAX_XLSX_MEMBERS:
        raise _Refused(UploadError(None, None, f"The workbook has {len(members):,} parts; it is refused as unsafe"))
    total = sum(member.file_size for member in members)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise _Refused(
            UploadError(
                None,
                None,
                f"The workbook would expand to {total / 2**20:,.0f} MB when opened, more than the "
                f"{MAX_XLSX_UNCOMPRESSED // 2**20} MB allowed; it is refused as a possible zip bomb",
            )
        )
    for member in members:
        if member.file_size >= _RATIO_CHECK_FROM and member.file_size > MAX_COMPRESSION_RATIO * max(
            member.compress_size, 1
        ):
            raise _Refused(
                UploadError(
                    None,
                    None,
                    f"The workbook part {member.filename} is compressed more than {MAX_COMPRESSION_RATIO} to 1; "
                    "it is refused as a possible zip bomb",
                )
            )
        if (
            member.file_size > MAX_XLSX_PART
            and not member.filename.startswith("xl/worksheets/")
            and member.filename.endswith((".xml", ".rels"))
        ):
            raise _Refused(
                UploadError(
                    None,
                    None,
                    f"The workbook part {member.filename} would expand to {member.file_size / 2**20:,.0f} MB, "
                    "far more than a statement needs; it is refused as unsafe",
                )
            )


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _damaged(exc: BaseException) -> _Refused:
    """A workbook the reader chokes on: the user gets a sentence, the log gets the reason."""
    logger.info("Refused a damaged workbook: %s", _short(exc, 500))
    return _Refused(
        UploadError(
            None,
            None,
            "The workbook is damaged and cannot be read; open it in Excel, save it again and upload it again",
        )
    )


_ENTITY_MESSAGE = (
    "The workbook contains XML entity declarations, which are refused because they can expand without limit "
    "or read other files; save the workbook again from Excel and upload it again"
)


def xlsx_limits_for(context: UploadContext) -> XlsxLimits:
    """The workbook reader's limits for this context: its own, with the sheet's rows (blank or
    not, the header and anything above it included) bounded by the rows of figures allowed."""
    physical = max(context.max_rows * _PHYSICAL_ROWS_FACTOR, 1_000)
    return replace(context.xlsx_limits, max_rows=physical + 1_000, max_columns=MAX_XLSX_COLUMNS)


def xlsx_rows(content: bytes, limits: XlsxLimits) -> Iterator[tuple[int, Sequence[object]]]:
    """(row number, values) of the workbook's first worksheet, read within ``limits``; a workbook
    that goes past them, is damaged or declares XML entities raises :class:`_Refused`."""
    _check_archive(content)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except Exception as exc:
        raise _damaged(exc) from None
    with archive:
        try:
            yield from read_first_sheet(archive, limits)
        except XlsxRefused as exc:
            raise _Refused(UploadError(None, None, str(exc))) from None
        except XlsxEntities:
            raise _Refused(UploadError(None, None, _ENTITY_MESSAGE)) from None
        except XlsxDamaged as exc:
            raise _damaged(exc) from None


def _read_xlsx(content: bytes, context: UploadContext, limits: XlsxLimits) -> _Validator:
    from openpyxl.utils import get_column_letter

    validator = _Validator(context, "xlsx")

    def extra(row: int, index: int, value: object) -> str:
        cell = f"{get_column_letter(index + 1)}{row}"
        return f"Cell {cell} holds {_quote(_text(value), 20)}, but its column has no header"

    try:
        _parse_table(xlsx_rows(content, limits), validator, describe_extra=extra)
    except _Refused:
        raise
    except Exception as exc:
        raise _damaged(exc) from None
    return validator


# --- Entry points ---------------------------------------------------------------------------------


def parse_statement_file(
    *, filename: str, content: bytes, context: UploadContext, content_type: str = ""
) -> ParsedUpload:
    """
    Parse and validate an uploaded CSV or XLSX statement file. Never raises.

    The format is decided by the content, and must agree with the file's extension. The
    result carries the figures, or every error found (at most 200 listed).
    """
    name = _display_name(str(filename or ""))
    suffix = PureWindowsPath(name).suffix.lower()
    upload = ParsedUpload(
        filename=str(filename or ""),
        format=_CLAIMS.get(suffix, "csv"),
        size=0,
        sha256="",
        content_type=str(content_type or ""),
    )
    try:
        data = bytes(content)
        upload.size = len(data)
        upload.sha256 = hashlib.sha256(data).hexdigest()
        if len(data) > context.max_bytes:
            raise _Refused(
                UploadError(
                    None,
                    None,
                    f"{name} is too large: {len(data):,} bytes, and a file may have at most "
                    f"{context.max_bytes:,} bytes ({_human_size(context.max_bytes)})",
                )
            )
        if not data.strip():
            raise _Refused(UploadError(None, None, "The file has no figures: it is empty"))
        upload.format = _decide_format(name, suffix, _sniff(data))
        if upload.format == "xlsx":
            upload.xlsx_limits = xlsx_limits_for(context)
        validator = (
            _read_xlsx(data, context, upload.xlsx_limits)
            if upload.xlsx_limits is not None
            else _read_csv(data, name, context)
        )
        upload.rows = validator.rows
        upload.errors = _finished_errors(validator.errors)
    except _Refused as refused:
        upload.rows = []
        upload.errors = _finished_errors(refused.errors)
    except Exception as exc:  # A user sees a sentence, never a stack trace.
        logger.exception("Unexpected failure parsing the statement file %r", name)
        upload.rows = []
        upload.errors = [UploadError(None, None, f"The file could not be read: {_short(exc)}")]
    return upload


def _human_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MB".replace(".0 MB", " MB")
    if size >= 2**10:
        return f"{size / 2**10:,.1f} KB".replace(".0 KB", " KB")
    return f"{size:,} bytes"


def canonical_json(records: object) -> bytes:
    """
    The records as the bytes an API submission is kept as, and hashed over: JSON with
    sorted keys, dates and Decimals as text. The same records always give the same bytes.
    """
    try:
        text = json.dumps(list(records), sort_keys=True, default=str)  # type: ignore[call-overload]
    except Exception:  # not a list, or keys of mixed types: the records are refused anyway
        text = _str(records)
    return text.encode("utf-8", "surrogatepass")


def parse_statement_records(
    records: Sequence[Mapping[str, object]], context: UploadContext, *, filename: str = "records.json"
) -> ParsedUpload:
    """
    Validate figures sent as JSON records with the file's columns as keys. Never raises.

    A record's row is its index plus one; the SHA-256 is taken over the canonical JSON
    (sorted keys, no spaces), so the same records always give the same digest.
    """
    canonical = canonical_json(records)
    upload = ParsedUpload(
        filename=filename,
        format="json",
        size=len(canonical),
        sha256=hashlib.sha256(canonical).hexdigest(),
        content_type="application/json",
    )
    try:
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence):
            raise _Refused(UploadError(None, None, "The figures must be a list of records"))
        if len(records) > context.max_rows:
            raise _Refused(
                UploadError(
                    None,
                    None,
                    f"There are more than {context.max_rows:,} records; "
                    f"send them in batches of at most {context.max_rows:,}",
                )
            )
        validator = _Validator(context, "json")
        reported_keys: set[str] = set()
        for index, record in enumerate(records):
            row = index + 1
            if not isinstance(record, Mapping):
                validator.errors.append(UploadError(row, None, "The record is not an object with the columns as keys"))
                validator.figures += 1
                continue
            values: dict[str, object] = {}
            for key, value in record.items():
                column = _column_for(key)
                if column is None:
                    if _str(key) not in reported_keys:
                        reported_keys.add(_str(key))
                        validator.errors.append(
                            UploadError(
                                row,
                                None,
                                f"{_quote(key)} is not a column of the layout; the columns are {_COLUMNS_TEXT}",
                            )
                        )
                    continue
                if isinstance(value, (list, dict)):
                    value = _SKIP
                    validator.errors.append(UploadError(row, column, "The value must be text or a number"))
                values[column] = value
            validator.add(row, values)
        if not validator.figures:
            raise _Refused(UploadError(None, None, "The file has no figures: there are no records"))
        validator.finish()
        upload.rows = validator.rows
        upload.errors = _finished_errors(validator.errors)
    except _Refused as refused:
        upload.rows = []
        upload.errors = _finished_errors(refused.errors)
    except Exception as exc:
        logger.exception("Unexpected failure parsing statement records")
        upload.rows = []
        upload.errors = [UploadError(None, None, f"The records could not be read: {_short(exc)}")]
    return upload


# --- The template ---------------------------------------------------------------------------------


def build_template(
    *, context: UploadContext, borrowers: Sequence[tuple[int, str]], period_end: date, fmt: str
) -> bytes:
    """
    A statement file to fill in: the long layout with one row per Borrower (legal name)
    and required line item (display name) for the fiscal quarter ending ``period_end``,
    amounts empty. ``fmt`` is "csv" (UTF-8 with a byte-order mark, for Excel) or "xlsx".
    Filled in and saved, it is accepted back as it is. Names are written as text a
    spreadsheet will not run (:func:`covenants.spreadsheet_safety.neutralise`, which the
    parser undoes): a party's name is set by people other than the Borrower.
    """
    if not is_fiscal_quarter_end(period_end, context.fiscal_year_end_month):
        raise ValueError(
            f"{period_end.isoformat()} is not the last day of a fiscal quarter "
            f"(quarters end on {quarter_ends_description(context.fiscal_year_end_month)})"
        )
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
