"""The item a proposal becomes, and what every section needs to know of the whole proposal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from documents.importer import Proposal
from documents.importer.text import name_key
from documents.importer.types import InstrumentRef, Span

GUARANTY = "guaranty"


@dataclass(frozen=True)
class ItemData:
    """One proposed fact: a stable key, its section, a label for people, the value in the
    portal's fields, and where and how confidently it was read."""

    key: str
    section: str
    label: str
    value: dict[str, Any]
    span: Span | None
    confidence: float
    reason: str


@dataclass
class Context:
    """The proposal, the agreement and amendment its items belong to, and the parties' keys."""

    proposal: Proposal
    agreement_name: str
    party_keys: dict[str, str] = field(default_factory=dict)  # importer key -> item key

    @classmethod
    def of(cls, proposal: Proposal, agreement_name: str | None) -> Context:
        instrument = proposal.instrument
        named = agreement_name or (instrument.amends if instrument and instrument.amends else None)
        if named is None and instrument is not None:
            named = instrument.title
        context = cls(proposal, named or proposal.filename)
        for party in proposal.parties:
            context.party_keys[party.key] = f"party:{party.name}"
        return context

    @property
    def agreement_key(self) -> str:
        return f"agreement:{self.agreement_name}"

    @property
    def amendment_number(self) -> int | None:
        instrument = self.proposal.instrument
        if instrument is None or instrument.kind != "amendment":
            return None
        return instrument.number

    @property
    def amendment_key(self) -> str | None:
        number = self.amendment_number
        return None if number is None else f"amendment:{self.agreement_name}:{number}"

    @property
    def guaranty(self) -> InstrumentRef | None:
        """The guaranty the document reaffirms, if it does."""
        instrument = self.proposal.instrument
        for ref in instrument.chain if instrument else ():
            if ref.kind == GUARANTY:
                return ref
        return None

    @property
    def guaranty_key(self) -> str | None:
        guaranty = self.guaranty
        return None if guaranty is None else f"agreement:{guaranty.name}"

    @property
    def reaffirmation_key(self) -> str | None:
        guaranty = self.guaranty
        if guaranty is None or guaranty.reaffirmed_as_of is None or self.amendment_number is None:
            return None
        return f"reaffirmation:{guaranty.name}:{self.amendment_number}"

    def party_key(self, name: str) -> str:
        """The item key of the party a name refers to (one the proposal introduces, or by name)."""
        return self.party_keys.get(name_key(name), f"party:{name}")

    def add_party(self, name: str) -> str:
        key = self.party_key(name)
        self.party_keys.setdefault(name_key(name), key)
        return key
