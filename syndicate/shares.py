"""
Voting shares: what part of the Lenders' commitments (or loans outstanding) a set of Lenders
holds on a date, and whether that reaches a vote the agreement defines. Pure computation over
plain data: no ORM, no clock.

The interface, for every caller (consent tallies here, conditions precedent elsewhere):

- :func:`syndicate.voting.voting_share` ``(agreement, lender_party_ids, on, vote=VoteNeeded.REQUISITE,
  basis=None, affected=None) -> Share`` loads the agreement's holdings on ``on``, its
  Defaulting Lenders on that date and its threshold for ``vote`` (``basis`` None: the
  threshold's own basis, commitments when unknown), and returns :func:`share_of` over them.
- :func:`share_of` ``(holdings, in_favour, *, defaulting, vote, threshold, basis, on, affected)``
  is the computation itself, over ``{lender party id: amount}``.

A :class:`Share` says:

- ``held`` / ``aggregate`` / ``percent``: the in-favour Lenders' holdings over everyone's,
  Defaulting Lenders left out of both (``percent`` None when nothing is held);
- ``reached``: True or False, or None when it cannot be decided: the threshold is not set
  (the documents do not state it and no admin has set it), no commitments are recorded, or a
  vote of all affected Lenders names none. ``outcome`` is that as "reached", "not_reached" or
  "unknown", and ``reason`` says why in a sentence;
- ``outstanding``: for All Lenders / all affected Lenders, who still has to be in favour;
- ``describe(names)``: one sentence, e.g. "Requisite Lenders: 41.3% of aggregate Commitments
  in favour, more than 50% needed".

Thresholds compare exactly (``held * 100 > percent * aggregate``): no rounding decides a vote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from compliance.formatting import percent as format_percent
from syndicate import words as w

__all__ = ["Share", "Threshold", "share_of"]

ZERO = Decimal(0)
PERCENT_VOTES = (w.REQUISITE, w.SUPERMAJORITY)
ALL_VOTES = (w.ALL_LENDERS, w.ALL_AFFECTED)


@dataclass(frozen=True)
class Threshold:
    """A vote as defined: more than (or at least) ``percent`` of the ``basis``; ``percent`` None
    when the documents do not state it. All Lenders and all affected Lenders need no percent."""

    vote: str
    basis: str = w.COMMITMENTS
    percent: Decimal | None = None
    more_than: bool = True
    demo: bool = False

    @property
    def known(self) -> bool:
        return self.vote not in PERCENT_VOTES or self.percent is not None

    def wording(self) -> str:
        """ "more than 50% of aggregate Commitments", "every Lender", "not set"."""
        if self.vote == w.ALL_LENDERS:
            return "every Lender"
        if self.vote == w.ALL_AFFECTED:
            return "every affected Lender"
        if self.percent is None:
            return "not set"
        comparison = "more than" if self.more_than else "at least"
        return f"{comparison} {format_percent(self.percent, places=None)} of {w.BASIS_LABELS[self.basis]}"


@dataclass(frozen=True)
class Share:
    """Where a vote stands on a date (see the module's docstring)."""

    vote: str
    basis: str
    on: dt.date
    held: Decimal
    aggregate: Decimal
    percent: Decimal | None
    threshold: Threshold | None
    reached: bool | None
    reason: str
    holdings: Mapping[int, Decimal] = field(default_factory=dict)
    in_favour: frozenset[int] = frozenset()
    excluded: frozenset[int] = frozenset()
    outstanding: frozenset[int] = frozenset()

    @property
    def outcome(self) -> str:
        if self.reached is None:
            return w.UNKNOWN
        return w.REACHED if self.reached else w.NOT_REACHED

    def describe(self) -> str:
        """One sentence: the vote, the share in favour, what is needed, and why it is unknown."""
        label = w.VOTE_LABELS[self.vote]
        shown = format_percent(self.percent, places=1) if self.percent is not None else "no share"
        needed = self.threshold.wording() if self.threshold else "not set"
        text = f"{label}: {shown} of {w.BASIS_LABELS[self.basis]} in favour, {needed} needed"
        if self.vote in PERCENT_VOTES and (self.threshold is None or self.threshold.percent is None):
            text = f"{label}: {shown} of {w.BASIS_LABELS[self.basis]} in favour; the threshold is not set"
        return f"{text}. {self.reason}".strip() if self.reason else text


def _reached(vote: str, threshold: Threshold | None, held: Decimal, aggregate: Decimal,
             outstanding: frozenset[int], needed: frozenset[int]) -> tuple[bool | None, str]:  # fmt: skip
    if aggregate == ZERO:
        return None, "No commitments are recorded on this date."
    if vote in ALL_VOTES:
        if not needed:
            return None, "No Lender is named as affected."
        return not outstanding, ""
    if threshold is None or threshold.percent is None:
        return None, "The agreement's documents do not state this threshold and no administrator has set it."
    if threshold.more_than:
        return held * 100 > threshold.percent * aggregate, ""
    return held * 100 >= threshold.percent * aggregate, ""


def share_of(
    holdings: Mapping[int, Decimal],
    in_favour: Iterable[int],
    *,
    defaulting: Iterable[int] = (),
    vote: str = w.REQUISITE,
    threshold: Threshold | None = None,
    basis: str = w.COMMITMENTS,
    on: dt.date,
    affected: Iterable[int] | None = None,
) -> Share:
    """The share ``in_favour`` holds of ``holdings`` (``{lender id: amount}``) and whether it
    reaches ``vote`` under ``threshold``; Defaulting Lenders count on neither side."""
    excluded = frozenset(defaulting)
    counted = {lender: amount for lender, amount in holdings.items() if lender not in excluded and amount > ZERO}
    favour = frozenset(in_favour) & counted.keys()
    aggregate = sum(counted.values(), ZERO)
    held = sum((counted[lender] for lender in favour), ZERO)
    # Who must be in favour for a vote of all (affected) Lenders: those holding something.
    needed = frozenset(affected or ()) & counted.keys() if vote == w.ALL_AFFECTED else frozenset(counted)
    outstanding = needed - favour if vote in ALL_VOTES else frozenset()
    reached, reason = _reached(vote, threshold, held, aggregate, outstanding, needed)
    if vote == w.ALL_AFFECTED and affected is None and aggregate:
        reached, reason = None, "The Lenders affected are not named."
    return Share(
        vote=vote,
        basis=basis,
        on=on,
        held=held,
        aggregate=aggregate,
        percent=(held * 100 / aggregate) if aggregate else None,
        threshold=threshold,
        reached=reached,
        reason=reason,
        holdings=counted,
        in_favour=favour,
        excluded=excluded & holdings.keys(),
        outstanding=outstanding,
    )
