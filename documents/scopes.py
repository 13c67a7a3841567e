"""Who sees agreements' texts and their reviews.

A document and the spans read from it: whoever sees the agreement; its Agents and
administrators store them. A review of a document's proposal, its items and their decisions:
only the agreement's Agents and administrators, to see as to change; others see nothing.
"""

from __future__ import annotations

from typing import Any

from covenants.access import register, register_agreement_rows
from covenants.access.rule import holds_agent_powers
from covenants.access.scopes import administers_row, in_agreements
from documents.models import Document, ImportReview, ItemDecision, ReviewItem, SourceSpan

register_agreement_rows({Document: "agreement", SourceSpan: "document__agreement"})

_REVIEW_ROWS: dict[type, str] = {
    ImportReview: "document__agreement",
    ReviewItem: "review__document__agreement",
    ItemDecision: "item__review__document__agreement",
}


def _document_of(obj: Any) -> Document:
    if isinstance(obj, ItemDecision):
        obj = obj.item
    if isinstance(obj, ReviewItem):
        obj = obj.review
    return obj.document


def reviews_row(user: Any, obj: Any) -> bool:
    """Review a document's proposal: the Agents and administrators of the document's agreement."""
    return administers_row(user, _document_of(obj))


for _model, _lookup in _REVIEW_ROWS.items():
    for _action in ("view", "change"):
        register(
            _model,
            _action,
            scope=in_agreements(_model, _lookup, "administer"),
            check=reviews_row,
            anywhere=holds_agent_powers,
        )
