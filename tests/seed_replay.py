"""
The seed documents' rows, loaded once per test process through the importer and then written
again by bulk inserts: the importer costs about 1,400 queries and seconds of CPU per load, and
most tests only need the rows it leaves.

The first clean load in a process runs the real importer and records what it left: every row of
every table it wrote, and its on-commit hooks. Later loads replay that record, but only where
the importer would have started from the same state (every table it wrote or read, empty then,
is empty now); anywhere else, and whenever the importer did something the record cannot hold
(a table that was not empty, a row pointing at a user, a hook of another kind), the importer
runs. tests/test_seed_replay.py proves a replay leaves the same rows and hooks as
the importer.

Rows keep their ids (the tables they go into are empty). Content types are found again by
name (a transactional test's flush makes them anew, with new ids); date-times move by the time
since the record was made, so "recent" stays recent; sequences are set past the ids written.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from covenants.evaluation_requests import EvaluationBatch, QueueOnCommit

T = TypeVar("T")

WRITES = re.compile(r'^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+"([^"]+)"', re.IGNORECASE)


@dataclass
class Table:
    model: type[models.Model]
    attnames: list[str]
    rows: list[tuple[Any, ...]]
    #: Positions of the columns holding a content type's id, and of those holding date-times.
    content_types: list[int]
    datetimes: list[int]


@dataclass
class Record:
    tables: list[Table]  # in the order the importer first wrote them
    #: Every table the importer touched that was empty before it: empty again means "as then".
    empty_then: list[str]
    content_types: dict[int, tuple[str, str]]  # id when recorded -> (app label, model)
    #: The hooks, in order: an evaluation request's agreement ids, or a call of a module's
    #: function on plain values (ids of rows the replay writes again).
    hooks: list[list[int] | functools.partial]
    made_at: dt.datetime
    result: Any = None


_records: dict[str, Record] = {}
#: Loads that could not be recorded: after a few, a load is taken to be unrecordable here.
_misses: Counter[str] = Counter()


def replayed(key: str, load: Callable[[], T]) -> T:
    """``load()``'s rows and result: by replaying this process's record of it (named ``key``)
    where it applies, else by calling it (and recording it, when the database is as a fresh
    test leaves it). The result is a copy of the recorded one: its rows have the same ids."""
    record = _records.get(key)
    if record is not None:
        return copy.deepcopy(record.result) if _replays(record) else load()
    if _misses[key] >= 3 or not connection.in_atomic_block:
        # Outside a transaction (a transactional test) the load's on-commit hooks run as it
        # commits: their writes (an evaluation's results and input digests) would be recorded
        # as the load's and replayed into later tests. Recorded only where hooks wait.
        return load()
    result, record = _record_of(load)
    if record is None:
        _misses[key] += 1
    else:
        record.result = copy.deepcopy(result)
        _records[key] = record
    return result


def _all_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def _record_of(load: Callable[[], T]) -> tuple[T, Record | None]:
    """Run ``load``; its result, and the record of what it wrote or None if a replay could not
    stand for it."""
    everything = _all_models()
    before = {m: m._base_manager.count() for m in everything}
    hooks_before = len(connection.run_on_commit)
    with CaptureQueriesContext(connection) as queries:
        result = load()
    sql = [q["sql"] for q in queries.captured_queries]
    written_tables = {match.group(1) for s in sql if (match := WRITES.match(s))}
    touched = [m for m in everything if f'"{m._meta.db_table}"' in "\n".join(sql)]
    written = [m for m in everything if m._meta.db_table in written_tables or m._base_manager.count() != before[m]]
    first_write: dict[str, int] = {}
    for i, statement in enumerate(sql):
        if match := WRITES.match(statement):
            first_write.setdefault(match.group(1), i)
    written.sort(key=lambda m: first_write.get(m._meta.db_table, len(sql)))
    if any(before[m] for m in written):
        return result, None
    read_only_filled = [m for m in touched if before[m] and m not in written]
    if any(m is not ContentType for m in read_only_filled):
        return result, None
    hooks: list[list[int] | functools.partial] = []
    for _, hook, robust in connection.run_on_commit[hooks_before:]:
        if isinstance(hook, QueueOnCommit) and robust:
            hooks.append(list(hook.agreement_ids))
        elif isinstance(hook, functools.partial) and _plain(hook) and robust:
            hooks.append(copy.deepcopy(hook))
        else:
            return result, None
    tables = []
    used_types: set[int] = set()
    for model in written:
        fields = model._meta.concrete_fields
        outside = [
            f for f in fields if f.is_relation and f.related_model not in written and f.related_model is not ContentType
        ]
        if (
            outside
            and model._base_manager.filter(
                models.Q.create([(f"{f.attname}__isnull", False) for f in outside], connector=models.Q.OR)
            ).exists()
        ):
            return result, None
        attnames = [f.attname for f in fields]
        rows = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in model._base_manager.order_by("pk").values_list(*attnames)
        ]
        types = [i for i, f in enumerate(fields) if f.is_relation and f.related_model is ContentType]
        used_types.update(row[i] for row in rows for i in types if row[i] is not None)
        datetimes = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
        tables.append(Table(model, attnames, rows, types, datetimes))
    content_types = {
        pk: (label, name)
        for pk, label, name in ContentType.objects.filter(pk__in=used_types).values_list("pk", "app_label", "model")
    }
    empty_then = [m._meta.db_table for m in touched + written if not before[m]]
    return result, Record(tables, sorted(set(empty_then)), content_types, hooks, timezone.now())


def _plain(hook: functools.partial) -> bool:
    """A module's own function called on numbers, text and lists of them: safe to call again."""
    values = [*hook.args, *hook.keywords.values()]
    flat = [v for value in values for v in (value if isinstance(value, list | tuple | set) else [value])]
    function = hook.func
    return getattr(function, "__qualname__", "") == getattr(function, "__name__", None) and all(
        isinstance(v, int | str | bool) or v is None for v in flat
    )


def _replays(record: Record) -> bool:
    """Write the record's rows if every table it needs empty is empty; False if not."""
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f'SELECT 1 FROM (SELECT 1 FROM "{t}" LIMIT 1) t' for t in record.empty_then))
        if cursor.fetchone() is not None:
            return False
    by_name = {
        (label, name): pk
        for pk, label, name in ContentType.objects.filter(
            app_label__in={label for label, _ in record.content_types.values()}
        ).values_list("pk", "app_label", "model")
    }
    if any(key not in by_name for key in record.content_types.values()):
        return False
    type_now = {old: by_name[key] for old, key in record.content_types.items()}
    shift = timezone.now() - record.made_at
    with transaction.atomic():
        for table in record.tables:
            objs = []
            for row in table.rows:
                values = list(row)
                for i in table.content_types:
                    if values[i] is not None:
                        values[i] = type_now[values[i]]
                for i in table.datetimes:
                    if values[i] is not None:
                        values[i] += shift
                objs.append(table.model(**dict(zip(table.attnames, values, strict=True))))
            table.model._base_manager.bulk_create(objs)
        reset = connection.ops.sequence_reset_sql(no_style(), [t.model for t in record.tables])
        if reset:
            # One round trip for all of them (statements without parameters may be sent together).
            with connection.cursor() as cursor:
                cursor.execute("\n".join(reset))
        for hook in record.hooks:
            if isinstance(hook, functools.partial):
                transaction.on_commit(copy.deepcopy(hook), robust=True)
            else:
                transaction.on_commit(QueueOnCommit(EvaluationBatch.of(connection), hook), robust=True)
    return True
