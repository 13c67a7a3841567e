"""
The daily late-deliverables task: thin, idempotent (each alert is keyed, so a redelivered or
doubled run raises nothing new). It lives here, the highest app owing a deliverable by the late
rule, so one run raises the late financial statements (``alerts.deadlines``) and the late
compliance certificates (``execution.deadlines``) as of the same day.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from alerts.deadlines import alerts_raise_late_financials
from compliance.standings import standings_refresh
from compliance.tasks import DATABASE_RETRY
from execution.deadlines import alerts_raise_late_certificates

# The name the beat schedule has always used (portal.settings: the 06:00 run).
LATE_TASK = "covenants.tasks.raise_late_financials"
STANDINGS_TASK = "execution.tasks.refresh_standings"


@shared_task(name=LATE_TASK, **DATABASE_RETRY)
def raise_late_financials(as_of: str | None = None) -> int:
    """Daily: alert on each statement missing after its quarter's reporting deadline, and on each
    period's compliance certificate unsigned after it. Returns how many alerts were raised."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return len(alerts_raise_late_financials(as_of=day)) + len(alerts_raise_late_certificates(as_of=day))


@shared_task(name=STANDINGS_TASK, **DATABASE_RETRY)
def refresh_standings(as_of: str | None = None) -> int:
    """Daily, just after midnight: every agreement's stored standing (compliance.standings)
    rewritten as of the new day, when statements and certificates become late with nothing
    written. Here, beside the late task, so that it counts the late certificates too (their app
    registers them when it loads). Returns how many were written."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return standings_refresh(as_of=day)
