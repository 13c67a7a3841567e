"""The upload journey: the agreement and Borrowers a user may submit for, the quarters offered,
what a checked file would record, and the submissions made."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.http import Http404

from compliance import selectors
from compliance.choices import ResultStatus
from compliance.late_financials import late_financials, periods_needed_by
from compliance.models import CovenantTestResult
from compliance.statuses import STATUS_LABELS
from covenants import access
from covenants.models import Agreement, Covenant
from covenants.periods import FiscalCalendar
from portal.pages.selectors.common import (
    _STATUS_RANK,
    ResultView,
    User,
    _late_by_quarter,
    _line_item_names,
    _result_view,
    agreement_visible_to,
    may_submit,
)
from statements.choices import StatementStatus
from statements.models import FinancialStatement, StatementUpload

# --- The upload journey -------------------------------------------------------------------


def submittable_agreement(user: User, pk: int) -> Agreement:
    """The agreement, if the user may see it and submit for one of its Borrowers.

    Raises Http404 when it is not visible, PermissionDenied when it is but the user may only read it."""
    from django.core.exceptions import PermissionDenied

    agreement = agreement_visible_to(user, pk)
    if not may_submit(user, agreement):
        raise PermissionDenied("Only the Borrowers' users and the Agents may submit financial statements.")
    return agreement


def submittable_borrowers(user: User, agreement: Agreement) -> list[tuple[int, str]]:
    """The Borrowers the user may submit for, as (id, legal name), for the template."""
    parties = access.borrowers_user_may_submit_for(user, agreement).order_by("legal_name")
    return list(parties.values_list("pk", "legal_name"))


@dataclass
class QuarterOption:
    """A fiscal quarter offered on the upload page, with why it is offered."""

    quarter: dt.date
    group: str  # "late", "next" or "other": the page lists them in that order
    note: str = ""


def quarter_choices(agreement: Agreement, *, today: dt.date) -> list[QuarterOption]:
    """
    The fiscal quarters a Borrower may report for, in the order they are wanted: first the late
    ones (the one late-financials rule, oldest first, naming who has not sent them) and those a
    covenant needs with nothing on file; then the next quarter to report (the one after the
    latest on file, once it has ended); then every other quarter the covenants need or that has
    figures on file (to restate), newest first. Periods are the period ends of the agreement's
    fiscal calendar at its reporting frequency (months for an agreement reporting monthly).
    """
    cal, reporting = agreement.calendar(), agreement.reporting_frequency
    specs = [selectors.covenant_spec(c) for c in selectors.covenants_with_terms().filter(agreement=agreement)]
    needed = periods_needed_by(agreement, specs, as_of=today)
    late = late_financials([agreement], as_of=today, specs={agreement.pk: specs}).get(agreement.pk, [])
    on_file = set(
        FinancialStatement.objects.filter(agreement=agreement, status=StatementStatus.CURRENT)
        .order_by()
        .values_list("period_end", flat=True)
        .distinct()
    )
    options: dict[dt.date, QuarterOption] = {}
    for group in _late_by_quarter(late):
        names = ", ".join(group.borrowers)
        options[group.period_end] = QuarterOption(
            group.period_end, "late", f"late, due {group.due_on:%B %-d, %Y}: {names}"
        )
    for quarter in sorted(needed - on_file):
        options.setdefault(quarter, QuarterOption(quarter, "late", "nothing on file"))
    following = _following_period(cal, reporting, on_file, needed, today)
    if following is not None and following <= today:
        options.setdefault(following, QuarterOption(following, "next", "next to report"))
    for quarter in sorted(needed | on_file, reverse=True):
        options.setdefault(quarter, QuarterOption(quarter, "other", "on file" if quarter in on_file else ""))
    order = {"late": 0, "next": 1, "other": 2}
    return sorted(
        options.values(),
        key=lambda o: (order[o.group], o.quarter.toordinal() * (1 if o.group == "late" else -1)),
    )


def _following_period(
    cal: FiscalCalendar, reporting: str, on_file: set[dt.date], needed: frozenset[dt.date], today: dt.date
) -> dt.date | None:
    """The next period to report: the one after the latest on file, else the first needed, else
    the last ended (None where a listed calendar has none)."""
    try:
        if on_file:
            return cal.period_end_on_or_after(max(on_file) + dt.timedelta(days=1), reporting)
        return min(needed) if needed else cal.previous_period_end(today, reporting)
    except ValueError:
        return None


def is_reporting_period_end(agreement: Agreement, day: dt.date) -> bool:
    """Whether ``day`` ends a period the agreement reports for (its calendar, its frequency)."""
    try:
        return agreement.calendar().is_period_end(day, agreement.reporting_frequency)
    except ValueError:
        return False


@dataclass
class FigureChange:
    """A line item whose amount a restatement changes (None: not in that version)."""

    line_item: str
    old: Decimal | None
    new: Decimal | None


@dataclass
class StatementInFile:
    """A statement a checked file would record, against the one on file for its Borrower and quarter."""

    borrower: str
    period_end: dt.date
    amounts: list[tuple[str, Decimal]]
    version_on_file: int | None = None
    changes: list[FigureChange] = field(default_factory=list)

    @property
    def effect(self) -> str:
        """ "new" (nothing on file), "restates" (other figures on file) or "unchanged" (the same figures)."""
        if self.version_on_file is None:
            return "new"
        return "restates" if self.changes else "unchanged"


def statements_in_file(
    agreement: Agreement,
    statements: dict[tuple[int, dt.date], dict[str, Decimal]],
    *,
    entity_names: dict[int, str],
    line_item_names: dict[str, str],
) -> list[StatementInFile]:
    """What a confirmed file would record, by quarter and Borrower: each statement new, restating
    the current version on file (with each figure it changes, old and new), or the same figures
    again (which record nothing), decided as the submission service decides it. Two queries."""
    wanted = Q()
    for party_id, period_end in statements:
        wanted |= Q(borrower_id=party_id, period_end=period_end)
    on_file: dict[tuple[int, dt.date], FinancialStatement] = {}
    if statements:
        on_file = {
            (s.borrower_id, s.period_end): s
            for s in FinancialStatement.objects.filter(wanted, agreement=agreement, status=StatementStatus.CURRENT)
            .order_by()
            .prefetch_related("lines__line_item")
        }
    rows = []
    for (party_id, period_end), amounts in sorted(statements.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row = StatementInFile(
            borrower=entity_names.get(party_id, ""),
            period_end=period_end,
            amounts=[(line_item_names.get(code, code), amount) for code, amount in amounts.items()],
        )
        previous = on_file.get((party_id, period_end))
        if previous is not None:
            row.version_on_file = previous.version
            before = {line.line_item.code: line.amount for line in previous.lines.all()}
            if before != amounts:
                codes = sorted(set(before) | set(amounts), key=lambda c: line_item_names.get(c, c))
                row.changes = [
                    FigureChange(line_item_names.get(code, code), before.get(code), amounts.get(code))
                    for code in codes
                    if before.get(code) != amounts.get(code)
                ]
        rows.append(row)
    return rows


def submission_history(user: User, agreement: Agreement, *, limit: int = 50) -> list[StatementUpload]:
    """The agreement's files, newest first, each with its statements, their versions and what
    they restated. The caller has checked the agreement is the user's (submittable_agreement)."""
    agreement = agreement_visible_to(user, agreement.pk)
    statements = FinancialStatement.objects.select_related("borrower", "supersedes").order_by(
        "period_end", "borrower__legal_name"
    )
    return list(
        agreement.uploads.select_related("uploaded_by")
        .prefetch_related(Prefetch("statements", queryset=statements))
        .order_by("-uploaded_at", "-id")[:limit]
    )


@dataclass
class Submission:
    """A file submitted for an agreement, its statements, and the evaluation it started."""

    agreement: Agreement
    upload: StatementUpload
    statements: list[FinancialStatement]
    evaluating: bool
    results: list[ResultView]

    @property
    def quarters(self) -> list[dt.date]:
        return sorted({s.period_end for s in self.statements})

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_LABELS, 0)
        for view in self.results:
            counts[view.status] += 1
        return counts

    @property
    def worst(self) -> str:
        tested = [v.status for v in self.results if v.status != ResultStatus.NOT_TESTED]
        return min(tested, key=lambda s: _STATUS_RANK.get(s, 99)) if tested else ""


def submission(user: User, agreement: Agreement, upload_pk: int) -> Submission:
    """A file of this agreement (404 if it is another's), its statements, whether the
    evaluation it asked for is still running, and the current results of the test dates whose
    windows its quarters fall in."""
    agreement = agreement_visible_to(user, agreement.pk)
    upload = (
        StatementUpload.objects.filter(agreement=agreement, pk=upload_pk)
        .select_related("uploaded_by")
        .prefetch_related(
            Prefetch(
                "statements",
                queryset=FinancialStatement.objects.select_related("borrower", "supersedes").order_by(
                    "period_end", "borrower__legal_name"
                ),
            )
        )
        .first()
    )
    if upload is None:
        raise Http404("This agreement has no submission with this number.")
    statements = list(upload.statements.all())
    evaluating = agreement.evaluation_requested_at is not None
    quarters = {s.period_end.isoformat() for s in statements}
    views: list[ResultView] = []
    if not evaluating and quarters:
        sections = dict(Covenant.objects.filter(agreement=agreement).values_list("pk", "section"))
        names = _line_item_names()
        for result in (
            CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
            .exclude(status=ResultStatus.NOT_TESTED)
            .select_related("covenant", "borrower")
            .order_by("test_date", "covenant__section", "borrower__legal_name")
        ):
            inputs = result.inputs or {}
            touched = set(inputs.get("window", [])) | set(inputs.get("denominator_window", []))
            if result.test_date.isoformat() in quarters or touched & quarters:
                views.append(_result_view(result, line_item_names=names))
        views.sort(key=lambda v: (_STATUS_RANK.get(v.status, 99), v.result.test_date, sections[v.result.covenant_id]))
    return Submission(agreement, upload, statements, evaluating, views)
