"""CSV statement files: decoded (UTF-8, or cp1252 when clean), delimiter found, rows read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from .tables import column_for, parse_table
from .text import quote
from .types import Refused, UploadError
from .validation import RowValidator

__all__ = ["csv_rows", "decode_csv", "read_csv"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_LINE = re.compile(r"sep=(.)\r?\n", re.IGNORECASE)


def decode_csv(content: bytes, name: str) -> str:
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
            raise Refused(
                UploadError(
                    None, None, f"{name} is not UTF-8 text: {problem}; save it as CSV UTF-8 and upload it again"
                )
            )
        return text
    control = _CONTROL.search(text)
    if control:
        raise Refused(
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
        score = (sum(1 for cell in first if column_for(cell)), len(first))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
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
        raise Refused(UploadError(number + 1, None, f"The CSV text cannot be read here: {exc}"))


def read_csv(content: bytes, name: str, validator: RowValidator) -> None:
    """Decode the file once and validate its rows into ``validator``."""
    text = decode_csv(content, name)

    def extra(row: int, index: int, value: object) -> str:
        return (
            f"The row has a value ({quote(value, 20)}) in a column the header does not name; "
            'in a CSV file, a figure with thousands separators must be in quotes ("18,000,000")'
        )

    parse_table(csv_rows(text), validator, describe_extra=extra)


# --- XLSX ------------------------------------------------------------------------------------------
