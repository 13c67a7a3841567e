"""The parties section (parties and how they stand to each other) and the roles section."""

from __future__ import annotations

import re
from typing import Any

from covenants.choices import Role
from documents.importer.types import Party, SignatureBlock
from documents.review.proposed.context import Context, ItemData
from parties.choices import EntityKind, RelationshipKind

PARTIES, ROLES = "parties", "roles"

ADDRESS_RE = re.compile(r"^(?P<region>[A-Za-z .]+?)\s+(?P<postal_code>\d{5}(?:-\d{4})?)$")


def entity_kind(kind: str | None) -> str | None:
    """The portal's kind for the importer's words ("public service company"); None when unstated."""
    if not kind:
        return None
    code = "_".join(kind.lower().split())
    return code if code in EntityKind.values else EntityKind.OTHER


def address(printed: str | None) -> dict[str, str] | None:
    """ "1545 Route 206, Suite 300, Bedminster, New Jersey 07921" in the address's fields."""
    if not printed:
        return None
    parts = [part.strip() for part in printed.split(",")]
    match = ADDRESS_RE.match(parts[-1]) if len(parts) >= 3 else None
    if match is None:
        return None
    suites = [part for part in parts[1:-2] if part.lower().startswith(("suite", "floor", "room"))]
    return {
        "street": parts[0],
        "suite": ", ".join(suites),
        "city": parts[-2],
        "region": match["region"],
        "postal_code": match["postal_code"],
    }


def _party(context: Context, party: Party) -> ItemData:
    value = {
        "legal_name": party.name,
        "kind": entity_kind(party.kind),
        "jurisdiction": party.jurisdiction or "",
        "former_names": list(party.former_names),
        "address": address(party.address),
    }
    key = context.party_key(party.name)
    return ItemData(key, PARTIES, party.name, value, party.span, party.confidence, party.reason)


def _named(context: Context, name: str, kind: str | None, span: Any, reason: str) -> ItemData:
    """A party the text names only in passing (an affiliate, a division, one signed for)."""
    value = {"legal_name": name, "kind": kind, "jurisdiction": "", "former_names": [], "address": None}
    return ItemData(context.add_party(name), PARTIES, name, value, span, 0.7, reason)


def _relationship(context: Context, party: str, kind: str, other: str, span: Any, reason: str) -> ItemData:
    one, two = context.party_key(party), context.party_key(other)
    value = {"party": one, "kind": kind, "other": two}
    label = f"{party}, {RelationshipKind(kind).label} {other}"
    return ItemData(f"relationship:{one[6:]}:{kind}:{two[6:]}", PARTIES, label, value, span, 0.8, reason)


def _through(context: Context, blocks: tuple[SignatureBlock, ...]) -> list[ItemData]:
    """A party signing through its sole member: the member is the sole member of the party."""
    items = []
    for block in blocks:
        for through in block.through:
            if "sole member" not in through.capacity.lower():
                continue
            for entity in block.entities:
                items.append(
                    _relationship(
                        context,
                        through.entity,
                        RelationshipKind.SOLE_MEMBER_OF,
                        entity.name,
                        through.span,
                        f'signs through "{through.as_printed}"',
                    )
                )
    return items


def party_items(context: Context) -> list[ItemData]:
    """Each party the document introduces, those it names in passing, and their relationships."""
    proposal = context.proposal
    items = [_party(context, party) for party in proposal.parties]
    for party in proposal.parties:
        if party.affiliate_of:
            if party.affiliate_of and context.party_key(party.affiliate_of) not in {i.key for i in items}:
                items.append(_named(context, party.affiliate_of, None, party.span, "named as an affiliate"))
            items.append(
                _relationship(
                    context,
                    party.name,
                    RelationshipKind.AFFILIATE_OF,
                    party.affiliate_of,
                    party.span,
                    "an affiliate of",
                )
            )
        if party.acting_through:
            items.append(_named(context, party.acting_through, EntityKind.DIVISION, party.span, "acting through"))
            items.append(
                _relationship(
                    context,
                    party.name,
                    RelationshipKind.ACTS_THROUGH_DIVISION,
                    party.acting_through,
                    party.span,
                    "acting through its division",
                )
            )
    items.extend(_through(context, proposal.signatures))
    items.extend(_signed_for(context, proposal.signatures))
    return _unique(items)


# A signer's capacity that says how the party signed for stands to the block's party.
ON_BEHALF: tuple[tuple[str, str], ...] = (
    ("advisor to ", RelationshipKind.ADVISOR_TO),
    ("agent for ", RelationshipKind.AGENT_FOR),
)


def _signed_for(context: Context, blocks: tuple[SignatureBlock, ...]) -> list[ItemData]:
    """A line signed for another party ("Stein Roe & Farnham Incorporated, Advisor to the
    ..."): that party, and how it stands to the party it names."""
    items = []
    for block in blocks:
        for line in block.lines:
            if not line.on_behalf_of:
                continue
            name, _, capacity = line.on_behalf_of.partition(", ")
            items.append(_named(context, name, None, line.span, "a signature line signs for it"))
            for words, kind in ON_BEHALF:
                if capacity.lower().startswith(words):
                    other = capacity[len(words) :].removeprefix("the ").strip()
                    items.append(_relationship(context, name, kind, other, line.span, f"signs as {capacity}"))
    return items


def _unique(items: list[ItemData]) -> list[ItemData]:
    """The first of items read twice under one key (a relationship printed on two pages)."""
    seen: dict[str, ItemData] = {}
    for item in items:
        seen.setdefault(item.key, item)
    return list(seen.values())


def role_code(role: str) -> str | None:
    code = "_".join(role.lower().split())
    return code if code in Role.values else None


def _defined_term(party: Party, as_printed: str) -> str:
    """The term the agreement defines the party by: its short name, else the quoted term."""
    if party.short_name:
        return party.short_name
    quoted = as_printed.strip()
    if quoted.startswith('"') and quoted.endswith('"'):
        return quoted.strip('"').title()
    return ""


def role_items(context: Context) -> list[ItemData]:
    """Each role a party holds; a Guarantor's is in the guaranty the document reaffirms, and a
    role the document adds from a date is added by the document's amendment."""
    items = []
    for party in context.proposal.parties:
        for role in party.roles:
            code = role_code(role.role)
            if code is None:
                continue
            agreement_key = context.guaranty_key if code == Role.GUARANTOR and context.guaranty_key else None
            agreement_key = agreement_key or context.agreement_key
            value: dict[str, Any] = {
                "agreement": agreement_key,
                "party": context.party_key(party.name),
                "role": code,
                "defined_term": _defined_term(party, role.as_printed),
                "capacity_as_printed": role.capacity,
                "holds_from": role.effective.isoformat() if role.effective else None,
                "holds_to": None,
                "added_by": context.amendment_key if role.effective else None,
            }
            key = f"role:{agreement_key[10:]}:{party.name}:{code}"
            label = f"{party.name} as {Role(code).label} of {agreement_key[10:]}"
            items.append(ItemData(key, ROLES, label, value, role.span, role.confidence, role.reason))
    return _unique(items)
