"""The seed Loan Agreement with its demo commitments: Amendment No. 4 put to the Lenders, the
tally crossing the Requisite Lenders threshold at the right Lender, by commitment, with the
Defaulting Lender (Dresdner) counted on neither side, and each alert raised once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.models import Alert
from covenants.models import Amendment
from documents.seed_names import (
    CIBC,
    DRESDNER,
    FIRST_UNION,
    KEYPORT,
    NEWCOURT,
    STEIN_ROE_FR,
)
from documents.services import document_store
from parties.choices import MembershipRole
from parties.models import Party
from syndicate.choices import Answer, Outcome, VoteNeeded
from syndicate.consents import consent_request_close, consent_request_open, vote_cast
from syndicate.holdings import commitments_on
from syndicate.models import AuthorisedSignatory, Commitment
from syndicate.shares import Threshold, share_of
from tests.covenants.helpers import seed_loan
from tests.factories import administrator, member

pytestmark = pytest.mark.django_db

RECORD_DATE = dt.date(2000, 1, 10)
M = Decimal(1_000_000)
SEED_TEXTS = Path(__file__).resolve().parents[2] / "documents" / "seed_texts"


def load_demo_commitments() -> str:
    out = StringIO()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True):
        call_command("load_demo_commitments", stdout=out)
    return out.getvalue()


@pytest.fixture
def amendment_four_request():
    loan = seed_loan()
    assert "Demo commitments loaded" in load_demo_commitments()
    assert "nothing changed" in load_demo_commitments()
    assert not Commitment.objects.filter(demo=False).exists()
    admin = administrator()
    amendment = Amendment.objects.get(agreement=loan.agreement, number=4)
    text = (SEED_TEXTS / "002_092983384245b2ee.txt").read_bytes()
    document = document_store(
        user=admin, agreement=loan.agreement, content=text, filename="amendment-4.txt", amendment=amendment
    ).document
    agent = member("fu.officer", MembershipRole.AGENT, Party.objects.get(legal_name=FIRST_UNION))
    request = consent_request_open(
        agreement_id=loan.agreement.pk, document_id=document.pk, title="Amendment No. 4", opened_by=agent,
        vote_needed=VoteNeeded.REQUISITE, deadline=timezone.now() + dt.timedelta(days=14), record_date=RECORD_DATE,
    )  # fmt: skip
    return loan, request, agent


def signer_for(name: str):
    party = Party.objects.get(legal_name=name)
    user = member(f"signer.{party.pk}", MembershipRole.LENDER, party)
    AuthorisedSignatory.objects.create(party=party, user=user, authority="Incumbency certificate")
    return party, user


ORDER = (FIRST_UNION, NEWCOURT, CIBC, DRESDNER, KEYPORT, STEIN_ROE_FR)


def crossing_lender(holdings, *, defaulting):
    ids = [Party.objects.get(legal_name=name).pk for name in ORDER]
    majority = Threshold(vote=VoteNeeded.REQUISITE, percent=Decimal(50))
    for count, name in enumerate(ORDER, start=1):
        if share_of(holdings, ids[:count], defaulting=defaulting, threshold=majority, on=RECORD_DATE).reached:
            return name
    return None


def test_the_tally_crosses_the_requisite_threshold_at_stein_roe(amendment_four_request):
    loan, request, agent = amendment_four_request
    crossed, shares = [], []
    for name in ORDER:
        party, user = signer_for(name)
        _, tally = vote_cast(request_id=request.pk, lender_id=party.pk, answer=Answer.CONSENT, cast_by=user)
        shares.append(tally.share.held)
        if tally.share.reached and not crossed:
            crossed.append(name)
    # Dresdner's consent adds nothing: a Defaulting Lender counts on neither side.
    assert [s / M for s in shares] == [60, 115, 160, 160, 180, 200]
    assert crossed == [STEIN_ROE_FR]
    assert tally.share.aggregate == 370 * M
    assert tally.share.describe().startswith("Requisite Lenders: 54.1% of aggregate Commitments in favour")
    # Counted as if Dresdner were not defaulting, Keyport would already have carried it.
    holdings = commitments_on(loan.agreement, RECORD_DATE)
    assert crossing_lender(holdings, defaulting=[]) == KEYPORT
    assert crossing_lender(holdings, defaulting=[Party.objects.get(legal_name=DRESDNER).pk]) == STEIN_ROE_FR

    assert Alert.objects.filter(kind=AlertKind.CONSENT_REQUESTED).count() == 1
    assert Alert.objects.filter(kind=AlertKind.CONSENT_THRESHOLD_REACHED).count() == 1
    consent_request_close(request_id=request.pk, closed_by=agent)
    request.refresh_from_db()
    assert request.outcome == Outcome.REACHED
    assert Alert.objects.filter(kind=AlertKind.CONSENT_CLOSED).count() == 1


def test_the_demo_figures_are_labelled_on_the_tally(amendment_four_request, client):
    _, request, agent = amendment_four_request
    client.force_login(agent)
    page = client.get(f"/syndicate/requests/{request.pk}/")
    assert page.status_code == 200
    assert b"Demo figures" in page.content
    assert b'Dresdner Bank AG New York and Grand Cayman Branches <small class="defaulting">' in page.content
