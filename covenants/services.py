"""
Writes for the covenants app. Each service is keyword-only, runs in one transaction and
queues its follow-up tasks only once that transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import orjson
from celery import current_app
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from parties.models import Party
from portal.access import may, submittable_borrower_ids

from . import engine, selectors
from .alerts import alerts_raise_for_events
from .choices import Role, StatementStatus, UploadFormat
from .models import (
    Agreement,
    AgreementRole,
    ComplianceEvent,
    Covenant,
    CovenantTestResult,
    FinancialStatement,
    LineItem,
    StatementLine,
    StatementUpload,
    Waiver,
)
from .upload_limits import upload_limits_for
from .uploads import (
    ParsedUpload,
    UploadContext,
    UploadError,
    canonical_json,
    normalize_name,
    parse_statement_file,
    parse_statement_records,
)

logger = logging.getLogger(__name__)


# --- Statements ---------------------------------------------------------------------


def upload_context_for(agreement: Agreement) -> UploadContext:
    """What a file for this agreement may name: its Borrowers (by legal name or defined
    term), its line items, the fiscal calendar, and the limits it is held to (the quarters
    it may cover, statements per file, workbook reading). Five queries."""
    roles = AgreementRole.objects.filter(agreement=agreement, role=Role.BORROWER).select_related("party")
    entities: dict[str, int] = {}
    entity_names: dict[int, str] = {}
    for role in roles:
        entity_names[role.party_id] = role.party.legal_name
        entities[normalize_name(role.party.legal_name)] = role.party_id
        if role.defined_term:
            entities.setdefault(normalize_name(role.defined_term), role.party_id)
    line_items: dict[str, str] = {}
    line_item_names: dict[str, str] = {}
    for item in LineItem.objects.all():
        line_items[normalize_name(item.code)] = item.code
        line_items[normalize_name(item.name)] = item.code
        line_item_names[item.code] = item.name
    required = tuple(agreement.required_line_items.order_by("name").values_list("code", flat=True))
    return UploadContext(
        entities=entities,
        entity_names=entity_names,
        line_items=line_items,
        line_item_names=line_item_names,
        required_line_items=required,
        fiscal_year_end_month=agreement.fiscal_year_end_month,
        max_bytes=settings.STATEMENT_UPLOAD_MAX_BYTES,
        max_rows=settings.STATEMENT_UPLOAD_MAX_ROWS,
        **upload_limits_for(agreement),
    )


@dataclass
class SubmissionOutcome:
    """What became of a submitted file: its errors, or the statements it recorded."""

    parsed: ParsedUpload
    errors: list[UploadError] = field(default_factory=list)
    upload: StatementUpload | None = None
    statements: list[FinancialStatement] = field(default_factory=list)
    unchanged: list[tuple[Party, dt.date]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def restatements(self) -> list[FinancialStatement]:
        return [s for s in self.statements if s.version > 1]


def statement_file_parse(
    *, agreement: Agreement, user: AbstractBaseUser | None, filename: str, content: bytes, content_type: str = ""
) -> ParsedUpload:
    """Parse and validate a file for this agreement and this user, saving nothing."""
    parsed = parse_statement_file(
        filename=filename, content=content, context=upload_context_for(agreement), content_type=content_type
    )
    _check_submitter(parsed, agreement=agreement, user=user)
    return parsed


def statement_file_submit(
    *,
    agreement: Agreement,
    user: AbstractBaseUser | None,
    filename: str,
    content: bytes,
    content_type: str = "",
    source: str = "page",
) -> SubmissionOutcome:
    """Validate a CSV or XLSX file and record its statements, whole or not at all.

    ``user`` None is the command line, which may submit for every Borrower."""
    parsed = statement_file_parse(
        agreement=agreement, user=user, filename=filename, content=content, content_type=content_type
    )
    if not parsed.ok:
        return SubmissionOutcome(parsed=parsed, errors=list(parsed.errors))
    return statements_record(agreement=agreement, parsed=parsed, content=content, user=user, source=source)


def statement_records_submit(
    *,
    agreement: Agreement,
    user: AbstractBaseUser | None,
    records: Sequence[Mapping[str, object]],
    source: str = "api",
) -> SubmissionOutcome:
    """Validate JSON records (the same columns as a file) and record their statements."""
    parsed = parse_statement_records(records, upload_context_for(agreement))
    _check_submitter(parsed, agreement=agreement, user=user)
    if not parsed.ok:
        return SubmissionOutcome(parsed=parsed, errors=list(parsed.errors))
    content = canonical_json(records)
    return statements_record(agreement=agreement, parsed=parsed, content=content, user=user, source=source)


def _check_submitter(parsed: ParsedUpload, *, agreement: Agreement, user: AbstractBaseUser | None) -> None:
    """A borrower's user submits only for the Borrowers they belong to."""
    if user is None or not parsed.rows:
        return
    allowed = submittable_borrower_ids(user, agreement)  # the rule of may(user, "submit", agreement), per Borrower
    names = dict(Party.objects.filter(pk__in={r.party_id for r in parsed.rows}).values_list("pk", "legal_name"))
    refused: set[int] = set()
    for row in parsed.rows:
        if row.party_id not in allowed and row.party_id not in refused:
            refused.add(row.party_id)
            parsed.errors.append(
                UploadError(row.row, "entity", f"You may not submit figures for {names.get(row.party_id)}.")
            )


@transaction.atomic
def statements_record(
    *,
    agreement: Agreement,
    parsed: ParsedUpload,
    content: bytes,
    user: AbstractBaseUser | None,
    source: str,
) -> SubmissionOutcome:
    """Store the file and one statement per Borrower and quarter it carries.

    A quarter that already has a statement with other figures is restated: the old version
    is kept, marked superseded. The same figures again change nothing."""
    # One submission at a time per agreement, so versions are numbered without gaps or races.
    Agreement.objects.select_for_update().filter(pk=agreement.pk).values_list("pk", flat=True).first()
    grouped = parsed.statements()
    wanted = Q()
    for party_id, period_end in grouped:
        wanted |= Q(borrower_id=party_id, period_end=period_end)
    existing = {
        (s.borrower_id, s.period_end): s
        for s in FinancialStatement.objects.filter(wanted, agreement=agreement, status=StatementStatus.CURRENT)
        .select_related("borrower")
        .prefetch_related("lines__line_item")
    }
    codes = dict(LineItem.objects.values_list("code", "pk"))
    upload = StatementUpload.objects.create(
        agreement=agreement,
        uploaded_by=user,
        filename=parsed.filename,
        content_type=parsed.content_type[:100],
        format=parsed.format if parsed.format in UploadFormat.values else UploadFormat.CSV,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        source=source,
    )
    outcome = SubmissionOutcome(parsed=parsed, upload=upload)
    superseded: list[FinancialStatement] = []
    new_statements: list[FinancialStatement] = []
    for (party_id, period_end), amounts in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        previous = existing.get((party_id, period_end))
        if previous is not None:
            before = {line.line_item.code: line.amount for line in previous.lines.all()}
            if before == amounts:
                outcome.unchanged.append((previous.borrower, period_end))
                continue
            previous.status = StatementStatus.SUPERSEDED
            superseded.append(previous)
        new_statements.append(
            FinancialStatement(
                agreement=agreement,
                borrower_id=party_id,
                period_end=period_end,
                currency=agreement.currency,
                version=previous.version + 1 if previous else 1,
                supersedes=previous,
                upload=upload,
                submitted_by=user,
            )
        )
    if superseded:
        # Mark the old versions first: only one current statement per Borrower and quarter.
        FinancialStatement.objects.filter(pk__in=[s.pk for s in superseded]).update(status=StatementStatus.SUPERSEDED)
    created = FinancialStatement.objects.bulk_create(new_statements)
    StatementLine.objects.bulk_create(
        StatementLine(statement=statement, line_item_id=codes[code], amount=amount)
        for statement in created
        for code, amount in sorted(grouped[(statement.borrower_id, statement.period_end)].items())
    )
    outcome.statements = created
    if created:
        agreement_evaluation_request(agreement_ids=[agreement.pk])
    logger.info(
        "statements recorded",
        extra={"agreement": agreement.pk, "upload": upload.pk, "statements": len(created), "source": source},
    )
    return outcome


# --- Evaluation ---------------------------------------------------------------------


EVALUATE_AGREEMENT_TASK = "covenants.tasks.evaluate_agreement"


def agreement_evaluation_request(*, agreement_ids: Iterable[int]) -> None:
    """Mark agreements as needing evaluation and queue it once the transaction commits.

    The mark is stored first, so if the broker is down a periodic sweep queues it later.
    The mark also makes repeated requests cheap: a task whose agreement has been evaluated
    since it was queued finds the mark cleared and does nothing."""
    ids = sorted(set(agreement_ids))
    if not ids:
        return
    Agreement.objects.filter(pk__in=ids, evaluation_requested_at__isnull=True).update(
        evaluation_requested_at=timezone.now()
    )
    transaction.on_commit(partial(queue_evaluations, ids), robust=True)


def queue_evaluations(agreement_ids: Sequence[int]) -> None:
    """Send evaluation tasks; a broker that is down is logged, not raised (the sweep retries).
    The task is found by its name: the tasks module calls this one, never the reverse."""
    evaluate_agreement = current_app.tasks[EVALUATE_AGREEMENT_TASK]
    for agreement_id in agreement_ids:
        try:
            evaluate_agreement.delay(agreement_id)
        except Exception:
            logger.warning("could not queue the evaluation of agreement %s; the sweep will retry", agreement_id)


@dataclass
class EvaluationSummary:
    """Counts of what an evaluation wrote."""

    agreements: int = 0
    results: int = 0
    changed: int = 0
    events: list[ComplianceEvent] = field(default_factory=list)


def agreement_evaluate(*, agreement_id: int, as_of: dt.date | None = None) -> EvaluationSummary:
    """Evaluate every covenant of one agreement and record what changed."""
    return agreements_evaluate(agreement_ids=[agreement_id], as_of=as_of)


def agreement_evaluate_if_requested(*, agreement_id: int) -> EvaluationSummary | None:
    """Evaluate the agreement if an evaluation is still outstanding (the task's entry point)."""
    if not Agreement.objects.filter(pk=agreement_id, evaluation_requested_at__isnull=False).exists():
        return None
    return agreement_evaluate(agreement_id=agreement_id)


# What a stored result without a fingerprint is compared on: its fields, and the engine
# result's attributes of the same names.
_RESULT_FIELDS = (
    "terms_id",
    "status",
    "value",
    "threshold",
    "headroom",
    "headroom_percent",
    "provisional",
    "near_breach",
    "explanation",
    "inputs",
)
# The current results' columns an evaluation reads (in the model's field order, so the replaced
# results can be built from them): identity, what events and alerts need of a result replaced,
# and the fingerprint standing for all the rest.
_CURRENT_COLUMNS = ("id", "covenant_id", "test_date", "borrower_id", "status", "near_breach", "fingerprint")
_PK, _COVENANT, _TEST_DATE, _BORROWER, _STATUS, _NEAR_BREACH, _FINGERPRINT = range(len(_CURRENT_COLUMNS))
_INSERT_BATCH = 2000


def agreements_evaluate(*, agreement_ids: Sequence[int], as_of: dt.date | None = None) -> EvaluationSummary:
    """Evaluate a batch of agreements in a fixed number of queries and write results in bulk.

    A result that differs from the current one becomes the new current result; the old one
    is kept, and a status change is recorded as a ComplianceEvent with both results."""
    with _garbage_collection_paused(), transaction.atomic():
        return _agreements_evaluate(agreement_ids=agreement_ids, as_of=as_of or timezone.localdate())


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block; reference counting still frees everything.

    A batch of 500 agreements keeps some 100,000 containers alive (results and their inputs)
    and makes no reference cycles: the full collections their allocation triggers, each walking
    every object of the process, took 30% of an evaluation's time (docs/benchmarks.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _agreements_evaluate(*, agreement_ids: Sequence[int], as_of: dt.date) -> EvaluationSummary:
    # Lock the agreements: an evaluation never interleaves with a submission for them, so
    # it always reads the latest committed figures and its writes are never lost.
    ids = list(
        Agreement.objects.select_for_update().filter(pk__in=agreement_ids).order_by("pk").values_list("pk", flat=True)
    )
    inputs = selectors.evaluation_inputs(ids, as_of=as_of)
    computed = [
        (agreement_id, result) for agreement_id in ids for result in engine.evaluate_agreement(inputs[agreement_id])
    ]
    # The current results as rows, not model instances: a result whose fingerprint is unchanged
    # is the same result, and is neither read further nor written.
    current = {
        (row[_COVENANT], row[_TEST_DATE], row[_BORROWER]): row
        for row in CovenantTestResult.objects.filter(agreement_id__in=ids, is_current=True)
        .order_by()
        .values_list(*_CURRENT_COLUMNS)
    }
    changed: list[_Changed] = []
    seen: set[tuple] = set()
    for agreement_id, result in computed:
        key = (result.covenant_id, result.test_date, result.party_id)
        seen.add(key)
        fingerprint = result.fingerprint()
        previous = current.get(key)
        if previous is None or previous[_FINGERPRINT] != fingerprint:
            changed.append(_Changed(agreement_id, result, fingerprint, previous))
    changed = _without_unfingerprinted_equals(changed)

    now = timezone.now()
    replaced = [c.previous[_PK] for c in changed if c.previous is not None]
    # Results for tests that no longer exist (a test date dropped by new terms) stop being current.
    replaced += [row[_PK] for key, row in current.items() if key not in seen]
    if replaced:
        CovenantTestResult.objects.filter(pk__in=replaced).update(is_current=False, superseded_at=now)
    created = _results_insert(changed, now)
    events = []
    for row, entry in zip(created, changed, strict=True):
        previous = _replaced_result(entry.previous) if entry.previous is not None else None
        # Moving into the warning band (or out of it) is an event though the status stays compliant.
        if previous is None or previous.status != row.status or previous.near_breach != row.near_breach:
            events.append(
                ComplianceEvent(
                    agreement_id=row.agreement_id,
                    covenant_id=row.covenant_id,
                    test_date=row.test_date,
                    borrower_id=row.borrower_id,
                    previous_result=previous,
                    result=row,
                    from_status=previous.status if previous else "",
                    to_status=row.status,
                )
            )
    events = ComplianceEvent.objects.bulk_create(events, batch_size=_INSERT_BATCH)
    # Alerts are stored with the events that raise them, in this transaction.
    alerts_raise_for_events(events)
    Agreement.objects.filter(pk__in=ids).update(evaluation_requested_at=None)
    return EvaluationSummary(agreements=len(ids), results=len(computed), changed=len(created), events=events)


@dataclass(frozen=True)
class _Changed:
    """A computed result that differs from the current one (or has none)."""

    agreement_id: int
    result: engine.Result
    fingerprint: str
    previous: tuple | None  # the current result's row (_CURRENT_COLUMNS)


def _without_unfingerprinted_equals(changed: list[_Changed]) -> list[_Changed]:
    """Compare field by field the current results stored without a fingerprint (before there
    were fingerprints): one that says the same is kept, with its fingerprint filled in, not
    replaced. One query to read them and one to fill them in, only when there are some."""
    unfingerprinted = [c.previous[_PK] for c in changed if c.previous is not None and not c.previous[_FINGERPRINT]]
    if not unfingerprinted:
        return changed
    stored = CovenantTestResult.objects.in_bulk(unfingerprinted)
    kept: list[_Changed] = []
    filled: list[CovenantTestResult] = []
    for entry in changed:
        old = stored.get(entry.previous[_PK]) if entry.previous is not None else None
        if old is not None and all(getattr(old, f) == getattr(entry.result, f) for f in _RESULT_FIELDS):
            old.fingerprint = entry.fingerprint
            filled.append(old)
        else:
            kept.append(entry)
    if filled:
        CovenantTestResult.objects.bulk_update(filled, ["fingerprint"], batch_size=_INSERT_BATCH)
    return kept


def _replaced_result(row: tuple) -> CovenantTestResult:
    """The result being replaced, as the instance its event cites, from the columns read
    (the others are deferred: loaded if asked for, which events and alerts never do)."""
    return CovenantTestResult.from_db(connection.alias, _CURRENT_COLUMNS, row)


def _results_insert(changed: list[_Changed], now: dt.datetime) -> list[CovenantTestResult]:
    """Insert the changed results as current, in order, and return them as saved instances.

    On PostgreSQL one statement per batch reads them from one JSON document
    (``jsonb_to_recordset``): ``bulk_create`` sends each column as an array, and psycopg
    escapes every quote of every element in Python, four times slower on results' inputs."""
    instances = [
        CovenantTestResult(
            agreement_id=c.agreement_id,
            covenant_id=c.result.covenant_id,
            terms_id=c.result.terms_id,
            test_date=c.result.test_date,
            borrower_id=c.result.party_id,
            status=c.result.status,
            value=c.result.value,
            threshold=c.result.threshold,
            headroom=c.result.headroom,
            headroom_percent=c.result.headroom_percent,
            provisional=c.result.provisional,
            near_breach=c.result.near_breach,
            explanation=c.result.explanation,
            inputs=c.result.inputs,
            evaluated_at=now,
            fingerprint=c.fingerprint,
        )
        for c in changed
    ]
    if connection.vendor != "postgresql":
        return CovenantTestResult.objects.bulk_create(instances, batch_size=_INSERT_BATCH)
    sql = _INSERT_SQL.format(table=CovenantTestResult._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(instances), _INSERT_BATCH):
            batch = instances[start : start + _INSERT_BATCH]
            document = orjson.dumps([_insert_record(r) for r in batch], default=str).decode()
            cursor.execute(sql, [now, document])
            ids = {(c, d, b): pk for pk, c, d, b in cursor.fetchall()}
            for row in batch:
                row.pk = ids[(row.covenant_id, row.test_date, row.borrower_id)]
                row._state.adding = False
                row._state.db = connection.alias
    return instances


_INSERT_SQL = """
INSERT INTO {table} (agreement_id, covenant_id, terms_id, test_date, borrower_id, status, value, threshold,
                     headroom, headroom_percent, provisional, near_breach, explanation, inputs, fingerprint,
                     is_current, evaluated_at)
SELECT agreement_id, covenant_id, terms_id, test_date, borrower_id, status, value, threshold,
       headroom, headroom_percent, provisional, near_breach, explanation, inputs, fingerprint, TRUE, %s
FROM jsonb_to_recordset(%s::jsonb) AS r(agreement_id bigint, covenant_id bigint, terms_id bigint, test_date date,
     borrower_id bigint, status text, value numeric, threshold numeric, headroom numeric, headroom_percent numeric,
     provisional boolean, near_breach boolean, explanation text, inputs jsonb, fingerprint text)
RETURNING id, covenant_id, test_date, borrower_id
"""


def _insert_record(result: CovenantTestResult) -> dict:
    def exact(amount: Decimal | None) -> str | None:
        return None if amount is None else str(amount)  # numeric reads the text exactly

    return {
        "agreement_id": result.agreement_id,
        "covenant_id": result.covenant_id,
        "terms_id": result.terms_id,
        "test_date": result.test_date.isoformat(),
        "borrower_id": result.borrower_id,
        "status": result.status,
        "value": exact(result.value),
        "threshold": exact(result.threshold),
        "headroom": exact(result.headroom),
        "headroom_percent": exact(result.headroom_percent),
        "provisional": result.provisional,
        "near_breach": result.near_breach,
        "explanation": result.explanation,
        "inputs": result.inputs,
        "fingerprint": result.fingerprint,
    }


def agreements_needing_evaluation(*, older_than: dt.timedelta) -> list[int]:
    """Agreements whose evaluation was requested and has not run (the sweep's work list)."""
    cutoff = timezone.now() - older_than
    return list(
        Agreement.objects.filter(evaluation_requested_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)
    )


# --- Waivers ------------------------------------------------------------------------


class WaiverRefused(Exception):
    """A waiver that cannot be recorded, with a sentence saying why."""


@transaction.atomic
def waiver_record(
    *,
    covenant_id: int,
    test_date: dt.date,
    instrument: str,
    recorded_by: AbstractBaseUser,
    borrower_id: int | None = None,
    amendment_id: int | None = None,
    note: str = "",
) -> Waiver:
    """Record the Lenders' waiver of one test; the agreement is re-evaluated on commit, so
    the result shows waived. A waiver covers only the covenant, test date and Borrower it names.

    The one check of who may waive (``may(user, "waive", covenant)``: the Agents of the
    agreement and administrators) for every way in: the page, the API and the admin. Refused
    access is ``PermissionDenied``; anything else refused is :class:`WaiverRefused`."""
    covenant = Covenant.objects.select_related("agreement").get(pk=covenant_id)
    if not may(recorded_by, "waive", covenant):
        raise PermissionDenied("Only the Agents of this agreement and administrators may record a waiver.")
    refusal = waiver_refusal(
        covenant=covenant,
        test_date=test_date,
        instrument=instrument,
        borrower_id=borrower_id,
        amendment_id=amendment_id,
    )
    if refusal:
        raise WaiverRefused(refusal)
    waiver = Waiver.objects.create(
        agreement=covenant.agreement,
        covenant=covenant,
        test_date=test_date,
        borrower_id=borrower_id,
        instrument=instrument.strip(),
        amendment_id=amendment_id,
        note=note,
        recorded_by=recorded_by,
    )
    # The post_save receiver requests the re-evaluation; nothing else to do here.
    return waiver


def waiver_refusal(
    *, covenant: Covenant, test_date: dt.date, instrument: str, borrower_id: int | None, amendment_id: int | None
) -> str:
    """Why a waiver could not be recorded, whoever records it (empty when it can); forms show
    it next to the fields before :func:`waiver_record` is asked."""
    if not instrument.strip():
        return "Name the instrument that grants the waiver (e.g. Waiver and Amendment No. 3)."
    if amendment_id is not None and not covenant.agreement.amendments.filter(pk=amendment_id).exists():
        return "The amendment named is not an amendment of this agreement."
    existing = Waiver.objects.filter(covenant=covenant, test_date=test_date, borrower_id=borrower_id)
    if existing.exists():
        return f"{covenant.section} on {test_date.isoformat()} is already waived."
    return ""
