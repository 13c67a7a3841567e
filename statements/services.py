"""
Statement submissions: a Borrower's file or API records parsed and checked for the agreement
and the user, previewed, then stored with its statements in one transaction. Each service is
keyword-only; evaluation is queued only once the transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q

from covenants.access import reporting_roles, submittable_borrower_ids
from covenants.choices import Role
from covenants.evaluation_requests import agreement_evaluation_request
from covenants.models import Agreement, AgreementRole, LineItem
from parties.models import Party
from statements.choices import StatementStatus, UploadFormat
from statements.models import FinancialStatement, StatementLine, StatementUpload

from .limits import upload_limits_for
from .parsing import canonical_json, parse_statement_file, parse_statement_records
from .preview import PreviewTable, preview_table
from .text import normalize_name
from .types import ParsedUpload, UploadContext, UploadError

__all__ = [
    "StatementPreview",
    "SubmissionOutcome",
    "statement_file_parse",
    "statement_file_preview",
    "statement_file_submit",
    "statement_records_submit",
    "statements_record",
    "upload_context_for",
]

logger = logging.getLogger(__name__)


def _reporting_entities(agreement: Agreement) -> tuple[dict[str, int], dict[int, str]]:
    """Who reports figures for the agreement, by normalised legal name and defined term: its
    Borrowers, and the reporting parties of its consolidated terms (a parent or guarantor whose
    consolidated statement stands for the group). Two queries."""
    reporters = {party_id for _, party_id in reporting_roles([agreement.pk])}
    roles = (
        AgreementRole.objects.filter(agreement=agreement)
        .filter(Q(role=Role.BORROWER) | Q(party_id__in=reporters))
        .select_related("party")
        .order_by("role", "pk")
    )
    entities: dict[str, int] = {}
    entity_names: dict[int, str] = {}
    for role in sorted(roles, key=lambda r: r.role != Role.BORROWER):
        entity_names[role.party_id] = role.party.legal_name
        entities.setdefault(normalize_name(role.party.legal_name), role.party_id)
        if role.defined_term:
            entities.setdefault(normalize_name(role.defined_term), role.party_id)
    return entities, entity_names


def upload_context_for(agreement: Agreement) -> UploadContext:
    """What a file for this agreement may name: its Borrowers and the reporting parties of its
    consolidated terms (by legal name or defined term), its line items, the fiscal calendar and
    reporting frequency, and the limits it is held to (the periods it may cover, statements per
    file, workbook reading). Six queries."""
    entities, entity_names = _reporting_entities(agreement)
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
        calendar=agreement.calendar(),
        frequency=agreement.reporting_frequency,
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


@dataclass
class StatementPreview:
    """A file checked for the preview: what the parser found, its rows laid out with their
    errors, and the context it was checked against (for naming Borrowers and line items)."""

    parsed: ParsedUpload
    table: PreviewTable
    context: UploadContext


def statement_file_parse(
    *,
    agreement: Agreement,
    user: AbstractBaseUser | None,
    filename: str,
    content: bytes,
    content_type: str = "",
    context: UploadContext | None = None,
    keep_cells: bool = False,
) -> ParsedUpload:
    """Parse and validate a file for this agreement and this user, saving nothing."""
    parsed = parse_statement_file(
        filename=filename,
        content=content,
        context=context or upload_context_for(agreement),
        content_type=content_type,
        keep_cells=keep_cells,
    )
    _check_submitter(parsed, agreement=agreement, user=user)
    return parsed


def statement_file_preview(
    *, agreement: Agreement, user: AbstractBaseUser | None, filename: str, content: bytes, content_type: str = ""
) -> StatementPreview:
    """Check a file and lay out its rows for the preview, saving nothing: the context is built
    once and the file read once, its rows kept by the parser for the table."""
    context = upload_context_for(agreement)
    parsed = statement_file_parse(
        agreement=agreement,
        user=user,
        filename=filename,
        content=content,
        content_type=content_type,
        context=context,
        keep_cells=True,
    )
    return StatementPreview(parsed=parsed, table=preview_table(parsed=parsed), context=context)


def statement_file_submit(
    *,
    agreement: Agreement,
    user: AbstractBaseUser | None,
    filename: str,
    content: bytes,
    content_type: str = "",
    source: str = "page",
    keep_cells: bool = False,
) -> SubmissionOutcome:
    """Validate a CSV or XLSX file and record its statements, whole or not at all.

    ``user`` None is the command line, which may submit for every Borrower. ``keep_cells``
    keeps the rows as read, for showing a refused file again (the page)."""
    parsed = statement_file_parse(
        agreement=agreement,
        user=user,
        filename=filename,
        content=content,
        content_type=content_type,
        keep_cells=keep_cells,
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


def _current_statements(
    agreement: Agreement, grouped: Mapping[tuple[int, dt.date], object]
) -> dict[tuple[int, dt.date], FinancialStatement]:
    """The current statements of the Borrowers and quarters a file carries, with their lines."""
    wanted = Q()
    for party_id, period_end in grouped:
        wanted |= Q(borrower_id=party_id, period_end=period_end)
    return {
        (s.borrower_id, s.period_end): s
        for s in FinancialStatement.objects.filter(wanted, agreement=agreement, status=StatementStatus.CURRENT)
        .select_related("borrower")
        .prefetch_related("lines__line_item")
    }


def _stored_upload(
    *, agreement: Agreement, parsed: ParsedUpload, content: bytes, user: AbstractBaseUser | None, source: str
) -> StatementUpload:
    """The original file (or canonical records), kept as sent."""
    return StatementUpload.objects.create(
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
    existing = _current_statements(agreement, grouped)
    codes = dict(LineItem.objects.values_list("code", "pk"))
    upload = _stored_upload(agreement=agreement, parsed=parsed, content=content, user=user, source=source)
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
