"""
The seed agreement's results and alerts, as plain rows to compare across commits: per current
result (agreement, covenant, test date, Borrower, status, value, threshold, headroom, headroom
percent, near breach, provisional) and per alert (kind, agreement, covenant, test date, Borrower,
transition, value, threshold, and its recipients as channel:user@party).

Models are found by name, not imported, so the same module runs at a commit where they lived in
other apps: tests/compliance/fixtures/README.md says how the fixture was made with it.

    python -m tests.compliance.seed_dump > tests/compliance/fixtures/seed_results_before_forms.json
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from typing import Any


def _model(name: str) -> Any:
    from django.apps import apps

    (found,) = [m for m in apps.get_models() if m.__name__ == name]
    return found


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _results() -> list[list[Any]]:
    rows = (
        _model("CovenantTestResult").objects.filter(is_current=True).select_related("agreement", "covenant", "borrower")
    )
    return sorted(
        [
            r.agreement.name,
            r.covenant.section,
            r.test_date.isoformat(),
            r.borrower.legal_name if r.borrower_id else None,
            r.status,
            _text(r.value),
            _text(r.threshold),
            _text(r.headroom),
            _text(r.headroom_percent),
            r.near_breach,
            r.provisional,
        ]
        for r in rows
    )


def _recipients(alert: Any) -> list[str]:
    memberships = _model("Membership").objects
    found = set()
    for delivery in alert.deliveries.all():
        if delivery.user_id:
            for party in memberships.filter(user=delivery.user).values_list("party__legal_name", flat=True):
                found.add(f"{delivery.channel}:{delivery.user.username}@{party}")
        else:
            found.add(f"{delivery.channel}:{delivery.subscription.party.legal_name}")
    return sorted(found)


def dump() -> dict[str, list]:
    """Every current result and every alert with its recipients, sorted."""
    alerts = _model("Alert").objects.select_related("agreement", "covenant", "borrower")
    rows = [
        [
            a.kind,
            a.agreement.name,
            a.covenant.section if a.covenant_id else None,
            a.test_date.isoformat() if a.test_date else None,
            a.borrower.legal_name if a.borrower_id else None,
            a.transition,
            _text(a.value),
            _text(a.threshold),
            _recipients(a),
        ]
        for a in alerts.prefetch_related("deliveries__user", "deliveries__subscription__party")
    ]
    return {"results": _results(), "alerts": sorted(rows, key=json.dumps)}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    import django

    django.setup()
    json.dump(dump(), sys.stdout, indent=1)
    sys.stdout.write("\n")
