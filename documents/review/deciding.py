"""Deciding review items: each decision is kept, and nothing is written to the portal yet."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from covenants.access import may
from documents.models import ImportReview, ItemDecision, ReviewItem
from documents.review.checks import check_edit

Decision = ReviewItem.Decision


def ensure_reviewer(user: Any, review: ImportReview) -> None:
    """Only the Agents and administrators of the document's agreement review it."""
    if not may(user, "change", review):
        raise PermissionDenied("Only the agreement's Agents and administrators review its documents.")


def ensure_open(review: ImportReview) -> None:
    if review.status != ImportReview.Status.OPEN:
        raise ValidationError(f"The review is {review.get_status_display().lower()}: it can no longer be changed.")


def record(item: ReviewItem, decision: str, value: Any, note: str, actor: Any) -> bool:
    """Set the item's decision and append it to the history; False when it is the decision the
    item already has (a repeat adds no history)."""
    if decision not in Decision.values:
        raise ValidationError({"decision": f"{decision!r} is not a decision: use one of {', '.join(Decision.values)}."})
    if decision == Decision.EDITED and value is None:
        raise ValidationError({"value": f"{item.key}: an edited decision needs the value as corrected."})
    edited = value if decision == Decision.EDITED else None
    if item.decision == decision and item.edited == edited and item.note == note:
        return False
    item.decision, item.edited, item.note = decision, edited, note
    item.decided_by = actor if getattr(actor, "pk", None) else None
    item.decided_at = timezone.now()
    item.save(update_fields=["decision", "edited", "note", "decided_by", "decided_at"])
    ItemDecision.objects.create(item=item, decision=decision, value=edited, note=note, decided_by=item.decided_by)
    return True


def record_all(decisions: list[tuple[ReviewItem, str, Any, str]], actor: Any) -> int:
    """:func:`record` for many items at once (a command's stored decisions): each decision kept
    as one at a time would be, in two queries whatever their number; returns those recorded."""
    now = timezone.now()
    by = actor if getattr(actor, "pk", None) else None
    changed = []
    for item, decision, value, note in decisions:
        if decision not in Decision.values:
            raise ValidationError(
                {"decision": f"{decision!r} is not a decision: use one of {', '.join(Decision.values)}."}
            )
        if decision == Decision.EDITED and value is None:
            raise ValidationError({"value": f"{item.key}: an edited decision needs the value as corrected."})
        edited = value if decision == Decision.EDITED else None
        if item.decision == decision and item.edited == edited and item.note == note:
            continue
        item.decision, item.edited, item.note, item.decided_by, item.decided_at = decision, edited, note, by, now
        changed.append(item)
    ReviewItem.objects.bulk_update(changed, ["decision", "edited", "note", "decided_by", "decided_at"])
    ItemDecision.objects.bulk_create(
        ItemDecision(item=item, decision=item.decision, value=item.edited, note=item.note, decided_by=by)
        for item in changed
    )
    return len(changed)


def accept_pending(items: list[ReviewItem], actor: Any) -> int:
    """Accept every pending item of a list at once (a command's review: the items its file
    does not name), each decision kept as one at a time would be."""
    pending = [item for item in items if item.decision == Decision.PENDING]
    now = timezone.now()
    by = actor if getattr(actor, "pk", None) else None
    for item in pending:
        item.decision, item.decided_by, item.decided_at = Decision.ACCEPTED, by, now
    ReviewItem.objects.bulk_update(pending, ["decision", "decided_by", "decided_at"])
    ItemDecision.objects.bulk_create(
        ItemDecision(item=item, decision=Decision.ACCEPTED, decided_by=by) for item in pending
    )
    return len(pending)


@transaction.atomic
def decide(user: Any, item: ReviewItem, decision: str, value: Any = None, note: str = "") -> ReviewItem:
    """Accept, edit (``value``: the whole value as corrected), reject, or return an item to
    pending. An edited value is checked against the review's other items at once
    (:mod:`documents.review.checks`: ValidationError keyed by the field); against the models
    when the review is applied, where a field the models refuse is named with the item."""
    item = ReviewItem.objects.select_for_update().select_related("review__document").get(pk=item.pk)
    ensure_reviewer(user, item.review)
    ensure_open(item.review)
    if decision == Decision.EDITED and not isinstance(value, dict):
        raise ValidationError({"value": f"{item.key}: the edited value must be an object of the item's fields."})
    if decision == Decision.EDITED:
        # What the other items contradict is named now, beside the field, not only at apply.
        check_edit(item, value)
    record(item, decision, value, note, user)
    return item


@transaction.atomic
def decide_section(user: Any, review: ImportReview, section: str, decision: str, note: str = "") -> int:
    """Accept, reject or reset every item of one section at once; returns the items changed.
    Edits are per item: a section cannot be edited as a whole."""
    ensure_reviewer(user, review)
    ensure_open(review)
    if section not in ReviewItem.Section.values:
        raise ValidationError({"section": f"{section!r} is not a section of a review."})
    if decision == Decision.EDITED:
        raise ValidationError({"decision": "A whole section can be accepted or rejected, not edited."})
    items = ReviewItem.objects.select_for_update().filter(review=review, section=section)
    return sum(record(item, decision, None, note, user) for item in items)


@transaction.atomic
def abandon_review(user: Any, review: ImportReview) -> ImportReview:
    """Close a review without applying anything."""
    ensure_reviewer(user, review)
    ensure_open(review)
    review.status = ImportReview.Status.ABANDONED
    review.save(update_fields=["status"])
    return review


@transaction.atomic
def add_item(
    user: Any, review: ImportReview, *, key: str, section: str, label: str, value: dict, note: str = ""
) -> ReviewItem:
    """A fact the importer did not propose, added by the reviewer (recorded as an edit of an
    empty proposal, with no span: it was not read from the text)."""
    ensure_reviewer(user, review)
    ensure_open(review)
    return add_item_as(user, review, key=key, section=section, label=label, value=value, note=note)


def add_item_as(
    actor: Any, review: ImportReview, *, key: str, section: str, label: str, value: dict, note: str = ""
) -> ReviewItem:
    """:func:`add_item` with no access check (the caller has made it, or is a command)."""
    if section not in ReviewItem.Section.values:
        raise ValidationError({"section": f"{section!r} is not a section of a review."})
    if ReviewItem.objects.filter(review=review, key=key).exists():
        raise ValidationError({"key": f"The review already has an item {key}."})
    position = (review.items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    item = ReviewItem.objects.create(
        review=review,
        key=key,
        section=section,
        position=position,
        label=label[:255],
        proposed={},
        confidence=1.0,
        reason="added by the reviewer",
    )
    record(item, Decision.EDITED, value, note, actor)
    return item
