"""
Rows checked one by one, then what only the whole file shows (duplicates, a statement lacking a
required line item, too many statements): every error placed on its row and column.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from covenants.period_checks import PERIOD_NOUNS, not_a_period_end
from covenants.period_kinds import MONTH_NAMES
from covenants.periods import CALENDAR_MONTHS, QUARTER

from .amounts import parse_amount
from .text import cell_text, is_blank, joined, normalize_name, quote, safe_str
from .types import COLUMNS, ParsedRow, Refused, UploadContext, UploadError

__all__ = ["SKIP", "RowValidator", "period_end_problem", "quarter_ends_description"]


def quarter_ends_description(fiscal_year_end_month: int = 12) -> str:
    """``"March 31, June 30, September 30 and December 31"`` for a calendar fiscal year."""
    if not 1 <= fiscal_year_end_month <= 12:
        raise ValueError(f"fiscal_year_end_month must be 1 to 12, not {fiscal_year_end_month!r}.")
    parts = []
    for month in sorted({(fiscal_year_end_month - 1 - 3 * k) % 12 + 1 for k in range(4)}):
        last = calendar.monthrange(2001, month)[1]  # a common year; February is spelt out below
        parts.append("February 28 (29 in a leap year)" if month == 2 else f"{MONTH_NAMES[month - 1]} {last}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def period_end_problem(context: UploadContext, day: date) -> str | None:
    """None when ``day`` ends a period the agreement reports for (its calendar, at its reporting
    frequency); otherwise why not, naming the valid period ends nearest to it."""
    cal = context.fiscal_calendar
    if cal.kind == CALENDAR_MONTHS and context.frequency == QUARTER:
        if cal.is_period_end(day, QUARTER):
            return None
        assert cal.year_end_month is not None
        return (
            f"{day.isoformat()} is not the last day of a fiscal quarter "
            f"(quarters end on {quarter_ends_description(cal.year_end_month)})"
        )
    return not_a_period_end(cal, day, context.frequency)


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?", re.ASCII)


_EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"})

#: A column's checked value, or None and the sentence saying what is wrong.
Checked = tuple[object, str | None]


class RowValidator:
    """Checks rows one by one, then what only the whole file can show (duplicates, gaps)."""

    def __init__(self, context: UploadContext, fmt: str, *, keep_cells: bool = False) -> None:
        self.context = context
        self.fmt = fmt
        #: The data rows as read (row number -> {column: cell}), kept for the preview.
        self.cells: dict[int, dict[str, object]] | None = {} if keep_cells else None
        self.header_row: int | None = None
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
        self._cache: dict[tuple[str, type, object], Checked] = {}
        self._noun = PERIOD_NOUNS.get(context.frequency, "fiscal period")

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
                values = {**values, column: SKIP}
        party_id = cast("int | None", self._checked(row, "entity", values.get("entity"), self._check_entity))
        period_end = cast(
            "date | None", self._checked(row, "period_end", values.get("period_end"), self._check_period_end)
        )
        line_item = cast("str | None", self._checked(row, "line_item", values.get("line_item"), self._check_line_item))
        amount = cast("Decimal | None", self._checked(row, "amount", values.get("amount"), self._check_amount))

        if period_end is None:
            if party_id is None:
                self._unsure_all = True
            else:
                self._unsure_parties.add(party_id)
        elif party_id is None:
            self._unsure_periods.add(period_end)
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
                        f"{self._noun} ending {period_end.isoformat()}, in rows {first} and {row}; keep one",
                    )
                    return
        if party_id is not None and period_end is not None and line_item is not None and amount is not None:
            self.rows.append(ParsedRow(row, party_id, period_end, line_item, amount))

    def _entity_name(self, party_id: int) -> str:
        return self.context.entity_names.get(party_id, str(party_id))

    def _item_name(self, code: str) -> str:
        return self.context.line_item_names.get(code, code)

    def _checked(self, row: int, column: str, value: object, check: Callable[[object], Checked]) -> object:
        """Run one column's check, remembering the outcome for values that repeat row after row."""
        if value is SKIP:
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

    def _check_entity(self, value: object) -> Checked:
        if is_blank(value):
            return None, self._blank("entity", "write the Borrower's legal name or defined term")
        text = cell_text(value)
        party_id = self.context.entities.get(normalize_name(text))
        if party_id is None:
            return None, f"{quote(text)} is not a Borrower under this agreement"
        return party_id, None

    def _check_period_end(self, value: object) -> Checked:
        if is_blank(value):
            return None, self._blank("period end", f"write the last day of the {self._noun} as YYYY-MM-DD")
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return None, (
                f"{quote(value)} is a number, not a date; write the date as YYYY-MM-DD or format the cell as a date"
            )
        else:
            text = cell_text(value)
            match = _ISO_DATE.fullmatch(text)
            if match is None:
                return None, f"{quote(text)} is not a date in the form YYYY-MM-DD"
            try:
                day = date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None, f"{quote(text)} is not a date: there is no such day"
        problem = period_end_problem(self.context, day)
        if problem:
            return None, problem
        outside = self._outside_window(day)
        return (None, outside) if outside else (day, None)

    def _outside_window(self, day: date) -> str | None:
        earliest, latest = self.context.earliest_period, self.context.latest_period
        if (earliest is None or day >= earliest) and (latest is None or day <= latest):
            return None
        if earliest and latest:
            allowed = f"{self._noun}s ending from {earliest.isoformat()} to {latest.isoformat()}"
        elif earliest:
            allowed = f"{self._noun}s ending on or after {earliest.isoformat()}"
        else:
            allowed = f"{self._noun}s ending on or before {latest}"
        return (
            f"{day.isoformat()} is outside the periods this agreement's statements may cover: {allowed}, "
            "a window around the agreement's life"
        )

    def _check_line_item(self, value: object) -> Checked:
        if is_blank(value):
            return None, self._blank("line item", f"write one of the line items: {self._accepted_items}")
        text = cell_text(value)
        code = self.context.line_items.get(normalize_name(text))
        if code is None:
            return (
                None,
                f"{quote(text)} is not a line item of this agreement; the line items are {self._accepted_items}",
            )
        return code, None

    def _check_amount(self, value: object) -> Checked:
        if is_blank(value):
            return None, self._blank("amount", "a figure is required (write 0 for none)")
        if isinstance(value, (date, datetime)):
            return None, f"{quote(cell_text(value))} is a date, not an amount"
        try:
            if isinstance(value, str):
                return parse_amount(cell_text(value)), None
            if isinstance(value, (int, float, Decimal)):
                return parse_amount(value), None
            return parse_amount(safe_str(value)), None
        except ValueError as exc:
            return None, str(exc)

    def finish(self) -> None:
        """What only the whole file shows: statements lacking a required line item, no figures."""
        if not self.figures:
            raise Refused(UploadError(None, None, "The file has no figures: there are no rows below the header"))
        count, cap = len(self._statement_first_row), self.context.max_statements
        if count > cap:
            raise Refused(
                UploadError(
                    None,
                    None,
                    f"The file holds {count:,} statements (one for each Borrower and {self._noun}), and a file may "
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
                    f"The statement of {self._entity_name(party_id)} for the {self._noun} ending "
                    f"{period_end.isoformat()} lacks {joined(self._item_name(c) for c in missing)}; every statement "
                    f"must carry {joined(self._item_name(c) for c in required)}",
                )


class Skip:
    """A cell already reported (an Excel error value): its column is not checked again."""


SKIP = Skip()
