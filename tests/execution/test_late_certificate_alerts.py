"""
A compliance certificate late by the late-financials rule is alerted by the daily late task,
once per agreement and period, to the agreement's Agents, Lenders and Borrowers; a signed one is
not late; one the Agent returns is late again (alerted once more), and the dashboard counts the
late certificates in the statement that counts the late financials.
"""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.choices import AlertChannel, AlertKind
from alerts.models import Alert, AlertDelivery
from execution.certificate_deadlines import late_certificates
from execution.certificates import certificate_prepare, certificate_review
from execution.tasks import raise_late_financials
from portal.pages import selectors as page_selectors
from tests.execution.test_certificates import QUARTER, sign

pytestmark = pytest.mark.django_db


def deadline(deal) -> dt.date:
    return QUARTER + dt.timedelta(days=deal.agreement.reporting_deadline_days)


def late_alerts(period: dt.date = QUARTER):
    return Alert.objects.filter(kind=AlertKind.CERTIFICATE_LATE, test_date=period)


def run(day: dt.date) -> int:
    return raise_late_financials(day.isoformat())


def test_the_daily_task_alerts_the_day_after_the_deadline_once(deal, officer):
    run(deadline(deal))
    assert not late_alerts().exists()  # the deadline day itself is not late

    day_after = deadline(deal) + dt.timedelta(days=1)
    run(day_after)
    alert = late_alerts().get()
    assert alert.borrower_id is None  # the Borrowers owe one certificate, whichever signs it
    assert "December 31, 1999" in alert.title and "no certificate signed" in alert.message
    assert alert.link_path.endswith(f"/execution/agreements/{deal.agreement.pk}/certificates/")
    # The same task raised the late financials as of that day (the figures for the quarter are in).
    assert not Alert.objects.filter(kind=AlertKind.FINANCIALS_LATE, test_date=QUARTER).exists()

    run(day_after)
    run(day_after + dt.timedelta(days=1))
    assert late_alerts().count() == 1
    inbox = AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.IN_APP)
    told = list(inbox.values_list("user__username", flat=True))
    assert len(told) == len(set(told))  # each user once
    assert {"kmc.cfo", "firstunion.officer"} <= set(told)  # a Borrower's officer and an Agent


def test_a_signed_certificate_is_not_late_and_a_returned_one_is_late_again(deal, officer):
    day_after = deadline(deal) + dt.timedelta(days=1)
    signed = sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    run(day_after)
    assert not late_alerts().exists()
    assert QUARTER not in [c.period_end for c in late_certificates([deal.agreement], as_of=day_after).get(
        deal.agreement.pk, [])]  # fmt: skip

    certificate_review(user=deal.agent, certificate=signed, accept=False, comments="Attach Schedule 1.")
    later = day_after + dt.timedelta(days=3)
    late = late_certificates([deal.agreement], as_of=later)[deal.agreement.pk]
    assert QUARTER in [c.period_end for c in late]
    run(later)
    run(later)
    again = late_alerts().get()
    assert "Version 1 of the certificate was returned" in again.message

    second = sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    certificate_review(user=deal.agent, certificate=second, accept=True)
    run(later + dt.timedelta(days=1))
    assert late_alerts().count() == 1
    assert QUARTER not in [c.period_end for c in late_certificates([deal.agreement], as_of=later).get(
        deal.agreement.pk, [])]  # fmt: skip


def test_the_dashboard_counts_late_certificates_beside_late_financials(deal, officer, client):
    lender = deal.signer_of(deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE"))
    day_after = deadline(deal) + dt.timedelta(days=1)
    late = late_certificates([deal.agreement], as_of=day_after)[deal.agreement.pk]
    board = page_selectors.portfolio_dashboard(lender, today=day_after)
    assert board.late_certificates == len(late) > 0
    [summary] = [s for s in board.summaries if s.agreement.pk == deal.agreement.pk]
    assert summary.late_certificates == len(late)

    sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    board = page_selectors.portfolio_dashboard(lender, today=day_after)
    assert board.late_certificates == len(late) - 1
    # Before any period's deadline nothing is late.
    assert page_selectors.portfolio_dashboard(lender, today=dt.date(1990, 1, 1)).late_certificates == 0
