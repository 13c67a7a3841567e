"""The two seed documents, loaded through the importer: each text is stored for its
agreement, read into a review, decided as ``documents/seed_decisions.json`` records (the
readings a reviewer gave, and the traps kept as printed), and applied. Running it again
changes nothing: the same review is applied again, and rows are saved only where they differ.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    LineItem,
    Reaffirmation,
    ThresholdStep,
)
from documents.importer.text import decode
from documents.models import Document, ImportReview
from documents.review.applying import write_review
from documents.review.deciding import accept_pending, add_item_as, record_all
from documents.review.opening import open_review_as
from documents.review.writer import Applied
from parties.models import Address, FormerName, Party, PartyRelationship, Person, Signature, SignatureBlock

HERE = Path(__file__).resolve().parent
SEED_TEXTS = HERE / "seed_texts"
DECISIONS = HERE / "seed_decisions.json"


SEEDED_MODELS: tuple[type[models.Model], ...] = (
    Party,
    FormerName,
    Address,
    PartyRelationship,
    Person,
    LineItem,
    Agreement,
    Amendment,
    AgreementRole,
    ConditionPrecedent,
    Reaffirmation,
    Covenant,
    CovenantTerms,
    ThresholdStep,
    SignatureBlock,
    Signature,
)


@dataclass(frozen=True)
class SeedReport:
    """What a load did: rows created, updated and removed per model, the row counts after it,
    and the review decisions and source spans recorded."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    counts: dict[str, int] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything at all."""
        written = sum(self.created.values()) + sum(self.updated.values()) + sum(self.removed.values())
        return bool(written + sum(self.decisions.values()))

    def add(self, applied: Applied) -> None:
        self.created.update(applied.created)
        self.updated.update(applied.updated)
        self.removed.update(applied.removed)
        self.decisions["source spans"] += applied.spans

    def lines(self) -> list[str]:
        """One line per model: rows now, and what this load did to them."""
        out = []
        for label, count in self.counts.items():
            rows = "row" if count == 1 else "rows"
            out.append(
                f"{label}: {count} {rows} ({self.created[label]} created, {self.updated[label]} updated, "
                f"{self.removed[label]} removed)"
            )
        out.append(f"review decisions recorded: {self.decisions['decisions']}")
        out.append(f"source spans written: {self.decisions['source spans']}")
        return out


def _agreement(shell: dict[str, str], report: SeedReport, fresh: set[tuple[str, int]]) -> Agreement:
    """The agreement a seed text is stored for; created with its name, kind and title when
    new (the review fills in the rest, as part of its creation)."""
    agreement = Agreement.objects.filter(name=shell["name"]).first()
    if agreement is None:
        agreement = Agreement(name=shell["name"], kind=shell["kind"], title=shell["title"])
        agreement.full_clean()
        agreement.save()
        label = str(Agreement._meta.verbose_name_plural)
        report.created[label] += 1
        fresh.add((label, agreement.pk))
    return agreement


def _document(agreement: Agreement, filename: str) -> Document:
    original = (SEED_TEXTS / filename).read_bytes()
    sha256 = hashlib.sha256(original).hexdigest()
    document = Document.objects.filter(agreement=agreement, sha256=sha256).first()
    if document is None:
        document = Document(
            agreement=agreement,
            kind=Document.Kind.AMENDMENT,
            title="",
            filename=filename,
            media_type="text/plain",
            original=original,
            sha256=sha256,
            text=decode(original, filename),
        )
        document.full_clean(exclude=["original"])
        document.save()
    return document


def _decide(review: ImportReview, seed: dict[str, Any]) -> int:
    """Record the file's decisions on the review's items; every item not named is accepted."""
    items = {item.key: item for item in review.items.all()}
    recorded = 0
    for added in seed.get("added", []):
        if added["key"] not in items:
            items[added["key"]] = add_item_as(None, review, **added)
            recorded += 1
    stored = []
    for key, decision in seed.get("decisions", {}).items():
        if key not in items:
            raise ValidationError(f"seed_decisions.json names {key}, which the review of {seed['file']} does not have.")
        item = items[key]
        value = {**item.proposed, **decision["value"]} if "value" in decision else None
        stored.append((item, decision["decision"], value, decision.get("note", "")))
    recorded += record_all(stored, None)
    named = set(seed.get("decisions", {})) | {added["key"] for added in seed.get("added", [])}
    return recorded + accept_pending([item for key, item in items.items() if key not in named], None)


def load_seed_documents() -> SeedReport:
    """Import both seed texts and apply their recorded decisions, in one transaction; a second
    run applies the same review again and changes nothing."""
    report = SeedReport()
    decisions = json.loads(DECISIONS.read_text())
    fresh: set[tuple[str, int]] = set()
    with transaction.atomic():
        for seed in decisions["documents"]:
            agreement = _agreement(seed["agreement"], report, fresh)
            document = _document(agreement, seed["file"])
            review = document.reviews.exclude(status=ImportReview.Status.ABANDONED).order_by("-pk").first()
            review = review or open_review_as(None, document, agreement)
            report.decisions["decisions"] += _decide(review, seed)
            report.add(write_review(review, None, fresh))
            if review.status != ImportReview.Status.APPLIED:
                review.status = ImportReview.Status.APPLIED
                review.save(update_fields=["status"])
        for model in SEEDED_MODELS:
            report.counts[str(model._meta.verbose_name_plural)] = model._default_manager.count()
    return report
