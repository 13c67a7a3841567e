"""The syndicate's rows in each facility of the API's access matrix: a facility with a Lender's
commitment, an assignment, a consent request on the facility's stored text and a vote, and who
on each side sees and does what (the lender side reads commitments, tallies and votes; a
Lender's own signatories vote)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from covenants.choices import Role
from covenants.models import Agreement
from documents.models import Document
from parties.choices import MembershipRole
from parties.models import Party
from syndicate.models import (
    Assignment,
    AuthorisedSignatory,
    Commitment,
    ConsentRequest,
    DefaultingLender,
    Facility,
    Vote,
    VotingThreshold,
)
from tests.factories import member

# Who is on the lender side (Agents and Lenders) of each facility, among the matrix's roles.
LENDER_SIDE = {
    "seed": {"lender", "agent", "collateral_agent", "admin"},
    "harbor": {"harbor_agent", "admin"},
    "gamma": {"lender", "gamma_agent", "admin"},
    "delta": {"agent", "delta_lender", "admin"},
}
# Who signs for the Lender whose vote the matrix casts in each facility.
VOTERS = {"seed": {"lender"}, "harbor": set(), "gamma": {"lender"}, "delta": {"delta_lender"}}
MODELS = {
    "facility-list": (Facility, "agreement"),
    "commitment-list": (Commitment, "facility__agreement"),
    "assignment-list": (Assignment, "facility__agreement"),
    "consentrequest-list": (ConsentRequest, "agreement"),
    "vote-list": (Vote, "request__agreement"),
    "defaultinglender-list": (DefaultingLender, "agreement"),
    "votingthreshold-list": (VotingThreshold, "agreement"),
}


def _lenders(agreement: Agreement) -> list[Party]:
    return list(Party.objects.filter(agreement_roles__agreement=agreement, agreement_roles__role=Role.LENDER))


def add_syndicate(agreement: Agreement, voter: Party, voter_user: Any, opened_by: Any) -> None:
    """One facility with every Lender's commitment, an assignment from the voter, a request and its vote."""
    facility = Facility.objects.create(agreement=agreement, name="Term Loan")
    for lender in _lenders(agreement):
        Commitment.objects.create(
            facility=facility, lender=lender, amount=Decimal(10_000_000), effective_on=dt.date(2000, 1, 1)
        )
    other = next(p for p in _lenders(agreement) if p.pk != voter.pk)
    Assignment.objects.create(
        facility=facility, assignor=voter, assignee=other, amount=Decimal(1_000_000), effective_on=dt.date(2000, 3, 1)
    )
    document = Document.objects.get(agreement=agreement, filename="a1.txt")
    request = ConsentRequest.objects.create(
        agreement=agreement, document=document, title="Amendment No. 1",
        record_date=dt.date(2000, 4, 1), deadline=timezone.now() + dt.timedelta(days=7), opened_by=opened_by,
    )  # fmt: skip
    signatory, _ = AuthorisedSignatory.objects.get_or_create(
        party=voter, user=voter_user, defaults={"authority": "Board"}
    )
    Vote.objects.create(request=request, lender=voter, answer="decline", cast_by=voter_user, signatory=signatory)
    # After the request's record date, so its tally is the same with or without it.
    DefaultingLender.objects.create(agreement=agreement, lender=other, from_date=dt.date(2000, 5, 1))
    VotingThreshold.objects.create(agreement=agreement, vote="requisite", percent=Decimal(50))


def add_syndicates(world: Any, facilities: dict[str, Any]) -> None:
    """The syndicate rows of the seed and the three other facilities (``facilities``: by name)."""
    cibc = Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    add_syndicate(world.seed.agreement, cibc, world.users["lender"], world.users["agent"])
    harbor = facilities["harbor"]
    harbor_signer = member("harbor.signer", MembershipRole.LENDER, harbor.lender)
    add_syndicate(harbor.agreement, harbor.lender, harbor_signer, world.users["harbor_agent"])
    add_syndicate(facilities["gamma"].agreement, cibc, world.users["lender"], world.users["gamma_agent"])
    delta = facilities["delta"]
    add_syndicate(delta.agreement, delta.lender, world.users["delta_lender"], world.users["agent"])


def syndicate_objects(agreement: Agreement) -> dict[str, Any]:
    """The matrix's objects of one facility's syndicate, and what its writes send."""
    vote = Vote.objects.get(request__agreement=agreement)
    assignment = Assignment.objects.get(facility__agreement=agreement)
    return {
        "syn_facility": Facility.objects.get(agreement=agreement),
        "commitment": Commitment.objects.filter(facility__agreement=agreement).order_by("pk").first(),
        "assignment": assignment,
        "consent": vote.request,
        "vote": vote,
        "new_commitment": {
            "facility": assignment.facility_id, "lender": vote.lender_id, "amount": "1000000.00",
            "effective_on": "2000-06-30",
        },
        "new_assignment": {
            "facility": assignment.facility_id, "assignor": assignment.assignor_id, "assignee": assignment.assignee_id,
            "amount": "500000.00", "effective_on": "2000-06-30",
        },
        "new_request": {
            "agreement": agreement.pk, "document": vote.request.document_id, "title": "Amendment No. 2",
            "vote_needed": "requisite", "deadline": (timezone.now() + dt.timedelta(days=9)).isoformat(),
        },
        "new_vote": {"request": vote.request_id, "lender": vote.lender_id, "answer": "consent"},
        "defaulting": DefaultingLender.objects.get(agreement=agreement),
        "threshold": VotingThreshold.objects.get(agreement=agreement, vote="requisite"),
        "new_defaulting": {"agreement": agreement.pk, "lender": vote.lender_id, "from_date": "2000-06-30"},
        "new_threshold": {"agreement": agreement.pk, "vote": "supermajority", "percent": "66.6667"},
    }  # fmt: skip


def syndicate_rows(route: str, agreements: list[Agreement]) -> set[int] | None:
    """Ids of a facility's rows a syndicate list could return; None for another route."""
    if route not in MODELS:
        return None
    model, lookup = MODELS[route]
    return set(model.objects.filter(**{f"{lookup}__in": agreements}).values_list("pk", flat=True))
