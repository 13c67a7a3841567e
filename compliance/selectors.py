"""
Reads for evaluation: the engine's inputs and the results it produced.

Evaluation inputs are loaded for a batch of agreements in a fixed number of queries,
whatever the number of borrowers, covenants and quarters, and handed to the engine as
plain data. Reads for users go through ``covenants.access`` first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Prefetch, QuerySet

from compliance import engine
from compliance.models import CovenantTestResult
from covenants.choices import AmendmentStatus, Basis, Direction, Role
from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, ThresholdStep, Waiver
from statements.choices import StatementStatus
from statements.models import StatementLine


def terms_version(
    *,
    terms_id: int,
    effective_from: dt.date,
    action: str,
    metric_kind: str,
    line_item: str | None,
    window_periods: int,
    window_kind: str,
    denominator_line_item: str | None,
    denominator_window_periods: int | None,
    denominator_window_kind: str | None,
    direction: str = Direction.AT_LEAST,
    basis: str = Basis.COMBINED,
    schedule: Iterable[engine.ScheduleRow] = (),
    amendment_id: int | None = None,
    amendment_status: str | None = None,
    amendment_title: str = "",
) -> engine.TermsVersion:
    """One version of a covenant's terms as the engine reads it: the one mapping from what is
    stored to the engine's data, whether the terms were read as models (``covenant_spec``), as
    rows (``evaluation_inputs``) or as the quarters they need (``compliance.late_financials``).

    Line items are their codes; terms added by an amendment still pending its conditions
    precedent are provisional, and cite the amendment by its title."""
    return engine.TermsVersion(
        terms_id=terms_id,
        effective_from=effective_from,
        action=action,
        metric_kind=metric_kind,
        line_item=line_item,
        window_periods=window_periods,
        window_kind=window_kind,
        denominator_line_item=denominator_line_item,
        denominator_window_periods=denominator_window_periods,
        denominator_window_kind=denominator_window_kind or engine.TRAILING,
        direction=direction,
        basis=basis,
        schedule=tuple(schedule),
        provisional=bool(amendment_id and amendment_status == AmendmentStatus.PENDING),
        source=(amendment_title or "") if amendment_id else "",
    )


def _terms_version(terms: CovenantTerms) -> engine.TermsVersion:
    amendment = terms.amendment if terms.amendment_id else None
    return terms_version(
        terms_id=terms.pk,
        effective_from=terms.effective_from,
        action=terms.action,
        metric_kind=terms.metric_kind,
        line_item=terms.line_item.code if terms.line_item_id else None,
        window_periods=terms.window_periods,
        window_kind=terms.window_kind,
        denominator_line_item=terms.denominator_line_item.code if terms.denominator_line_item_id else None,
        denominator_window_periods=terms.denominator_window_periods,
        denominator_window_kind=terms.denominator_window_kind,
        direction=terms.direction,
        basis=terms.basis,
        schedule=(
            engine.ScheduleRow(
                test_date=row.test_date,
                threshold=row.threshold,
                threshold_state=row.threshold_state,
                applies_thereafter=row.applies_thereafter,
                amount_as_printed=row.amount_as_printed,
            )
            for row in terms.schedule.all()
        ),
        amendment_id=terms.amendment_id,
        amendment_status=amendment.status if amendment else None,
        amendment_title=amendment.title if amendment else "",
    )


def covenant_spec(covenant: Covenant) -> engine.CovenantSpec:
    """A covenant with its prefetched terms as the engine's plain data."""
    return engine.CovenantSpec(
        covenant_id=covenant.pk,
        section=covenant.section,
        name=covenant.name,
        versions=tuple(_terms_version(t) for t in covenant.terms.all()),
        warning_band_percent=covenant.warning_band_percent,
    )


def covenants_with_terms() -> QuerySet[Covenant]:
    """Covenants with every version of their terms and schedules, in three queries."""
    terms = CovenantTerms.objects.select_related("amendment", "line_item", "denominator_line_item").prefetch_related(
        Prefetch("schedule", queryset=ThresholdStep.objects.order_by("test_date"))
    )
    return Covenant.objects.prefetch_related(
        Prefetch("terms", queryset=terms.order_by("effective_from", "id"))
    ).order_by("agreement_id", "section")


def evaluation_inputs(agreement_ids: Sequence[int], *, as_of: dt.date) -> dict[int, engine.AgreementInputs]:
    """
    Everything the engine needs for these agreements, in a fixed number of queries:
    agreements, covenants (+ terms, schedules), borrower roles, current figures, waivers.
    """
    ids = list(agreement_ids)
    agreements = dict(Agreement.objects.filter(pk__in=ids).order_by().values_list("pk", "fiscal_year_end_month"))

    covenants = _covenant_specs(ids)

    borrowers: dict[int, list[engine.BorrowerSpan]] = defaultdict(list)
    roles = (
        AgreementRole.objects.filter(agreement_id__in=ids, role=Role.BORROWER)
        .order_by("agreement_id", "party__legal_name")
        .values_list("agreement_id", "party_id", "party__legal_name", "holds_from", "holds_to")
    )
    for agreement_id, party_id, name, holds_from, holds_to in roles:
        borrowers[agreement_id].append(engine.BorrowerSpan(party_id, name, holds_from, holds_to))

    figures: dict[int, list[engine.Figure]] = defaultdict(list)
    # Unordered: the models' default ordering would join agreements and parties to sort tens of
    # thousands of lines by agreement name and legal name, and any order would still cost a
    # sort; the engine indexes figures by Borrower, quarter and line item, so order is moot.
    # Fetched at once rather than through a server-side cursor, which PostgreSQL plans for the
    # first rows (nested loops) at twice the cost: callers pass a chunk of agreements (the
    # nightly task, 500), and the figures are all kept for the engine anyway.
    lines = (
        StatementLine.objects.filter(statement__agreement_id__in=ids, statement__status=StatementStatus.CURRENT)
        .order_by()
        .values_list(
            "statement__agreement_id",
            "statement__borrower_id",
            "statement__period_end",
            "line_item__code",
            "amount",
            "statement_id",
            "statement__version",
        )
    )
    for agreement_id, party_id, period_end, code, amount, statement_id, version in lines:
        figures[agreement_id].append(engine.Figure(party_id, period_end, code, amount, statement_id, version))

    waivers = _waiver_keys(ids)

    return {
        pk: engine.AgreementInputs(
            agreement_id=pk,
            as_of=as_of,
            covenants=tuple(covenants[pk]),
            borrowers=tuple(borrowers[pk]),
            figures=tuple(figures[pk]),
            waivers=frozenset(waivers[pk]),
            fiscal_year_end_month=fiscal_year_end_month,
        )
        for pk, fiscal_year_end_month in agreements.items()
    }


def _covenant_specs(agreement_ids: Sequence[int]) -> dict[int, list[engine.CovenantSpec]]:
    """
    The covenants of these agreements with every version of their terms and schedules, as
    the engine's plain data, in three queries. The same data as ``covenant_spec`` over
    ``covenants_with_terms()``, read as rows rather than model instances: a batch of agreements
    has thousands of covenants, and building their models took longer than testing them.
    """
    versions = _terms_versions(agreement_ids, _schedules(agreement_ids))
    covenants: dict[int, list[engine.CovenantSpec]] = defaultdict(list)
    for pk, agreement_id, section, name, warning_band_percent in (
        Covenant.objects.filter(agreement_id__in=agreement_ids)
        .order_by("agreement_id", "section")
        .values_list("pk", "agreement_id", "section", "name", "warning_band_percent")
    ):
        covenants[agreement_id].append(
            engine.CovenantSpec(
                covenant_id=pk,
                section=section,
                name=name,
                versions=tuple(versions[pk]),
                warning_band_percent=warning_band_percent,
            )
        )
    return covenants


def _schedules(agreement_ids: Sequence[int]) -> dict[int, list[engine.ScheduleRow]]:
    """Each terms version's schedule rows, by terms id (one query)."""
    schedules: dict[int, list[engine.ScheduleRow]] = defaultdict(list)
    for terms_id, test_date, threshold, state, thereafter, printed in (
        ThresholdStep.objects.filter(terms__covenant__agreement_id__in=agreement_ids)
        .order_by("terms_id", "test_date")
        .values_list("terms_id", "test_date", "threshold", "threshold_state", "applies_thereafter", "amount_as_printed")
    ):
        schedules[terms_id].append(
            engine.ScheduleRow(
                test_date=test_date,
                threshold=threshold,
                threshold_state=state,
                applies_thereafter=thereafter,
                amount_as_printed=printed,
            )
        )
    return schedules


def _terms_versions(
    agreement_ids: Sequence[int], schedules: dict[int, list[engine.ScheduleRow]]
) -> dict[int, list[engine.TermsVersion]]:
    """Each covenant's versions of its terms, oldest first, by covenant id (one query)."""
    versions: dict[int, list[engine.TermsVersion]] = defaultdict(list)
    for row in (
        CovenantTerms.objects.filter(covenant__agreement_id__in=agreement_ids)
        .order_by("covenant_id", "effective_from", "id")
        .values_list(
            "pk",
            "covenant_id",
            "effective_from",
            "action",
            "metric_kind",
            "line_item__code",
            "window_periods",
            "window_kind",
            "denominator_line_item__code",
            "denominator_window_periods",
            "denominator_window_kind",
            "direction",
            "basis",
            "amendment_id",
            "amendment__status",
            "amendment__title",
        )
    ):
        (pk, covenant_id, effective_from, action, metric_kind, line_item, window_periods, window_kind) = row[:8]
        (denominator, denominator_quarters, denominator_kind, direction, basis) = row[8:13]
        amendment_id, amendment_status, amendment_title = row[13:]
        versions[covenant_id].append(
            terms_version(
                terms_id=pk,
                effective_from=effective_from,
                action=action,
                metric_kind=metric_kind,
                line_item=line_item,
                window_periods=window_periods,
                window_kind=window_kind,
                denominator_line_item=denominator,
                denominator_window_periods=denominator_quarters,
                denominator_window_kind=denominator_kind,
                direction=direction,
                basis=basis,
                schedule=schedules[pk],
                amendment_id=amendment_id,
                amendment_status=amendment_status,
                amendment_title=amendment_title,
            )
        )
    return versions


def _waiver_keys(agreement_ids: Sequence[int]) -> dict[int, set[engine.WaiverKey]]:
    """Waivers granted for these agreements, as the engine's keys (one query)."""
    keys: dict[int, set[engine.WaiverKey]] = defaultdict(set)
    for agreement_id, covenant_id, test_date, party_id in Waiver.objects.filter(
        agreement_id__in=agreement_ids
    ).values_list("agreement_id", "covenant_id", "test_date", "borrower_id"):
        keys[agreement_id].add(engine.WaiverKey(covenant_id, test_date, party_id))
    return keys


def current_results(agreement_ids: Iterable[int]) -> QuerySet[CovenantTestResult]:
    """Current results of these agreements, with what a table of them shows."""
    return (
        CovenantTestResult.objects.filter(agreement_id__in=list(agreement_ids), is_current=True)
        .select_related("covenant", "borrower")
        .order_by("agreement_id", "covenant__section", "test_date", "borrower_id")
    )
