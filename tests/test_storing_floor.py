"""The storing floor of the benchmark (benchmarks/storing_floor.py) stores the first evaluation's
rows under the same constraints as the real tables, commits them (the foreign keys checked), and
leaves nothing behind: the real tables untouched, the scratch tables dropped."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from benchmarks import storing_floor
from compliance.models import ComplianceEvent, CovenantTestResult
from compliance.services import agreement_evaluate
from tests.alerts.helpers import Q3_2019, Q4_2019, D, revenue_rows, submit
from tests.factories import second_facility

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY and deferred foreign keys: PostgreSQL"),
    # The floor commits, as a first evaluation does: its foreign keys are checked at commit.
    pytest.mark.django_db(transaction=True),
]


def _evaluated() -> None:
    harbor = second_facility("Harbor")
    for quarter in (Q3_2019, Q4_2019):
        submit(harbor, revenue_rows(harbor, quarter, 2_000_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=D(2020, 5, 1))


def _scratch_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'bench_storing_floor_%%'")
        return {name for (name,) in cursor.fetchall()}


def _scratch_count(kind: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{storing_floor._SCRATCH[kind]}"')
        return cursor.fetchone()[0]


def test_the_floor_stores_the_same_rows_and_leaves_nothing_behind():
    _evaluated()
    results, events = CovenantTestResult.objects.count(), ComplianceEvent.objects.count()
    assert results and events
    with storing_floor.rows_copied_out() as files:
        # The timed part alone, counted before the scratch tables go: the rows it committed.
        storing_floor._scratch_create()
        try:
            sample = storing_floor._store(files)
            stored = {kind: _scratch_count(kind) for kind in ("results", "events")}
        finally:
            storing_floor._scratch_drop()
        assert stored == {"results": results, "events": events}
        assert sample.value > 0 and sample.cpu is not None
        # The whole run, as the benchmark makes it, leaves no scratch table behind.
        assert storing_floor.store_once(files).value > 0
    assert _scratch_tables() == set()
    assert (CovenantTestResult.objects.count(), ComplianceEvent.objects.count()) == (results, events)


def test_the_scratch_tables_check_the_real_tables_foreign_keys_at_commit():
    _evaluated()
    storing_floor._scratch_drop()
    storing_floor._scratch_create()
    try:
        event = ComplianceEvent.objects.order_by("pk").values_list("pk", "agreement_id", "covenant_id", "test_date")[0]
        table = storing_floor._SCRATCH["events"]
        # An event citing a result the scratch results do not hold: refused, at commit.
        with pytest.raises(IntegrityError, match="result"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" (id, agreement_id, covenant_id, test_date, result_id, from_status, to_status, '
                "created_at) VALUES (%s, %s, %s, %s, %s, '', 'compliant', now())",
                [*event, 10**12],
            )
    finally:
        storing_floor._scratch_drop()
    assert _scratch_tables() == set()
