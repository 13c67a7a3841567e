"""What a proposal proposes, as review items in the portal's fields: pure, no database.

Each item refers to the items it depends on by key ("party:KMC TELECOM INC."), so an edit
of a name carries through to every role and signature that names the party; a key no item
of the review has names a row the portal already holds (an agreement or party by name)."""

from __future__ import annotations

from documents.importer import Proposal
from documents.review.proposed.context import Context, ItemData
from documents.review.proposed.instrument import instrument_items
from documents.review.proposed.parties import party_items, role_items
from documents.review.proposed.signatures import signature_items
from documents.review.proposed.terms import condition_items, covenant_items


def proposed_items(proposal: Proposal, agreement_name: str | None = None) -> list[ItemData]:
    """The items of a proposal in review order: instrument, parties, roles, covenants,
    conditions, signatures. ``agreement_name`` is the agreement the review applies to, when
    chosen; otherwise the agreement the document names."""
    context = Context.of(proposal, agreement_name)
    items = [
        *instrument_items(context),
        *party_items(context),
        *role_items(context),
        *covenant_items(context),
        *condition_items(context),
        *signature_items(context),
    ]
    return items


__all__ = ["Context", "ItemData", "proposed_items"]
