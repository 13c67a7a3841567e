"""
Borrowers' statement files and API records: parsed and validated, never raising.

A file holds one row per figure in the long layout ``entity, period_end, line_item,
amount``, as CSV or as an Excel workbook (XLSX); the API sends the same columns as JSON
records. Everything here is pure Python over an :class:`UploadContext` that the caller
builds from the database: no queries, no clock, no I/O beyond the bytes handed in.

Every row is checked and every error reported at once, each naming the row and column
as the user sees them in the file (the header is row 1). A file that is not what it claims
to be, that is too large, or that is built to exhaust memory or time (a zip bomb, XML entity
expansion, millions of styles or of cells in a row) is refused quickly and as a whole:
workbooks are read by the bounded streaming reader of :mod:`statements.xlsx_workbook`, never
by openpyxl. A period outside the window around the agreement's life that the caller gives,
or more statements in one file than it allows, is refused too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import PureWindowsPath

from .csv_files import read_csv
from .file_size import file_too_large
from .sniffing import CLAIMS, decide_format, display_name, sniff
from .tables import column_for
from .text import quote, safe_str, short
from .types import COLUMNS_TEXT, ParsedUpload, Refused, UploadContext, UploadError, finished_errors
from .validation import SKIP, RowValidator
from .xlsx_files import read_xlsx

__all__ = ["canonical_json", "parse_statement_file", "parse_statement_records"]

logger = logging.getLogger(__name__)


def parse_statement_file(
    *, filename: str, content: bytes, context: UploadContext, content_type: str = "", keep_cells: bool = False
) -> ParsedUpload:
    """
    Parse and validate an uploaded CSV or XLSX statement file. Never raises.

    The format is decided by the content, and must agree with the file's extension. The
    result carries the figures, or every error found (at most 200 listed); with
    ``keep_cells``, also the rows as read, for the preview.
    """
    name = display_name(str(filename or ""))
    suffix = PureWindowsPath(name).suffix.lower()
    upload = ParsedUpload(
        filename=str(filename or ""),
        format=CLAIMS.get(suffix, "csv"),
        size=0,
        sha256="",
        content_type=str(content_type or ""),
    )
    validator: RowValidator | None = None
    try:
        data = bytes(content)
        upload.size = len(data)
        upload.sha256 = hashlib.sha256(data).hexdigest()
        if too_large := file_too_large(name, len(data), context.max_bytes):
            raise Refused(UploadError(None, None, too_large))
        if not data.strip():
            raise Refused(UploadError(None, None, "The file has no figures: it is empty"))
        upload.format = decide_format(name, suffix, sniff(data))
        validator = RowValidator(context, upload.format, keep_cells=keep_cells)
        if upload.format == "xlsx":
            read_xlsx(data, validator)
        else:
            read_csv(data, name, validator)
        upload.rows = validator.rows
        upload.errors = finished_errors(validator.errors)
    except Refused as refused:
        upload.rows = []
        upload.errors = finished_errors(refused.errors)
    except Exception as exc:  # A user sees a sentence, never a stack trace.
        logger.exception("Unexpected failure parsing the statement file %r", name)
        upload.rows = []
        upload.errors = [UploadError(None, None, f"The file could not be read: {short(exc)}")]
    if validator is not None:
        upload.cells, upload.header_row = validator.cells or {}, validator.header_row
    return upload


def canonical_json(records: object) -> bytes:
    """
    The records as the bytes an API submission is kept as, and hashed over: JSON with
    sorted keys, dates and Decimals as text. The same records always give the same bytes.
    """
    try:
        text = json.dumps(list(records), sort_keys=True, default=str)  # type: ignore[call-overload]
    except Exception:  # not a list, or keys of mixed types: the records are refused anyway
        text = safe_str(records)
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
            raise Refused(UploadError(None, None, "The figures must be a list of records"))
        if len(records) > context.max_rows:
            raise Refused(
                UploadError(
                    None,
                    None,
                    f"There are more than {context.max_rows:,} records; "
                    f"send them in batches of at most {context.max_rows:,}",
                )
            )
        validator = RowValidator(context, "json")
        _add_records(records, validator)
        if not validator.figures:
            raise Refused(UploadError(None, None, "The file has no figures: there are no records"))
        validator.finish()
        upload.rows = validator.rows
        upload.errors = finished_errors(validator.errors)
    except Refused as refused:
        upload.rows = []
        upload.errors = finished_errors(refused.errors)
    except Exception as exc:
        logger.exception("Unexpected failure parsing statement records")
        upload.rows = []
        upload.errors = [UploadError(None, None, f"The records could not be read: {short(exc)}")]
    return upload


# --- The template ---------------------------------------------------------------------------------


def _add_records(records: Sequence[object], validator: RowValidator) -> None:
    """Validate each record as a row; a key that is not a column is reported once."""
    reported_keys: set[str] = set()
    for index, record in enumerate(records):
        row = index + 1
        if not isinstance(record, Mapping):
            validator.errors.append(UploadError(row, None, "The record is not an object with the columns as keys"))
            validator.figures += 1
            continue
        values: dict[str, object] = {}
        for key, value in record.items():
            column = column_for(key)
            if column is None:
                if safe_str(key) not in reported_keys:
                    reported_keys.add(safe_str(key))
                    validator.errors.append(
                        UploadError(
                            row, None, f"{quote(key)} is not a column of the layout; the columns are {COLUMNS_TEXT}"
                        )
                    )
                continue
            if isinstance(value, (list, dict)):
                value = SKIP
                validator.errors.append(UploadError(row, column, "The value must be text or a number"))
            values[column] = value
        validator.add(row, values)
