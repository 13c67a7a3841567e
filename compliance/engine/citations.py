"""What a result cites: the terms and threshold, the periods, the figures read and those
missing, the sums, and for the newer forms (a defined term, a consolidated statement, a
relative threshold, a printed date read) what the page needs to explain them. Keys for those
forms appear only when used, so that results of the simpler forms cite what they always did."""

from __future__ import annotations

from collections.abc import Sequence

from covenants.calendar import TRAILING

from .figures import Records, base_inputs, iso
from .measures import Measure
from .metrics import explained, explained_definitions
from .types import CONSOLIDATED, QUARTER, BorrowerSpan, CovenantSpec, ScheduleRow, TermsVersion


def scope_inputs(
    covenant: CovenantSpec,
    terms: TermsVersion,
    row: ScheduleRow,
    scope: Sequence[BorrowerSpan],
    measured: Measure,
    records: Records,
) -> dict:
    """What a result cites (none of the sums while something is missing)."""
    numerator, denominator, missing, threshold = (
        measured.numerator,
        measured.denominator,
        measured.missing,
        measured.threshold,
    )
    used = {(f.period_end, f.party_id, f.line_item) for w in measured.windows for f in w.used}
    inputs = base_inputs(covenant, terms)
    inputs.update(
        {
            "metric_kind": terms.metric_kind,
            "line_item": terms.line_item,
            "window_kind": terms.window_kind,
            "window": [iso(q) for q in numerator.quarters],
            "direction": terms.direction,
            "basis": terms.basis,
            "threshold_state": row.threshold_state,
            "threshold": str(threshold) if threshold is not None else None,
            "amount_as_printed": row.amount_as_printed,
            "schedule_row_date": iso(row.test_date),
            "applies_thereafter": row.applies_thereafter,
            "borrowers": [{"party_id": b.party_id, "name": b.name} for b in scope],
            "figures": [records[key] for key in sorted(used)],
            "missing": [
                {"party_id": b.party_id, "name": b.name, "period_end": iso(q), "line_item": item}
                for b, q, item in missing
            ],
        }
    )
    if denominator is not None:
        inputs["denominator_line_item"] = terms.denominator_line_item
        inputs["denominator_window_kind"] = terms.denominator_window_kind or TRAILING
        inputs["denominator_window"] = [iso(q) for q in denominator.quarters]
    inputs["numerator"] = None if missing or measured.undefined else str(numerator.total)
    if denominator is not None:
        inputs["denominator"] = None if missing else str(denominator.total)
    _newer_forms(inputs, terms, row, measured)
    return inputs


def _newer_forms(inputs: dict, terms: TermsVersion, row: ScheduleRow, measured: Measure) -> None:
    """The keys of the forms beyond a quarterly line item over the Borrowers, when used."""
    numerator = measured.numerator
    if terms.frequency != QUARTER:
        inputs["frequency"] = terms.frequency
    if numerator.periods and numerator.periods != numerator.quarters:
        inputs["statement_periods"] = [iso(p) for p in numerator.periods]
    metric = terms.metric
    if metric is not None:
        inputs["metric"] = {
            "name": metric.name,
            "label": metric.label,
            "formula": metric.formula,
            "nature": metric.nature,
        }
        if measured.is_ratio:
            # A defined term dividing at its top is a ratio though its terms sum a metric: its
            # figures are shown "1.25 to 1.00" (compliance.formatting.cites_a_ratio).
            inputs["metric"]["is_ratio"] = True
        inputs["line_item_sums"] = {w.line_item: None if w.missing else str(w.total) for w in measured.items}
        values = measured.values
        inputs["formula_explained"] = explained(metric, values) if values is not None else None
        if metric.definitions:
            inputs["definitions_explained"] = explained_definitions(metric, values) if values is not None else None
    if terms.basis == CONSOLIDATED:
        inputs["reporting_party"] = {"party_id": terms.reporting_party_id, "name": terms.reporting_party_name}
    relative = measured.relative
    if relative is not None:
        inputs["threshold_relative_to"] = terms.threshold_relative_to
        inputs["threshold_percent"] = str(row.threshold) if row.threshold is not None else None
        inputs["relative_amount"] = None if relative.missing else str(relative.total)
    if row.date_as_printed or row.date_reading:
        inputs["date_as_printed"] = row.date_as_printed
        inputs["date_reading"] = row.date_reading
