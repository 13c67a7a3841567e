"""
Demo accounts for trying the portal on the seed documents: a KMC finance user, the two
Agents, a Lender and an administrator, all with one published password.

Refused unless ``PORTAL_ALLOW_DEMO_ACCOUNTS`` is on (it defaults to DEBUG, and production
leaves it off): a published password must never reach a deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from covenants.choices import Role
from covenants.models import AgreementRole
from documents.seed_names import CIBC, FIRST_UNION, HOLDINGS, LOAN_AGREEMENT, NEWCOURT
from parties.choices import MembershipRole
from parties.models import Membership, Party

# Printed in the README: these accounts exist only where demo accounts are allowed.
DEMO_PASSWORD = "portal-demo-2000"


@dataclass(frozen=True)
class DemoAccount:
    """A demo user; ``parties`` are legal names, or None for the Borrowers of the Loan Agreement."""

    username: str
    first_name: str
    last_name: str
    role: str | None
    parties: tuple[str, ...]
    borrowers_of_loan_agreement: bool = False
    superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "kmc.finance", "Karen", "Miller", MembershipRole.BORROWER, (HOLDINGS,), borrowers_of_loan_agreement=True
    ),
    DemoAccount("firstunion.agent", "Frank", "Underwood", MembershipRole.AGENT, (FIRST_UNION,)),
    DemoAccount("newcourt.agent", "Nora", "Collins", MembershipRole.AGENT, (NEWCOURT,)),
    DemoAccount("cibc.lender", "Claire", "Ibbotson", MembershipRole.LENDER, (CIBC,)),
    DemoAccount("admin", "Alex", "Admin", None, (), superuser=True),
)


def _parties_for(account: DemoAccount) -> list[Party]:
    """The parties the account belongs to; the seed documents must be loaded first."""
    names = list(account.parties)
    if account.borrowers_of_loan_agreement:
        borrowers = AgreementRole.objects.filter(agreement__name=LOAN_AGREEMENT, role=Role.BORROWER)
        borrower_names = list(borrowers.values_list("party__legal_name", flat=True))
        if not borrower_names:
            names.append(f"the Borrowers of the {LOAN_AGREEMENT}")
        names += borrower_names
    parties = {party.legal_name: party for party in Party.objects.filter(legal_name__in=names)}
    missing = [name for name in names if name not in parties]
    if missing:
        raise CommandError(
            f"The seed documents are not loaded (missing: {', '.join(missing)}). "
            "Run `manage.py load_seed_documents` first."
        )
    return sorted(parties.values(), key=lambda party: party.legal_name)


class Command(BaseCommand):
    """Creates or resets the demo accounts; refused unless PORTAL_ALLOW_DEMO_ACCOUNTS is on."""

    help = "Create the demo accounts (password reset on every run). Only where PORTAL_ALLOW_DEMO_ACCOUNTS is on."

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "PORTAL_ALLOW_DEMO_ACCOUNTS", False):
            raise CommandError(
                "Demo accounts are not allowed here: PORTAL_ALLOW_DEMO_ACCOUNTS is off. "
                "They share a published password and must never exist on a deployment."
            )
        user_model = get_user_model()
        rows: list[tuple[str, str, str, str]] = []
        with transaction.atomic():
            for account in DEMO_ACCOUNTS:
                parties = _parties_for(account)
                user, _ = user_model.objects.get_or_create(username=account.username)
                user.first_name = account.first_name
                user.last_name = account.last_name
                user.email = account.email
                user.is_active = True
                user.is_staff = account.superuser
                user.is_superuser = account.superuser
                user.set_password(DEMO_PASSWORD)
                user.save()
                # The demo user's memberships are exactly these: a rerun restores them.
                wanted = {(party.pk, account.role) for party in parties}
                for membership in Membership.objects.filter(user=user):
                    if (membership.party_id, membership.role) not in wanted:
                        membership.delete()
                for party in parties:
                    Membership.objects.get_or_create(user=user, party=party, role=account.role)
                access = (
                    "superuser and staff"
                    if account.superuser
                    else f"{MembershipRole(account.role).label} for " + "; ".join(str(party) for party in parties)
                )
                rows.append((account.username, f"{account.first_name} {account.last_name}", account.email, access))
        self._print_table(rows)

    def _print_table(self, rows: list[tuple[str, str, str, str]]) -> None:
        header = ("Username", "Name", "E-mail", "Access")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
        line = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
        self.stdout.write(line.format(*header))
        for row in rows:
            self.stdout.write(line.format(*row))
        self.stdout.write(self.style.SUCCESS(f"Password for every demo account: {DEMO_PASSWORD}"))
