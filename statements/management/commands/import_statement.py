"""Import a borrower's statement file (CSV or XLSX) for an agreement from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from covenants.models import Agreement
from covenants.selectors import agreement_for_reference
from statements.services import statement_file_submit


class Command(BaseCommand):
    help = "Import a statement file (long layout entity,period_end,line_item,amount; CSV or XLSX) for an agreement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV or XLSX file.")
        parser.add_argument("--agreement", required=True, help="The agreement's id, name or title.")
        parser.add_argument("--user", help="Username to record as the submitter (default: none, the command line).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agreement = agreement_for_reference(options["agreement"])
        except (Agreement.DoesNotExist, Agreement.MultipleObjectsReturned) as exc:
            raise CommandError(str(exc)) from None
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user is named '{options['user']}'.") from None
        outcome = statement_file_submit(
            agreement=agreement, user=user, filename=path.name, content=path.read_bytes(), source="command"
        )
        if not outcome.ok:
            for error in outcome.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{path.name} was not imported: {len(outcome.errors)} problem(s) found; nothing was saved."
            )
        for statement in outcome.statements:
            kind = f"restatement (version {statement.version})" if statement.version > 1 else "statement"
            self.stdout.write(
                f"Recorded {kind}: {statement.borrower.legal_name}, quarter ending {statement.period_end}"
            )
        for party, period_end in outcome.unchanged:
            self.stdout.write(f"Unchanged: {party.legal_name}, quarter ending {period_end} (same figures as on file)")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {path.name} into {agreement.name} (sha256 {outcome.upload.sha256}).")
        )
