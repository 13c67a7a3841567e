"""Evaluate covenants synchronously and print the results."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.selectors import current_results
from compliance.services import agreements_evaluate
from covenants.models import Agreement
from covenants.selectors import agreement_for_reference


def _plain(value: Decimal | None) -> str | None:
    """A decimal without the storage's trailing zeros and never in exponent form."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class Command(BaseCommand):
    help = "Evaluate every covenant of one agreement (or all) now, and print the results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agreement", help="The agreement's id, name or title (default: every agreement).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object per result.")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="Evaluation date (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["agreement"]:
            try:
                agreements = [agreement_for_reference(options["agreement"])]
            except (Agreement.DoesNotExist, Agreement.MultipleObjectsReturned) as exc:
                raise CommandError(str(exc)) from None
        else:
            agreements = list(Agreement.objects.order_by("pk"))
        ids = [a.pk for a in agreements]
        names = {a.pk: a.name for a in agreements}
        summary = agreements_evaluate(agreement_ids=ids, as_of=options["as_of"])
        for result in current_results(ids):
            row = {
                "agreement": names[result.agreement_id],
                "agreement_id": result.agreement_id,
                "section": result.covenant.section,
                "covenant": result.covenant.name,
                "test_date": result.test_date.isoformat(),
                "borrower": result.borrower.legal_name if result.borrower_id else None,
                "status": result.status,
                "value": _plain(result.value),
                "threshold": _plain(result.threshold),
                "headroom": _plain(result.headroom),
                "headroom_percent": _plain(result.headroom_percent),
                "provisional": result.provisional,
                "explanation": result.explanation,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row))
            else:
                flag = " (provisional)" if result.provisional else ""
                self.stdout.write(
                    f"{row['agreement']} {row['section']} {row['test_date']}: {result.get_status_display()}{flag}"
                    f" value={row['value']} threshold={row['threshold']} headroom={row['headroom']}"
                )
        if not options["json"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Evaluated {summary.agreements} agreement(s): {summary.results} results, "
                    f"{summary.changed} changed, {len(summary.events)} status change(s)."
                )
            )
