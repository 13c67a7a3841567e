"""Opening a review: the document read again into its proposal, one item per proposed fact,
each with what it would change of what the portal holds."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

import documents.review.matching as matching
from covenants.access import may
from covenants.models import Agreement
from documents.importer import read_document
from documents.models import Document, ImportReview, ReviewItem
from documents.review.conflicts import conflict_of
from documents.review.proposed import ItemData, proposed_items


def _json(value: Any) -> Any:
    """Plain JSON (choices as their values, dates as ISO text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _item(review: ImportReview, position: int, data: ItemData) -> ReviewItem:
    value = _json(data.value)
    return ReviewItem(
        review=review,
        key=data.key[:255],
        section=data.section,
        position=position,
        label=data.label[:255],
        proposed=value,
        span_start=data.span[0] if data.span else None,
        span_end=data.span[1] if data.span else None,
        confidence=data.confidence,
        reason=data.reason,
        conflict=_json(conflict_of(review.document, data.key, value)),
    )


def open_review_as(actor: Any, document: Document, agreement: Agreement | None = None) -> ImportReview:
    """Open the review with no access check (the caller has made it, or is a command)."""
    proposal = read_document(bytes(document.original), filename=document.filename)
    review = ImportReview.objects.create(
        document=document,
        agreement=agreement or document.agreement,
        proposal=_json(proposal.to_dict()),
        opened_by=actor if getattr(actor, "pk", None) else None,
    )
    items = proposed_items(proposal, review.agreement.name if review.agreement else None)
    with matching.remembered():  # the conflicts ask for the same parties and agreement many times
        rows = [_item(review, position, data) for position, data in enumerate(items, start=1)]
    ReviewItem.objects.bulk_create(rows)
    return review


@transaction.atomic
def open_review(user: Any, document: Document, agreement: Agreement | None = None) -> ImportReview:
    """Open a review of what the importer proposes from a stored document, for the agreement
    it applies to (the document's own unless another is chosen). Only the Agents and
    administrators of the agreements concerned open one."""
    for concerned in {document.agreement, agreement or document.agreement}:
        if not may(user, "administer", concerned):
            raise PermissionDenied("Only the agreement's Agents and administrators review its documents.")
    return open_review_as(user, document, agreement)
