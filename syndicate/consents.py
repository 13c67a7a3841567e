"""
Consent requests: opening one, casting and changing a Lender's vote, closing it, and the
deadline's reminders. See :mod:`syndicate.services` for the house rules these follow (one
transaction each, access through the one rule, :class:`SyndicateRefused` with a sentence) and
how votes are made race-safe (the request's row is locked first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from compliance.formatting import long_date
from covenants.models import Agreement
from documents.models import Document
from syndicate import alerts
from syndicate.choices import Answer, RequestKind, RequestStatus, VoteNeeded
from syndicate.models import AuthorisedSignatory, ConsentRequest, Vote
from syndicate.scopes import signatory_lenders
from syndicate.services import SyndicateRefused, _administers, _is_lender
from syndicate.tally import Tally, tally_of

__all__ = [
    "consent_deadlines_remind",
    "consent_request_close",
    "consent_request_open",
    "consent_requests_close_due",
    "consent_requests_retally",
    "vote_cast",
]


@transaction.atomic
def consent_request_open(
    *,
    agreement_id: int,
    document_id: int,
    title: str,
    vote_needed: str,
    deadline: dt.datetime,
    opened_by: AbstractBaseUser,
    kind: str = RequestKind.AMENDMENT,
    consent_fee: Decimal | None = None,
    consent_fee_terms: str = "",
    record_date: dt.date | None = None,
    affected_lender_ids: Iterable[int] = (),
) -> ConsentRequest:
    """Open a request on an amendment or waiver stored for the agreement; the Lenders are alerted."""
    agreement = Agreement.objects.get(pk=agreement_id)
    _administers(opened_by, agreement, "open a consent request")
    document = Document.objects.filter(pk=document_id, agreement=agreement).first()
    if document is None:
        raise SyndicateRefused(f"The document given is not stored for {agreement.name}: store its text first.")
    problems = []
    if not title.strip():
        problems.append("The request needs a title (the amendment or waiver as the Lenders know it).")
    if vote_needed not in VoteNeeded.values:
        problems.append(f"The vote needed must be one of: {', '.join(VoteNeeded.labels)}.")
    if kind not in RequestKind.values:
        problems.append("A consent request is on an amendment or a waiver.")
    if deadline <= timezone.now():
        problems.append("The deadline must be in the future.")
    if consent_fee is not None and consent_fee < 0:
        problems.append("A consent fee cannot be negative.")
    affected = sorted(set(affected_lender_ids))
    if vote_needed == VoteNeeded.ALL_AFFECTED and not affected:
        problems.append("A vote of all affected Lenders must name the Lenders affected.")
    outsiders = [pk for pk in affected if not _is_lender(agreement, pk)]
    if outsiders:
        problems.append(f"Only Lenders of {agreement.name} can be affected Lenders.")
    if problems:
        raise SyndicateRefused(" ".join(problems))
    request = ConsentRequest.objects.create(
        agreement=agreement,
        document=document,
        amendment_id=document.amendment_id,
        kind=kind,
        title=title.strip(),
        vote_needed=vote_needed,
        record_date=record_date or timezone.localdate(),
        deadline=deadline,
        consent_fee=consent_fee,
        consent_fee_terms=consent_fee_terms,
        opened_by=opened_by,
    )
    if affected:
        request.affected_lenders.set(affected)
    alerts.consent_alert_opened(request)
    return request


def _locked(request_id: int) -> ConsentRequest:
    return ConsentRequest.objects.select_for_update().select_related("agreement").get(pk=request_id)


def _note_reached(request: ConsentRequest, tally: Tally) -> None:
    """The first tally to reach the vote stamps the request and raises its alert, once."""
    if tally.share.reached and request.threshold_reached_at is None:
        request.threshold_reached_at = timezone.now()
        request.save(update_fields=["threshold_reached_at"])
        alerts.consent_alert_reached(request, tally.share)


def consent_requests_retally(*, agreement_id: int) -> list[Tally]:
    """Count every open request of the agreement afresh after what weighs its votes changed (a
    threshold, a Defaulting Lender): each row locked first as a vote locks it, so the tally
    taken is a fresh recount, and a request the change carries over its threshold is stamped
    and alerted once, as a vote would. Runs inside the caller's transaction."""
    open_ids = ConsentRequest.objects.filter(agreement_id=agreement_id, status=RequestStatus.OPEN).order_by("pk")
    tallies = []
    for request_id in list(open_ids.values_list("pk", flat=True)):
        request = _locked(request_id)
        tally = tally_of(request)
        _note_reached(request, tally)
        tallies.append(tally)
    return tallies


@transaction.atomic
def vote_cast(
    *,
    request_id: int,
    lender_id: int,
    answer: str,
    cast_by: AbstractBaseUser,
    condition: str = "",
    now: dt.datetime | None = None,
) -> tuple[Vote, Tally]:
    """Cast (or change) a Lender's one vote, as one of its authorised signatories: refused after
    the deadline or once the request is closed. Returns the vote and the fresh tally."""
    request = _locked(request_id)
    now = now or timezone.now()
    if not signatory_lenders(cast_by, request.agreement_id).filter(party_id=lender_id).exists():
        raise PermissionDenied("You may vote only for a Lender of this agreement you are an authorised signatory of.")
    if request.status != RequestStatus.OPEN:
        raise SyndicateRefused("This consent request is closed: votes can no longer be cast or changed.")
    if now > request.deadline:
        deadline = timezone.localtime(request.deadline)
        raise SyndicateRefused(
            f"The deadline for votes passed on {long_date(deadline.date())} at {deadline:%H:%M}: the vote is refused."
        )
    if answer not in Answer.values:
        raise SyndicateRefused(f"An answer is one of: {', '.join(Answer.labels)}.")
    signatory = AuthorisedSignatory.objects.get(user_id=cast_by.pk, party_id=lender_id)
    vote, _ = Vote.objects.update_or_create(
        request=request,
        lender_id=lender_id,
        defaults={"answer": answer, "condition": condition.strip(), "cast_by": cast_by, "signatory": signatory},
    )
    tally = tally_of(request)
    _note_reached(request, tally)
    return vote, tally


@transaction.atomic
def consent_request_close(
    *, request_id: int, closed_by: AbstractBaseUser | None = None, now: dt.datetime | None = None
) -> Tally:
    """Close a request (by its Agent, or at its deadline with ``closed_by`` None): the outcome is
    the fresh tally's, stored, and the parties are alerted once."""
    request = _locked(request_id)
    if closed_by is not None:
        _administers(closed_by, request.agreement, "close a consent request")
    if request.status == RequestStatus.CLOSED:
        raise SyndicateRefused("This consent request is already closed.")
    tally = tally_of(request)
    _note_reached(request, tally)
    request.status = RequestStatus.CLOSED
    request.closed_at = now or timezone.now()
    request.outcome = tally.share.outcome
    request.save(update_fields=["status", "closed_at", "outcome"])
    alerts.consent_alert_closed(request)
    return tally


def consent_requests_close_due(*, now: dt.datetime | None = None) -> int:
    """Close every open request whose deadline has passed; each in its own transaction."""
    now = now or timezone.now()
    due = ConsentRequest.objects.filter(status=RequestStatus.OPEN, deadline__lt=now).values_list("pk", flat=True)
    closed = 0
    for request_id in list(due):
        try:
            consent_request_close(request_id=request_id, now=now)
            closed += 1
        except SyndicateRefused:  # closed meanwhile by its Agent
            continue
    return closed


@transaction.atomic
def consent_deadlines_remind(*, now: dt.datetime | None = None) -> int:
    """Alert once on each open request whose deadline falls within the reminder window
    (``settings.CONSENT_REMINDER_HOURS``, 48 by default). Raising again changes nothing."""
    now = now or timezone.now()
    window = dt.timedelta(hours=getattr(settings, "CONSENT_REMINDER_HOURS", 48))
    soon = ConsentRequest.objects.filter(status=RequestStatus.OPEN, deadline__gte=now, deadline__lte=now + window)
    return sum(1 for request in soon.select_related("agreement") if alerts.consent_alert_deadline(request))
