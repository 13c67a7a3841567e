"""
Writes for the covenants app. Each service is keyword-only, runs in one transaction and
queues its follow-up tasks only once that transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from parties.models import Party
from portal.access import borrowers_user_may_submit_for

from . import engine, selectors
from .alerts import alerts_raise_for_events
from .choices import ResultStatus, Role, StatementStatus, UploadFormat
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
    term), its line items, and the fiscal calendar. Three queries."""
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
    allowed = set(borrowers_user_may_submit_for(user, agreement).values_list("pk", flat=True))
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
    """Send evaluation tasks; a broker that is down is logged, not raised (the sweep retries)."""
    from .tasks import evaluate_agreement

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


_RESULT_FIELDS = (
    "terms_id",
    "status",
    "value",
    "threshold",
    "headroom",
    "headroom_percent",
    "provisional",
    "explanation",
    "inputs",
)


@transaction.atomic
def agreements_evaluate(*, agreement_ids: Sequence[int], as_of: dt.date | None = None) -> EvaluationSummary:
    """Evaluate a batch of agreements in a fixed number of queries and write results in bulk.

    A result that differs from the current one becomes the new current result; the old one
    is kept, and a status change is recorded as a ComplianceEvent with both results."""
    as_of = as_of or timezone.localdate()
    # Lock the agreements: an evaluation never interleaves with a submission for them, so
    # it always reads the latest committed figures and its writes are never lost.
    ids = list(
        Agreement.objects.select_for_update().filter(pk__in=agreement_ids).order_by("pk").values_list("pk", flat=True)
    )
    inputs = selectors.evaluation_inputs(ids, as_of=as_of)
    computed: list[engine.Result] = []
    agreement_of: dict[int, int] = {}
    for agreement_id in ids:
        for result in engine.evaluate_agreement(inputs[agreement_id]):
            computed.append(result)
            agreement_of[id(result)] = agreement_id

    bands = {spec.covenant_id: spec.warning_band_percent for data in inputs.values() for spec in data.covenants}
    current = {
        (r.covenant_id, r.test_date, r.borrower_id): r
        for r in CovenantTestResult.objects.filter(agreement_id__in=ids, is_current=True)
    }
    now = timezone.now()
    replaced: list[int] = []
    fresh: list[tuple[CovenantTestResult, CovenantTestResult | None]] = []
    seen: set[tuple] = set()
    for result in computed:
        key = (result.covenant_id, result.test_date, result.party_id)
        seen.add(key)
        row = CovenantTestResult(
            agreement_id=agreement_of[id(result)],
            covenant_id=result.covenant_id,
            terms_id=result.terms_id,
            test_date=result.test_date,
            borrower_id=result.party_id,
            status=result.status,
            value=result.value,
            threshold=result.threshold,
            headroom=result.headroom,
            headroom_percent=result.headroom_percent,
            provisional=result.provisional,
            explanation=result.explanation,
            inputs=result.inputs,
            evaluated_at=now,
        )
        previous = current.get(key)
        if previous is not None and all(getattr(previous, f) == getattr(row, f) for f in _RESULT_FIELDS):
            continue
        if previous is not None:
            replaced.append(previous.pk)
        fresh.append((row, previous))
    # Results for tests that no longer exist (a test date dropped by new terms) stop being current.
    replaced += [r.pk for key, r in current.items() if key not in seen]
    if replaced:
        CovenantTestResult.objects.filter(pk__in=replaced).update(is_current=False, superseded_at=now)
    created = CovenantTestResult.objects.bulk_create([row for row, _ in fresh], batch_size=2000)
    events = [
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
        for row, (_, previous) in zip(created, fresh, strict=True)
        if previous is None
        or previous.status != row.status
        or _near_breach(previous, bands) != _near_breach(row, bands)
    ]
    events = ComplianceEvent.objects.bulk_create(events, batch_size=2000)
    # Alerts are stored with the events that raise them, in this transaction.
    alerts_raise_for_events(events)
    Agreement.objects.filter(pk__in=ids).update(evaluation_requested_at=None)
    return EvaluationSummary(agreements=len(ids), results=len(computed), changed=len(created), events=events)


def _near_breach(result: CovenantTestResult, bands: dict[int, Decimal]) -> bool:
    """Compliant with headroom under the covenant's warning band (the engine's rule, on stored
    figures): moving into the band is an event even though the status stays compliant."""
    band = bands.get(result.covenant_id)
    return (
        result.status == ResultStatus.COMPLIANT
        and result.headroom_percent is not None
        and band is not None
        and result.headroom_percent < band
    )


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
    the result shows waived. A waiver covers only the covenant, test date and Borrower it names."""
    from portal.access import may_administer

    covenant = Covenant.objects.select_related("agreement").get(pk=covenant_id)
    if not may_administer(recorded_by, covenant.agreement):
        raise WaiverRefused("Only the Agents and administrators may record a waiver.")
    if not instrument.strip():
        raise WaiverRefused("Name the instrument that grants the waiver (e.g. Waiver and Amendment No. 3).")
    if amendment_id is not None and not covenant.agreement.amendments.filter(pk=amendment_id).exists():
        raise WaiverRefused("The amendment named is not an amendment of this agreement.")
    existing = Waiver.objects.filter(covenant=covenant, test_date=test_date, borrower_id=borrower_id)
    if existing.exists():
        raise WaiverRefused(f"{covenant.section} on {test_date.isoformat()} is already waived.")
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
