"""Alerts raised in bulk keep their idempotency: one insert per batch skips the keys already
stored, only the alerts it wrote get deliveries, and two transactions raising the same events
at the same moment (PostgreSQL) store each alert and each delivery once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from alerts.fanout import alerts_store
from alerts.models import Alert, AlertDelivery
from alerts.raising import alerts_raise_for_events
from compliance.choices import ResultStatus
from compliance.models import ComplianceEvent
from compliance.services import agreement_evaluate
from tests.factories import second_facility

from .helpers import Q3_2019, Q4_2019, D, revenue_rows, submit

AS_OF = D(2020, 5, 1)
QUARTERS = [Q3_2019, Q4_2019, D(2020, 3, 31)]
PER_ALERT = 4 * 2  # four recipients, inbox and e-mail each


def restated_breaches(facility):
    """Three quarters compliant, then all restated under the minimum: three breaches, each news."""
    for quarter in QUARTERS:
        submit(facility, revenue_rows(facility, quarter, 2_000_000))
    agreement_evaluate(agreement_id=facility.agreement.pk, as_of=AS_OF)
    for quarter in QUARTERS:
        submit(facility, revenue_rows(facility, quarter, 900_000))
    return agreement_evaluate(agreement_id=facility.agreement.pk, as_of=AS_OF).events


def _quarter_ends(year: int) -> list[dt.date]:
    return [dt.date(year, 3, 31), dt.date(year, 6, 30), dt.date(year, 9, 30), dt.date(year, 12, 31)]


@pytest.mark.django_db
def test_a_batch_mixing_stored_and_new_keys_stores_only_the_new_ones():
    harbor = second_facility("Harbor")
    events = restated_breaches(harbor)
    assert Alert.objects.count() == 3 and AlertDelivery.objects.count() == 3 * PER_ALERT
    kept = Alert.objects.order_by("test_date").first()
    Alert.objects.exclude(pk=kept.pk).delete()  # their deliveries go with them

    raised = alerts_raise_for_events(events, as_of=AS_OF)
    assert sorted(a.test_date for a in raised) == QUARTERS[1:]
    assert all(a.pk and not a._state.adding for a in raised)
    assert Alert.objects.count() == 3
    assert AlertDelivery.objects.filter(alert=kept).count() == PER_ALERT  # not fanned out twice
    assert AlertDelivery.objects.count() == 3 * PER_ALERT
    # Raised again: nothing new, whether in a batch or one alone.
    assert alerts_raise_for_events(events, as_of=AS_OF) == []
    again = Alert.objects.get(pk=kept.pk)
    again.pk = None
    again._state.adding = True
    assert alerts_store([again]) == []
    assert (Alert.objects.count(), AlertDelivery.objects.count()) == (3, 3 * PER_ALERT)


@pytest.mark.django_db(transaction=True)
def test_two_transactions_raising_the_same_events_at_once_store_each_alert_once():
    """The first transaction inserts the alerts and holds them uncommitted while the second
    raises the same events: its insert waits on the keys, then skips them once the first
    commits. One set of alerts and deliveries, and the second raised nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises whole transactions)")
    # Committed uploads are evaluated at once, as of today: the last three quarters, compliant,
    # then restated under the minimum (news, not history), raise three breaches.
    harbor = second_facility("Harbor")
    today = timezone.localdate()
    quarters = [q for q in (dt.date(today.year - 1, 12, 31), *_quarter_ends(today.year)) if q < today][-3:]
    for total in (2_000_000, 900_000):
        for quarter in quarters:
            submit(harbor, revenue_rows(harbor, quarter, total))
    events = list(ComplianceEvent.objects.filter(agreement=harbor.agreement, to_status=ResultStatus.BREACH))
    assert sorted(e.test_date for e in events) == quarters and Alert.objects.count() == 3
    AlertDelivery.objects.all().delete()
    Alert.objects.all().delete()

    first_inserted = threading.Event()
    second_started = threading.Event()
    raised: dict[str, list] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                raised["first"] = alerts_raise_for_events(events, as_of=today)
                first_inserted.set()
                second_started.wait(10)
                # Let the second transaction's insert reach the locked keys before committing.
                threading.Event().wait(0.5)
        except BaseException as exc:  # reported below, from the test's thread
            errors.append(exc)
            first_inserted.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_inserted.wait(10)
            second_started.set()
            with transaction.atomic():
                raised["second"] = alerts_raise_for_events(events, as_of=today)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert len(raised["first"]) == 3 and raised["second"] == []
    assert Alert.objects.count() == 3
    assert AlertDelivery.objects.count() == 3 * PER_ALERT
