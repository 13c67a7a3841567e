"""Load the two seed documents (the Loan Agreement's Amendment No. 4, the Lucent Amendment Four)
through the importer, with the review decisions recorded in documents/seed_decisions.json."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from documents.seeds import load_seed_documents


class Command(BaseCommand):
    """Stores the seed texts, reviews and applies them; safe to run again."""

    help = "Load the seed documents through the importer and their recorded review. Running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_seed_documents()
        for line in report.lines():
            self.stdout.write(f"  {line}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS("Seed documents loaded."))
        else:
            self.stdout.write(self.style.SUCCESS("Seed documents already loaded: nothing changed."))
