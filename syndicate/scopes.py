"""
Who sees and does what in the syndicate, registered with the one access rule
(``covenants.access``) when the app is ready. Everything is per deal:

- commitments, assignments, loans outstanding, Defaulting Lenders and the live tally of a
  consent request: the Agents and Lenders of the agreement (the lender side) and administrators;
  Borrowers see a request and its outcome, never the tally or another Lender's vote;
- voting thresholds: whoever sees the agreement (they are its definitions); set by the Agents of
  the agreement and administrators (Defaulting Lenders likewise, seen by the lender side only);
- opening and closing a consent request, recording commitments and assignments: the Agents of
  the agreement and administrators;
- a vote: a Lender's own authorised signatories, for that Lender only;
- authorised signatories: recorded by administrators, seen by the party's own users and the Agents
  of its deals.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from covenants.access import (
    LENDER_SIDE_ROLES,
    agreements_administered_by,
    is_administrator,
    may_administer,
    memberships_of,
    register,
    visible,
)
from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from syndicate.models import (
    Assignment,
    AuthorisedSignatory,
    Commitment,
    ConsentRequest,
    DefaultingLender,
    Facility,
    LoansOutstanding,
    Vote,
    VotingThreshold,
)


def lender_side_agreements(user: Any) -> QuerySet[Agreement]:
    """Agreements in which a party the user belongs to is Agent, Collateral Agent or Lender; all
    for administrators: who sees commitments and tallies."""
    if is_administrator(user):
        return Agreement.objects.all()
    roles = AgreementRole.objects.filter(role__in=LENDER_SIDE_ROLES, party__memberships__user_id=user.pk)
    return Agreement.objects.filter(pk__in=roles.values("agreement_id"))


def on_lender_side(user: Any, agreement: Agreement | int) -> bool:
    """:func:`lender_side_agreements` for one agreement."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.pk
    return lender_side_agreements(user).filter(pk=agreement_id).exists()


def signs_for(user: Any) -> QuerySet:
    """Party ids the user is an authorised signatory of today, among the parties they belong to."""
    today = timezone.localdate()
    own = {party for party, _ in memberships_of(user)}
    return (
        AuthorisedSignatory.objects.filter(user_id=user.pk, party_id__in=own)
        .filter(
            Q(holds_from__isnull=True) | Q(holds_from__lte=today), Q(holds_to__isnull=True) | Q(holds_to__gte=today)
        )
        .values("party_id")
    )


def signatory_lenders(user: Any, agreement: Agreement | int) -> QuerySet:
    """Party ids of the agreement's Lenders the user may vote for: :func:`signs_for` that hold the
    Lender role in the agreement."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.pk
    lenders = AgreementRole.objects.filter(agreement_id=agreement_id, role=Role.LENDER, party_id__in=signs_for(user))
    return lenders.values("party_id")


def _requests_voted_by(user: Any) -> QuerySet[ConsentRequest]:
    lenders = AgreementRole.objects.filter(role=Role.LENDER, party_id__in=signs_for(user)).values("agreement_id")
    return ConsentRequest.objects.filter(agreement_id__in=lenders)


def _by_agreement(model: type, lookup: str, agreements: Any) -> Any:
    return lambda user: model._default_manager.filter(**{f"{lookup}__in": agreements(user)})


def _administers(lookup: str) -> Any:
    """A check on one row: the user administers the row's agreement (reached through ``lookup``)."""

    def check(user: Any, obj: Any) -> bool:
        target: Any = obj
        for step in lookup.split("__"):
            target = getattr(target, step, None)
            if target is None:
                return False
        return may_administer(user, target)

    return check


def _agents_of_their_deals(user: Any) -> bool:
    return is_administrator(user) or agreements_administered_by(user).exists()


for model, lookup in ((Facility, "agreement"), (DefaultingLender, "agreement"), (Commitment, "facility__agreement"),
                      (Assignment, "facility__agreement"), (LoansOutstanding, "facility__agreement")):  # fmt: skip
    register(model, scope=_by_agreement(model, lookup, lender_side_agreements))
    register(
        model,
        "change",
        scope=_by_agreement(model, lookup, agreements_administered_by),
        check=_administers(lookup),
        anywhere=_agents_of_their_deals,
    )

register(VotingThreshold, scope=_by_agreement(VotingThreshold, "agreement", lambda user: visible(user, Agreement)))
register(
    VotingThreshold,
    "change",
    scope=_by_agreement(VotingThreshold, "agreement", agreements_administered_by),
    check=_administers("agreement"),
    anywhere=_agents_of_their_deals,
)

register(
    AuthorisedSignatory,
    scope=lambda user: (
        AuthorisedSignatory.objects.all()
        if is_administrator(user)
        else AuthorisedSignatory.objects.filter(
            Q(party_id__in=[party for party, _ in memberships_of(user)])
            | Q(party__agreement_roles__agreement__in=agreements_administered_by(user))
        ).distinct()
    ),
)
register(
    AuthorisedSignatory,
    "change",
    scope=lambda user: (
        AuthorisedSignatory.objects.all() if is_administrator(user) else AuthorisedSignatory.objects.none()
    ),
    check=lambda user, obj: is_administrator(user),
    anywhere=is_administrator,
)

# A request and its outcome: whoever sees the agreement. Its live tally: the lender side.
register(ConsentRequest, scope=_by_agreement(ConsentRequest, "agreement", lambda user: visible(user, Agreement)))
register(
    ConsentRequest,
    "tally",
    scope=_by_agreement(ConsentRequest, "agreement", lender_side_agreements),
    check=lambda user, obj: obj.agreement_id is not None and on_lender_side(user, obj.agreement_id),
)
register(
    ConsentRequest,
    "change",
    scope=_by_agreement(ConsentRequest, "agreement", agreements_administered_by),
    check=_administers("agreement"),
    anywhere=_agents_of_their_deals,
)
register(
    ConsentRequest,
    "vote",
    scope=_requests_voted_by,
    check=lambda user, obj: obj.agreement_id is not None and signatory_lenders(user, obj.agreement_id).exists(),
)

# Votes: the lender side of the request's agreement reads them; a Lender's signatories cast its own.
register(Vote, scope=_by_agreement(Vote, "request__agreement", lender_side_agreements))
register(
    Vote,
    "change",
    scope=lambda user: Vote.objects.filter(
        request__in=_requests_voted_by(user),
        lender_id__in=signs_for(user),
    ),
    check=lambda user, obj: (
        obj.request_id is not None
        and signatory_lenders(user, obj.request.agreement_id).filter(party_id=obj.lender_id).exists()
    ),
)
