"""Fixtures the portal's page tests share: the seed Loan Agreement with the demo figures, and
a user of one of its Lenders."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from parties.choices import MembershipRole
from parties.models import Party
from tests.covenants.helpers import seed_loan
from tests.factories import member
from tests.seed_replay import replayed


@pytest.fixture
def loan():
    """The seed Loan Agreement with the demo figures (seven quarters, one breach, one missing statement):
    loaded once per test process and replayed after (tests/seed_replay.py)."""
    return replayed("seed with demo figures", seed_with_demo_figures)


def seed_with_demo_figures():
    loan = seed_loan()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True):
        call_command("load_demo_figures", stdout=StringIO())
    return loan


@pytest.fixture
def lender(loan):
    """A user of one of the seed agreement's Lenders (Canadian Imperial Bank of Commerce)."""
    return member(
        "cibc.credit", MembershipRole.LENDER, Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    )
