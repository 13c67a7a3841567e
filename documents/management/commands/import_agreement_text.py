"""
Read an agreement's or amendment's text and print what the importer proposes: the instrument,
parties, covenants and schedules, conditions precedent and signature blocks, each with the
words it came from, and what could not be read.

    python manage.py import_agreement_text FILE [--agreement A] [--json]

With --agreement the text is also stored for that agreement (once: the same file again
changes nothing), as the Agent's document upload does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from covenants.models import Agreement
from covenants.selectors import agreement_for_reference
from documents.importer import DocumentRefused, Proposal
from documents.services import document_propose, document_store


class Command(BaseCommand):
    help = "Read an agreement's text (.txt or .htm as filed) and print the proposal the importer makes of it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--agreement", help="Store the text for this agreement (id, name or title).")
        parser.add_argument("--as-user", default=None, help="The administrator storing it (default: the first).")
        parser.add_argument("--json", action="store_true", help="Print the proposal as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            if options["agreement"]:
                stored = document_store(
                    user=self._administrator(options["as_user"]),
                    agreement=self._agreement(options["agreement"]),
                    content=content,
                    filename=path.name,
                )
                proposal = stored.proposal
                verb = "stored as" if stored.created else "already stored as"
                self.stderr.write(f"{path.name}: {verb} document {stored.document.pk}.")
            else:
                proposal = document_propose(content=content, filename=path.name)
        except DocumentRefused as exc:
            raise CommandError(f"{path.name} was not read: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(proposal.to_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(summary(proposal))

    def _agreement(self, reference: str) -> Agreement:
        try:
            return agreement_for_reference(reference)
        except (Agreement.DoesNotExist, Agreement.MultipleObjectsReturned) as exc:
            raise CommandError(str(exc)) from None

    def _administrator(self, username: str | None) -> Any:
        users = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk")
        user = users.filter(username=username).first() if username else users.first()
        if user is None:
            raise CommandError("Storing a document needs an active administrator (--as-user NAME).")
        return user


def summary(proposal: Proposal) -> str:
    """The proposal in a few lines a person can check against the text."""
    data = proposal.to_dict()
    instrument = data.get("instrument") or {}
    lines = [f"{instrument.get('title') or '(no title read)'}"]
    dated = (instrument.get("dated") or {}).get("as_printed")
    if dated:
        lines.append(f"  dated as of {dated}")
    lines.append(f"  parties: {len(data.get('parties', []))}")
    for party in data.get("parties", []):
        lines.append(f"    {party.get('name')}")
    lines.append(f"  covenants: {len(data.get('covenants', []))}")
    for covenant in data.get("covenants", []):
        lines.append(f"    {covenant.get('section') or ''} {covenant.get('name') or ''}".rstrip())
    lines.append(f"  conditions precedent: {len(data.get('conditions', []))}")
    lines.append(f"  signature blocks: {len(data.get('signature_blocks', data.get('signatures', [])))}")
    unread = data.get("unread", [])
    lines.append(f"  not read: {len(unread)}")
    lines.extend(f"    {item.get('reason')}" for item in unread)
    return "\n".join(lines)
