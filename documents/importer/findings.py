"""Cross-checks between parties and signature blocks: what is printed is kept, and what a
person must resolve is reported (a block printed twice, a party that does not sign)."""

from __future__ import annotations

from collections import defaultdict

from .parties import with_roles
from .signatures import roles_from_capacity
from .text import name_key
from .types import Finding, Party, SignatureBlock

SIGNING_ROLES = frozenset(
    ("Borrower", "Guarantor", "Customer", "Seller", "Agent", "Collateral Agent", "Administrative Agent")
)


def merge_signatories(parties: list[Party], blocks: list[SignatureBlock]) -> list[Party]:
    """Roles stated in signature blocks, and parties named only there."""
    by_key = {p.key: p for p in parties}
    order = [p.key for p in parties]
    for block in blocks:
        through = tuple(t.entity for t in block.through)
        for entity in block.entities:
            roles = roles_from_capacity(entity.capacity, entity.span)
            if entity.key in by_key:
                by_key[entity.key] = with_roles(by_key[entity.key], roles, through)
                continue
            former = (entity.former_name,) if entity.former_name else ()
            reason = "named only in a signature block"
            by_key[entity.key] = Party(
                entity.name,
                entity.key,
                None,
                None,
                None,
                former,
                tuple(roles),
                entity.span,
                0.7,
                reason,
                signs_through=through,
            )
            order.append(entity.key)
    return [by_key[k] for k in order]


def cross_check(parties: list[Party], blocks: list[SignatureBlock]) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[str, list[SignatureBlock]] = defaultdict(list)
    for block in blocks:
        for entity in block.entities:
            seen[entity.key].append(block)
    for key, found in seen.items():
        if len(found) > 1:
            name = found[0].entities[0].name if len(found[0].entities) == 1 else key
            through = ", ".join(t.entity for b in found for t in b.through)
            detail = f"; it signs through {through}" if through else ""
            out.append(
                Finding(
                    "block_printed_twice",
                    name,
                    found[1].span,
                    f"{len(found)} signature blocks for the same party{detail}: kept as printed",
                )
            )
    for party in parties:
        roles = {r.role for r in party.roles}
        if roles & SIGNING_ROLES and party.key not in seen and blocks:
            out.append(
                Finding(
                    "party_without_block",
                    party.name,
                    party.span,
                    f"{'/'.join(sorted(roles & SIGNING_ROLES))} with no signature block as printed",
                )
            )
    out += _people(blocks)
    return out


def _people(blocks: list[SignatureBlock]) -> list[Finding]:
    """One person signing for several parties in different capacities."""
    titles: dict[str, set[str]] = defaultdict(set)
    where: dict[str, list[tuple[str, SignatureBlock]]] = defaultdict(list)
    for block in blocks:
        for line in block.lines:
            if line.name:
                titles[name_key(line.name)].add(line.title or "")
                where[name_key(line.name)].append((line.name, block))
    out = []
    for key, found in where.items():
        parties = {e.key for _, b in found for e in b.entities}
        if len(parties) > 1 and len(titles[key]) > 1:
            out.append(
                Finding(
                    "one_person_several_capacities",
                    found[0][0],
                    found[0][1].span,
                    f"signs for {len(parties)} parties with {len(titles[key])} different titles",
                    0.95,
                )
            )
    return out
