"""The writer an applied review uses: it resolves the keys items refer to, saves a row only
where a field differs (so applying the same decisions again changes nothing), names the item
and field of any value the models refuse, and records where each value was read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Model

import documents.review.matching as matching
from covenants.models import Agreement, Amendment, Reaffirmation
from documents.models import ImportReview, ReviewItem, SourceSpan
from parties.models import Party

APPLIED = (ReviewItem.Decision.ACCEPTED, ReviewItem.Decision.EDITED)


@dataclass
class Applied:
    """What applying a review wrote: rows created and updated per model, and spans recorded."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    spans: int = 0

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()) + sum(self.removed.values()))


class Writer:
    """Applies one review's accepted items, keeping the row each item key became."""

    def __init__(self, review: ImportReview, actor: Any, fresh: set[tuple[str, int]] | None = None) -> None:
        self.review, self.actor, self.document = review, actor, review.document
        # Rows the caller created moments ago (an agreement the text is stored for): filling
        # them in is part of their creation, not an update.
        self.fresh = fresh or set()
        self.new_rows: set[tuple[type[Model], int]] = set()
        self.new_spans: list[SourceSpan] = []  # written at once when the review is applied
        self.items = {item.key: item for item in review.items.all()}
        self.rows: dict[str, Any] = {}
        self.applied = Applied()
        self._spans: dict[tuple[int, int, str], SourceSpan] | None = None

    def refuse(self, item: ReviewItem, message: str, field_name: str = "") -> ValidationError:
        where = f"{item.key}: {field_name}: " if field_name else f"{item.key}: "
        return ValidationError({"items": [where + message]})

    # --- what an item refers to -------------------------------------------------------

    def resolve(self, item: ReviewItem, key: str | None, field_name: str) -> Any:
        """The row another item (or the portal, by name) gives for ``key``; None for no key."""
        if not key:
            return None
        if key in self.rows:
            return self.rows[key]
        found = self._lookup(key)
        if found is None:
            other = self.items.get(key)
            state = f"is {other.get_decision_display().lower()}" if other else "is not in this review"
            raise self.refuse(item, f"refers to {key}, which {state}, and the portal holds no such row.", field_name)
        self.rows[key] = found
        return found

    def _lookup(self, key: str) -> Any:
        kind, _, rest = key.partition(":")
        if kind in ("party", "agreement"):
            item = self.items.get(key)
            return matching.existing(self.document, key, item.value if item else {})
        if kind == "amendment":
            name, _, number = rest.rpartition(":")
            return matching.amendment_of(matching.agreement_named(name), int(number))
        item = self.items.get(key)
        if kind == "reaffirmation" and item is not None:
            guaranty = self.rows.get(item.value["guaranty"]) or self._lookup(item.value["guaranty"])
            amendment = self.rows.get(item.value["amendment"]) or self._lookup(item.value["amendment"])
            return matching.reaffirmation_of(guaranty, amendment)
        return None

    def party(self, item: ReviewItem, key: str | None, field_name: str) -> Party | None:
        return self.resolve(item, key, field_name)

    def agreement(self, item: ReviewItem, key: str, field_name: str = "agreement") -> Agreement:
        return self.resolve(item, key, field_name)

    def document_of(self, item: ReviewItem, key: str) -> Amendment | Reaffirmation:
        return self.resolve(item, key, "document")

    # --- saving -----------------------------------------------------------------------

    def save(
        self, item: ReviewItem, model: type[Model], found: Any, lookup: dict, values: dict, fill_only: bool = False
    ) -> Any:
        """Create the row, or set the fields that differ on the row found (``fill_only``: only
        those the item states; what the document leaves unsaid is left alone); check it with
        the models' own validation, naming the item and field of what they refuse."""
        obj = found if found is not None else model(**lookup)
        if fill_only and found is not None:
            values = {name: value for name, value in values.items() if value not in (None, "")}
        changed = []
        for name, raw in {**lookup, **values}.items():
            model_field = model._meta.get_field(name)
            if model_field.is_relation:  # compare ids: an unsaved row has no related object yet
                value, held, wanted = raw, getattr(obj, model_field.attname), raw.pk if raw is not None else None
            else:
                value = self.convert(item, model, name, raw)
                held, wanted = getattr(obj, name), value
            if obj.pk is None or held != wanted:
                setattr(obj, name, value)
                changed.append(name)
        if obj.pk is not None and not changed:
            return obj
        # Related rows were resolved here, not typed in: checking that they exist again would
        # cost a query each; the natural key looked up above is what makes the row unique.
        resolved = [f.name for f in model._meta.concrete_fields if f.is_relation and f.name in lookup | values]
        try:
            obj.full_clean(exclude=resolved)
        except ValidationError as exc:
            raise ValidationError(
                {"items": [f"{item.key}: {name}: {m}" for name, ms in exc.message_dict.items() for m in ms]}
            ) from exc
        label = str(model._meta.verbose_name_plural)
        if obj.pk is None:
            obj.save()
            self.applied.created[label] += 1
            self.new_rows.add((model, obj.pk))
        else:
            stamps = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
            obj.save(update_fields=[*changed, *stamps])
            if (label, obj.pk) not in self.fresh:
                self.applied.updated[label] += 1
        return obj

    def _held_spans(self) -> dict[tuple[int, int, str], SourceSpan]:
        """The document's spans as held before this review writes any, read once (one query,
        not one per value): a value's span is found here, and updated in place if it moved."""
        if self._spans is None:
            self._spans = {
                (span.content_type_id, span.object_id, span.field): span
                for span in SourceSpan.objects.filter(document=self.document)
            }
        return self._spans

    def write_spans(self) -> None:
        SourceSpan.objects.bulk_create(self.new_spans)
        self.new_spans = []

    def prune(self, rows: Any) -> None:
        """Delete rows of the document's own that it no longer gives (a schedule row, a block)."""
        for row in rows:
            row.delete()
            self.applied.removed[str(row._meta.verbose_name_plural)] += 1

    def convert(self, item: ReviewItem, model: type[Model], name: str, raw: Any) -> Any:
        try:
            return model._meta.get_field(name).to_python(raw)
        except ValidationError as exc:
            raise self.refuse(item, " ".join(exc.messages), name) from exc

    def span(self, item: ReviewItem, obj: Model, field_name: str = "", label: str = "") -> None:
        """Record where the value was read; an item added by a reviewer has no span."""
        if item.span_start is None or item.span_end is None:
            return
        wanted = {
            "label": (label or item.label)[:255],
            "start": item.span_start,
            "end": item.span_end,
            "item_key": item.key,
        }
        current = None
        if (type(obj), obj.pk) not in self.new_rows:  # a row created just now has no span yet
            current = self._held_spans().get((ContentType.objects.get_for_model(obj).pk, obj.pk, field_name))
        if current is None:
            self.new_spans.append(
                SourceSpan(
                    document=self.document,
                    content_type=ContentType.objects.get_for_model(obj),
                    object_id=obj.pk,
                    field=field_name,
                    item=item,
                    **wanted,
                )
            )
            self.applied.spans += 1
        elif any(getattr(current, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(current, k, v)
            current.item = item
            current.save()
            self.applied.spans += 1
