"""
Race safety on PostgreSQL, with real threads released together: signatories of one Lender
voting at the same moment leave one vote; Lenders voting at once each get a tally that is a
recount of the votes before theirs, the last equal to a fresh recount, and the threshold alert
is raised once.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from alerts.choices import AlertKind
from alerts.models import Alert
from covenants.choices import Role
from covenants.models import AgreementRole
from parties.models import Party
from syndicate.choices import Answer, VoteNeeded
from syndicate.consents import consent_request_open, vote_cast
from syndicate.models import Commitment, Vote
from syndicate.tally import tally_of
from tests.syndicate.conftest import RECORD_DATE, in_a_week, signatory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency: PostgreSQL"),
]


def in_parallel(attempts: list) -> list:
    """Run each attempt in its own thread, released together; their results (or errors) in order."""
    barrier = threading.Barrier(len(attempts))
    results: list = [None] * len(attempts)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = attempts[index]()
        except Exception as error:  # reported by the assertions
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def open_request(syndicate):
    return consent_request_open(
        agreement_id=syndicate.agreement.pk, document_id=syndicate.document.pk, title="Amendment No. 1",
        vote_needed=VoteNeeded.REQUISITE, deadline=in_a_week(), opened_by=syndicate.deal.users["agent"],
        record_date=RECORD_DATE,
    )  # fmt: skip


def cast(request, lender, user, answer=Answer.CONSENT):
    return lambda: vote_cast(request_id=request.pk, lender_id=lender.pk, answer=answer, cast_by=user)


def test_six_signatories_of_one_lender_voting_at_once_count_once(syndicate):
    request = open_request(syndicate)
    life = syndicate.lenders["life"]
    signers = [syndicate.signatories["life"], syndicate.signatories["life2"]]
    signers += [signatory(f"vale.life.extra{n}", life) for n in range(4)]
    answers = [Answer.CONSENT, Answer.DECLINE, Answer.ABSTAIN] * 2
    results = in_parallel([cast(request, life, user, answer) for user, answer in zip(signers, answers, strict=True)])
    assert not [r for r in results if isinstance(r, Exception)], results
    vote = Vote.objects.get(request=request)
    assert Vote.objects.filter(request=request).count() == 1
    assert vote.history.count() == 6
    # The vote standing is the last one written, and a fresh recount agrees with it.
    assert vote.answer == vote.history.order_by("-history_id").first().answer
    fresh = tally_of(request)
    assert fresh.weight_of(vote.answer) == 35_000_000
    assert sum(fresh.weight_of(a) for a in Answer.values) == 35_000_000


def test_concurrent_tallies_are_recounts_and_the_threshold_alert_is_raised_once(syndicate):
    request = open_request(syndicate)
    lenders = list(syndicate.lenders.values())
    for n in range(5):  # more Lenders, so more votes race
        party = Party.objects.create(legal_name=f"Vale Lender {n}")
        AgreementRole.objects.create(agreement=syndicate.agreement, party=party, role=Role.LENDER)
        Commitment.objects.create(facility=syndicate.facility, lender=party, amount=5_000_000, effective_on=RECORD_DATE)
        lenders.append(party)
        syndicate.signatories[party.legal_name] = signatory(f"vale.lender{n}", party)
    users = [syndicate.signatories[key] for key in ("agent", "life", "mutual")]
    users += [syndicate.signatories[f"Vale Lender {n}"] for n in range(5)]
    results = in_parallel([cast(request, lender, user) for lender, user in zip(lenders, users, strict=True)])
    assert not [r for r in results if isinstance(r, Exception)], results
    held = sorted(tally.share.held for _, tally in results)
    # Each vote's tally counted every vote committed before it: eight different sums, one per vote.
    assert len(set(held)) == len(held)
    fresh = tally_of(request)
    assert held[-1] == fresh.share.held == fresh.share.aggregate == 125_000_000
    assert fresh.share.reached is True
    assert Alert.objects.filter(kind=AlertKind.CONSENT_THRESHOLD_REACHED).count() == 1
