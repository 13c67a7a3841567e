"""
Demo commitments for the seed Loan Agreement. The seeds state no commitments, no voting
threshold and no Defaulting Lender: everything here is invented for the demonstration, flagged
``demo`` on every row and labelled as such wherever it shows.

A Term Loan of $400,000,000 among the twelve Lenders; BankBoston assigns $10,000,000 to Union
Bank of California on September 30, 1999; Dresdner Bank is a Defaulting Lender from November 15,
1999 (it failed to fund its share of a borrowing); Requisite Lenders are those holding more than
50% of the aggregate Commitments. On January 10, 2000 the aggregate without Dresdner is
$370,000,000, so Requisite Lenders need more than $185,000,000: First Union, Newcourt, CIBC and
Keyport together hold $180,000,000 (48.6%), and Stein Roe's $20,000,000 takes them over, where
with Dresdner counted Keyport would already have done it.

The demo accounts that sign for a Lender (the two Agents, which are Lenders too, and CIBC's user)
are recorded as its authorised signatories, each with the signature line of record it stands for.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from documents.seed_names import (
    BANKBOSTON,
    CIBC,
    CSFB,
    DRESDNER,
    FIRST_UNION,
    GE_CAPITAL,
    KEYPORT,
    LOAN_AGREEMENT,
    MS_SENIOR_FUNDING,
    MSDW_TRUST,
    NEWCOURT,
    STEIN_ROE_FR,
    UNION_BANK,
)
from parties.models import Party, Signature
from syndicate.choices import ShareBasis, VoteNeeded
from syndicate.models import Assignment, AuthorisedSignatory, Commitment, DefaultingLender, Facility, VotingThreshold

M = Decimal(1_000_000)
FACILITY = "Term Loan (demo)"
ALLOTTED_ON = dt.date(1998, 12, 22)

#: Commitments as allotted on the Loan Agreement's date, in millions of dollars.
ALLOTTED: dict[str, int] = {
    FIRST_UNION: 60,
    NEWCOURT: 55,
    CIBC: 45,
    GE_CAPITAL: 40,
    BANKBOSTON: 45,
    CSFB: 30,
    DRESDNER: 30,
    MS_SENIOR_FUNDING: 25,
    MSDW_TRUST: 20,
    UNION_BANK: 10,
    KEYPORT: 20,
    STEIN_ROE_FR: 20,
}
#: (assignor, assignee, millions, effective on)
ASSIGNMENTS = ((BANKBOSTON, UNION_BANK, 10, dt.date(1999, 9, 30)),)
DEFAULTING = (DRESDNER, dt.date(1999, 11, 15), "Demo: failed to fund its share of a borrowing.")
REQUISITE_PERCENT = Decimal(50)
#: Demo username -> (Lender, the signatory of record it stands for).
SIGNATORIES = {
    "firstunion.agent": (FIRST_UNION, "Elizabeth Elmore"),
    "newcourt.agent": (NEWCOURT, "Michael Monahan"),
    "cibc.lender": (CIBC, "Tefta Chilaga"),
}


class DemoRefused(Exception):
    """The demo commitments cannot be loaded here, with a sentence saying why."""


def _lenders(agreement: Agreement) -> dict[str, Party]:
    roles = AgreementRole.objects.filter(agreement=agreement, role=Role.LENDER).select_related("party")
    lenders = {role.party.legal_name: role.party for role in roles}
    missing = sorted(set(ALLOTTED) - set(lenders))
    if missing:
        raise DemoRefused(f"The {LOAN_AGREEMENT}'s Lenders are not the seed's twelve (missing: {', '.join(missing)}).")
    return lenders


def _signatories(lenders: dict[str, Party]) -> int:
    """The demo users who sign for a Lender, as its authorised signatories (users not created yet are left out)."""
    users = {user.username: user for user in get_user_model().objects.filter(username__in=SIGNATORIES)}
    added = 0
    for username, (lender, person) in SIGNATORIES.items():
        if username not in users:
            continue
        line = Signature.objects.filter(block__party=lenders[lender], person__full_name=person).first()
        _, created = AuthorisedSignatory.objects.get_or_create(
            party=lenders[lender],
            user=users[username],
            defaults={
                "person": line.person if line else None,
                "signature": line,
                "title": line.title if line else "",
                "authority": f"Demo: stands for {person}, who signs for {lender} on Amendment No. 4.",
                "demo": True,
            },
        )
        added += created
    return added


@transaction.atomic
def load_demo_commitments() -> dict[str, int]:
    """Load the demo commitments, assignment, Defaulting Lender, threshold and signatories; a second
    run changes nothing. Returns how many rows of each were created."""
    agreement = Agreement.objects.filter(name=LOAN_AGREEMENT).first()
    if agreement is None:
        raise DemoRefused(f"The {LOAN_AGREEMENT} is not loaded. Run `manage.py load_seed_documents` first.")
    lenders = _lenders(agreement)
    facility, _ = Facility.objects.get_or_create(agreement=agreement, name=FACILITY, defaults={"demo": True})
    created = {"commitments": 0, "assignments": 0, "defaulting": 0, "thresholds": 0}
    for name, millions in ALLOTTED.items():
        _, new = Commitment.objects.get_or_create(
            facility=facility, lender=lenders[name], effective_on=ALLOTTED_ON,
            defaults={"amount": millions * M, "demo": True},
        )  # fmt: skip
        created["commitments"] += new
    for assignor, assignee, millions, on in ASSIGNMENTS:
        _, new = Assignment.objects.get_or_create(
            facility=facility, assignor=lenders[assignor], assignee=lenders[assignee], effective_on=on,
            defaults={"amount": millions * M, "demo": True},
        )  # fmt: skip
        created["assignments"] += new
    name, since, reason = DEFAULTING
    _, new = DefaultingLender.objects.get_or_create(
        agreement=agreement, lender=lenders[name], from_date=since, defaults={"reason": reason, "demo": True}
    )
    created["defaulting"] += new
    _, new = VotingThreshold.objects.get_or_create(
        agreement=agreement,
        vote=VoteNeeded.REQUISITE,
        defaults={
            "basis": ShareBasis.COMMITMENTS, "percent": REQUISITE_PERCENT, "more_than": True, "demo": True,
            "as_printed": "Demo: the seeds do not define Requisite Lenders; more than 50% of aggregate Commitments.",
        },
    )  # fmt: skip
    created["thresholds"] += new
    created["signatories"] = _signatories(lenders)
    return created
