"""Demo accounts: refused unless allowed, memberships as the seed documents' parties, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from parties.models import Membership, Party
from portal.management.commands.create_demo_accounts import DEMO_PASSWORD
from tests.covenants.helpers import seed_loan

pytestmark = pytest.mark.django_db

User = get_user_model()

EXPECTED_MEMBERSHIPS = {
    ("kmc.finance", "KMC Telecom Inc.", "borrower"),
    ("kmc.finance", "KMC Telecom II, Inc.", "borrower"),
    ("kmc.finance", "KMC Telecom of Virginia, Inc.", "borrower"),
    ("kmc.finance", "KMC Telecom Leasing I LLC", "borrower"),
    ("kmc.finance", "KMC Telecom Leasing II LLC", "borrower"),
    ("kmc.finance", "KMC Telecom Holdings, Inc.", "borrower"),
    ("firstunion.agent", "First Union National Bank", "agent"),
    ("newcourt.agent", "Newcourt Commercial Finance Corporation", "agent"),
    ("cibc.lender", "Canadian Imperial Bank of Commerce", "lender"),
}
USERNAMES = {"kmc.finance", "firstunion.agent", "newcourt.agent", "cibc.lender", "admin"}


def create_demo_accounts() -> str:
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    return out.getvalue()


def memberships() -> set[tuple[str, str, str]]:
    return set(Membership.objects.values_list("user__username", "party__legal_name", "role"))


@pytest.fixture
def seeded():
    # The importer's rows, replayed after the process's first load (tests/seed_replay.py).
    return seed_loan()


def test_the_published_password():
    assert DEMO_PASSWORD == "portal-demo-2000"


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=False)
def test_refused_when_demo_accounts_are_not_allowed(seeded):
    with pytest.raises(CommandError, match="PORTAL_ALLOW_DEMO_ACCOUNTS is off"):
        create_demo_accounts()
    assert not User.objects.exists()
    assert not Membership.objects.exists()


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True)
def test_refused_until_the_seed_documents_are_loaded():
    with pytest.raises(CommandError, match="load_seed_documents"):
        create_demo_accounts()
    assert not User.objects.exists()


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True)
def test_creates_the_five_accounts_with_their_memberships(seeded):
    output = create_demo_accounts()

    assert set(User.objects.values_list("username", flat=True)) == USERNAMES
    assert memberships() == EXPECTED_MEMBERSHIPS
    for user in User.objects.all():
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_active
        assert user.email == f"{user.username}@example.com"
        assert user.first_name and user.last_name
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not admin.memberships.exists()
    assert not User.objects.exclude(username="admin").filter(is_staff=True).exists()
    assert not User.objects.exclude(username="admin").filter(is_superuser=True).exists()
    for username in USERNAMES:
        assert username in output
    assert DEMO_PASSWORD in output


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True)
def test_kmc_finance_belongs_to_every_borrower_of_the_loan_agreement_but_not_kmc_iii_or_iv(seeded):
    create_demo_accounts()
    parties = set(Membership.objects.filter(user__username="kmc.finance").values_list("party__legal_name", flat=True))
    assert "KMC Telecom III, Inc." not in parties
    assert "KMC Telecom IV, Inc." not in parties
    borrowers = set(
        Party.objects.filter(
            agreement_roles__agreement__name="KMC Telecom Loan and Security Agreement", agreement_roles__role="borrower"
        ).values_list("legal_name", flat=True)
    )
    assert borrowers <= parties


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True)
def test_running_again_resets_passwords_and_memberships_without_duplicates(seeded):
    create_demo_accounts()
    user = User.objects.get(username="cibc.lender")
    user.set_password("changed-by-someone")
    user.is_active = False
    user.save()
    Membership.objects.create(user=user, party=Party.objects.get(legal_name="BankBoston, N.A."), role="lender")
    user_ids = dict(User.objects.values_list("username", "pk"))

    create_demo_accounts()

    assert dict(User.objects.values_list("username", "pk")) == user_ids
    assert memberships() == EXPECTED_MEMBERSHIPS
    assert Membership.objects.count() == len(EXPECTED_MEMBERSHIPS)
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert user.is_active


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True)
def test_a_demo_user_can_sign_in_with_the_published_password(seeded, client):
    create_demo_accounts()
    assert client.login(username="kmc.finance", password=DEMO_PASSWORD)
    assert not client.login(username="kmc.finance", password="wrong-password")
