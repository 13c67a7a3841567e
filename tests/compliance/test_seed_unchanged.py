"""
The seed agreement's results and alerts are what they were before the covenant forms (issue 13):
the seed documents, the demo accounts and the demo figures loaded at HEAD give, row for row, the
statuses, values, thresholds, headroom, near breaches, alerts and their recipients recorded at
commit 792fddf (tests/compliance/fixtures/README.md says how), less the alerts that history
rule (issue 16) now records without alerting.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.compliance.seed_dump import dump

pytestmark = pytest.mark.django_db
BEFORE = Path(__file__).parent / "fixtures" / "seed_results_before_forms.json"


@override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True)
def test_the_seed_results_and_alerts_are_as_before_the_covenant_forms(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_seed_documents", stdout=StringIO())
        call_command("create_demo_accounts", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_figures", stdout=StringIO())
    before = json.loads(BEFORE.read_text())
    now = dump()
    assert len(now["results"]) == len(before["results"]) == 21
    assert now["results"] == before["results"]
    # Since then, history is not news (docs/alerts.md): of the four alerts raised before, the
    # near breaches of 7.01(b) before its latest test are recorded, not alerted. The two kept
    # are as they were, word for word and recipient for recipient.
    kept = [alert for alert in before["alerts"] if (alert[2], alert[3]) != ("7.01(b)", "2000-09-30")]
    kept = [alert for alert in kept if (alert[2], alert[3]) != ("7.01(b)", "2000-12-31")]
    assert [alert[:4] for alert in now["alerts"]] == [alert[:4] for alert in kept]
    assert now["alerts"] == kept
