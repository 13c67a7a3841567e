"""Reads for the review queue: an agreement's open reviews, and one review with its items by
section, each with its span, conflicts, and decision history.

Only the agreement's Agents and administrators reach these (``administer`` on the agreement);
anyone else gets 404, whether or not they see the agreement. The reviews and items themselves
are loaded through the access rule's scopes as well."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.http import Http404

from covenants import access
from covenants.models import Agreement
from documents.models import ImportReview, ItemDecision, ReviewItem
from portal.pages.selectors.common import User, agreement_visible_to

Decision = ReviewItem.Decision
Status = ImportReview.Status


@dataclass(frozen=True)
class Change:
    """One field of a value: what it was, and what it becomes."""

    field: str
    old: Any
    new: Any
    note: str = ""


@dataclass
class ItemView:
    """A review item as the review page shows it."""

    item: ReviewItem
    history: list[ItemDecision]

    @property
    def value_fields(self) -> list[tuple[str, Any]]:
        value = self.item.value
        return list(value.items()) if isinstance(value, dict) else [("value", value)]

    @property
    def edits(self) -> list[Change]:
        """What the reviewer changed from the proposal (empty unless edited)."""
        return changes(self.item.proposed, self.item.edited) if self.item.decision == Decision.EDITED else []

    @property
    def conflicts(self) -> list[Change]:
        """What the portal holds that this value would change, as old → proposed."""
        return conflict_changes(self.item.conflict, self.item.value)

    @property
    def span(self) -> str:
        start, end = self.item.span_start, self.item.span_end
        return f"{start}-{end}" if start is not None and end is not None and end > start else ""

    @property
    def confidence_percent(self) -> int:
        return round(self.item.confidence * 100)


@dataclass
class SectionView:
    key: str
    label: str
    items: list[ItemView]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class ReviewPage:
    agreement: Agreement
    review: ImportReview
    sections: list[SectionView]
    unread: list[dict]
    findings: list[dict]
    history: list[ItemDecision]
    counts: dict[str, int]

    @property
    def is_open(self) -> bool:
        return self.review.status == Status.OPEN

    @property
    def to_apply(self) -> int:
        return self.counts.get(Decision.ACCEPTED, 0) + self.counts.get(Decision.EDITED, 0)


def changes(old: Any, new: Any) -> list[Change]:
    """Field by field, what differs between two values (a value that is no object is one field)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [Change("value", old, new)]
    return [Change(name, old.get(name), new.get(name)) for name in {**old, **new} if old.get(name) != new.get(name)]


def conflict_changes(conflict: Any, value: Any) -> list[Change]:
    """A conflict read as old → proposed per field: ``{field: {"portal", "proposed", "note"}}``
    as documents.review.conflicts writes it, or ``{field: [held, proposed]}``, or
    ``{field: held}`` (proposed then from the value)."""
    if not isinstance(conflict, dict):
        return []
    proposed = value if isinstance(value, dict) else {}
    rows = []
    for name, entry in conflict.items():
        if isinstance(entry, dict):
            held = entry.get("portal", entry.get("held"))
            rows.append(Change(name, held, entry.get("proposed", proposed.get(name)), str(entry.get("note") or "")))
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            rows.append(Change(name, entry[0], entry[1]))
        else:
            rows.append(Change(name, entry, proposed.get(name)))
    return rows


def review_agreement(user: User, pk: int) -> Agreement:
    """The agreement, if the user is one of its Agents or an administrator; 404 otherwise."""
    return agreement_visible_to(user, pk, "administer")


def _reviews(user: User, agreement: Agreement):
    return access.visible(user, ImportReview).filter(document__agreement=agreement)


def agreement_reviews(user: User, agreement: Agreement) -> list[ImportReview]:
    """The agreement's reviews, open first, newest first, with their items' counts (one query)."""
    reviews = list(
        _reviews(user, agreement)
        .select_related("document", "opened_by")
        .defer("proposal", "document__original", "document__text")
        .annotate(
            pending=Count("items", filter=Q(items__decision=Decision.PENDING)),
            decided=Count("items", filter=~Q(items__decision=Decision.PENDING)),
        )
        .order_by("-opened_at", "-id")
    )
    return sorted(reviews, key=lambda review: review.status != Status.OPEN)


def review_of(user: User, pk: int, review_pk: int) -> tuple[Agreement, ImportReview]:
    """One review of the agreement (404 for a review of another agreement, or a user who is not
    one of its Agents or an administrator)."""
    agreement = review_agreement(user, pk)
    review = _reviews(user, agreement).select_related("document").filter(pk=review_pk).first()
    if review is None:
        raise Http404("This agreement has no review of this number.")
    return agreement, review


def item_of(user: User, review: ImportReview, item_pk: int) -> ReviewItem:
    item = access.visible(user, ReviewItem).filter(review=review, pk=item_pk).select_related("review").first()
    if item is None:
        raise Http404("This review has no item of this number.")
    return item


def review_page(user: User, pk: int, review_pk: int) -> ReviewPage:
    """A review with its items by section, their histories, and what the importer could not read
    (four queries after the access checks, whatever the number of items)."""
    agreement, review = review_of(user, pk, review_pk)
    decisions = ItemDecision.objects.select_related("decided_by").order_by("decided_at", "id")
    items = list(
        access.visible(user, ReviewItem)
        .filter(review=review)
        .select_related("decided_by")
        .prefetch_related(Prefetch("decisions", queryset=decisions))
        .order_by("position", "id")
    )
    by_section: dict[str, list[ItemView]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    history: list[ItemDecision] = []
    for item in items:
        view = ItemView(item, list(item.decisions.all()))
        by_section[item.section].append(view)
        counts[item.decision] += 1
        history.extend(view.history)
    sections = [
        SectionView(key, label, by_section[key], _counts(by_section[key]))
        for key, label in ReviewItem.Section.choices
        if by_section.get(key)
    ]
    proposal = review.proposal if isinstance(review.proposal, dict) else {}
    history.sort(key=lambda d: (d.decided_at, d.pk))
    return ReviewPage(
        agreement=agreement,
        review=review,
        sections=sections,
        unread=list(proposal.get("unread") or []),
        findings=list(proposal.get("findings") or []),
        history=history,
        counts=dict(counts),
    )


def _counts(views: list[ItemView]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for view in views:
        counts[view.item.decision] += 1
    return dict(counts)
