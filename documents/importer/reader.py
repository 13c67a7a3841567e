"""The importer's entry point: text in, a proposal out."""

from __future__ import annotations

from .clauses import covenant_units, read_changes, read_clauses
from .conditions import read_conditions
from .covenants import read_covenant
from .findings import cross_check, merge_signatories
from .instrument import read_instrument
from .parties import read_parties
from .signatures import read_signatures, regions
from .text import Flat, decode
from .types import Covenant, Proposal, Unread


def read_document(text: str | bytes, *, filename: str = "") -> Proposal:
    """Propose what an agreement or amendment says. Raises DocumentRefused for input it will not read."""
    text = decode(text, filename)
    signature_pages = tuple(regions(text))
    blocks = read_signatures(text)
    flat = Flat(text, exclude=signature_pages)
    clauses = read_clauses(flat)
    instrument = read_instrument(text, flat, read_changes(flat, clauses))
    unread: list[Unread] = []
    if instrument is None:
        unread.append(Unread((0, min(len(text), 200)), "no heading read as the document's title", text[:200]))
    effective = instrument.dated.value if instrument and instrument.dated else None
    parties = merge_signatories(read_parties(flat, effective), blocks)
    covenants: list[Covenant] = []
    for clause in covenant_units(flat, clauses):
        covenant, missed = read_covenant(flat, clause)
        unread += missed
        if covenant:
            covenants.append(covenant)
    return Proposal(
        filename,
        text,
        instrument,
        tuple(parties),
        tuple(covenants),
        tuple(read_conditions(flat)),
        tuple(blocks),
        tuple(cross_check(parties, blocks)),
        tuple(unread),
    )
