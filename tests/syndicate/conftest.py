"""A deal with a syndicate: three Lenders' commitments, a Requisite threshold, a stored
amendment and a signatory for each Lender (two for one of them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from covenants.choices import Role
from covenants.models import AgreementRole
from documents.models import Document
from parties.choices import MembershipRole
from parties.models import Party
from syndicate.choices import VoteNeeded
from syndicate.models import AuthorisedSignatory, Commitment, Facility, VotingThreshold
from tests.factories import member, second_facility

RECORD_DATE = dt.date(2000, 1, 10)


@dataclass
class Syndicate:
    deal: object
    agreement: object
    facility: Facility
    document: Document
    lenders: dict[str, Party] = field(default_factory=dict)
    signatories: dict[str, object] = field(default_factory=dict)


def signatory(username: str, party: Party):
    user = member(username, MembershipRole.LENDER, party)
    AuthorisedSignatory.objects.create(party=party, user=user, title="Vice President", authority="Board resolution")
    return user


@pytest.fixture
def syndicate(db) -> Syndicate:
    deal = second_facility("Vale")
    agreement = deal.agreement
    mutual = Party.objects.create(legal_name="Vale Mutual Bank")
    AgreementRole.objects.create(agreement=agreement, party=mutual, role=Role.LENDER, defined_term="Lenders")
    facility = Facility.objects.create(agreement=agreement, name="Term Loan")
    lenders = {"agent": deal.agent, "life": deal.lender, "mutual": mutual}
    for key, amount in (("agent", "40"), ("life", "35"), ("mutual", "25")):
        Commitment.objects.create(
            facility=facility, lender=lenders[key], amount=Decimal(amount) * 1_000_000, effective_on=dt.date(2000, 1, 1)
        )
    VotingThreshold.objects.create(agreement=agreement, vote=VoteNeeded.REQUISITE, percent=Decimal(50))
    document = Document.objects.create(
        agreement=agreement, kind=Document.Kind.AMENDMENT, title="Amendment No. 1", filename="amendment-1.txt",
        original=b"AMENDMENT NO. 1", sha256="a" * 64, text="AMENDMENT NO. 1",
    )  # fmt: skip
    found = Syndicate(deal, agreement, facility, document, lenders)
    found.signatories = {
        "agent": signatory("vale.agent.signer", deal.agent),
        "life": signatory("vale.life.signer", deal.lender),
        "life2": signatory("vale.life.second", deal.lender),
        "mutual": signatory("vale.mutual.signer", mutual),
    }
    return found


def in_a_week() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=7)
