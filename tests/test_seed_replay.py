"""A replay of the seed documents (tests/seed_replay.py, what ``seed_loan()`` uses after its
first load in a process) leaves exactly the rows and on-commit hooks the importer leaves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from covenants.evaluation_requests import QueueOnCommit
from documents.seeds import load_seed_documents
from parties.models import Party
from tests import seed_replay
from tests.covenants.helpers import seed_loan

pytestmark = pytest.mark.django_db


def rows(record: seed_replay.Record) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the recorded tables, date-times left out (they are compared apart)."""
    found = {}
    for table in record.tables:
        keep = [n for i, n in enumerate(table.attnames) if i not in table.datetimes]
        found[table.model._meta.db_table] = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in table.model._base_manager.order_by("pk").values_list(*keep)
        ]
    return found


def datetimes(record: seed_replay.Record) -> list[dt.datetime | None]:
    return [
        value
        for table in record.tables
        for name in (table.attnames[i] for i in table.datetimes)
        for value in table.model._base_manager.order_by("pk").values_list(name, flat=True)
    ]


def hooks() -> list[Any]:
    """The on-commit hooks waiting: an evaluation request's agreement ids, or a call's function and values."""
    return [
        list(hook.agreement_ids)
        if isinstance(hook, QueueOnCommit)
        else (hook.func.__module__, hook.func.__qualname__, hook.args, hook.keywords)
        for _, hook, _ in connection.run_on_commit
    ]


def test_a_replay_leaves_what_the_importer_leaves():
    with transaction.atomic():
        _, record = seed_replay._record_of(load_seed_documents)
        assert record is not None, "the importer's load could not be recorded: every seed_loan() would run it"
        imported, imported_times, imported_hooks = rows(record), datetimes(record), hooks()
        transaction.set_rollback(True)
    assert all(not rows for rows in rows(record).values()), "the importer's rows were not rolled back"
    assert hooks() == []

    assert seed_replay._replays(record)

    assert rows(record) == imported
    assert sum(len(r) for r in imported.values()) > 700  # 791 rows in 41 tables today
    assert hooks() == imported_hooks != []
    replayed_times = datetimes(record)
    assert len(replayed_times) == len(imported_times)
    # Moved by the time since the record was made (auto_now fields: to the time of the insert).
    shifts = {b - a for a, b in zip(imported_times, replayed_times, strict=True) if a is not None}
    assert all(dt.timedelta(0) <= s < dt.timedelta(minutes=5) for s in shifts)
    assert [t is None for t in replayed_times] == [t is None for t in imported_times]


def test_a_replay_is_refused_where_the_importer_would_not_start_from_an_empty_table():
    with transaction.atomic():
        _, record = seed_replay._record_of(load_seed_documents)
        transaction.set_rollback(True)
    assert record is not None
    Party.objects.create(legal_name="Already There Corp.")

    assert not seed_replay._replays(record)
    assert list(Party.objects.values_list("legal_name", flat=True)) == ["Already There Corp."]
    # seed_loan() then runs the importer, which sees the party that is already there.
    loan = seed_loan()
    assert Party.objects.filter(legal_name="Already There Corp.").exists()
    assert len(loan.borrowers) == 5


def test_seed_loan_replays_after_its_first_load_and_gives_the_same_handles():
    def handles(loan) -> tuple:
        return loan.agreement.pk, {k: p.pk for k, p in loan.borrowers.items()}, sorted(loan.covenants)

    with transaction.atomic():
        first = handles(seed_loan())
        transaction.set_rollback(True)
    assert "seed documents" in seed_replay._records
    with CaptureQueriesContext(connection) as queries:
        second = handles(seed_loan())
    assert second == first
    # The importer takes about 1,400 queries; a replay, a few per table.
    assert len(queries) < 200


def test_the_api_world_replays_with_its_rows_and_its_alerts_deliveries_hook(settings):
    from tests.api.conftest import _build_world

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with transaction.atomic():
        _, record = seed_replay._record_of(_build_world)
        assert record is not None, "the API world could not be recorded: every test of it would build it"
        built, built_hooks = rows(record), hooks()
        transaction.set_rollback(True)
    assert any(not isinstance(hook, list) for hook in built_hooks)  # the alerts' deliveries

    assert seed_replay._replays(record)

    assert rows(record) == built
    assert hooks() == built_hooks
