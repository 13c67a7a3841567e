"""A strict Content Security Policy on every page; secrets and figures never in the logs;
the history of records never reverted through the admin."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from django.conf import settings
from django.urls import reverse

from portal.security import redact
from statements.services import statement_file_submit

from ..covenants.helpers import combined_rows, csv_bytes, seed_loan
from ..factories import PASSWORD, administrator

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_policy_without_inline_script(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


@pytest.mark.parametrize(
    "line",
    [
        "login failed password=hunter2-secret for kmc",
        '{"username": "kmc", "password": "hunter2-secret"}',
        "Authorization: Token 9f8e7d6c5b4a39281716",
        "webhook secret=hunter2-secret",
        "row amount=hunter2-secret",
    ],
)
def test_redaction_removes_secrets_and_amounts(line):
    assert "hunter2-secret" not in redact(line) and "9f8e7d6c5b4a39281716" not in redact(line)


@pytest.fixture
def console_log():
    """What the configured console handler writes, read back from a buffer."""
    handler = next(
        h for h in logging.getLogger().handlers if any(type(f).__name__ == "RedactSecretsFilter" for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    # The level the settings configure: a Celery worker started by an earlier test in this
    # process sets the root logger to ERROR, which would hide the records this test reads.
    root = logging.getLogger()
    level = root.level
    root.setLevel(settings.LOGGING["root"]["level"])
    yield buffer
    root.setLevel(level)
    handler.setStream(previous)


def test_an_upload_and_a_failed_sign_in_leave_no_figures_or_passwords_in_the_logs(client, console_log):
    loan = seed_loan()
    user = administrator("log.admin")
    client.post(reverse("login"), {"username": user.username, "password": "Wrong-Secret-123"})
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_123_457, ebitda=-4_987_651)
    statement_file_submit(agreement=loan.agreement, user=None, filename="q.csv", content=csv_bytes(rows))
    logging.getLogger("covenants").warning("figures amount=3624691.40 password=%s", PASSWORD)
    logging.getLogger("django.request").warning("Authorization: Token 0123456789abcdef0123")
    written = console_log.getvalue()
    assert "statements recorded" in written  # the handler's output was captured
    assert "[redacted]" in written
    for secret in ("Wrong-Secret-123", PASSWORD, "3624691", "18,123,457", "18123457", "4987651", "0123456789abcdef"):
        assert secret not in written


def test_history_cannot_be_reverted_in_the_admin(client):
    loan = seed_loan()
    client.force_login(administrator("history.admin"))
    party = loan.borrowers["KMC"]
    record = party.history.earliest()
    url = reverse("admin:parties_party_simple_history", args=[party.pk, record.history_id])
    response = client.get(url)
    assert response.status_code in (403, 404) or "Revert" not in response.content.decode()
    response = client.post(url, {"legal_name": "Renamed"})
    party.refresh_from_db()
    assert party.legal_name == "KMC Telecom Inc."
