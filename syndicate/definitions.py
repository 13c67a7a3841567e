"""
Writes to what weighs a vote: the agreement's voting thresholds and its Defaulting Lenders.
The Agents of the agreement and administrators make them, each in one transaction; each
change is kept in the row's history (who, when, before and after) and re-tallies the
agreement's open consent requests (:func:`syndicate.consents.consent_requests_retally`), so
a request the change carries over its threshold is stamped and alerted as a vote would.
Bad input is refused with :class:`SyndicateRefused` naming the field at fault.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from compliance.formatting import long_date
from covenants.models import Agreement
from syndicate.choices import ShareBasis, VoteNeeded
from syndicate.consents import consent_requests_retally
from syndicate.models import DefaultingLender, VotingThreshold
from syndicate.services import SyndicateRefused, _administers, _is_lender

__all__ = [
    "defaulting_lender_change",
    "defaulting_lender_end",
    "defaulting_lender_record",
    "defaulting_lender_refusal",
    "threshold_refusal",
    "threshold_set",
]


def _agreement_locked(agreement_id: int) -> Agreement:
    """The agreement's row, locked: two changes to its Defaulting Lenders are checked one after
    the other, so two overlapping periods cannot both pass the check."""
    agreement = Agreement.objects.select_for_update().filter(pk=agreement_id).first()
    if agreement is None:
        raise SyndicateRefused("There is no such agreement.", field="agreement")
    return agreement


# --- Defaulting Lenders ------------------------------------------------------------------


def defaulting_lender_refusal(
    *,
    agreement: Agreement,
    lender_id: int | None,
    from_date: dt.date | None,
    to_date: dt.date | None,
    excluding: int | None = None,
) -> SyndicateRefused | None:
    """Why this Defaulting Lender period cannot be recorded (None when it can): a Lender of the
    agreement, dates in order, and no overlap with another period of the same Lender."""
    if lender_id is None or not _is_lender(agreement, lender_id):
        return SyndicateRefused(f"The party given is not a Lender under {agreement.name}.", field="lender")
    if from_date is None:
        return SyndicateRefused("A Defaulting Lender needs the date it started defaulting.", field="from_date")
    if to_date is not None and to_date < from_date:
        return SyndicateRefused(
            f"A Lender cannot stop defaulting before it starts: {long_date(to_date)} is before {long_date(from_date)}.",
            field="to_date",
        )
    others = DefaultingLender.objects.filter(agreement=agreement, lender_id=lender_id).exclude(to_date__lt=from_date)
    if to_date is not None:
        others = others.filter(from_date__lte=to_date)
    if excluding is not None:
        others = others.exclude(pk=excluding)
    clash = others.order_by("from_date").first()
    if clash is not None:
        until = f" to {long_date(clash.to_date)}" if clash.to_date else " (not ended)"
        return SyndicateRefused(
            f"This Lender is already a Defaulting Lender from {long_date(clash.from_date)}{until}: "
            "periods of one Lender cannot overlap; end or change that one first.",
            field="from_date",
        )
    return None


def _saved_and_retallied(row: DefaultingLender, by: AbstractBaseUser) -> DefaultingLender:
    row._history_user = by  # type: ignore[attr-defined]  # the history names who, outside a request too
    row.save()
    consent_requests_retally(agreement_id=row.agreement_id)
    return row


@transaction.atomic
def defaulting_lender_record(
    *,
    agreement_id: int,
    lender_id: int,
    from_date: dt.date,
    recorded_by: AbstractBaseUser,
    to_date: dt.date | None = None,
    reason: str = "",
    demo: bool = False,
) -> DefaultingLender:
    """Record a Lender as a Defaulting Lender from ``from_date`` (to ``to_date``)."""
    agreement = _agreement_locked(agreement_id)
    _administers(recorded_by, agreement, "record a Defaulting Lender")
    refusal = defaulting_lender_refusal(agreement=agreement, lender_id=lender_id, from_date=from_date, to_date=to_date)
    if refusal:
        raise refusal
    row = DefaultingLender(
        agreement=agreement, lender_id=lender_id, from_date=from_date, to_date=to_date, reason=reason, demo=demo
    )
    return _saved_and_retallied(row, recorded_by)


@transaction.atomic
def defaulting_lender_change(
    *,
    defaulting_id: int,
    changed_by: AbstractBaseUser,
    from_date: dt.date,
    to_date: dt.date | None,
    reason: str,
) -> DefaultingLender:
    """Correct a Defaulting Lender's period or reason (the history keeps what it was)."""
    row = DefaultingLender.objects.get(pk=defaulting_id)
    agreement = _agreement_locked(row.agreement_id)
    _administers(changed_by, agreement, "change a Defaulting Lender")
    row = DefaultingLender.objects.select_for_update().get(pk=defaulting_id)
    refusal = defaulting_lender_refusal(
        agreement=agreement, lender_id=row.lender_id, from_date=from_date, to_date=to_date, excluding=row.pk
    )
    if refusal:
        raise refusal
    row.from_date, row.to_date, row.reason = from_date, to_date, reason
    return _saved_and_retallied(row, changed_by)


@transaction.atomic
def defaulting_lender_end(*, defaulting_id: int, to_date: dt.date, ended_by: AbstractBaseUser) -> DefaultingLender:
    """The Lender stopped defaulting (it cured) on ``to_date``, its last day as a Defaulting Lender."""
    row = DefaultingLender.objects.get(pk=defaulting_id)
    if row.to_date is not None:
        raise SyndicateRefused(
            f"This Defaulting Lender period already ended on {long_date(row.to_date)}; change it instead.",
            field="to_date",
        )
    return defaulting_lender_change(
        defaulting_id=defaulting_id, changed_by=ended_by, from_date=row.from_date, to_date=to_date, reason=row.reason
    )


# --- Voting thresholds ---------------------------------------------------------------------


def threshold_refusal(*, vote: str, basis: str, percent: Decimal | None) -> SyndicateRefused | None:
    """Why this definition of a vote cannot be set (None when it can)."""
    if vote not in VoteNeeded.values:
        return SyndicateRefused(f"The vote must be one of: {', '.join(VoteNeeded.labels)}.", field="vote")
    if basis not in ShareBasis.values:
        return SyndicateRefused(f"The basis must be one of: {', '.join(ShareBasis.labels)}.", field="basis")
    if percent is not None and not (0 < percent <= 100):
        return SyndicateRefused(
            f"A voting threshold is a percent above 0 and at most 100; {percent} was given.", field="percent"
        )
    return None


@transaction.atomic
def threshold_set(
    *,
    agreement_id: int,
    vote: str,
    percent: Decimal | None,
    set_by: AbstractBaseUser,
    basis: str = ShareBasis.COMMITMENTS,
    more_than: bool = True,
    as_printed: str = "",
    demo: bool = False,
) -> VotingThreshold:
    """Set (or, with ``percent`` None, make unknown again) how the agreement defines ``vote``:
    its Agents and administrators. A tally against an unknown threshold says so."""
    agreement = _agreement_locked(agreement_id)
    _administers(set_by, agreement, "set the agreement's voting thresholds")
    refusal = threshold_refusal(vote=vote, basis=basis, percent=percent)
    if refusal:
        raise refusal
    row = VotingThreshold.objects.select_for_update().filter(agreement=agreement, vote=vote).first()
    row = row or VotingThreshold(agreement=agreement, vote=vote)
    row.basis, row.percent, row.more_than, row.as_printed, row.demo = basis, percent, more_than, as_printed, demo
    row.set_by = set_by
    row._history_user = set_by  # type: ignore[attr-defined]
    row.save()
    consent_requests_retally(agreement_id=agreement.pk)
    return row
