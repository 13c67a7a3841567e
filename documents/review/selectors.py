"""The reviews, items and spans a user may see, through the one access rule."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from covenants.access import visible
from documents.models import ImportReview, ReviewItem, SourceSpan


def reviews_visible(user: AbstractBaseUser | Any) -> QuerySet[ImportReview]:
    """The reviews of documents whose agreement the user is an Agent or administrator of."""
    return visible(user, ImportReview).select_related("document", "agreement")


def review_items(
    user: AbstractBaseUser | Any, review: ImportReview, section: str | None = None
) -> QuerySet[ReviewItem]:
    """A review's items in the document's order (none when the user may not see the review)."""
    items = visible(user, ReviewItem).filter(review=review)
    if section is not None:
        items = items.filter(section=section)
    return items.order_by("position", "id")


def item_by_key(user: AbstractBaseUser | Any, review: ImportReview, key: str) -> ReviewItem:
    """One item of a review by its key; ReviewItem.DoesNotExist when absent or not visible."""
    return review_items(user, review).select_related("review__document").get(key=key)


def spans_of(user: AbstractBaseUser | Any, obj: Model, field: str | None = None) -> QuerySet[SourceSpan]:
    """The spans of stored documents a row's values were read from (one field's, if named)."""
    spans = visible(user, SourceSpan).filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    if field is not None:
        spans = spans.filter(field=field)
    return spans.select_related("document")
