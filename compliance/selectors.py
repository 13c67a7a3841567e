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
from covenants.choices import AmendmentStatus, Basis, Direction, Frequency, MetricNature, Role
from covenants.models import (
    Agreement,
    AgreementRole,
    Covenant,
    CovenantTerms,
    DefinedMetric,
    ThresholdStep,
    Waiver,
)
from covenants.periods import calendar_of
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
    frequency: str = Frequency.QUARTER,
    metric: engine.MetricSpec | None = None,
    reporting_party_id: int | None = None,
    reporting_party_name: str = "",
    threshold_relative_to: str | None = None,
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
        frequency=frequency or Frequency.QUARTER,
        metric=metric,
        reporting_party_id=reporting_party_id if basis == Basis.CONSOLIDATED else None,
        reporting_party_name=(reporting_party_name or "") if basis == Basis.CONSOLIDATED else "",
        threshold_relative_to=threshold_relative_to,
    )


def metric_spec(
    name: str | None,
    label: str | None,
    formula: str | None,
    nature: str | None,
    definitions: Iterable[tuple[str, str]] = (),
) -> engine.MetricSpec | None:
    """A defined term as the engine reads it (None when the terms test a line item), with the
    agreement's definitions it may read."""
    if not name or formula is None:
        return None
    return engine.MetricSpec(
        name=name,
        label=label or name,
        formula=formula,
        nature=nature or MetricNature.FLOW,
        definitions=tuple(sorted(definitions)),
    )


def _terms_version(terms: CovenantTerms) -> engine.TermsVersion:
    """The terms read as models. A defined term comes without the agreement's other definitions:
    pages read versions to show them; evaluation reads rows (``evaluation_inputs``)."""
    amendment = terms.amendment if terms.amendment_id else None
    metric = terms.metric if terms.metric_id else None
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
                date_as_printed=row.date_as_printed,
                date_reading=row.date_reading,
            )
            for row in terms.schedule.all()
        ),
        amendment_id=terms.amendment_id,
        amendment_status=amendment.status if amendment else None,
        amendment_title=amendment.title if amendment else "",
        frequency=terms.frequency,
        metric=metric_spec(metric.name, metric.label, metric.formula, metric.nature) if metric else None,
        reporting_party_id=terms.reporting_party_id,
        reporting_party_name=terms.reporting_party.legal_name if terms.reporting_party_id else "",
        threshold_relative_to=terms.threshold_relative_to.code if terms.threshold_relative_to_id else None,
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
    terms = CovenantTerms.objects.select_related(
        "amendment", "line_item", "denominator_line_item", "metric", "reporting_party", "threshold_relative_to"
    ).prefetch_related(Prefetch("schedule", queryset=ThresholdStep.objects.order_by("test_date")))
    return Covenant.objects.prefetch_related(
        Prefetch("terms", queryset=terms.order_by("effective_from", "id"))
    ).order_by("agreement_id", "section")


def evaluation_inputs(agreement_ids: Sequence[int], *, as_of: dt.date) -> dict[int, engine.AgreementInputs]:
    """
    Everything the engine needs for these agreements, in a fixed number of queries:
    agreements, covenants (+ terms, schedules), borrower roles, current figures, waivers.
    """
    ids = list(agreement_ids)
    agreements = {
        pk: (month, stored, reporting)
        for pk, month, stored, reporting in Agreement.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "fiscal_year_end_month", "fiscal_calendar", "reporting_frequency")
    }
    labels: dict[int, dict[str, str]] = defaultdict(dict)

    covenants = _covenant_specs(ids, labels)

    borrowers: dict[int, list[engine.BorrowerSpan]] = defaultdict(list)
    roles = (
        AgreementRole.objects.filter(agreement_id__in=ids, role=Role.BORROWER)
        .order_by("agreement_id", "party__legal_name")
        .values_list("agreement_id", "party_id", "party__legal_name", "holds_from", "holds_to")
    )
    for agreement_id, party_id, name, holds_from, holds_to in roles:
        borrowers[agreement_id].append(engine.BorrowerSpan(party_id, name, holds_from, holds_to))

    figures = _figures(ids, labels)
    waivers = _waiver_keys(ids)

    return {
        pk: engine.AgreementInputs(
            agreement_id=pk,
            as_of=as_of,
            covenants=tuple(covenants[pk]),
            borrowers=tuple(borrowers[pk]),
            figures=tuple(figures[pk]),
            waivers=frozenset(waivers[pk]),
            fiscal_year_end_month=month,
            calendar=calendar_of(stored, month),
            reporting_frequency=reporting or Frequency.QUARTER,
            line_item_labels=tuple(sorted(labels[pk].items())),
        )
        for pk, (month, stored, reporting) in agreements.items()
    }


def _figures(agreement_ids: Sequence[int], labels: dict[int, dict[str, str]]) -> dict[int, list[engine.Figure]]:
    """The current statements' figures, by agreement (one query); notes each line item's name."""
    figures: dict[int, list[engine.Figure]] = defaultdict(list)
    # Unordered: the models' default ordering would join agreements and parties to sort tens of
    # thousands of lines by agreement name and legal name, and any order would still cost a
    # sort; the engine indexes figures by Borrower, quarter and line item, so order is moot.
    # Fetched at once rather than through a server-side cursor, which PostgreSQL plans for the
    # first rows (nested loops) at twice the cost: callers pass a chunk of agreements (the
    # nightly task, 500), and the figures are all kept for the engine anyway.
    lines = (
        StatementLine.objects.filter(
            statement__agreement_id__in=agreement_ids, statement__status=StatementStatus.CURRENT
        )
        .order_by()
        .values_list(
            "statement__agreement_id",
            "statement__borrower_id",
            "statement__period_end",
            "line_item__code",
            "amount",
            "statement_id",
            "statement__version",
            "line_item__name",
        )
    )
    for agreement_id, party_id, period_end, code, amount, statement_id, version, name in lines:
        figures[agreement_id].append(engine.Figure(party_id, period_end, code, amount, statement_id, version))
        labels[agreement_id][code] = name
    return figures


def _covenant_specs(
    agreement_ids: Sequence[int], labels: dict[int, dict[str, str]]
) -> dict[int, list[engine.CovenantSpec]]:
    """
    The covenants of these agreements with every version of their terms and schedules, as
    the engine's plain data, in three queries. The same data as ``covenant_spec`` over
    ``covenants_with_terms()``, read as rows rather than model instances: a batch of agreements
    has thousands of covenants, and building their models took longer than testing them.
    """
    versions = _terms_versions(agreement_ids, _schedules(agreement_ids), labels)
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
    for terms_id, test_date, threshold, state, thereafter, printed, date_printed, date_reading in (
        ThresholdStep.objects.filter(terms__covenant__agreement_id__in=agreement_ids)
        .order_by("terms_id", "test_date")
        .values_list(
            "terms_id",
            "test_date",
            "threshold",
            "threshold_state",
            "applies_thereafter",
            "amount_as_printed",
            "date_as_printed",
            "date_reading",
        )
    ):
        schedules[terms_id].append(
            engine.ScheduleRow(
                test_date=test_date,
                threshold=threshold,
                threshold_state=state,
                applies_thereafter=thereafter,
                amount_as_printed=printed,
                date_as_printed=date_printed,
                date_reading=date_reading,
            )
        )
    return schedules


_TERMS_FIELDS = (
    "pk",
    "covenant_id",
    "covenant__agreement_id",
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
    "frequency",
    "reporting_party_id",
    "reporting_party__legal_name",
    "threshold_relative_to__code",
    "metric__name",
    "metric__label",
    "metric__formula",
    "metric__nature",
    "line_item__name",
    "denominator_line_item__name",
    "threshold_relative_to__name",
)


def _terms_versions(
    agreement_ids: Sequence[int],
    schedules: dict[int, list[engine.ScheduleRow]],
    labels: dict[int, dict[str, str]],
) -> dict[int, list[engine.TermsVersion]]:
    """Each covenant's versions of its terms, oldest first, by covenant id (one query; one more
    for the agreements' defined terms, only when some terms test one)."""
    rows = [
        dict(zip(_TERMS_FIELDS, row, strict=True))
        for row in CovenantTerms.objects.filter(covenant__agreement_id__in=agreement_ids)
        .order_by("covenant_id", "effective_from", "id")
        .values_list(*_TERMS_FIELDS)
    ]
    definitions = _definitions(agreement_ids) if any(row["metric__name"] for row in rows) else {}
    versions: dict[int, list[engine.TermsVersion]] = defaultdict(list)
    for row in rows:
        agreement_id = row["covenant__agreement_id"]
        for code_field, name_field in (
            ("line_item__code", "line_item__name"),
            ("denominator_line_item__code", "denominator_line_item__name"),
            ("threshold_relative_to__code", "threshold_relative_to__name"),
        ):
            if row[code_field]:
                labels[agreement_id][row[code_field]] = row[name_field]
        versions[row["covenant_id"]].append(_version_of_row(row, schedules, definitions.get(agreement_id, ())))
    return versions


def _version_of_row(
    row: dict, schedules: dict[int, list[engine.ScheduleRow]], definitions: Sequence[tuple[str, str]]
) -> engine.TermsVersion:
    return terms_version(
        terms_id=row["pk"],
        effective_from=row["effective_from"],
        action=row["action"],
        metric_kind=row["metric_kind"],
        line_item=row["line_item__code"],
        window_periods=row["window_periods"],
        window_kind=row["window_kind"],
        denominator_line_item=row["denominator_line_item__code"],
        denominator_window_periods=row["denominator_window_periods"],
        denominator_window_kind=row["denominator_window_kind"],
        direction=row["direction"],
        basis=row["basis"],
        schedule=schedules[row["pk"]],
        amendment_id=row["amendment_id"],
        amendment_status=row["amendment__status"],
        amendment_title=row["amendment__title"],
        frequency=row["frequency"],
        metric=metric_spec(
            row["metric__name"], row["metric__label"], row["metric__formula"], row["metric__nature"], definitions
        ),
        reporting_party_id=row["reporting_party_id"],
        reporting_party_name=row["reporting_party__legal_name"] or "",
        threshold_relative_to=row["threshold_relative_to__code"],
    )


def _definitions(agreement_ids: Sequence[int]) -> dict[int, tuple[tuple[str, str], ...]]:
    """Each agreement's defined terms, (name, formula), by agreement (one query)."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for agreement_id, name, formula in (
        DefinedMetric.objects.filter(agreement_id__in=agreement_ids)
        .order_by("agreement_id", "name")
        .values_list("agreement_id", "name", "formula")
    ):
        found[agreement_id].append((name, formula))
    return {pk: tuple(pairs) for pk, pairs in found.items()}


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
