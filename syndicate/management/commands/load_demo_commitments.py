"""Load the demo commitments of the seed Loan Agreement (syndicate.demo): labelled demo everywhere."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from syndicate.demo import DemoRefused, load_demo_commitments


class Command(BaseCommand):
    """Loads the demo commitments; refused unless PORTAL_ALLOW_DEMO_ACCOUNTS is on."""

    help = (
        "Give the seed Loan Agreement demo commitments, an assignment, a Defaulting Lender, a Requisite Lenders "
        "threshold and the demo users as Lenders' signatories, all flagged demo. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "PORTAL_ALLOW_DEMO_ACCOUNTS", False):
            # Invented figures must never reach a deployment: the same switch as the demo accounts.
            raise CommandError("Demo commitments are not allowed here: PORTAL_ALLOW_DEMO_ACCOUNTS is off.")
        try:
            created = load_demo_commitments()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        if any(created.values()):
            listed = ", ".join(f"{count} {what}" for what, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo commitments loaded: {listed}."))
        else:
            self.stdout.write("Demo commitments already loaded; nothing changed.")
