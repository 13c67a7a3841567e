"""
Digests of what an evaluation reads, per agreement: the same digest means the same inputs,
and the engine, given the same inputs, gives the same results (it reads no clock and no
database). An evaluation that finds an agreement's digest unchanged since its last evaluation
skips it, and writes nothing.

The digest covers every row the evaluation's selectors read for the agreement, whole (every
stored column, so a column the engine comes to read later is covered already): its calendar
and reporting frequency, covenants, every version of their terms, schedule rows, amendments
(their status makes terms provisional), defined terms, waivers, roles with their parties'
names (Borrowers and their dates of holding), the parties consolidated terms cite, the
current statements (standing for their figures, which are never changed in place), and the
line items' codes and names. Then what depends on the
date: the evaluation date is reduced to the latest period end on or before it, on the
agreement's calendar, since a test is due only on a period end (compliance.engine.schedules),
so the digest changes exactly when a period end passes. And the code: the engine's and its
readers' source, so that a release changing how results are computed re-evaluates everything.

On PostgreSQL the rows are hashed in the database, one query for a batch: each row's text
(``ROW(...)::text``, which tells NULL from empty) hashed to 64 bits with a seed per kind of
row, the hashes of an agreement combined by XOR (order does not matter, and no two rows are
the same: each carries its primary key). A change escapes only if its new hash collides, one
chance in 2**64. Elsewhere (SQLite, the tests) the same rows are read and hashed in Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from django.db import connection
from django.db.models import Model

from compliance.models import EvaluatedInputs
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    Covenant,
    CovenantTerms,
    DefinedMetric,
    LineItem,
    ThresholdStep,
    Waiver,
)
from covenants.period_kinds import MONTH, QUARTER, YEAR
from covenants.periods import calendar_of
from parties.models import Party
from statements.choices import StatementStatus
from statements.models import FinancialStatement

# The modules whose code decides a result from the inputs: a change to any re-evaluates all.
_CODE = (
    "compliance/engine",
    "compliance/selectors.py",
    "compliance/formatting.py",
    "compliance/input_digests.py",
    "covenants/calendar.py",
    "covenants/formulas.py",
    "covenants/formula_syntax.py",
    "covenants/periods.py",
    "covenants/period_kinds.py",
)


@dataclass(frozen=True)
class _Rows:
    """One kind of row the evaluation reads: the agreement it belongs to, from where, and its columns."""

    seed: int
    agreement: str  # the SQL expression of its agreement's id
    tables: str  # FROM ... (JOIN ...), in SQL both databases read
    columns: tuple[str, ...]
    where: str = ""


def _all_columns(alias: str, model: type[Model]) -> tuple[str, ...]:
    return tuple(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


def _table(model: type[Model]) -> str:
    return model._meta.db_table


@cache
def _kinds() -> tuple[_Rows, ...]:
    covenant, terms = _table(Covenant), _table(CovenantTerms)
    return (
        # The agreement's own columns that the engine reads (not its evaluation mark).
        _Rows(
            1,
            "a.id",
            f"{_table(Agreement)} a",
            ("a.fiscal_year_end_month", "a.fiscal_calendar", "a.reporting_frequency"),
        ),
        _Rows(2, "c.agreement_id", f"{covenant} c", _all_columns("c", Covenant)),
        _Rows(
            3,
            "c.agreement_id",
            f"{terms} t JOIN {covenant} c ON c.id = t.covenant_id "
            f"LEFT JOIN {_table(Party)} p ON p.id = t.reporting_party_id",
            (*_all_columns("t", CovenantTerms), "p.legal_name"),
        ),
        _Rows(
            4,
            "c.agreement_id",
            f"{_table(ThresholdStep)} s JOIN {terms} t ON t.id = s.terms_id JOIN {covenant} c ON c.id = t.covenant_id",
            _all_columns("s", ThresholdStep),
        ),
        _Rows(5, "m.agreement_id", f"{_table(Amendment)} m", _all_columns("m", Amendment)),
        _Rows(6, "d.agreement_id", f"{_table(DefinedMetric)} d", _all_columns("d", DefinedMetric)),
        _Rows(7, "w.agreement_id", f"{_table(Waiver)} w", _all_columns("w", Waiver)),
        _Rows(
            8,
            "r.agreement_id",
            f"{_table(AgreementRole)} r JOIN {_table(Party)} p ON p.id = r.party_id",
            (*_all_columns("r", AgreementRole), "p.legal_name"),
        ),
        # The figures: the current statements. A statement's lines are records of fact, written
        # with it and never changed (statements.services is their one writer; the admin shows
        # them read-only): a figure restated is a new statement, and a statement's id stands for
        # its lines. Reading the lines too would cost what reading every figure costs.
        _Rows(
            9,
            "f.agreement_id",
            f"{_table(FinancialStatement)} f",
            ("f.id", "f.borrower_id", "f.period_end", "f.version", "f.currency"),
            f"f.status = '{StatementStatus.CURRENT}'",
        ),
    )


# Line items belong to no agreement: their codes and names, hashed once, are in every digest.
_LINE_ITEMS = _Rows(10, "", f"{_table(LineItem)} i", _all_columns("i", LineItem))


@dataclass(frozen=True)
class InputsDigest:
    """An agreement's digest now, the one stored at its last evaluation (None if never), and
    whether an evaluation of it was requested (its mark)."""

    agreement_id: int
    digest: str
    stored: str | None
    requested: bool = False

    @property
    def unchanged(self) -> bool:
        return self.digest == self.stored


def agreements_inputs_digests(agreement_ids: Sequence[int], *, as_of: dt.date) -> dict[int, InputsDigest]:
    """The digest of each agreement's inputs as of ``as_of``, beside the stored one (one query on
    PostgreSQL)."""
    ids = list(agreement_ids)
    if not ids:
        return {}
    rows = _hashed_in_postgresql(ids) if connection.vendor == "postgresql" else _hashed_in_python(ids)
    code = code_digest()
    found = {}
    for agreement_id, month, stored_calendar, requested, hashed, stored in rows:
        day = latest_period_end(stored_calendar, month, as_of)
        digest = hashlib.blake2b(f"{code}|{day}|{hashed}".encode(), digest_size=16).hexdigest()
        found[agreement_id] = InputsDigest(agreement_id, digest, stored, requested)
    return found


def _select(kind: _Rows, agreement_filter: str, *, postgresql: bool) -> str:
    """The rows of one kind, of the agreements the filter names: (agreement, row's hash) on
    PostgreSQL, (agreement, seed, row as text) elsewhere, where quote() tells NULL from text."""
    if postgresql:
        row = f"hashtextextended(ROW({', '.join(kind.columns)})::text, {kind.seed})"
    else:
        row = f"{kind.seed}, " + " || ',' || ".join(f"quote({column})" for column in kind.columns)
    where = " AND ".join(filter(None, [agreement_filter and f"{kind.agreement} {agreement_filter}", kind.where]))
    # The tables and columns are the models' own names, never the caller's.
    return f"SELECT {kind.agreement or 'NULL'}, {row} FROM {kind.tables}" + (f" WHERE {where}" if where else "")  # noqa: S608


def _hashed_in_postgresql(ids: list[int]) -> list[tuple]:
    parts = " UNION ALL ".join(_select(kind, "= ANY(%(ids)s)", postgresql=True) for kind in _kinds())
    sql = f"""
        WITH parts (agreement_id, h) AS ({parts}),
        hashed AS (SELECT agreement_id, bit_xor(h) AS h FROM parts GROUP BY agreement_id),
        line_items AS (SELECT COALESCE(bit_xor(h), 0) AS h FROM ({_select(_LINE_ITEMS, "", postgresql=True)}) i (a, h))
        SELECT a.id, a.fiscal_year_end_month, a.fiscal_calendar::text, a.evaluation_requested_at IS NOT NULL,
               COALESCE(x.h, 0) # i.h, e.digest
        FROM {_table(Agreement)} a CROSS JOIN line_items i
        LEFT JOIN hashed x ON x.agreement_id = a.id
        LEFT JOIN {_table(EvaluatedInputs)} e ON e.agreement_id = a.id
        WHERE a.id = ANY(%(ids)s)
    """  # noqa: S608 (the models' table names)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": ids})
        return cursor.fetchall()


def _hashed_in_python(ids: list[int]) -> list[tuple]:
    """The same rows, read as text and hashed here (databases without hash functions): two queries."""
    marks = f"IN ({', '.join(['%s'] * len(ids))})"
    kinds = _kinds()
    sql = " UNION ALL ".join(
        [*(_select(kind, marks, postgresql=False) for kind in kinds), _select(_LINE_ITEMS, "", postgresql=False)]
    )
    hashed = dict.fromkeys(ids, 0)
    line_items = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, ids * len(kinds))
        for agreement_id, seed, text in cursor.fetchall():
            value = int.from_bytes(
                hashlib.blake2b(text.encode(), digest_size=8, salt=int(seed).to_bytes(8, "big")).digest()
            )
            if agreement_id is None:
                line_items ^= value
            else:
                hashed[agreement_id] ^= value
        tables = f"{_table(Agreement)} a LEFT JOIN {_table(EvaluatedInputs)} e ON e.agreement_id = a.id"
        columns = "a.id, a.fiscal_year_end_month, a.fiscal_calendar, a.evaluation_requested_at IS NOT NULL, e.digest"
        agreements_sql = f"SELECT {columns} FROM {tables} WHERE a.id {marks}"  # noqa: S608 (the models' table names)
        cursor.execute(agreements_sql, ids)
        agreements = cursor.fetchall()
    return [
        (pk, month, calendar, bool(requested), hashed[pk] ^ line_items, stored)
        for pk, month, calendar, requested, stored in agreements
    ]


@lru_cache(maxsize=4096)
def latest_period_end(stored_calendar: str, fiscal_year_end_month: int, as_of: dt.date) -> str:
    """The latest period end on or before ``as_of`` on the agreement's calendar, of its finest
    frequency: tests fall due only on period ends, so between two of them the evaluation date
    changes no result. ``as_of`` itself where the calendar cannot say (a listed calendar that
    has ended): the digest then changes every day, and nothing is skipped wrongly. The calendar
    comes as the JSON text stored (read once per distinct calendar)."""
    try:
        calendar = calendar_of(json.loads(stored_calendar), fiscal_year_end_month)
    except (ValueError, TypeError):
        return as_of.isoformat()
    for frequency in (MONTH, QUARTER, YEAR):
        try:
            return calendar.previous_period_end(as_of + dt.timedelta(days=1), frequency).isoformat()
        except ValueError:
            continue
    return as_of.isoformat()


@cache
def code_digest() -> str:
    """The digest of the source of the engine and of the code reading its inputs."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=16)
    for name in _CODE:
        path = root / name
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def inputs_digests_store(digests: Sequence[InputsDigest], *, as_of: dt.date, now: dt.datetime) -> None:
    """Record the digests of the agreements just evaluated (one query)."""
    if not digests:
        return
    EvaluatedInputs.objects.bulk_create(
        [EvaluatedInputs(agreement_id=d.agreement_id, digest=d.digest, as_of=as_of, evaluated_at=now) for d in digests],
        update_conflicts=True,
        unique_fields=["agreement"],
        update_fields=["digest", "as_of", "evaluated_at"],
    )


@dataclass(frozen=True)
class ToEvaluate:
    """What an evaluation of a batch does: the agreements to evaluate (locked), the digests to
    store once they are, and the locked agreements whose requests for evaluation it answers."""

    ids: list[int]
    digests: list[InputsDigest]
    requested: list[int]
    agreements: int

    @property
    def skipped(self) -> int:
        return self.agreements - len(self.ids)


def agreements_to_evaluate(agreement_ids: Sequence[int], *, as_of: dt.date, skip_unchanged: bool = True) -> ToEvaluate:
    """The agreements of the batch to evaluate: those whose inputs changed since their last
    evaluation (every one, with ``skip_unchanged=False``). They are locked, as is every agreement
    whose evaluation was requested, so that no submission interleaves with the evaluation and a
    request is answered only by an evaluation that saw what it asked for.

    An agreement neither changed nor requested is neither locked nor written. One requested and
    unchanged when first read is read again once locked: a change committed in between is seen.
    One changed when first read and changed again before the lock is evaluated with everything
    committed; the digest stored is then the older one, and the next evaluation evaluates it
    again, finding the results the same: a digest can be stale, never ahead of the results."""
    digests = agreements_inputs_digests(agreement_ids, as_of=as_of)

    def skipped(pk: int) -> bool:
        return skip_unchanged and digests[pk].unchanged

    candidates = sorted(pk for pk, digest in digests.items() if not skipped(pk) or digest.requested)
    locked: dict[int, dt.datetime | None] = {}
    if candidates:
        locked = dict(
            Agreement.objects.select_for_update()
            .filter(pk__in=candidates)
            .order_by("pk")
            .values_list("pk", "evaluation_requested_at")
        )
    unsure = [pk for pk in locked if skipped(pk)]
    if unsure:
        digests.update(agreements_inputs_digests(unsure, as_of=as_of))
    ids = [pk for pk in locked if not skipped(pk)]
    return ToEvaluate(
        ids=ids,
        digests=[digests[pk] for pk in ids if not digests[pk].unchanged],
        requested=[pk for pk, mark in locked.items() if mark is not None],
        agreements=len(digests),
    )
