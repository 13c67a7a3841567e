"""What the seed documents load, as plain data free of ids and timestamps: every row of the
seeded models, each foreign key written as the natural key of the row it points to, so that
two loads compare equal exactly when they wrote the same facts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from covenants.models import (
    Agreement,
    Amendment,
    Covenant,
    CovenantTerms,
    LineItem,
    Reaffirmation,
)
from documents.seeds import SEEDED_MODELS
from parties.models import Party, Person, SignatureBlock

SKIPPED = {"id", "created_at", "updated_at", "evaluation_requested_at"}


def natural(obj: models.Model | None) -> Any:
    """The natural key of a row another row points to."""
    if obj is None:
        return None
    keys: dict[type, Any] = {
        Party: lambda o: o.legal_name,
        Person: lambda o: o.full_name,
        LineItem: lambda o: o.code,
        Agreement: lambda o: o.name,
        Amendment: lambda o: [o.agreement.name, o.number],
        Reaffirmation: lambda o: [o.guaranty.name, natural(o.amendment)],
        Covenant: lambda o: [o.agreement.name, o.section],
        CovenantTerms: lambda o: [natural(o.covenant), o.effective_from.isoformat()],
        SignatureBlock: lambda o: [natural(o.document), o.position],
        ContentType: lambda o: f"{o.app_label}.{o.model}",
    }
    return keys[type(obj)](obj)


def plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def row(obj: models.Model) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in SKIPPED:
            continue
        if f.is_relation:
            out[f.name] = natural(getattr(obj, f.name))
        elif f.name == "document_id" and isinstance(obj, SignatureBlock):
            out["document"] = natural(obj.document)
        else:
            out[f.name] = plain(getattr(obj, f.attname))
    for f in obj._meta.many_to_many:
        out[f.name] = sorted(natural(o) for o in getattr(obj, f.name).all())
    return out


def seed_dump() -> dict[str, list[dict[str, Any]]]:
    """Every seeded row, per model, sorted so that the order of writing does not matter."""
    out = {}
    for model in SEEDED_MODELS:
        rows = [row(obj) for obj in model._default_manager.all()]
        out[model._meta.label] = sorted(rows, key=lambda r: repr(sorted(r.items())))
    return out


def compare(expected: dict[str, list[dict]], actual: dict[str, list[dict]]) -> tuple[int, int, list[str]]:
    """(rows equal, rows expected, what differs): a row is equal when the same row is loaded."""
    equal, total, differences = 0, 0, []
    for label, rows in expected.items():
        got = [repr(sorted(r.items())) for r in actual.get(label, [])]
        total += len(rows)
        for r in rows:
            text = repr(sorted(r.items()))
            if text in got:
                got.remove(text)
                equal += 1
            else:
                differences.append(f"{label} missing or different: {r}")
        differences.extend(f"{label} not expected: {extra}" for extra in got)
    return equal, total, differences
