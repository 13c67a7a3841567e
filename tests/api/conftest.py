"""
Fixtures for the API tests: the seed Loan Agreement and a second facility that shares no
party with it, each with figures, results, a waiver and a signatory, and a user for every
role plus an outsider. Requests carry real knox tokens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from compliance.services import agreement_evaluate
from covenants.choices import Role
from covenants.models import Agreement, Amendment
from covenants.services import waiver_record
from parties.choices import MembershipRole
from parties.models import Person, Signature, SignatureBlock
from statements.services import statement_records_submit
from tests.covenants.helpers import combined_rows, seed_loan
from tests.factories import Facility, administrator, member, outsider, second_facility
from tests.seed_replay import replayed

SEED = "seed"
HARBOR = "harbor"
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def api_test_settings(settings):
    """Throttling generous enough that no test hits it (one test lowers it on purpose); fast hashing."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000000/hour", "anon": "1000000/hour"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Throttle and sign-in lockout counters live in the cache: each test starts and ends clean.
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    """Both facilities, their users by role, and the rows each party's users may see."""

    seed: Any
    harbor: Facility
    users: dict[str, Any] = field(default_factory=dict)
    # The facility each role's user belongs to (None: an outsider; "all": an administrator).
    home: dict[str, str | None] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    def agreement(self, which: str) -> Agreement:
        return self.seed.agreement if which == SEED else self.harbor.agreement

    def client(self, role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            _, token = AuthToken.objects.create(self.users[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client


def seed_records(loan, quarter: dt.date, revenues: int, ebitda: int) -> list[dict[str, str]]:
    rows = combined_rows(loan, quarter, revenues=revenues, ebitda=ebitda)
    return [dict(zip(("entity", "period_end", "line_item", "amount"), row, strict=True)) for row in rows]


def harbor_records(facility: Facility, quarter: dt.date) -> list[dict[str, str]]:
    records = []
    for borrower in facility.borrowers:
        for item, amount in (("Revenues", "600,000"), ("EBITDA", "250,000"), ("Total Debt", "1,000,000")):
            records.append(
                {"entity": borrower.legal_name, "period_end": quarter.isoformat(), "line_item": item, "amount": amount}
            )
    return records


def signatory(agreement: Agreement, party, name: str, title: str) -> Person:
    """A person signing for ``party`` on the agreement itself."""
    person = Person.objects.create(full_name=name)
    position = SignatureBlock.objects.filter(
        document_type=ContentType.objects.get_for_model(Agreement), document_id=agreement.pk
    ).count()
    block = SignatureBlock.objects.create(
        document_type=ContentType.objects.get_for_model(Agreement),
        document_id=agreement.pk,
        position=position + 1,
        party=party,
        party_name_as_printed=party.legal_name.upper(),
    )
    Signature.objects.create(block=block, person=person, title=title, title_as_printed=title)
    return person


def build_world() -> World:
    """Both facilities with their figures, results, waivers and users: built once per test process
    and replayed after (tests/seed_replay.py), apart for each password hashing in force."""
    from django.conf import settings

    return replayed(f"api world {settings.PASSWORD_HASHERS}", _build_world)


def _build_world() -> World:
    loan = seed_loan()
    harbor = second_facility()
    agreement = loan.agreement
    party = {r.party.legal_name: r.party for r in agreement.roles.select_related("party")}
    users = {
        "borrower": member("kmc.api", MembershipRole.BORROWER, *loan.borrowers.values()),
        "lender": member("cibc.api", MembershipRole.LENDER, party["Canadian Imperial Bank of Commerce"]),
        "agent": member("firstunion.api", MembershipRole.AGENT, party["First Union National Bank"]),
        "collateral_agent": member(
            "newcourt.api", MembershipRole.AGENT, party["Newcourt Commercial Finance Corporation"]
        ),
        "admin": administrator("admin.api"),
        "outsider": outsider("outsider.api"),
        "harbor_borrower": harbor.users["borrower"],
        "harbor_agent": harbor.users["agent"],
    }
    home = {
        "borrower": SEED,
        "lender": SEED,
        "agent": SEED,
        "collateral_agent": SEED,
        "admin": "all",
        "outsider": None,
        "harbor_borrower": HARBOR,
        "harbor_agent": HARBOR,
    }
    # Figures, results and a waiver on both agreements, so every resource has rows on each side.
    for quarter, revenues, ebitda in (
        (dt.date(1999, 9, 30), 15_000_000, -25_000_000),
        (dt.date(1999, 12, 31), 18_500_000, -20_000_000),
    ):
        outcome = statement_records_submit(
            agreement=agreement, user=None, records=seed_records(loan, quarter, revenues, ebitda), source="command"
        )
        assert outcome.ok, outcome.errors
    for quarter in (dt.date(2020, 3, 31), dt.date(2020, 6, 30)):
        outcome = statement_records_submit(
            agreement=harbor.agreement, user=None, records=harbor_records(harbor, quarter), source="command"
        )
        assert outcome.ok, outcome.errors
    agreement_evaluate(agreement_id=agreement.pk, as_of=AS_OF)
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=AS_OF)
    waiver_record(
        covenant_id=loan.covenants["7.01(b)"].pk,
        test_date=dt.date(2000, 3, 31),
        instrument="Waiver and Amendment No. 3",
        recorded_by=users["admin"],
    )
    waiver_record(
        covenant_id=harbor.agreement.covenants.get(section="6.1").pk,
        test_date=dt.date(2020, 3, 31),
        instrument="First Waiver",
        recorded_by=users["admin"],
    )
    Amendment.objects.create(agreement=harbor.agreement, number=1, title="Amendment No. 1 to Credit Agreement")
    signatory(harbor.agreement, harbor.agent, "Hannah Harbor", "Managing Director")
    assert agreement.roles.filter(role=Role.BORROWER).count() == 5
    return World(seed=loan, harbor=harbor, users=users, home=home)


@pytest.fixture
def world(db) -> World:
    return build_world()
