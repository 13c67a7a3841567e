"""
With a real Celery worker on Redis: one breach is one alert, one e-mail per recipient and one
webhook per subscription, even when the delivery task runs twice, when the worker is down
between raise and delivery, and when the broker is unreachable as the alert is raised.
Also measures the time from a statement's upload to its breach e-mail.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter

import pytest

from alerts.choices import AlertChannel, AlertKind, DeliveryStatus
from alerts.models import Alert, AlertDelivery, WebhookSubscription
from alerts.tasks import deliver_alert, sweep_undelivered_alerts
from compliance.services import agreement_evaluate
from tests.factories import second_facility

from .helpers import AS_OF, Q3_2019, D, revenue_rows, submit, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CLOSED_PORT_BROKER = "redis://127.0.0.1:6390/0"
DELIVER = "covenants.tasks.deliver_alert"


@pytest.fixture
def harbor(webhook_server):
    facility = second_facility("Harbor")
    facility.subscription = WebhookSubscription.objects.create(
        party=facility.lender,
        url=webhook_server.url,
        secret="x" * 64,
        kinds=[AlertKind.BREACH],
        created_by=facility.users["lender"],
    )
    return facility


def recipients(facility) -> list[str]:
    return sorted(u.email for u in facility.users.values())


def emails_by_address(smtp_server) -> Counter:
    return Counter(address for m in smtp_server.received for address in m.envelope_to)


def delivered(facility, smtp_server, webhook_server) -> bool:
    return len(smtp_server.received) >= len(facility.users) and len(webhook_server.posts()) >= 1


def settle(worker, timeout: float = 30.0) -> None:
    """Wait until the broker holds no message, waiting or being worked on."""
    wait_for(lambda: worker.queued() == 0 and worker.unacknowledged() == 0, timeout=timeout)
    time.sleep(0.5)


def assert_exactly_once(facility, smtp_server, webhook_server) -> None:
    assert Alert.objects.filter(kind=AlertKind.BREACH).count() == 1
    assert emails_by_address(smtp_server) == Counter(recipients(facility))  # one each, no more
    posts = webhook_server.posts()
    assert len(posts) == 1
    assert posts[0].json()["alert"]["kind"] == "breach"
    pending = AlertDelivery.objects.exclude(status=DeliveryStatus.SENT)
    assert list(pending) == []


def test_one_breach_is_delivered_once_even_when_each_delivery_task_runs_twice(
    worker, harbor, smtp_server, webhook_server
):
    worker.start()
    settle(worker)  # the evaluations queued while the agreement was built
    submit(harbor, revenue_rows(harbor, Q3_2019, 900_000))  # the worker evaluates, raises and delivers
    wait_for(lambda: delivered(harbor, smtp_server, webhook_server), timeout=60)
    settle(worker)

    sendable = AlertDelivery.objects.exclude(channel=AlertChannel.IN_APP)
    assert sendable.count() == len(harbor.users) + 1
    again = [deliver_alert.delay(d.pk) for d in sendable for _ in range(2)]
    assert {result.get(timeout=30) for result in again} == {"already sent"}
    settle(worker)
    assert_exactly_once(harbor, smtp_server, webhook_server)


def test_alerts_raised_while_the_worker_is_down_are_delivered_once_when_it_is_back(
    worker, harbor, smtp_server, webhook_server, settings
):
    worker.start()
    worker.stop()  # the worker goes down between raise and delivery
    submit(harbor, revenue_rows(harbor, Q3_2019, 900_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=AS_OF)
    assert Alert.objects.filter(kind=AlertKind.BREACH).count() == 1
    sendable = AlertDelivery.objects.exclude(channel=AlertChannel.IN_APP)
    # Each delivery's task waits in Redis.
    assert worker.queued_tasks()[DELIVER] == sendable.count()
    # The sweep runs meanwhile and queues every delivery a second time.
    settings.ALERT_SWEEP_AFTER_SECONDS = 0
    assert sweep_undelivered_alerts() == sendable.count()
    assert worker.queued_tasks()[DELIVER] == 2 * sendable.count()
    assert smtp_server.received == [] and webhook_server.posts() == []

    worker.start()
    wait_for(lambda: delivered(harbor, smtp_server, webhook_server), timeout=60)
    settle(worker)
    assert_exactly_once(harbor, smtp_server, webhook_server)


def test_a_breach_raised_while_redis_is_unreachable_is_stored_and_delivered_by_the_sweep(
    worker, harbor, smtp_server, webhook_server, settings
):
    worker.point_broker_at(CLOSED_PORT_BROKER)
    started = time.monotonic()
    submit(harbor, revenue_rows(harbor, Q3_2019, 900_000))  # the evaluation's task cannot be queued either
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=AS_OF)
    raise_seconds = time.monotonic() - started
    alert = Alert.objects.get(kind=AlertKind.BREACH)  # stored all the same
    pending = AlertDelivery.objects.filter(alert=alert).exclude(channel=AlertChannel.IN_APP)
    assert {d.status for d in pending} == {DeliveryStatus.PENDING}
    assert raise_seconds < 30  # an unreachable broker does not hold the raise for long
    print(f"raise with the broker unreachable took {raise_seconds:.2f}s")

    worker.point_broker_at(worker.url)  # Redis is back
    assert worker.queued_tasks()[DELIVER] == 0  # nothing reached it
    worker.start()
    time.sleep(1)
    assert smtp_server.received == []  # nothing to deliver until the sweep queues it
    settings.ALERT_SWEEP_AFTER_SECONDS = 0
    sweep_undelivered_alerts.delay()  # as beat does every minute
    wait_for(lambda: delivered(harbor, smtp_server, webhook_server), timeout=60)
    settle(worker)
    assert_exactly_once(harbor, smtp_server, webhook_server)


def test_time_from_upload_to_breach_email(worker, harbor, smtp_server, webhook_server, capsys):
    """Each upload breaches a new fiscal quarter; the time is from the upload's start to the
    last recipient's e-mail arriving at the SMTP server, with the real worker doing the rest."""
    worker.start()
    settle(worker)
    quarters = [D(2019, 9, 30), D(2019, 12, 31), D(2020, 3, 31), D(2020, 6, 30), D(2020, 9, 30)]
    timings = []
    for count, quarter in enumerate(quarters, start=1):
        rows = revenue_rows(harbor, quarter, 900_000)
        started = time.monotonic()
        submit(harbor, rows)
        wait_for(lambda n=count: len(smtp_server.received) >= n * len(harbor.users), timeout=60, interval=0.01)
        first = smtp_server.received[(count - 1) * len(harbor.users)].received_at
        last = smtp_server.received[count * len(harbor.users) - 1].received_at
        timings.append((first - started, last - started))
        settle(worker)  # the webhook too, before the next upload
    assert Alert.objects.filter(kind=AlertKind.BREACH).count() == len(quarters)
    firsts = [f for f, _ in timings]
    lasts = [last for _, last in timings]
    with capsys.disabled():
        print(
            f"\nupload to breach e-mail with a real worker ({len(quarters)} uploads, {len(harbor.users)} recipients): "
            f"first e-mail median {statistics.median(firsts):.3f}s (max {max(firsts):.3f}s), "
            f"last e-mail median {statistics.median(lasts):.3f}s (max {max(lasts):.3f}s)"
        )
    assert max(lasts) < 30
