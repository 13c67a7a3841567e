"""
Amendment No. 4 executed block by block in the portal: its condition precedent ("duly
executed originals ... from the Borrowers, the Requisite Lenders and the Agents") is evaluated
from the executions and the Lenders' commitments, says what is missing, stays unmet while
KMC Telecom Leasing II LLC has no block as printed, and holds once an administrator records
Leasing II's original received on paper: then the amendment is effective as of December 31,
1999, its results stop being provisional and the parties are alerted, once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.choices import AlertKind
from alerts.models import Alert
from compliance.models import CovenantTestResult
from covenants.choices import AmendmentStatus, Role
from covenants.models import ConditionPrecedent
from execution.conditions import amendment_findings
from execution.effectiveness import amendment_conditions_apply
from execution.models import ExecutionCondition
from execution.services import block_execute, satisfaction_record
from parties.models import Party
from tests.execution.conftest import reauthentication

pytestmark = pytest.mark.django_db

LEASING_II = "KMC Telecom Leasing II LLC"
NO_BLOCK = f"{LEASING_II}: no signature block in the document as printed"


def provisional_results(deal) -> int:
    return CovenantTestResult.objects.filter(agreement=deal.agreement, is_current=True, provisional=True).count()


def test_the_seed_condition_is_stated_as_data_from_its_text(deal):
    terms = ExecutionCondition.objects.get(condition__amendment=deal.amendment)
    rows = list(terms.requirements.values_list("role", "vote", "words"))
    assert rows == [
        (Role.BORROWER, "", "the Borrowers"),
        (Role.LENDER, "requisite", "the Requisite Lenders"),
        (Role.AGENT, "", "the Agents"),
        (Role.COLLATERAL_AGENT, "", "the Agents"),
    ]
    assert terms.effective_as_of == dt.date(1999, 12, 31)  # "as of the date above written"
    (found,) = amendment_findings(deal.amendment)
    assert not found.met and found.evaluated
    assert NO_BLOCK in found.missing
    assert "KMC Telecom Inc.: not yet executed" in found.missing
    assert "Requisite Lenders: 0.0% of commitments signed, more than 50% needed" in found.missing


def lender_share_after_each_signature(deal, sign_in_order):
    shares = []
    for block in sign_in_order:
        block_execute(
            user=deal.signer_of(block),
            block=block,
            reauthentication=reauthentication(),
            document_sha256=deal.document.sha256,
        )
        (found,) = amendment_findings(deal.amendment)
        lenders = next(r for r in found.requirements if r.words == "the Requisite Lenders")
        shares.append((block.party.legal_name, f"{lenders.share.percent:.1f}", lenders.met))
    return shares


def test_executed_block_by_block_the_condition_waits_on_leasing_ii_then_holds_on_the_recorded_original(
    deal, django_capture_on_commit_callbacks
):
    assert provisional_results(deal) > 0
    # The demo commitments (syndicate.demo): Dresdner is a Defaulting Lender, out of both sides.
    # Counted, its $30,000,000 would have taken the vote over at Keyport (210 of 400 millions,
    # 52.5%); left out, Keyport leaves it at 48.6% of 370 and Stein Roe crosses it.
    order = ["FIRST UNION NATIONAL BANK", "NEWCOURT", "DRESDNER", "CANADIAN IMPERIAL", "KEYPORT", "STEIN ROE"]
    first = [next(b for b in deal.blocks if b.party_name_as_printed.startswith(heading)) for heading in order]
    assert lender_share_after_each_signature(deal, first) == [
        ("First Union National Bank", "16.2", False),
        ("Newcourt Commercial Finance Corporation", "31.1", False),
        ("Dresdner Bank AG New York and Grand Cayman Branches", "31.1", False),
        ("Canadian Imperial Bank of Commerce", "43.2", False),
        ("Keyport Life Insurance Company", "48.6", False),
        ("Stein Roe Floating Rate Limited Liability Company", "54.1", True),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for block in deal.blocks:
            if block not in first:
                block_execute(
                    user=deal.signer_of(block),
                    block=block,
                    reauthentication=reauthentication(),
                    document_sha256=deal.document.sha256,
                )
    (found,) = amendment_findings(deal.amendment)
    # Every printed block is executed; what is missing is the block the signature pages lack.
    assert found.missing == [NO_BLOCK]
    deal.amendment.refresh_from_db()
    assert deal.amendment.status == AmendmentStatus.PENDING
    assert ConditionPrecedent.objects.get(amendment=deal.amendment).satisfied_on is None
    assert provisional_results(deal) > 0
    assert not Alert.objects.filter(kind=AlertKind.AMENDMENT_EFFECTIVE).exists()

    condition = ConditionPrecedent.objects.get(amendment=deal.amendment)
    with django_capture_on_commit_callbacks(execute=True):
        satisfaction_record(
            user=deal.admin,
            condition=condition,
            party=Party.objects.get(legal_name=LEASING_II),
            reason="Original executed by KMC Telecom II, Inc. as sole member of Leasing II received on paper.",
            satisfied_on=dt.date(2000, 1, 20),
        )
    deal.amendment.refresh_from_db()
    assert deal.amendment.status == AmendmentStatus.EFFECTIVE
    assert deal.amendment.effective_on == dt.date(1999, 12, 31)
    assert provisional_results(deal) == 0
    (found,) = amendment_findings(deal.amendment)
    assert found.met and found.missing == []
    assert [r.party.legal_name for r in found.recorded] == [LEASING_II]
    alerts = Alert.objects.filter(kind=AlertKind.AMENDMENT_EFFECTIVE, amendment=deal.amendment)
    assert alerts.count() == 1
    assert "Amendment No. 4" in alerts.get().title and "received on paper" in alerts.get().message
    # Evaluating again (another signature, a revocation, a retry) alerts no one twice.
    amendment_conditions_apply(amendment=deal.amendment)
    assert alerts.count() == 1
