"""
The syndicate pages' cases for the site's access matrix (tests/portal/test_page_access.py): on
each agreement a consent request on a stored text, and each Lender's user of the matrix an
authorised signatory of its Lender. Whoever sees the agreement reads the request and its
document (a Borrower the outcome only); its Agents and Lenders the live tally; its Agents and
administrators open and close requests; a Lender's signatory votes (403 for anyone else who
sees it, 404 for everyone who does not). An agreement's page of votes is read by whoever sees the
agreement (its Defaulting Lenders by the lender side only); its Agents and administrators set
thresholds and mark and end Defaulting Lenders (a Borrower does not see a Defaulting Lender: 404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from covenants.choices import Role
from covenants.models import AgreementRole
from documents.models import Document
from syndicate.consents import consent_request_open
from syndicate.models import AuthorisedSignatory, ConsentRequest, DefaultingLender

LENDER_USERS = ("seed.lender", "harbor.lender", "gamma.lender", "delta.lender")


def consent_of(world: Any, agreement: str) -> ConsentRequest:
    """The request the pages of one agreement act on (made once per agreement, with the
    signatories of the matrix's Lender users)."""
    made = world.__dict__.setdefault("consent_requests", {})
    if agreement in made:
        return made[agreement]
    for username in LENDER_USERS:
        user = world.users[username]
        for membership in user.memberships.all():
            AuthorisedSignatory.objects.get_or_create(
                party=membership.party, user=user, defaults={"authority": "Board"}
            )
    deal = world.agreements[agreement]
    text = f"WAIVER AND AMENDMENT NO. 80 TO {deal.name.upper()}\n"
    document, _ = Document.objects.get_or_create(
        agreement=deal, sha256=f"{deal.pk:064d}",
        defaults={"filename": "a80.txt", "original": text.encode(), "text": text, "kind": Document.Kind.AMENDMENT},
    )  # fmt: skip
    made[agreement] = consent_request_open(
        agreement_id=deal.pk, document_id=document.pk, title="Amendment No. 80", vote_needed="requisite",
        deadline=timezone.now() + dt.timedelta(days=3), opened_by=world.users["admin"],
    )  # fmt: skip
    return made[agreement]


def defaulting_of(world: Any, agreement: str) -> DefaultingLender:
    """A Defaulting Lender of the agreement, not ended, for the page that ends one (made once)."""
    made = world.__dict__.setdefault("defaulting_lenders", {})
    if agreement not in made:
        deal = world.agreements[agreement]
        lender = AgreementRole.objects.filter(agreement=deal, role=Role.LENDER).order_by("pk").first()
        made[agreement] = DefaultingLender.objects.create(
            agreement=deal, lender_id=lender.party_id, from_date=dt.date(1999, 1, 1)
        )
    return made[agreement]


def _role(world: Any, user: str, agreement: str | None) -> str | None:
    return world.role(user, agreement)


def reads(world: Any, user: str, agreement: str | None) -> set[int]:
    return {200} if _role(world, user, agreement) else {404}


def lender_side(world: Any, user: str, agreement: str | None) -> set[int]:
    role = _role(world, user, agreement)
    if role is None:
        return {404}
    return {403} if role == "borrower" else {200}


def agents(done: int) -> Any:
    def expect(world: Any, user: str, agreement: str | None) -> set[int]:
        role = _role(world, user, agreement)
        if role is None:
            return {404}
        return {done} if role in ("agent", "admin") else {403}

    return expect


def voters(world: Any, user: str, agreement: str | None) -> set[int]:
    """A Lender's signatory votes for it (and may change the vote): CIBC's user on the seed and Gamma."""
    role = _role(world, user, agreement)
    if role is None:
        return {404}
    return {302} if role == "lender" else {403}


def lender_side_agents(done: int) -> Any:
    """Rows only the lender side sees (a Defaulting Lender): a Borrower gets 404, a Lender 403."""

    def expect(world: Any, user: str, agreement: str | None) -> set[int]:
        role = _role(world, user, agreement)
        if role is None or role == "borrower":
            return {404}
        return {done} if role in ("agent", "admin") else {403}

    return expect


def syndicate_cases(case: Any) -> dict[str, Any]:
    """The cases, built with the matrix's ``Case``. The vote comes before the close, which ends voting."""

    def request_url(name: str) -> Any:
        return lambda world, agreement: reverse(name, args=[consent_of(world, agreement).pk])

    def votes_url(name: str) -> Any:
        return lambda world, agreement: reverse(name, args=[world.agreements[agreement].pk])

    def agreement_url(world: Any, agreement: str | None) -> str:
        return reverse("syndicate:request_open", args=[world.agreements[agreement].pk])

    return {
        "syndicate:inbox": case(
            lambda world, agreement: reverse("syndicate:inbox"), lambda *a: {200}, per_agreement=False
        ),
        "syndicate:request_open": case(agreement_url, agents(200), shows_agreement=True),
        "syndicate:request": case(request_url("syndicate:request"), reads, shows_agreement=True),
        "syndicate:document": case(request_url("syndicate:document"), reads, shows_agreement=True),
        "syndicate:tally": case(request_url("syndicate:tally"), lender_side),
        "syndicate:vote": case(request_url("syndicate:vote"), voters, method="post", data={"answer": "consent"}),
        "syndicate:close": case(request_url("syndicate:close"), agents(302), method="post"),
        "syndicate:agreement": case(votes_url("syndicate:agreement"), reads, shows_agreement=True),
        "syndicate:threshold_set": case(
            votes_url("syndicate:threshold_set"), agents(302), method="post",
            data={"vote": "supermajority", "basis": "commitments", "percent": "66.6667", "more_than": "on"},
        ),
        # No Lender named: the form comes back with its error (400), to those who may use it only.
        "syndicate:defaulting_mark": case(
            votes_url("syndicate:defaulting_mark"), agents(400), method="post", data={"from_date": "2000-01-01"}
        ),
        # The first Agent ends it; later ones are told it has ended (a message, back to the page).
        "syndicate:defaulting_end": case(
            lambda world, agreement: reverse("syndicate:defaulting_end", args=[defaulting_of(world, agreement).pk]),
            lender_side_agents(302), method="post", data={"to_date": "2000-12-31"},
        ),
    }  # fmt: skip
