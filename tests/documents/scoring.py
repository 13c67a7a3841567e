"""Facts of a proposal, flattened to "path -> value", and a score against expected facts.

An expected fact is right when the proposal states the same value, wrong when it states another,
missing when it states none. A proposed item (party, covenant, row, block, line, finding) that is
not expected at all is wrong too: the importer must not invent. Attributes the expectations do
not mention are counted as unchecked."""

from __future__ import annotations

from dataclasses import dataclass, field

from documents.importer.text import name_key
from documents.importer.types import PrintedDate, Proposal, Threshold

ITEM_PREFIXES = ("party[", "covenant[", "chain[", "condition[", "block[", "finding[", "change[")


def iso(d: PrintedDate | None) -> str | None:
    return d.value.isoformat() if d and d.value else None


def level(t: Threshold) -> str:
    if t.redacted:
        return "redacted"
    if t.to_be_set:
        return "to_be_set"
    return str(t.value)


def facts_of(p: Proposal) -> dict[str, object]:
    f: dict[str, object] = {}
    _instrument(p, f)
    _parties(p, f)
    _covenants(p, f)
    for n, c in enumerate(p.conditions):
        f[f"condition[{n}]"] = c.description
        f[f"condition[{n}].deadline"] = c.deadline.isoformat() if c.deadline else None
        f[f"condition[{n}].as_printed"] = c.deadline_as_printed
    _blocks(p, f)
    for x in p.findings:
        f[f"finding[{x.kind}:{name_key(x.subject)}]"] = True
    f["unread"] = len(p.unread)
    return {k: v for k, v in f.items() if v is not None}


def _instrument(p: Proposal, f: dict[str, object]) -> None:
    i = p.instrument
    if i is None:
        return
    f.update(
        {
            "instrument.title": i.title,
            "instrument.kind": i.kind,
            "instrument.number": i.number,
            "instrument.amends": i.amends,
            "instrument.dated": iso(i.dated),
            "instrument.governing_law": i.governing_law.jurisdiction if i.governing_law else None,
        }
    )
    for n, c in enumerate(i.chain):
        f[f"chain[{n}]"] = (c.kind, c.number, iso(c.dated), c.contract_number)
        f[f"chain[{n}].name"] = c.name
        f[f"chain[{n}].reaffirmed"] = iso(c.reaffirmed_as_of)
    for c in i.changes:
        f[f"change[{c.target}]"] = c.action


def _parties(p: Proposal, f: dict[str, object]) -> None:
    for party in p.parties:
        k = f"party[{party.key}]"
        f[k] = True
        f[f"{k}.kind"] = party.kind
        f[f"{k}.jurisdiction"] = party.jurisdiction
        f[f"{k}.short_name"] = party.short_name.casefold() if party.short_name else None
        f[f"{k}.former"] = tuple(name_key(x) for x in party.former_names) or None
        f[f"{k}.affiliate_of"] = name_key(party.affiliate_of) if party.affiliate_of else None
        f[f"{k}.address"] = party.address
        f[f"{k}.acting_through"] = party.acting_through
        f[f"{k}.roles"] = tuple(sorted(r.role for r in party.roles))
        f[f"{k}.through"] = tuple(name_key(x) for x in party.signs_through) or None
        for r in party.roles:
            if r.effective:
                f[f"{k}.role[{r.role}].effective"] = r.effective.isoformat()


def _covenants(p: Proposal, f: dict[str, object]) -> None:
    for c in p.covenants:
        k = f"covenant[{c.section}]"
        f[k] = True
        f.update(
            {
                f"{k}.name": c.name,
                f"{k}.metric": c.metric,
                f"{k}.action": c.action,
                f"{k}.direction": c.direction,
                f"{k}.frequency": c.frequency,
                f"{k}.basis": c.basis,
                f"{k}.window": (c.window.months, c.window.quarters) if c.window else None,
                f"{k}.replaces": level(c.replaces) if c.replaces else None,
                f"{k}.flags": tuple(sorted(c.flags)) or None,
                f"{k}.kind": c.kind,
            }
        )
        for n, r in enumerate(c.rows):
            f[f"{k}.row[{n}]"] = (r.kind, tuple(iso(d) for d in r.dates), r.open_ended, level(r.threshold))
            printed = tuple(d.as_printed for d in r.dates if not d.day_printed)
            if printed:
                f[f"{k}.row[{n}].printed_without_day"] = printed


def _blocks(p: Proposal, f: dict[str, object]) -> None:
    for n, b in enumerate(p.signatures):
        k = f"block[{n}]"
        f[k] = tuple(e.name for e in b.entities)
        f[f"{k}.heading"] = b.heading
        f[f"{k}.capacity"] = tuple(e.capacity for e in b.entities if e.capacity) or None
        f[f"{k}.through"] = tuple((t.entity, t.capacity) for t in b.through) or None
        f[f"{k}.shared"] = b.shared or None
        for m, line in enumerate(b.lines):
            f[f"{k}.line[{m}]"] = (line.by_as_printed, line.name, line.title, line.on_behalf_of, line.blank)


@dataclass
class Score:
    proposed: int = 0
    expected: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unchecked: int = 0
    flagged: int = 0
    absent: int = 0  # facts expected absent (a blank deadline, no kind printed), and absent

    def line(self, name: str) -> str:
        return (
            f"{name}: proposed {self.proposed} / expected {self.expected}: right {self.right}, "
            f"wrong {len(self.wrong)}, missing {len(self.missing)}, flagged {self.flagged}, "
            f"unchecked {self.unchecked}, expected absent and absent {self.absent}"
        )


def is_item(key: str) -> bool:
    """An item's own key (not one of its attributes): 'party[x]', 'covenant[7.01(b)].row[2]', 'block[3].line[0]'."""
    return key.startswith(ITEM_PREFIXES) and (key.endswith("]") or key.count(".") == 0)


def flag_count(p: Proposal) -> int:
    flags = sum(len(c.flags) for c in p.covenants) + sum(len(c.flags) for c in p.conditions)
    flags += sum(len(b.flags) for b in p.signatures) + len(p.findings) + len(p.unread)
    return flags


def score(expected: dict[str, object], p: Proposal) -> Score:
    """Expected facts with a value must be proposed with that value; those expected as None must be absent."""
    got = facts_of(p)
    stated = {k: v for k, v in expected.items() if v is not None}
    s = Score(proposed=len(got), expected=len(stated), flagged=flag_count(p))
    s.absent = len(expected) - len(stated)
    for key, want in expected.items():
        if key not in got:
            if want is not None:
                s.missing.append(key)
        elif want is None:
            s.wrong.append(f"{key}: expected nothing, proposed {got[key]!r}")
        elif got[key] == want:
            s.right += 1
        else:
            s.wrong.append(f"{key}: expected {want!r}, proposed {got[key]!r}")
    for key in got.keys() - expected.keys():
        if is_item(key) or key == "unread":
            s.wrong.append(f"{key}: proposed {got[key]!r}, not expected")
        else:
            s.unchecked += 1
    return s
