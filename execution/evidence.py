"""
What an execution rests on: the exact stored version of the document signed, what a block
reads under the signature, and a scanned counterpart checked by its content and size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from covenants.models import Agreement, Amendment, Reaffirmation
from documents.models import Document
from parties.models import SignatureBlock
from statements.sniffing import display_name, sniff

__all__ = [
    "COUNTERPART_MAX_BYTES",
    "CheckedCounterpart",
    "capacity_words",
    "checked_counterpart",
    "signed_version",
]

#: A scanned signature page is a few pages of PDF or one image: 10 MB is ample, and bounds
#: what one upload can store.
COUNTERPART_MAX_BYTES = 10 * 1024 * 1024
_COUNTERPART_KINDS = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}


def signed_version(document: Agreement | Amendment | Reaffirmation) -> Document | None:
    """The latest stored text of the document: the version a signature is bound to. For an
    amendment, a text stored for it; else one stored for its agreement without naming the
    amendment (the seed's texts are stored so) whose text carries the amendment's title."""
    stored = Document.objects.all()
    if isinstance(document, Amendment):
        linked = stored.filter(amendment_id=document.pk).order_by("-stored_at", "-pk").first()
        if linked is not None or not document.title:
            return linked
        stored = stored.filter(
            agreement_id=document.agreement_id,
            amendment__isnull=True,
            kind=Document.Kind.AMENDMENT,
            text__icontains=document.title,
        )
    elif isinstance(document, Reaffirmation):
        stored = stored.filter(
            agreement_id=document.guaranty_id, amendment_id=document.amendment_id, kind=Document.Kind.REAFFIRMATION
        )
    else:
        stored = stored.filter(agreement_id=document.pk, amendment__isnull=True, kind=Document.Kind.AGREEMENT)
    return stored.order_by("-stored_at", "-pk").first()


def signed_version_refusal(block: SignatureBlock, document: Document | None, sha256: str) -> str:
    """Why the version named cannot be signed, or "": it must be the latest stored version."""
    if document is None:
        return (
            f"No text of {block.document} is stored, so there is nothing to sign; its Agent stores the document first."
        )
    if (sha256 or "").strip().lower() != document.sha256:
        return (
            f"The version you read ({(sha256 or 'none given')[:12]}) is not the version on file "
            f"({document.sha256[:12]}): read the current version and sign again."
        )
    return ""


def capacity_words(block: SignatureBlock, title: str) -> str:
    """What reads under the signature: "By: KMC Telecom Inc., as Sole Member; Chief Financial
    Officer", or the officer's title and the block's capacity ("as a Lender")."""
    parts = []
    if block.through_party_id:
        parts.append(f"By: {block.through_party.legal_name}, {block.through_capacity}".rstrip(", "))
    if title:
        parts.append(title)
    if block.capacity_as_printed:
        parts.append(block.capacity_as_printed)
    return "; ".join(parts)[:500]


@dataclass(frozen=True)
class CheckedCounterpart:
    """A scanned counterpart that passed the checks: its bytes, name, type and SHA-256."""

    content: bytes
    name: str
    media_type: str
    sha256: str


def checked_counterpart(content: bytes, filename: str) -> CheckedCounterpart:
    """The upload, if it is a PDF, PNG or JPEG by its content (whatever its name says) and no
    larger than :data:`COUNTERPART_MAX_BYTES`; else ValidationError naming what is wrong."""
    name = display_name(filename)
    if not content:
        raise ValidationError({"counterpart": [f"{name} is empty."]})
    if len(content) > COUNTERPART_MAX_BYTES:
        raise ValidationError(
            {
                "counterpart": [
                    f"{name} is {len(content):,} bytes; a counterpart may be {COUNTERPART_MAX_BYTES:,} at most."
                ]
            }
        )
    kind = sniff(content[:4096])
    if kind not in _COUNTERPART_KINDS:
        raise ValidationError(
            {"counterpart": [f"{name} is not a PDF, PNG or JPEG by its content; scan the signed page to one of those."]}
        )
    return CheckedCounterpart(content, name[:255], _COUNTERPART_KINDS[kind], hashlib.sha256(content).hexdigest())
