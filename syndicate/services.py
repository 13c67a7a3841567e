"""
Writes for the syndicate: commitments, assignments, thresholds, Defaulting Lenders, consent
requests and votes. Each service is keyword-only, runs in one transaction, checks who may do it
through the one access rule (refused access is ``PermissionDenied``) and refuses bad input with
:class:`SyndicateRefused`, a sentence naming what is wrong; nothing is half-saved.

Consent requests and votes are in :mod:`syndicate.consents`; voting thresholds and Defaulting
Lenders (which re-tally the open requests) in :mod:`syndicate.definitions`. Race-safety: every vote and every
closing of a request first locks the request's row (``select_for_update``), so votes on one
request are counted one after another: two signatories of one Lender voting at once leave one
vote (the second changes it), and the tally each takes afterwards is a fresh recount.
Assignments lock their facility's row the same way, so two cannot spend the same commitment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from compliance.formatting import long_date, money
from covenants.access import may_administer
from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from syndicate.holdings import commitments_on
from syndicate.models import Assignment, Commitment, Facility

__all__ = [
    "SyndicateRefused",
    "assignment_record",
    "assignment_refusal",
    "commitment_record",
    "commitment_refusal",
]


class SyndicateRefused(Exception):
    """A write the syndicate refuses, with a sentence saying why (and, where one input is at
    fault, the ``field`` it came in, so a form or the API can put the sentence beside it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _administers(user: AbstractBaseUser, agreement: Agreement, what: str) -> None:
    if not may_administer(user, agreement):
        raise PermissionDenied(f"Only the Agents of this agreement and administrators may {what}.")


def _is_lender(agreement: Agreement, party_id: int) -> bool:
    return AgreementRole.objects.filter(agreement=agreement, party_id=party_id, role=Role.LENDER).exists()


# --- Commitments and assignments ---------------------------------------------------------


def commitment_refusal(
    *, facility: Facility, lender_id: int | None, amount: Decimal | None, effective_on: dt.date | None
) -> str:
    """Why a commitment cannot be recorded ("" when it can): what the service, the API and the admin say."""
    if amount is None or amount <= 0:
        return f"A commitment must be a positive amount; {amount} was given."
    if lender_id is None or not _is_lender(facility.agreement, lender_id):
        return f"The party given is not a Lender under {facility.agreement.name}; record its Lender role first."
    if Commitment.objects.filter(facility=facility, lender_id=lender_id, effective_on=effective_on).exists():
        return f"This Lender already has a commitment under {facility.name} from {long_date(effective_on)}."
    return ""


@transaction.atomic
def commitment_record(
    *,
    facility_id: int,
    lender_id: int,
    amount: Decimal,
    effective_on: dt.date,
    recorded_by: AbstractBaseUser,
    demo: bool = False,
) -> Commitment:
    """Allot a Lender a commitment under a facility from ``effective_on``."""
    facility = Facility.objects.select_for_update().select_related("agreement").get(pk=facility_id)
    _administers(recorded_by, facility.agreement, "record commitments")
    refusal = commitment_refusal(facility=facility, lender_id=lender_id, amount=amount, effective_on=effective_on)
    if refusal:
        raise SyndicateRefused(refusal)
    return Commitment.objects.create(
        facility=facility,
        lender_id=lender_id,
        amount=amount,
        effective_on=effective_on,
        recorded_by=recorded_by,
        demo=demo,
    )


def _assignor_shortfall(facility: Facility, assignor_id: int, amount: Decimal, effective_on: dt.date) -> str:
    """Why the assignor cannot assign ``amount`` on ``effective_on``: it must hold it then, and on
    every later date a recorded change touches it, or a later assignment would be overdrawn."""
    later = set(
        Assignment.objects.filter(
            facility=facility, assignor_id=assignor_id, effective_on__gt=effective_on
        ).values_list("effective_on", flat=True)
    )
    for day in sorted({effective_on} | later):
        held = commitments_on(facility.agreement_id, day, facility=facility).get(assignor_id, Decimal(0))
        if held < amount:
            when = long_date(day)
            if day == effective_on:
                return (
                    f"The assignor holds {money(held)} of {facility.name} on {when}, less than the "
                    f"{money(amount)} to assign."
                )
            return (
                f"The assignor would hold {money(held - amount)} of {facility.name} on {when}, when a later "
                "assignment it made takes effect: a commitment cannot go negative."
            )
    return ""


def assignment_refusal(
    *,
    facility: Facility,
    assignor_id: int | None,
    assignee_id: int | None,
    amount: Decimal | None,
    effective_on: dt.date | None,
) -> str:
    """Why an assignment cannot be recorded ("" when it can): a positive amount between two Lenders
    of the agreement, which the assignor holds on that date and every later one."""
    if amount is None or amount <= 0:
        return f"An assignment must move a positive amount; {amount} was given."
    if effective_on is None:
        return "An assignment needs the date it takes effect."
    if assignor_id is None or assignee_id is None:
        return "An assignment names both its assignor and its assignee."
    if assignor_id == assignee_id:
        return "A Lender cannot assign to itself: the assignor and the assignee are the same party."
    for party_id, side in ((assignor_id, "assignor"), (assignee_id, "assignee")):
        if not _is_lender(facility.agreement, party_id):
            return f"The {side} is not a Lender under {facility.agreement.name}; record its Lender role first."
    return _assignor_shortfall(facility, assignor_id, amount, effective_on)


@transaction.atomic
def assignment_record(
    *,
    facility_id: int,
    assignor_id: int,
    assignee_id: int,
    amount: Decimal,
    effective_on: dt.date,
    recorded_by: AbstractBaseUser,
    demo: bool = False,
) -> Assignment:
    """Move ``amount`` of commitment from ``assignor`` to ``assignee`` on ``effective_on``; the
    facility's row is locked first, so two assignments cannot spend the same commitment."""
    facility = Facility.objects.select_for_update().select_related("agreement").get(pk=facility_id)
    _administers(recorded_by, facility.agreement, "record assignments")
    refusal = assignment_refusal(
        facility=facility, assignor_id=assignor_id, assignee_id=assignee_id, amount=amount, effective_on=effective_on
    )
    if refusal:
        raise SyndicateRefused(refusal)
    return Assignment.objects.create(
        facility=facility,
        assignor_id=assignor_id,
        assignee_id=assignee_id,
        amount=amount,
        effective_on=effective_on,
        recorded_by=recorded_by,
        demo=demo,
    )
