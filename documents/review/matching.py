"""Finding the row the portal already holds for a review item: first the row an earlier
review of the same document wrote for the same key (so a party renamed since stays the one
party), then by the natural key the agreements use (a legal name, a former name, an
agreement's name and an amendment's number)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q

from covenants.models import Agreement, Amendment, Reaffirmation
from documents.importer.text import name_key
from documents.models import Document, SourceSpan
from parties.models import Party


def written_before(document: Document, key: str, model: type[Model]) -> Any:
    """The row of ``model`` an earlier review of this document applied for ``key``."""
    span = (
        SourceSpan.objects.filter(
            document=document, item_key=key, field="", content_type=ContentType.objects.get_for_model(model)
        )
        .order_by("-pk")
        .first()
    )
    return model._default_manager.filter(pk=span.object_id).first() if span else None


def party_named(name: str) -> Party | None:
    """A party by its legal name, a former name it had, or the same name in other capitals
    ("KMC TELECOM INC." is "KMC Telecom Inc."), in that order; one query."""
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
    return Agreement.objects.filter(name=name).first()


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
