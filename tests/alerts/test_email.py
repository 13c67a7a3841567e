"""Alert e-mails go through Django's SMTP backend to a real SMTP server on loopback, with a
plain-text and an HTML part; an SMTP server that is down leaves the delivery pending, retried."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.choices import AlertChannel, DeliveryStatus
from alerts.delivery import delivery_attempt
from alerts.models import Alert, AlertDelivery
from tests.factories import second_facility

from .conftest import free_port
from .helpers import Q3_2019, revenues

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbor():
    return second_facility("Harbor")


def test_a_breach_is_e_mailed_to_each_recipient_with_text_and_html_parts(
    harbor, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example"
    with django_capture_on_commit_callbacks(execute=True):
        revenues(harbor, Q3_2019, 900_000)
    alert = Alert.objects.get()
    received = smtp_server.received
    assert sorted(r for m in received for r in m.envelope_to) == sorted(u.email for u in harbor.users.values())

    message = smtp_server.to("harbor.lender@example.com")[0].message
    assert (
        message["Subject"]
        == "[Harbor Credit Agreement] Breach of Section 6.1 (Minimum revenues) as of September 30, 2019"
    )
    assert message["To"] == "harbor.lender@example.com"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = f"https://portal.example/agreements/{harbor.agreement.pk}/"
    for part in (plain, html):
        assert "Breach of Section 6.1 (Minimum revenues) as of September 30, 2019" in part
        assert "amounted to $900,000 against a minimum of $1,000,000" in part
        assert "$900,000" in part and "$1,000,000" in part and "($100,000)" in part
        assert link in part
    assert "Test date: September 30, 2019" in plain
    assert "Value: $900,000" in plain and "Threshold: $1,000,000" in plain and "Headroom: ($100,000)" in plain
    assert f'<a href="{link}"' in html
    assert "<table" in html

    sent = AlertDelivery.objects.filter(alert=alert, channel=AlertChannel.EMAIL)
    assert {d.status for d in sent} == {DeliveryStatus.SENT}
    assert all(d.attempts == 1 and d.sent_at is not None for d in sent)
    # A task run again for a sent delivery sends nothing.
    for delivery in sent:
        assert delivery_attempt(delivery_id=delivery.pk) == "already sent"
    assert len(smtp_server.received) == 4


def test_an_smtp_server_that_is_down_leaves_the_delivery_pending_for_a_retry(harbor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    revenues(harbor, Q3_2019, 900_000)
    delivery = AlertDelivery.objects.filter(channel=AlertChannel.EMAIL).first()
    now = timezone.now()
    outcome = delivery_attempt(delivery_id=delivery.pk, now=now)
    assert outcome.startswith("retry in")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "Connection refused" in delivery.last_error or "ConnectionRefusedError" in delivery.last_error
    wait = delivery.due_at - now
    assert dt.timedelta(seconds=15) <= wait <= dt.timedelta(seconds=30)  # 30 s with jitter: half to all of it
