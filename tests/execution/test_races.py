"""
Race safety on PostgreSQL, with real threads released together: a block is executed once
however many of its signatories sign at the same moment, and the two last signatures arriving
together make the amendment effective once, with one alert.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from alerts.choices import AlertKind
from alerts.models import Alert
from covenants.choices import AmendmentStatus
from covenants.models import ConditionPrecedent
from execution.models import Execution
from execution.services import block_execute, satisfaction_record
from parties.choices import MembershipRole
from parties.models import Party
from syndicate.models import AuthorisedSignatory
from tests.execution.conftest import reauthentication
from tests.factories import member

NEWCOURT = "Newcourt Commercial Finance Corporation"

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


def sign(deal, user, block):
    return lambda: block_execute(
        user=user, block=block, reauthentication=reauthentication(), document_sha256=deal.document.sha256
    )


def test_six_signatories_of_one_lender_signing_its_block_at_once_execute_it_once(deal):
    block = deal.block_of("CREDIT SUISSE FIRST BOSTON")
    csfb = block.party
    users = [deal.signer_of(block)]
    users.append(deal.signers[block.signatures.get(position=2).person_id])
    for number in range(4):
        user = member(f"csfb.officer{number}", MembershipRole.LENDER, csfb)
        AuthorisedSignatory.objects.create(party=csfb, user=user, title="Director", authority="Board resolution")
        users.append(user)
    results = in_parallel([sign(deal, user, block) for user in users])
    executed = [r for r in results if isinstance(r, Execution)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(executed) == 1 and len(refused) == len(users) - 1, results
    assert Execution.objects.filter(block=block).count() == 1
    assert all("executed" in str(error) for error in refused)


def test_the_two_last_signatures_together_make_the_amendment_effective_once(deal):
    condition = ConditionPrecedent.objects.get(amendment=deal.amendment)
    satisfaction_record(
        user=deal.admin,
        condition=condition,
        party=Party.objects.get(legal_name="KMC Telecom Leasing II LLC"),
        reason="Original received on paper.",
        satisfied_on=dt.date(2000, 1, 20),
    )
    agents = [b for b in deal.blocks if b.party.legal_name in ("First Union National Bank", NEWCOURT)]
    for block in deal.blocks:
        if block not in agents:
            sign(deal, deal.signer_of(block), block)()
    results = in_parallel([sign(deal, deal.signer_of(block), block) for block in agents])
    assert all(isinstance(r, Execution) for r in results), results
    deal.amendment.refresh_from_db()
    assert deal.amendment.status == AmendmentStatus.EFFECTIVE
    assert Alert.objects.filter(kind=AlertKind.AMENDMENT_EFFECTIVE, amendment=deal.amendment).count() == 1
