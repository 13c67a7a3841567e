"""
A compliance certificate signed, returned or removed changes which periods' certificates are
late: the agreement's stored standing (compliance.standings) follows in the same transaction,
and the dashboard reads from it what it would count live.
"""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.models import AgreementStanding
from compliance.standings import standings_refresh
from execution.certificates import certificate_prepare, certificate_review
from execution.tasks import STANDINGS_TASK, refresh_standings
from tests.execution.test_certificates import QUARTER, sign
from tests.portal.test_standings import assert_stored_equals_live

pytestmark = pytest.mark.django_db


def test_a_certificate_signed_returned_or_removed_moves_the_standing(deal, officer, monkeypatch):
    day_after = QUARTER + dt.timedelta(days=deal.agreement.reporting_deadline_days + 1)
    # The day the certificate's changes happen on, as the daily refresh's day.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day_after)
    lender = deal.signer_of(deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE"))
    standings_refresh(as_of=day_after)
    before = assert_stored_equals_live(lender, day_after)
    assert before["late certificates"] > 0

    signed = sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    after_signing = assert_stored_equals_live(lender, day_after)
    assert after_signing["late certificates"] == before["late certificates"] - 1

    certificate_review(user=deal.agent, certificate=signed, accept=False, comments="Attach Schedule 1.")
    assert assert_stored_equals_live(lender, day_after)["late certificates"] == before["late certificates"]

    second = sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    assert assert_stored_equals_live(lender, day_after) == after_signing
    second.delete()  # removed: the agreement is counted live until its standing is written again
    assert not AgreementStanding.objects.filter(agreement=deal.agreement).exists()
    assert assert_stored_equals_live(lender, day_after, counted_live={deal.agreement.pk}) == before


def test_the_daily_refresh_is_scheduled_once_just_after_midnight_and_counts_certificates(deal):
    from portal.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == STANDINGS_TASK]
    assert len(entries) == 1 and STANDINGS_TASK in app.tasks
    assert entries[0]["schedule"].hour == {0} and entries[0]["schedule"].minute == {1}
    day = QUARTER + dt.timedelta(days=deal.agreement.reporting_deadline_days + 1)
    assert refresh_standings(day.isoformat()) >= 1
    standing = AgreementStanding.objects.get(agreement=deal.agreement)
    assert standing.as_of == day and standing.late_deliverables["certificates"] >= 1
