"""
Reading a condition precedent's text into who must execute the document: pure, over the
sentence as printed. "the Agents have received duly executed originals of this Amendment from
the Borrowers, the Requisite Lenders and the Agents" reads as every Borrower, the Lenders
reaching the Requisite vote, the Agent and the Collateral Agent. A text it does not read
stays a text an administrator records satisfied by hand: nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from covenants.choices import Role
from syndicate.choices import VoteNeeded

__all__ = ["ReadCondition", "Requirement", "read_condition"]


@dataclass(frozen=True)
class Requirement:
    """Every holder of ``role`` signs, or (with ``vote``) enough of them to reach it."""

    role: str
    vote: str
    words: str


@dataclass(frozen=True)
class ReadCondition:
    """What the text requires; ``as_of_date_above_written`` when it takes effect as of the
    document's own date, else ``as_of`` (a date it prints) or neither."""

    requirements: tuple[Requirement, ...]
    as_of_date_above_written: bool = False
    as_of: dt.date | None = None


_EXECUTED_BY = re.compile(
    r"(?:duly\s+)?executed\s+(?:originals|counterparts|copies)\s+of\s+this\s+\w+(?:\s+\w+)?\s+"
    r"(?:from|by)\s+(?P<who>.+?)(?:\s+on\s+or\s+(?:prior|before)|\s+by\s+\w+\s+\d|\.|$)",
    re.IGNORECASE | re.DOTALL,
)
_AS_OF_ABOVE = re.compile(r"effective\s+as\s+of\s+the\s+date\s+(?:first\s+)?above\s+written", re.IGNORECASE)
_AS_OF_DATE = re.compile(r"effective\s+as\s+of\s+(?P<date>[A-Z][a-z]+\s+\d{1,2},\s+\d{4})")

# The parties' collective names as loan documents use them, and what each requires.
_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "the borrowers": ((Role.BORROWER, ""),),
    "the borrower": ((Role.BORROWER, ""),),
    "each borrower": ((Role.BORROWER, ""),),
    "the requisite lenders": ((Role.LENDER, VoteNeeded.REQUISITE),),
    "the required lenders": ((Role.LENDER, VoteNeeded.REQUISITE),),
    "the majority lenders": ((Role.LENDER, VoteNeeded.REQUISITE),),
    "the supermajority lenders": ((Role.LENDER, VoteNeeded.SUPERMAJORITY),),
    "all lenders": ((Role.LENDER, VoteNeeded.ALL_LENDERS),),
    "all of the lenders": ((Role.LENDER, VoteNeeded.ALL_LENDERS),),
    "each lender": ((Role.LENDER, VoteNeeded.ALL_LENDERS),),
    "the lenders": ((Role.LENDER, VoteNeeded.ALL_LENDERS),),
    "the agents": ((Role.AGENT, ""), (Role.COLLATERAL_AGENT, "")),
    "the agent": ((Role.AGENT, ""),),
    "the collateral agent": ((Role.COLLATERAL_AGENT, ""),),
    "the guarantor": ((Role.GUARANTOR, ""),),
    "the guarantors": ((Role.GUARANTOR, ""),),
}


def _names(who: str) -> list[str]:
    who = re.sub(r"\s+", " ", who).strip()
    return [part.strip() for part in re.split(r",\s*(?:and\s+)?|\s+and\s+", who) if part.strip()]


def read_condition(text: str) -> ReadCondition | None:
    """The requirements of an execution condition, or None when the text is not one this
    reading knows entirely (a name it does not know leaves the whole condition unread)."""
    match = _EXECUTED_BY.search(text)
    if match is None:
        return None
    requirements: list[Requirement] = []
    for name in _names(match.group("who")):
        known = _NAMES.get(name.lower())
        if known is None:
            return None
        requirements += [Requirement(role, vote, name) for role, vote in known]
    if not requirements:
        return None
    as_of = None
    dated = _AS_OF_DATE.search(text)
    if dated:
        try:
            as_of = dt.datetime.strptime(re.sub(r"\s+", " ", dated.group("date")), "%B %d, %Y").date()
        except ValueError:
            as_of = None
    return ReadCondition(tuple(requirements), as_of_date_above_written=bool(_AS_OF_ABOVE.search(text)), as_of=as_of)
