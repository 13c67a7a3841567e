"""Applying a review: every accepted or edited item written in one transaction, in the order
the rows depend on each other; nothing of a review whose values the models refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import documents.review.matching as matching
from documents.models import ImportReview, ReviewItem
from documents.review.deciding import ensure_open, ensure_reviewer
from documents.review.writer import APPLIED, Applied, Writer
from documents.review.writers import (
    prune_signature_pages,
    write_agreement,
    write_amendment,
    write_condition,
    write_party,
    write_reaffirmation,
    write_relationship,
    write_role,
    write_signature,
)
from documents.review.writing_terms import write_covenant

# Each kind of item in the order rows depend on one another; a schedule row is written
# with its covenant.
ORDER: tuple[tuple[str, Callable[[Writer, ReviewItem], Any]], ...] = (
    ("agreement", write_agreement),
    ("amendment", write_amendment),
    ("reaffirmation", write_reaffirmation),
    ("party", write_party),
    ("relationship", write_relationship),
    ("role", write_role),
    ("covenant", write_covenant),
    ("condition", write_condition),
    ("signature", write_signature),
)


def write_review(review: ImportReview, actor: Any, fresh: set[tuple[str, int]] | None = None) -> Applied:
    """Write the review's accepted and edited items (the caller holds the transaction)."""
    writer = Writer(review, actor, fresh)
    with matching.remembered(frozenset(("written",))):
        for kind, write in ORDER:
            for key, item in writer.items.items():
                if key.split(":", 1)[0] != kind or item.decision not in APPLIED or ":row:" in key:
                    continue
                writer.rows[key] = write(writer, item)
    _check_rows_have_their_covenant(writer)
    prune_signature_pages(writer)
    writer.write_spans()
    return writer.applied


def _check_rows_have_their_covenant(writer: Writer) -> None:
    for key, item in writer.items.items():
        if ":row:" in key and item.decision in APPLIED and key.split(":row:")[0] not in writer.rows:
            covenant = key.split(":row:")[0]
            raise writer.refuse(item, f"its covenant {covenant} is not accepted: accept it, or reject the row.")


@transaction.atomic
def apply_review(user: Any, review: ImportReview) -> Applied:
    """Write what the review accepts into the portal, with the span each value was read from,
    and close the review. All or nothing: a value the models refuse raises ValidationError
    naming the item and the field, and nothing is written."""
    review = ImportReview.objects.select_for_update().select_related("document").get(pk=review.pk)
    ensure_reviewer(user, review)
    ensure_open(review)
    if not review.items.filter(decision__in=APPLIED).exists():
        raise ValidationError("Nothing is accepted: accept or edit the items to apply, or abandon the review.")
    applied = write_review(review, user)
    review.status = ImportReview.Status.APPLIED
    review.applied_by, review.applied_at = user, timezone.now()
    review.save(update_fields=["status", "applied_by", "applied_at"])
    return applied
