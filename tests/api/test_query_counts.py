"""
Query counts of every list endpoint, asserted exactly, for a Borrower's user (scoped
reads) and an administrator, with pages of 5 and of 50 rows: the count must not grow with
the page. An N+1 (a serializer reaching for an unprefetched relation) fails here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from covenants.choices import AgreementKind, Role
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    LineItem,
    ThresholdStep,
    Waiver,
)
from parties.choices import RelationshipKind
from parties.models import Address, FormerName, Party, PartyRelationship, Person, Signature, SignatureBlock
from statements.services import statement_records_submit

from .conftest import seed_records

pytestmark = pytest.mark.django_db

ROWS = 50
EXPECTED = {
    # savepoint and release (the request's transaction) 2, token 2, then the view's own:
    # the access rule's membership checks, the count, the page, one per prefetched relation.
    ("agreement-list", "borrower"): 13,  # + roles, amendments, conditions, covenants, line items, visible ids
    ("agreement-list", "admin"): 12,
    ("amendment-list", "borrower"): 8,  # + conditions precedent
    ("amendment-list", "admin"): 7,
    ("covenant-list", "borrower"): 9,  # + terms (with amendment, line items), schedules
    ("covenant-list", "admin"): 8,
    ("financialstatement-list", "borrower"): 8,  # + lines (with line items)
    ("financialstatement-list", "admin"): 7,
    ("covenanttest-list", "borrower"): 7,
    ("covenanttest-list", "admin"): 6,
    ("waiver-list", "borrower"): 7,
    ("waiver-list", "admin"): 6,
    ("party-list", "borrower"): 12,  # + former names, addresses, roles, relationships both ways
    ("party-list", "admin"): 11,
    ("person-list", "borrower"): 8,  # + signatures (with block, parties)
    ("person-list", "admin"): 7,
}


def many_rows(world) -> None:
    """At least 50 rows of every resource that the seed Borrowers' user may see, each with the
    nested rows its serializer shows."""
    loan = world.seed
    kmc = loan.borrowers["KMC"]
    revenues = LineItem.objects.get(code="revenues")
    admin = world.users["admin"]
    agreement_type = ContentType.objects.get_for_model(Agreement)
    now = timezone.now()
    for n in range(ROWS):
        agreement = Agreement.objects.create(
            kind=AgreementKind.CREDIT_AGREEMENT, title="Credit Agreement", name=f"KMC Facility {n:02d}"
        )
        agreement.required_line_items.set([revenues])
        AgreementRole.objects.create(agreement=agreement, party=kmc, role=Role.BORROWER, defined_term="Borrower")
        lender = Party.objects.create(legal_name=f"Lender {n:02d} Bank")
        AgreementRole.objects.create(agreement=agreement, party=lender, role=Role.LENDER)
        FormerName.objects.create(party=lender, name=f"Old Lender {n:02d}")
        Address.objects.create(
            party=lender, street=f"{n} Main Street", city="Charlotte", region="NC", postal_code="28202"
        )
        PartyRelationship.objects.create(party=lender, kind=RelationshipKind.AFFILIATE_OF, other=kmc)
        amendment = Amendment.objects.create(agreement=agreement, number=1, title="Amendment No. 1")
        ConditionPrecedent.objects.create(amendment=amendment, description="Executed originals delivered.")
        covenant = Covenant.objects.create(agreement=agreement, section="6.1", name="Minimum revenues")
        terms = CovenantTerms.objects.create(
            covenant=covenant, effective_from=dt.date(2000, 1, 1), line_item=revenues, amendment=amendment
        )
        ThresholdStep.objects.create(terms=terms, test_date=dt.date(2000, 3, 31), threshold=Decimal("1000000"))
        ThresholdStep.objects.create(
            terms=terms, test_date=dt.date(2000, 6, 30), threshold=Decimal("1200000"), applies_thereafter=True
        )
        result = CovenantTestResult.objects.create(
            agreement=agreement,
            covenant=covenant,
            terms=terms,
            test_date=dt.date(2000, 3, 31),
            borrower=kmc,
            status=ResultStatus.BREACH,
            evaluated_at=now,
        )
        assert result.pk
        Waiver.objects.create(
            agreement=agreement,
            covenant=covenant,
            test_date=dt.date(2000, 3, 31),
            instrument="Waiver",
            recorded_by=admin,
        )
        person = Person.objects.create(full_name=f"Signer {n:02d}")
        block = SignatureBlock.objects.create(
            document_type=agreement_type,
            document_id=agreement.pk,
            position=1,
            party=lender,
            party_name_as_printed=lender.legal_name.upper(),
        )
        Signature.objects.create(block=block, person=person, title="Vice President", for_party=kmc)
    for index in range(ROWS // 5):  # 5 Borrowers a quarter: 50 statements, two lines each
        quarter = dt.date(1990 + index, 12, 31)
        outcome = statement_records_submit(
            agreement=loan.agreement, user=None, records=seed_records(loan, quarter, 20_000_000, 1_000_000)
        )
        assert outcome.ok, outcome.errors


def count_queries(client, url: str, page_size: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content[:300]
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("role", ["borrower", "admin"])
def test_list_query_counts_are_fixed_and_do_not_grow_with_the_page(world, role):
    many_rows(world)
    client = world.client(role)
    measured = {}
    for route in sorted({r for r, _ in EXPECTED}):
        url = reverse(f"api:{route}")
        client.get(url, {"page_size": 1})  # warm the content-type cache, as any running server has
        small, small_rows = count_queries(client, url, 5)
        large, large_rows = count_queries(client, url, 50)
        assert (small_rows, large_rows) == (5, 50), f"{route}: not enough rows to compare pages"
        assert small == large, f"{route} as {role}: {small} queries for 5 rows but {large} for 50"
        measured[(route, role)] = large
    expected = {key: value for key, value in EXPECTED.items() if key[1] == role}
    assert measured == expected
