"""
Telling file formats apart by their content: the first bytes, the names inside a ZIP, text
encoded as UTF-16 or UTF-32. A file must be what its name claims.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PureWindowsPath

from .types import Refused, UploadError

__all__ = ["CLAIMS", "decide_format", "display_name", "sniff"]

CLAIMS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx"}
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


def sniff(content: bytes) -> str:
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


def display_name(filename: str) -> str:
    """The name as the user knows it, without any path a browser sent along."""
    return PureWindowsPath(filename).name or filename or "The file"


def decide_format(name: str, suffix: str, kind: str) -> str:
    """csv or xlsx, or a refusal when the content is not what the name claims."""
    claim = CLAIMS.get(suffix)
    description = _DESCRIPTIONS.get(kind, "a ZIP archive")
    if kind in ("utf16", "utf32"):
        encoding = "UTF-16" if kind == "utf16" else "UTF-32"
        raise Refused(
            UploadError(
                None,
                None,
                f"{name} is not UTF-8 text: it is encoded as {encoding}; save it as CSV UTF-8 and upload it again",
            )
        )
    if claim is None and suffix:
        other = _OTHER_SPREADSHEETS.get(suffix)
        if other:
            raise Refused(
                UploadError(None, None, f"{name} is {other}; save it as an Excel workbook (.xlsx) or as CSV UTF-8")
            )
        raise Refused(
            UploadError(None, None, f"{name} is not a CSV or Excel (.xlsx) file; upload a .csv or .xlsx file")
        )
    if claim == "csv" or (claim is None and kind in ("text", "markup")):
        if kind == "xlsx":
            raise Refused(
                UploadError(
                    None, None, f"{name} is not a CSV file: it looks like an Excel workbook; upload it as a .xlsx file"
                )
            )
        if kind not in ("text", "markup"):
            raise Refused(UploadError(None, None, f"{name} is not a CSV file: it looks like {description}"))
        return "csv"
    # The name claims a workbook, or claims nothing.
    if kind == "xlsx":
        return "xlsx"
    if kind == "zip_broken":
        raise Refused(UploadError(None, None, f"{name} is damaged: it cannot be opened as an Excel workbook"))
    if claim is None:
        raise Refused(UploadError(None, None, f"{name} is not a CSV or Excel file: it looks like {description}"))
    raise Refused(UploadError(None, None, f"{name} is not an Excel workbook: it looks like {description}"))
