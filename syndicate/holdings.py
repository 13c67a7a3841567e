"""
What each Lender holds under an agreement on a date, read from the commitment records: the
one place the effective-dated rows are added up (tallies, pages, the API and the checks of a
new assignment all ask here).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from covenants.models import Agreement
from syndicate.choices import ShareBasis
from syndicate.models import Assignment, Commitment, DefaultingLender, Facility, LoansOutstanding

__all__ = ["commitments_on", "defaulting_lenders_on", "holdings_on", "loans_outstanding_on"]

ZERO = Decimal(0)


def commitments_on(
    agreement: Agreement | int, on: dt.date, *, facility: Facility | int | None = None
) -> dict[int, Decimal]:
    """``{lender party id: commitment}`` on ``on``: allotted commitments in force, plus
    assignments taken, less assignments made, each from its effective date. Three queries."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.pk
    where: dict[str, int] = {"facility__agreement_id": agreement_id}
    if facility is not None:
        where["facility_id"] = facility if isinstance(facility, int) else facility.pk
    held: dict[int, Decimal] = defaultdict(lambda: ZERO)
    allotted = Commitment.objects.in_force_on(on).filter(**where)
    for row in allotted.values("lender_id").annotate(total=Sum("amount")).order_by():
        held[row["lender_id"]] += row["total"]
    moves = Assignment.objects.filter(effective_on__lte=on, **where).order_by()
    for row in moves.values("assignee_id").annotate(total=Sum("amount")):
        held[row["assignee_id"]] += row["total"]
    for row in moves.values("assignor_id").annotate(total=Sum("amount")):
        held[row["assignor_id"]] -= row["total"]
    return {lender: amount for lender, amount in held.items() if amount != ZERO}


def loans_outstanding_on(agreement: Agreement | int, on: dt.date) -> dict[int, Decimal]:
    """``{lender party id: loans outstanding}`` on ``on``: per facility, each Lender's latest
    record on or before the date (:meth:`HoldingQuerySet.in_force_on`), added up. One query."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.pk
    rows = LoansOutstanding.objects.in_force_on(on).filter(facility__agreement_id=agreement_id)
    totals = rows.values("lender_id").annotate(total=Sum("amount")).order_by()
    return {row["lender_id"]: row["total"] for row in totals}


def holdings_on(agreement: Agreement | int, on: dt.date, basis: str = ShareBasis.COMMITMENTS) -> dict[int, Decimal]:
    """Each Lender's holding on ``on`` on the basis a vote is weighed by."""
    if basis == ShareBasis.LOANS_OUTSTANDING:
        return loans_outstanding_on(agreement, on)
    return commitments_on(agreement, on)


def defaulting_lenders_on(agreement: Agreement | int, on: dt.date) -> set[int]:
    """Party ids of the agreement's Defaulting Lenders on ``on``. One query."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.pk
    rows = DefaultingLender.objects.filter(agreement_id=agreement_id, from_date__lte=on).exclude(to_date__lt=on)
    return set(rows.values_list("lender_id", flat=True))
