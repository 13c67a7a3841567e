"""
The syndicate's alerts, raised through the alerts app's public functions (``alerts.fanout.
alerts_store``: stored with their deliveries in the caller's transaction, under a key that
makes a second raise a no-op, delivered by inbox, e-mail and webhook exactly once).

Each is keyed by the request and what happened, so each is raised once per request: opened,
its vote reached (the first tally that reaches it), its deadline approaching, closed. Their
wording names no Lender's vote. The Borrowers of the agreement are told of the opening and the
closing (the outcome) only: the vote reached while the request is open, and the reminder to
answer, are the live tally's news, told to the lender side alone. Who hears which kind is the
alerts app's one recipient rule (``alerts.recipients.audience``), so the fan-out makes no
delivery to a Borrower's users or webhooks for those two kinds.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.fanout import alerts_store
from alerts.models import Alert
from alerts.raising import agreement_words, alert_key
from compliance.formatting import long_date, money
from syndicate.choices import Outcome
from syndicate.models import ConsentRequest
from syndicate.shares import Share

__all__ = ["consent_alert_closed", "consent_alert_deadline", "consent_alert_opened", "consent_alert_reached"]


def _alert(request: ConsentRequest, kind: str, step: str, title: str, message: str) -> Alert | None:
    agreement = request.agreement
    alert = Alert(
        kind=kind,
        key=alert_key(agreement_id=agreement.pk, kind=kind, transition=f"consent{request.pk}>{step}"),
        agreement=agreement,
        amendment_id=request.amendment_id,
        # No test date: the alert pages would label it one; the message states the deadline.
        transition=step,
        title=title,
        message=message,
        link_path=reverse("syndicate:request", args=[request.pk]),
    )
    stored = alerts_store([alert])
    return stored[0] if stored else None


def _deadline_words(request: ConsentRequest) -> str:
    deadline = timezone.localtime(request.deadline)
    return f"{long_date(deadline.date())} at {deadline:%H:%M} ({deadline.tzname()})"


def consent_alert_opened(request: ConsentRequest) -> Alert | None:
    """A request is open for votes: who must answer, on what, by when."""
    fee = f" A consent fee of {money(request.consent_fee)} is offered" if request.consent_fee else ""
    fee += f" ({request.consent_fee_terms})." if fee and request.consent_fee_terms else ("." if fee else "")
    return _alert(
        request,
        AlertKind.CONSENT_REQUESTED,
        "opened",
        f"Consent requested: {request.title}",
        f"The Agent asks the Lenders under {agreement_words(request.agreement)} to consent to {request.title}. "
        f"It needs the vote of the {request.get_vote_needed_display()}; answers are due by "
        f"{_deadline_words(request)}.{fee}",
    )


def consent_alert_reached(request: ConsentRequest, share: Share) -> Alert | None:
    """The first tally that reaches the vote the request needs."""
    return _alert(
        request,
        AlertKind.CONSENT_THRESHOLD_REACHED,
        "reached",
        f"{request.get_vote_needed_display()} reached: {request.title}",
        f"The consents received on {request.title} under {agreement_words(request.agreement)} reach the vote of "
        f"the {request.get_vote_needed_display()} ({share.threshold.wording() if share.threshold else ''}). "
        "Lenders may still change their answers until the request closes.",
    )


def consent_alert_deadline(request: ConsentRequest) -> Alert | None:
    """The request's deadline is near and it is still open."""
    return _alert(
        request,
        AlertKind.CONSENT_DEADLINE_APPROACHING,
        "deadline",
        f"Answers due {_deadline_words(request)}: {request.title}",
        f"The consent request on {request.title} under {agreement_words(request.agreement)} closes for votes on "
        f"{_deadline_words(request)}. A Lender that has not answered by then is counted as not consenting.",
    )


def consent_alert_closed(request: ConsentRequest) -> Alert | None:
    """The request is closed, with its outcome."""
    outcome = {
        Outcome.REACHED: f"the vote of the {request.get_vote_needed_display()} was reached",
        Outcome.NOT_REACHED: f"the vote of the {request.get_vote_needed_display()} was not reached",
        Outcome.UNKNOWN: "whether the vote was reached is unknown: the agreement's threshold is not set",
    }[Outcome(request.outcome or Outcome.UNKNOWN)]
    return _alert(
        request,
        AlertKind.CONSENT_CLOSED,
        "closed",
        f"Consent request closed: {request.title}",
        f"The consent request on {request.title} under {agreement_words(request.agreement)} is closed: {outcome}.",
    )
