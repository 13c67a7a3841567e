"""
XLSX statement files: the archive checked before it is opened (zip bombs, too many parts),
then the first worksheet read by the bounded reader of :mod:`statements.xlsx_workbook`.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import replace

from .tables import PHYSICAL_ROWS_FACTOR, parse_table
from .text import cell_text, quote, short
from .types import Refused, UploadContext, UploadError
from .validation import RowValidator
from .xlsx_workbook import XlsxDamaged, XlsxEntities, XlsxLimits, XlsxRefused, read_first_sheet

__all__ = ["MAX_XLSX_COLUMNS", "damaged", "read_xlsx", "xlsx_limits_for", "xlsx_rows"]

logger = logging.getLogger(__name__)

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


def _check_archive(content: bytes) -> None:
    """Refuse, before opening it, a workbook built to expand beyond any statement's needs."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except Exception as exc:
        raise damaged(exc)
    if len(members) > MAX_XLSX_MEMBERS:
        raise Refused(UploadError(None, None, f"The workbook has {len(members):,} parts; it is refused as unsafe"))
    total = sum(member.file_size for member in members)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise Refused(
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
            raise Refused(
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
            raise Refused(
                UploadError(
                    None,
                    None,
                    f"The workbook part {member.filename} would expand to {member.file_size / 2**20:,.0f} MB, "
                    "far more than a statement needs; it is refused as unsafe",
                )
            )


def damaged(exc: BaseException) -> Refused:
    """A workbook the reader chokes on: the user gets a sentence, the log gets the reason."""
    logger.info("Refused a damaged workbook: %s", short(exc, 500))
    return Refused(
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
    physical = max(context.max_rows * PHYSICAL_ROWS_FACTOR, 1_000)
    return replace(context.xlsx_limits, max_rows=physical + 1_000, max_columns=MAX_XLSX_COLUMNS)


def xlsx_rows(content: bytes, limits: XlsxLimits) -> Iterator[tuple[int, Sequence[object]]]:
    """(row number, values) of the workbook's first worksheet, read within ``limits``; a workbook
    that goes past them, is damaged or declares XML entities raises :class:`Refused`."""
    _check_archive(content)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except Exception as exc:
        raise damaged(exc) from None
    with archive:
        try:
            yield from read_first_sheet(archive, limits)
        except XlsxRefused as exc:
            raise Refused(UploadError(None, None, str(exc))) from None
        except XlsxEntities:
            raise Refused(UploadError(None, None, _ENTITY_MESSAGE)) from None
        except XlsxDamaged as exc:
            raise damaged(exc) from None


def read_xlsx(content: bytes, validator: RowValidator) -> None:
    """Read the first worksheet once, within the context's limits, validating its rows into ``validator``."""
    from openpyxl.utils import get_column_letter

    limits = xlsx_limits_for(validator.context)

    def extra(row: int, index: int, value: object) -> str:
        cell = f"{get_column_letter(index + 1)}{row}"
        return f"Cell {cell} holds {quote(cell_text(value), 20)}, but its column has no header"

    try:
        parse_table(xlsx_rows(content, limits), validator, describe_extra=extra)
    except Refused:
        raise
    except Exception as exc:
        raise damaged(exc) from None
