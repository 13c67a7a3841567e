"""Parties: legal names, kinds, jurisdictions, short names, former names and roles.

A party is found at an anchor: a descriptor (", a Delaware corporation") or a capacity
(", as administrative agent"). Its name is read backwards from the anchor, its definitions
("KMC II", the "BORROWERS") forwards, up to where the next party's name begins."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from .places import PLACE_ALT, canonical_place
from .text import Flat, name_key, printed_case, squash
from .types import Party, Role, Span

KINDS = (
    "limited liability company|limited partnership|general partnership|public service company|"
    "national banking association|banking corporation|banking association|statutory trust|business trust|"
    "trust company|insurance company|corporation|company|partnership|bank|trust"
)
DESCRIPTOR_RE = re.compile(
    rf",? an? (?:({PLACE_ALT}) ({KINDS})|(national banking association))\b(?: organized under [^,()]{{0,80}})?",
    re.IGNORECASE,
)
CAPACITY_RE = re.compile(
    r",? (?:in its capacity )?as (?:the )?((?:administrative|collateral|syndication|documentation|paying) agent"
    r"|agent|lender|issuing bank|arranger|guarantor|trustee)\b(?: (?:for|on behalf of) the (?:[A-Z][a-z]{1,20}|"
    r"ratable benefit of the \"?Lenders\"?))?",
    re.IGNORECASE,
)
DEF_RE = re.compile(
    r"\((?:in such capacit(?:y|ies), )?(?:the |hereinafter )?(collectively )?"
    r"(?:referred to (?:herein |hereinafter )?as )?(?:the )?\"([^\"]{1,60})\""
)
GROUP_RE = re.compile(
    r";[ ]?([^;()\"]{1,200}?) being (?:hereinafter )?(?:collectively )?referred to (?:hereinafter )?(?:collectively )?"
    r"as (?:the )?\"([^\"]{1,60})\""
)
LIST_SPLIT_RE = re.compile(r", | and | together with ")
ADDRESS_RE = re.compile(r"\bwith (?:its )?(?:principal )?(?:executive )?offices? (?:located )?at ([^()\";]{5,160})")
ACTING_RE = re.compile(r"\bacting through its ([A-Z][^,();]{2,80})")
DEFINITION_ADD_RE = re.compile(
    r"definition of \"([^\"]{1,40})\"[^.;]{0,200}?\b(?:include|add)\b[^.;]{0,60}$", re.IGNORECASE
)
SUFFIXES = frozenset(
    ("inc", "inc.", "n.a.", "n.a", "l.p.", "lp", "llc", "l.l.c.", "ltd", "ltd.", "corp.", "corp", "plc", "s.a.", "ag")
)
CONNECTORS = frozenset(("of", "and", "&", "de", "du", "la", "for"))
ROLE_TERMS = {
    "borrower": "Borrower",
    "borrowers": "Borrower",
    "co-borrowers": "Borrower",
    "agent": "Agent",
    "administrative agent": "Administrative Agent",
    "collateral agent": "Collateral Agent",
    "syndication agent": "Syndication Agent",
    "documentation agent": "Documentation Agent",
    "lender": "Lender",
    "lenders": "Lender",
    "guarantor": "Guarantor",
    "guarantors": "Guarantor",
    "customer": "Customer",
    "seller": "Seller",
    "issuing bank": "Issuing Bank",
    "issuing lender": "Issuing Bank",
    "trustee": "Trustee",
    "arranger": "Arranger",
}


@dataclass
class _Draft:
    name: str
    span: Span
    reason: str
    kind: str | None = None
    jurisdiction: str | None = None
    short_name: str | None = None
    former: list[str] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    affiliate_of: str | None = None
    address: str | None = None
    acting_through: str | None = None
    confidence: float = 0.85


def role_of(term: str) -> str | None:
    t = squash(term).lower()
    if t.startswith(("a ", "an ", "the ")):
        t = t.split(" ", 1)[1]
    return ROLE_TERMS.get(t)


def read_parties(flat: Flat, effective: date | None) -> list[Party]:
    """Every party introduced with a descriptor or a capacity, merged by name."""
    text = flat.text
    anchors = sorted(
        [(m.start(), m.end(), m) for m in DESCRIPTOR_RE.finditer(text)]
        + [(m.start(), m.end(), m) for m in CAPACITY_RE.finditer(text)],
        key=lambda a: a[0],
    )
    drafts: list[_Draft] = []
    pending: list[_Draft] = []
    prev_end = 0
    current: _Draft | None = None
    for i, (start, end, m) in enumerate(anchors):
        gap = text[prev_end:start]
        found = _name_before(gap)
        if found is None:
            if current is not None and not gap.strip(" ,;"):
                _apply_anchor(current, m, flat)
            prev_end = max(prev_end, end)
            continue
        name, former, affiliate, offset = found
        current = _Draft(squash(name), flat.span(prev_end + offset, prev_end + offset + len(name)), "")
        current.former += former
        current.affiliate_of = affiliate
        _apply_anchor(current, m, flat)
        _definition_role(current, text[max(0, prev_end + offset - 300) : prev_end + offset], effective, flat, start)
        drafts.append(current)
        next_start = anchors[i + 1][0] if i + 1 < len(anchors) else min(len(text), end + 600)
        window_end = _attributes(current, text, end, next_start, pending, drafts, flat)
        prev_end = max(end, window_end)
    return _merge(drafts, flat)


def _apply_anchor(draft: _Draft, m: re.Match[str], flat: Flat) -> None:
    span = flat.span(m.start(), m.end())
    if m.re is DESCRIPTOR_RE:
        if m.group(3):
            draft.kind = "national banking association"
        else:
            draft.jurisdiction = canonical_place(m.group(1))
            draft.kind = squash(m.group(2)).lower()
        draft.reason = f"named before {squash(m.group()).lstrip(', ')!r}"
        draft.confidence = 0.9
        return
    role = role_of(m.group(1))
    if role:
        draft.roles.append(
            Role(role, squash(m.group()).lstrip(", "), span, 0.8, "capacity stated", capacity=m.group(1))
        )
    if not draft.reason:
        draft.reason = f"named before {squash(m.group()).lstrip(', ')!r}"


def _name_before(gap: str) -> tuple[str, list[str], str | None, int] | None:
    """The party name that ends the gap: (name, former names, affiliate, offset in gap)."""
    work = gap.rstrip(" ,")
    former: list[str] = []
    affiliate = None
    cut = work.rfind(", an affiliate of ")
    if cut >= 0 and "(" not in work[cut:] and len(work) - cut < 120:
        affiliate = squash(work[cut + len(", an affiliate of ") :])
        work = work[:cut].rstrip(" ,")
    if work.endswith(")"):
        opened = work.rfind("(")
        inner = work[opened + 1 : -1] if opened >= 0 else ""
        for marker in ("f/k/a ", "formerly known as ", "formerly "):
            if inner.lower().startswith(marker):
                former.append(squash(inner[len(marker) :]))
                work = work[:opened].rstrip(" ,")
                break
    tokens = work.split(" ")
    taken: list[str] = []
    for tok in reversed(tokens[-16:]):
        # A comma ends the name unless a corporate suffix follows it ("KMC Telecom II, Inc.").
        closing = tok.endswith((",", ")", ";", '"', ":"))
        if taken and closing and not (tok.endswith(",") and taken[-1].lower().rstrip(",") in SUFFIXES):
            break
        if not tok or tok.startswith(("(", '"')):
            break
        if tok[0].isupper() or tok[0].isdigit() or tok.lower() in CONNECTORS:
            taken.append(tok)
            continue
        break
    while taken and taken[-1].lower() in CONNECTORS:
        taken.pop()
    while taken and taken[0].lower() in CONNECTORS:
        taken.pop(0)
    if not taken or sum(1 for t in taken if t[0].isupper()) < 1:
        return None
    name = " ".join(reversed(taken))
    if name.lower() in ("the", "this", "each"):
        return None
    offset = work.rfind(name)
    return name, former, affiliate, offset


def _definition_role(draft: _Draft, before: str, effective: date | None, flat: Flat, at: int) -> None:
    """'The definition of "Customer" ... is amended to include X': X takes the role from the effective date."""
    m = DEFINITION_ADD_RE.search(before)
    if m and role_of(m.group(1)):
        span = flat.span(at - len(before) + m.start(), at)
        reason = "added to a defined role by this amendment, from its effective date"
        draft.roles.append(Role(role_of(m.group(1)) or "", squash(m.group()), span, 0.8, reason, effective=effective))


def _attributes(
    draft: _Draft, text: str, start: int, stop: int, pending: list[_Draft], drafts: list[_Draft], flat: Flat
) -> int:
    """Definitions, address and capacity after the anchor; returns where the attributes end."""
    window = text[start:stop]
    limit = _next_name_start(window)
    window = window[:limit]
    end = start
    d = DEF_RE.search(window)
    acting = ACTING_RE.search(window)
    if acting:
        draft.acting_through = squash(acting.group(1))
    addr = ADDRESS_RE.search(window)
    address = squash(addr.group(1)).rstrip(" ,") if addr else None
    if d is None:
        pending.append(draft)
        draft.address = draft.address or address
        return start + (addr.end() if addr else 0)
    term = d.group(2)
    span = flat.span(start + d.start(2) - 1, start + d.end(2) + 1)
    role = role_of(term)
    is_group = bool(d.group(1)) or "each with" in window[: d.start()]
    members = pending + [draft] if is_group else [draft]
    if address:
        for member in members:
            member.address = member.address or address
    if role:
        if not is_group:
            # The defined term names the role; the stated capacity ("administrative agent") describes it.
            capacity = " ".join(r.capacity for r in draft.roles if r.reason == "capacity stated")
            draft.roles = [r for r in draft.roles if r.reason != "capacity stated"]
            draft.roles.append(Role(role, f'"{term}"', span, 0.9, "defined term", capacity=capacity))
        for member in members if is_group else []:
            member.roles.append(Role(role, f'"{term}"', span, 0.9, "defined term of a group"))
        pending.clear()
    else:
        draft.short_name = printed_case(flat, term)
        pending.append(draft)
    end = start + d.end()
    g = GROUP_RE.search(window, d.end())
    if g:
        _group(g, start, drafts, pending, flat)
        end = start + g.end()
    return end


def _group(g: re.Match[str], base: int, drafts: list[_Draft], pending: list[_Draft], flat: Flat) -> None:
    role = role_of(g.group(2))
    if not role:
        return
    span = flat.span(base + g.start(2) - 1, base + g.end(2) + 1)
    listed = LIST_SPLIT_RE.split(g.group(1))
    for member in listed:
        m = squash(member).lower().removeprefix("the ")
        for draft in drafts:
            names = {(draft.short_name or "").lower(), draft.name.lower()}
            named = m in names or any(r.role.lower() == m for r in draft.roles)
            if named and role not in (r.role for r in draft.roles):
                draft.roles.append(Role(role, f'"{g.group(2)}"', span, 0.9, "listed in a group definition"))
    pending.clear()


def _next_name_start(window: str) -> int:
    """Where a following party's name begins: after the last ', ' or ' and ' that precedes capitals."""
    depth = 0
    for i, ch in enumerate(window):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and ch == "," and window[i + 1 : i + 2] == " ":
            rest = window[i + 2 : i + 40]
            head = rest.split(" ", 1)[0]
            capital = head[:1].isupper() and head.lower() not in ("as", "each")
            if capital and not rest.startswith(("Suite", "New ")) and not _looks_like_address(window[:i]):
                return i
    return len(window)


def _looks_like_address(before: str) -> bool:
    tail = before[-200:]
    return "offices" in tail and "(" not in tail.split("offices")[-1]


def _merge(drafts: list[_Draft], flat: Flat) -> list[Party]:
    merged: dict[str, _Draft] = {}
    for d in drafts:
        key = name_key(d.name)
        if key not in merged:
            merged[key] = d
            continue
        m = merged[key]
        m.kind = m.kind or d.kind
        m.jurisdiction = m.jurisdiction or d.jurisdiction
        m.short_name = m.short_name or d.short_name
        m.affiliate_of = m.affiliate_of or d.affiliate_of
        m.address = m.address or d.address
        m.acting_through = m.acting_through or d.acting_through
        m.former += [f for f in d.former if name_key(f) not in {name_key(x) for x in m.former}]
        m.roles += [r for r in d.roles if r.role not in {x.role for x in m.roles}]
    out = []
    for key, d in merged.items():
        roles = _unique_roles(d.roles)
        name = printed_case(flat, d.name)
        former = tuple(printed_case(flat, f) for f in d.former)
        out.append(
            Party(
                name,
                key,
                d.kind,
                d.jurisdiction,
                d.short_name,
                former,
                roles,
                d.span,
                d.confidence,
                d.reason,
                d.affiliate_of,
                d.address,
                d.acting_through,
            )
        )
    return out


def _unique_roles(roles: list[Role]) -> tuple[Role, ...]:
    seen: dict[str, Role] = {}
    for r in roles:
        seen.setdefault(r.role, r)
    return tuple(seen.values())


def with_roles(party: Party, roles: list[Role], through: tuple[str, ...] = ()) -> Party:
    return replace(party, roles=_unique_roles([*party.roles, *roles]), signs_through=party.signs_through + through)
