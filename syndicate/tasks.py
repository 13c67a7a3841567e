"""
Consent-request tasks for the beat: thin wrappers over :mod:`syndicate.consents`, each
idempotent (an alert raised twice is stored once; a closed request is not closed again), so a
redelivered or doubled run changes nothing.
"""

from __future__ import annotations

from celery import shared_task

from compliance.tasks import DATABASE_RETRY
from syndicate.consents import consent_deadlines_remind, consent_requests_close_due

REMIND_TASK = "syndicate.tasks.remind_consent_deadlines"
CLOSE_TASK = "syndicate.tasks.close_due_consent_requests"


@shared_task(name=REMIND_TASK, **DATABASE_RETRY)
def remind_consent_deadlines() -> int:
    """Hourly: alert once on each open request whose deadline is near."""
    return consent_deadlines_remind()


@shared_task(name=CLOSE_TASK, **DATABASE_RETRY)
def close_due_consent_requests() -> int:
    """Every few minutes: close the requests whose deadline has passed, with their outcome."""
    return consent_requests_close_due()
