"""The signatures section: each block as printed, one per party it names, with its lines."""

from __future__ import annotations

from typing import Any

from documents.importer.types import SignatureBlock, SignatureLine
from documents.review.proposed.context import Context, ItemData

SECTION = "signatures"


def _line(context: Context, line: SignatureLine) -> dict[str, Any]:
    """A "By:" line; a line printed with no name or title is blank, and stays so."""
    for_party, capacity = None, ""
    title = line.title or ""
    printed = f"{title} {line.on_behalf_of}".strip() if line.on_behalf_of else title
    if line.on_behalf_of:
        name, _, capacity = line.on_behalf_of.partition(", ")
        for_party = context.party_key(name)
    return {
        "person": None if line.blank else line.name,
        "title": title,
        "title_as_printed": printed,
        "for_party": for_party,
        "for_party_capacity": capacity,
        "conformed": line.conformed,
    }


def through_capacity(printed: str) -> str:
    """ "KMC TELECOM II, INC., as its Sole Member": the capacity after the entity's name."""
    start = printed.lower().rfind(", as ")
    return printed[start + 2 :] if start >= 0 else ""


def _document_key(context: Context, block: SignatureBlock) -> str | None:
    """A block printed after the reaffirmation begins signs the reaffirmation, else the document."""
    guaranty = context.guaranty
    if context.reaffirmation_key and guaranty is not None and block.span[0] > guaranty.span[0]:
        return context.reaffirmation_key
    return context.amendment_key


def signature_items(context: Context) -> list[ItemData]:
    """Blocks in the order printed, numbered per document; a block that signs for several
    entities ("In each case") becomes one block each, with the same lines."""
    items: list[ItemData] = []
    positions: dict[str, int] = {}
    for block in context.proposal.signatures:
        document = _document_key(context, block)
        if document is None:
            continue
        through = block.through[0] if block.through else None
        for entity in block.entities:
            positions[document] = position = positions.get(document, 0) + 1
            printed = entity.as_printed
            if entity.capacity and printed.endswith(entity.capacity):
                printed = printed[: -len(entity.capacity)].rstrip(", ")
            value = {
                "document": document,
                "position": position,
                "party": context.party_key(entity.name),
                "party_name_as_printed": printed,
                "capacity_as_printed": entity.capacity,
                "through_party": context.party_key(through.entity) if through else None,
                "through_capacity": through_capacity(through.as_printed) if through else "",
                "lines": [_line(context, line) for line in block.lines],
            }
            key = f"signature:{document}:{position}"
            label = f"Signature block {position}: {entity.name}"
            items.append(ItemData(key, SECTION, label, value, block.span, block.confidence, block.reason))
    return items
