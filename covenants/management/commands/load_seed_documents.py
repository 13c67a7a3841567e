"""Load the two seed documents (the Loan Agreement's Amendment No. 4, the Lucent Amendment Four)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from covenants.seed_documents import load_seed_documents


class Command(BaseCommand):
    """Writes the seed documents' parties, agreements, covenants and signature pages; safe to run again."""

    help = "Load the seed documents into the database. Running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_seed_documents()
        for line in report.lines():
            self.stdout.write(f"  {line}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS("Seed documents loaded."))
        else:
            self.stdout.write(self.style.SUCCESS("Seed documents already loaded: nothing changed."))
