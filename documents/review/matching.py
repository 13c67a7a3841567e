"""Finding the row the portal already holds for a review item: first the row an earlier
review of the same document wrote for the same key (so a party renamed since stays the one
party), then by the natural key the agreements use (a legal name, a former name, an
agreement's name and an amendment's number)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q

from covenants.models import Agreement, Amendment, Reaffirmation
from documents.importer.text import name_key
from documents.models import Document, SourceSpan
from parties.models import Party

# Lookups by name remembered while a review is opened: it reads and writes nothing the lookups
# see, and asks the same names again and again (a party for each of its roles and blocks).
_memo: ContextVar[tuple[frozenset[str], dict[tuple[str, ...], Any]] | None] = ContextVar("matching_memo", default=None)
EVERY = frozenset(("written", "party", "agreement"))


@contextmanager
def remembered(kinds: frozenset[str] = EVERY) -> Iterator[None]:
    """Remember each lookup of these kinds in this block: by name only where nothing is written
    meanwhile (opening a review); what earlier reviews wrote ("written") also while applying
    one, whose spans are written at its end."""
    token = _memo.set((kinds, {}))
    try:
        yield
    finally:
        _memo.reset(token)


def _remember(key: tuple[str, ...], find: Any) -> Any:
    active = _memo.get()
    if active is None or key[0] not in active[0]:
        return find()
    memo = active[1]
    if key not in memo:
        memo[key] = find()
    return memo[key]


def written_before(document: Document, key: str, model: type[Model]) -> Any:
    """The row of ``model`` an earlier review of this document applied for ``key``."""
    return _remember(("written", str(document.pk), key, model._meta.label), lambda: _written(document, key, model))


def _written(document: Document, key: str, model: type[Model]) -> Any:
    content_type = ContentType.objects.get_for_model(model)
    if _memo.get() is not None:
        # Remembering: every row span of the document read at once, not one query per item.
        rows = _remember(("written", str(document.pk)), lambda: _rows_written(document))
        object_id = rows.get((key, content_type.pk))
    else:
        span = (
            SourceSpan.objects.filter(document=document, item_key=key, field="", content_type=content_type)
            .order_by("-pk")
            .first()
        )
        object_id = span.object_id if span else None
    return model._default_manager.filter(pk=object_id).first() if object_id is not None else None


def _rows_written(document: Document) -> dict[tuple[str, int], int]:
    """The row each item key of the document's earlier reviews was applied to (the latest span wins)."""
    spans = SourceSpan.objects.filter(document=document, field="").order_by("pk")
    rows = spans.values_list("item_key", "content_type_id", "object_id")
    return {(key, content_type): object_id for key, content_type, object_id in rows}


def party_named(name: str) -> Party | None:
    """A party by its legal name, a former name it had, or the same name in other capitals
    ("KMC TELECOM INC." is "KMC Telecom Inc."), in that order; one query."""
    return _remember(("party", name), lambda: _party_named(name))


def _party_named(name: str) -> Party | None:
    candidates = list(
        Party.objects.filter(Q(legal_name__iexact=name) | Q(former_names__name=name)).distinct().order_by("pk")
    )
    exact = [party for party in candidates if party.legal_name == name]
    if exact:
        return exact[0]
    former = [party for party in candidates if party.legal_name.casefold() != name.casefold()]
    if former:
        return former[0]
    return next((party for party in candidates if name_key(party.legal_name) == name_key(name)), None)


def agreement_named(name: str) -> Agreement | None:
    return _remember(("agreement", name), lambda: Agreement.objects.filter(name=name).first())


def amendment_of(agreement: Agreement | None, number: int | None) -> Amendment | None:
    if agreement is None or number is None:
        return None
    return Amendment.objects.filter(agreement=agreement, number=number).first()


def reaffirmation_of(guaranty: Agreement | None, amendment: Amendment | None) -> Reaffirmation | None:
    if guaranty is None or amendment is None:
        return None
    return Reaffirmation.objects.filter(guaranty=guaranty, amendment=amendment).first()


def existing(document: Document, key: str, value: dict[str, Any]) -> Any:
    """The row the portal holds for an item, if any (without writing anything)."""
    kind = key.split(":", 1)[0]
    models: dict[str, type[Model]] = {"party": Party, "agreement": Agreement}
    if kind in models:
        found = written_before(document, key, models[kind])
        if found is not None:
            return found
    if kind == "party":
        return party_named(value.get("legal_name") or key[6:])
    if kind == "agreement":
        return agreement_named(value.get("name") or key[10:])
    return None
