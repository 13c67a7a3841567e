"""
Fixtures of the fault tests: a private PostgreSQL cluster and Redis server for the session,
a database of its own for each test (copied from a migrated template holding a portfolio),
and an SMTP server that counts what alerts send.

These tests never use pytest-django's database: everything they check is read from the
private cluster with psycopg, and everything they run is a separate process.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_unavailable

from .stack import PrivatePostgres, PrivateRedis, Stack, StackUnavailable, free_port, private_services

#: Agreements in the portfolio: one nightly chunk of them keeps a worker busy for a few seconds.
PORTFOLIO = 80
TEMPLATE = "portal_template"
_databases = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability: breaks real PostgreSQL, Redis and Celery processes")


@pytest.fixture(scope="session")
def services() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    try:
        with private_services() as started:
            yield started
    except StackUnavailable as exc:
        service_unavailable(str(exc))


@pytest.fixture(scope="session")
def template(services, tmp_path_factory) -> str:
    """A migrated database with the portfolio and no results yet; each test copies it."""
    postgres, redis = services
    postgres.create_database(TEMPLATE)
    builder = Stack(postgres, redis, TEMPLATE, tmp_path_factory.mktemp("template"))
    # Built with tasks in-process (no REDIS_URL): nothing is left queued for the tests' workers.
    builder.manage("migrate", "--no-input", REDIS_URL="", timeout=300)
    builder.script("build", str(PORTFOLIO), REDIS_URL="")
    return TEMPLATE


def _new_stack(services, template: str, root: Path) -> Stack:
    postgres, redis = services
    name = f"portal_test_{next(_databases)}"
    postgres.create_database(name, template=template)
    if redis.process is None:
        redis.start()
    redis.flush()
    return Stack(postgres, redis, name, root)


@pytest.fixture
def stack(services, template, tmp_path) -> Iterator[Stack]:
    """This test's database (a copy of the template) on the private services, and the workers
    it starts, all stopped afterwards."""
    made = _new_stack(services, template, tmp_path)
    try:
        yield made
    finally:
        made.close()
        if made.redis.process is None:
            made.redis.start()
        made.postgres.drop_database(made.database)


@pytest.fixture(scope="session")
def control(services, template, tmp_path_factory) -> dict:
    """What one uninterrupted evaluation of the whole portfolio stores: the results, events,
    alerts and deliveries every faulted run must end with, exactly."""
    made = _new_stack(services, template, tmp_path_factory.mktemp("control"))
    try:
        made.manage(
            "evaluate_covenants",
            REDIS_URL="",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
        return snapshot(made)
    finally:
        made.postgres.drop_database(made.database)


def snapshot(stack: Stack) -> dict:
    """What users see of an evaluation: current results, status changes, alerts, deliveries."""
    return {
        "results": stack.query(
            "SELECT agreement_id, covenant_id, test_date, borrower_id, status, value, threshold, headroom"
            " FROM compliance_covenanttestresult WHERE is_current ORDER BY 1, 2, 3, 4"
        ),
        "superseded_results": stack.scalar("SELECT count(*) FROM compliance_covenanttestresult WHERE NOT is_current"),
        "events": stack.query(
            "SELECT agreement_id, covenant_id, test_date, borrower_id, from_status, to_status, count(*)"
            " FROM compliance_complianceevent GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        ),
        "alerts": stack.query(
            "SELECT agreement_id, kind, covenant_id, test_date, borrower_id, title, count(*)"
            " FROM alerts_alert GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        ),
        "deliveries": stack.query(
            "SELECT d.channel, d.user_id, a.agreement_id, a.kind, a.covenant_id, a.test_date, count(*)"
            " FROM alerts_alertdelivery d JOIN alerts_alert a ON a.id = d.alert_id"
            " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        ),
    }


class Mailbox:
    """What a real SMTP server on loopback received, one entry per message."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[tuple[str, tuple[str, ...], str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subject = str(message["subject"] or "")
        with self._lock:
            self.messages.append((envelope.mail_from, tuple(envelope.rcpt_tos), subject))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    @property
    def env(self) -> dict[str, str]:
        """Settings that send the portal's e-mail here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "False",
        }


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    port = free_port()
    box = Mailbox(port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def last_json(output: str) -> dict:
    """The JSON a scenario command printed on its last line."""
    return json.loads(output.strip().splitlines()[-1])
