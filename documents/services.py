"""Storing an agreement's text and reading it into a proposal."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from covenants.access import may
from covenants.models import Agreement, Amendment
from documents.importer import DocumentRefused, Proposal, read_document
from documents.importer.text import decode
from documents.models import Document


@dataclass(frozen=True)
class Stored:
    """A stored document and what the importer proposes from it."""

    document: Document
    proposal: Proposal
    created: bool


def document_propose(*, content: bytes | str, filename: str = "") -> Proposal:
    """Read a text into a proposal without storing anything (DocumentRefused names what is wrong)."""
    return read_document(content, filename=filename)


def _kind(proposal: Proposal) -> str:
    kind = proposal.instrument.kind if proposal.instrument else ""
    return kind if kind in Document.Kind.values else Document.Kind.OTHER


@transaction.atomic
def document_store(
    *,
    user: AbstractBaseUser,
    agreement: Agreement,
    content: bytes | str,
    filename: str,
    media_type: str = "",
    amendment: Amendment | None = None,
) -> Stored:
    """Store a document's text for an agreement (its Agents and administrators), once: the same
    bytes again give the stored document back. Nothing is stored if the text is refused."""
    if not may(user, "administer", agreement):
        raise PermissionDenied("Only the agreement's Agents and administrators store its documents.")
    original = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    sha256 = hashlib.sha256(original).hexdigest()
    proposal = read_document(original, filename=filename)  # raises DocumentRefused
    existing = Document.objects.filter(agreement=agreement, sha256=sha256).first()
    if existing is not None:
        return Stored(existing, proposal, created=False)
    title = proposal.instrument.title if proposal.instrument else ""
    document = Document(
        agreement=agreement,
        amendment=amendment,
        kind=_kind(proposal),
        title=title[:255],
        filename=filename[:255] or "pasted text",
        media_type=media_type[:100],
        original=original,
        sha256=sha256,
        text=decode(original, filename),
        stored_by=user,
    )
    document.full_clean(exclude=["original"])
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:  # the same text stored by a concurrent request
        return Stored(Document.objects.get(agreement=agreement, sha256=sha256), proposal, created=False)
    return Stored(document, proposal, created=True)


__all__ = ["DocumentRefused", "Stored", "ValidationError", "document_propose", "document_store"]
