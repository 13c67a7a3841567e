"""Reads for an agreement's stored texts: the list on the agreement page, and one text with the
passage a value was read from marked.

The text is only ever handed to templates as plain strings (autoescaped there): a document
filed as HTML is stored as the text it was converted to, and its markup is never rendered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import Http404

from covenants import access
from covenants.models import Agreement, AgreementRole
from documents.models import Document, SourceSpan
from portal.pages.selectors.common import User, agreement_visible_to

SPAN_RE = re.compile(r"([0-9]{1,9})-([0-9]{1,9})")
#: The columns the document list shows: never the original bytes or the text.
LISTED_FIELDS = ("id", "agreement_id", "amendment_id", "kind", "title", "filename", "sha256", "stored_at")


@dataclass(frozen=True)
class DocumentText:
    """A stored text cut around one passage: ``before`` + ``passage`` + ``after`` is the whole
    text. With no passage asked (or one that does not fit the text), ``before`` holds it all."""

    agreement: Agreement
    document: Document
    before: str
    passage: str
    after: str
    span: tuple[int, int] | None
    problem: str = ""

    @property
    def line(self) -> int | None:
        """The line the passage starts on (1-based), for a reader who prints the page."""
        return self.before.count("\n") + 1 if self.span else None


def agreement_documents(user: User, agreement: Agreement) -> list[Document]:
    """The agreement's stored texts, oldest first, without their bytes or text (one query)."""
    return list(
        access.visible(user, Document)
        .filter(agreement=agreement)
        .select_related("amendment")
        .only(*LISTED_FIELDS, "amendment__title", "amendment__number", "amendment__agreement_id")
        .order_by("stored_at", "id")
    )


def may_review(user: User, agreement: Agreement, *, roles: Iterable[AgreementRole] | None = None) -> bool:
    """Whether the user reviews the agreement's imported texts: its Agents and administrators;
    decided from ``roles``, every role of the agreement, when the caller has them loaded."""
    if roles is not None:
        return access.may_administer(user, agreement, roles=roles)
    return access.may(user, "administer", agreement)


def parse_span(raw: str, length: int) -> tuple[tuple[int, int] | None, str]:
    """``"123-456"`` as (start, end) within a text of ``length`` characters, or a problem to show."""
    if not raw:
        return None, ""
    match = SPAN_RE.fullmatch(raw.strip())
    if match is None:
        return None, f"The passage “{raw[:40]}” is not two character offsets such as 120-245."
    start, end = int(match.group(1)), int(match.group(2))
    if not start < end <= length:
        return None, f"The passage {start}-{end} is not within this text of {length:,} characters."
    return (start, end), ""


def document_text(user: User, agreement_pk: int, document_pk: int, *, span: str = "") -> DocumentText:
    """One stored text of an agreement the user sees, cut around the passage ``span`` (404 for a
    document of another agreement, or of one the user does not see)."""
    agreement = agreement_visible_to(user, agreement_pk)
    document = (
        access.visible(user, Document)
        .filter(agreement=agreement, pk=document_pk)
        .select_related("amendment")
        .defer("original")
        .first()
    )
    if document is None:
        raise Http404("This agreement has no document of this number.")
    text = document.text
    cut, problem = parse_span(span, len(text))
    if cut is None:
        return DocumentText(agreement, document, text, "", "", None, problem)
    start, end = cut
    return DocumentText(agreement, document, text[:start], text[start:end], text[end:], cut)


@dataclass(frozen=True)
class Source:
    """Where a value the agreement page shows was read: a passage of a stored text."""

    document_id: int
    start: int
    end: int
    label: str
    field: str


def agreement_sources(
    user: User, agreement: Agreement, *, documents: list[Document] | None = None
) -> dict[tuple[str, int], list[Source]]:
    """Every passage the agreement's values were read from, by (``app_label.model``, row id), in
    one query (the spans of the agreement's documents; none of the texts). None, and no query,
    when ``documents``, the agreement's as :func:`agreement_documents` lists them, are none: a
    passage is one of a stored text's, seen by whoever sees the text."""
    if documents is not None and not documents:
        return {}
    rows = (
        access.visible(user, SourceSpan)
        .filter(document__agreement=agreement)
        .order_by("document_id", "start", "id")
        .values_list(
            "content_type__app_label",
            "content_type__model",
            "object_id",
            "document_id",
            "start",
            "end",
            "label",
            "field",
        )
    )
    sources: dict[tuple[str, int], list[Source]] = {}
    for app_label, model, object_id, document_id, start, end, label, field_name in rows:
        sources.setdefault((f"{app_label}.{model}", object_id), []).append(
            Source(document_id, start, end, label, field_name)
        )
    return sources
