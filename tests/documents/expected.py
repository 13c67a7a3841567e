"""Builders for expected facts, in the flat form scoring.facts_of produces."""

from __future__ import annotations

from documents.importer.text import name_key

Facts = dict[str, object]


def instrument(title, kind, number, amends, dated, law) -> Facts:
    return {
        "instrument.title": title,
        "instrument.kind": kind,
        "instrument.number": number,
        "instrument.amends": amends,
        "instrument.dated": dated,
        "instrument.governing_law": law,
    }


def chain(*items: tuple) -> Facts:
    """(name, kind, number, dated, contract[, reaffirmed]) for each earlier instrument, in order."""
    out: Facts = {}
    for n, item in enumerate(items):
        name, kind, number, dated, contract, *rest = item
        out[f"chain[{n}]"] = (kind, number, dated, contract)
        out[f"chain[{n}].name"] = name
        out[f"chain[{n}].reaffirmed"] = rest[0] if rest else None
    return out


def changes(**actions: str) -> Facts:
    return {f"change[{target}]": action for target, action in actions.items()}


def change(target: str, action: str) -> Facts:
    return {f"change[{target}]": action}


def party(
    name: str,
    *,
    roles: tuple[str, ...],
    kind: str | None = None,
    jurisdiction: str | None = None,
    short: str | None = None,
    former: tuple[str, ...] = (),
    affiliate: str | None = None,
    address: str | None = None,
    acting: str | None = None,
    through: tuple[str, ...] = (),
    effective: dict[str, str] | None = None,
) -> Facts:
    k = f"party[{name_key(name)}]"
    out: Facts = {
        k: True,
        f"{k}.kind": kind,
        f"{k}.jurisdiction": jurisdiction,
        f"{k}.short_name": short.casefold() if short else None,
        f"{k}.former": tuple(name_key(x) for x in former) or None,
        f"{k}.affiliate_of": name_key(affiliate) if affiliate else None,
        f"{k}.address": address,
        f"{k}.acting_through": acting,
        f"{k}.roles": tuple(sorted(roles)),
        f"{k}.through": tuple(name_key(x) for x in through) or None,
    }
    for role, day in (effective or {}).items():
        out[f"{k}.role[{role}].effective"] = day
    return out


def covenant(
    section: str,
    *,
    name: str,
    metric: str,
    action: str,
    direction: str | None,
    rows: list[tuple],
    frequency: str | None = None,
    basis: str | None = None,
    window: tuple[int | None, int | None] | None = None,
    replaces: str | None = None,
    flags: tuple[str, ...] = (),
    without_day: dict[int, tuple[str, ...]] | None = None,
    kind: str = "amount",
) -> Facts:
    k = f"covenant[{section}]"
    out: Facts = {
        k: True,
        f"{k}.name": name,
        f"{k}.metric": metric,
        f"{k}.action": action,
        f"{k}.direction": direction,
        f"{k}.frequency": frequency,
        f"{k}.basis": basis,
        f"{k}.window": window,
        f"{k}.replaces": replaces,
        f"{k}.flags": tuple(sorted(flags)) or None,
        f"{k}.kind": kind,
    }
    for n, r in enumerate(rows):
        out[f"{k}.row[{n}]"] = r
    for n, printed in (without_day or {}).items():
        out[f"{k}.row[{n}].printed_without_day"] = printed
    return out


def row(kind: str, dates: tuple[str, ...] | str, value: str, open_ended: bool = False) -> tuple:
    return (kind, (dates,) if isinstance(dates, str) else dates, open_ended, value)


def condition(n: int, description: str, deadline: str | None, as_printed: str | None) -> Facts:
    return {
        f"condition[{n}]": description,
        f"condition[{n}].deadline": deadline,
        f"condition[{n}].as_printed": as_printed,
    }


def block(
    n: int,
    entities: tuple[str, ...],
    lines: list[tuple],
    *,
    heading: str | None = None,
    capacity: tuple[str, ...] = (),
    through: tuple[tuple[str, str], ...] = (),
    shared: bool = False,
) -> Facts:
    k = f"block[{n}]"
    out: Facts = {
        k: entities,
        f"{k}.heading": heading,
        f"{k}.capacity": capacity or None,
        f"{k}.through": through or None,
        f"{k}.shared": shared or None,
    }
    for m, line in enumerate(lines):
        out[f"{k}.line[{m}]"] = line
    return out


def signed(name: str | None, title: str | None, by: str = "/s/", behalf: str | None = None) -> tuple:
    """A signature line as printed: (By: text, name, title, on behalf of, blank)."""
    blank = not by and not name and not title
    return (by, name, title, behalf, blank)


def findings(*items: tuple[str, str]) -> Facts:
    return {f"finding[{kind}:{name_key(subject)}]": True for kind, subject in items}


def merge(*parts: Facts) -> Facts:
    out: Facts = {}
    for part in parts:
        clash = out.keys() & part.keys()
        assert not clash, f"expected facts stated twice: {sorted(clash)}"
        out.update(part)
    return out
