"""The one size rule for a statement file, and sizes in words."""

from __future__ import annotations


def size_text(size: int) -> str:
    """A file size in words: "10 MB", "1.5 KB", "700 bytes"."""
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MB".replace(".0 MB", " MB")
    if size >= 2**10:
        return f"{size / 2**10:,.1f} KB".replace(".0 KB", " KB")
    return f"{size:,} bytes"


def file_too_large(name: str, size: int, max_bytes: int) -> str | None:
    """The one size rule for a statement file, with its sentence (None when it fits). The page
    and the API ask it before reading the file; the parser asks it of whatever it is given."""
    if size <= max_bytes:
        return None
    return f"{name} is too large: {size_text(size)}, and a file may have at most {size_text(max_bytes)}"
