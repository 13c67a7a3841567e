"""Writing an accepted covenant: the covenant, the version of its terms the document gives,
and the schedule rows accepted with it. New terms go through the terms services, so the
agreement is re-evaluated once the transaction commits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from covenants.choices import MetricKind
from covenants.formulas import FormulaError, parse
from covenants.models import Covenant, CovenantTerms, DefinedMetric, LineItem, ThresholdStep
from covenants.terms_services import ScheduleRowData, covenant_terms_create
from documents.models import ReviewItem
from documents.review.writer import APPLIED, Writer

TERMS_FIELDS = (
    "action",
    "text_as_printed",
    "reading",
    "metric_kind",
    "window_periods",
    "window_kind",
    "direction",
    "basis",
    "frequency",
)
ROW_FIELDS = ("threshold", "threshold_state", "amount_as_printed", "applies_thereafter")


def rows_of(w: Writer, item: ReviewItem) -> list[ReviewItem]:
    prefix = f"{item.key}:row:"
    return [row for key, row in w.items.items() if key.startswith(prefix) and row.decision in APPLIED]


def _row(w: Writer, row: ReviewItem) -> ScheduleRowData:
    value = row.value
    try:
        threshold = Decimal(str(value["threshold"])) if value.get("threshold") not in (None, "") else None
    except InvalidOperation as exc:
        raise w.refuse(row, f"{value['threshold']!r} is not an amount.", "threshold") from exc
    try:
        test_date = dt.date.fromisoformat(str(value["test_date"]))
    except ValueError as exc:
        raise w.refuse(row, f"{value['test_date']!r} is not a date (YYYY-MM-DD).", "test_date") from exc
    return ScheduleRowData(
        test_date=test_date,
        threshold=threshold,
        threshold_state=value.get("threshold_state") or "set",
        applies_thereafter=bool(value.get("applies_thereafter")),
        amount_as_printed=value.get("amount_as_printed") or "",
    )


def _line_item(w: Writer, item: ReviewItem, name: str) -> LineItem | None:
    code = item.value.get(name)
    found = LineItem.objects.filter(code=code).first() if code else None
    if code and found is None:
        raise w.refuse(item, f"the portal has no line item {code!r}; accept the agreement that lists it.", name)
    return found


def _terms_values(w: Writer, item: ReviewItem, covenant: Covenant) -> dict[str, Any]:
    value = item.value
    values = {name: value.get(name) for name in TERMS_FIELDS if value.get(name) is not None}
    values["amendment"] = w.resolve(item, value.get("amendment"), "amendment")
    if value.get("metric_kind") == MetricKind.RATIO:
        values.update(_ratio_values(w, item, covenant, values))
    else:
        values["line_item"] = _line_item(w, item, "line_item")
    return values


def _ratio_values(w: Writer, item: ReviewItem, covenant: Covenant, values: dict[str, Any]) -> dict[str, Any]:
    """A ratio is held as the portal holds one: the ratio of two line items' window sums, or a
    defined term whose formula is the quotient. Never as one line item summed, and never
    created before the reviewer has said what it divides by what."""
    value = item.value
    if value.get("metric"):
        metric = DefinedMetric.objects.filter(agreement=covenant.agreement, name=value["metric"]).first()
        if metric is None:
            raise w.refuse(item, f"{covenant.agreement} has no defined term {value['metric']!r}.", "metric")
        if not _is_quotient(metric.formula):
            raise w.refuse(
                item,
                f"the defined term {metric.name} ({metric.formula}) is not a ratio: a ratio's formula divides "
                "one figure by another.",
                "metric",
            )
        # The defined term is the quotient itself: the engine divides its parts' window sums.
        return {"metric": metric, "metric_kind": MetricKind.SUM, "line_item": None}
    numerator = _ratio_side(w, item, "line_item")
    denominator = _ratio_side(w, item, "denominator_line_item")
    if numerator is None or denominator is None:
        raise w.refuse(
            item,
            f"{value.get('section')} {value.get('name')} is a ratio the text names but does not define: give its "
            "numerator (line_item) and denominator (denominator_line_item) with their windows, or a defined "
            "term (metric), before applying.",
            "line_item" if numerator is None else "denominator_line_item",
        )
    # The statements must carry both sides for the ratio to be tested.
    covenant.agreement.required_line_items.add(numerator, denominator)
    periods = value.get("denominator_window_periods") or values.get("window_periods") or 1
    return {"line_item": numerator, "denominator_line_item": denominator, "denominator_window_periods": periods}


def _is_quotient(formula: str) -> bool:
    """A defined term the engine reads as a ratio: a quotient at the top of its formula."""
    try:
        return parse(formula).is_quotient()
    except FormulaError:
        return False


def _ratio_side(w: Writer, item: ReviewItem, name: str) -> LineItem | None:
    """A line item the reviewer names as a side of a ratio: the portal's, or a new one of that
    code (the credit agreement defines it; no other item of the text lists it)."""
    code = item.value.get(name)
    if not code:
        return None
    found = LineItem.objects.filter(code=code).first()
    label = str(code).replace("_", " ")
    return w.save(item, LineItem, found, {"code": code}, {} if found else {"name": label[:1].upper() + label[1:]})


def write_covenant(w: Writer, item: ReviewItem) -> CovenantTerms:
    value = item.value
    agreement = w.agreement(item, value["agreement"])
    lookup = {"agreement": agreement, "section": value["section"]}
    covenant = w.save(item, Covenant, Covenant.objects.filter(**lookup).first(), lookup, {"name": value["name"]})
    effective_from = w.convert(item, CovenantTerms, "effective_from", value.get("effective_from"))
    if effective_from is None:
        raise w.refuse(item, "give the date the terms take effect.", "effective_from")
    rows = rows_of(w, item)
    schedule = [_row(w, row) for row in rows]
    values = _terms_values(w, item, covenant)
    terms = CovenantTerms.objects.filter(covenant=covenant, effective_from=effective_from).first()
    if terms is None:
        terms = _new_terms(w, item, covenant, effective_from, values, schedule)
    else:
        terms = w.save(item, CovenantTerms, terms, {}, values)
        for row, data in zip(rows, schedule, strict=True):
            found = terms.schedule.filter(test_date=data.test_date).first()
            fields = {name: getattr(data, name) for name in ROW_FIELDS}
            w.save(row, ThresholdStep, found, {"terms": terms, "test_date": data.test_date}, fields)
        if terms.amendment_id is not None and terms.amendment == values["amendment"]:
            # The document's own terms: their schedule is the rows accepted from it.
            w.prune(terms.schedule.exclude(test_date__in=[data.test_date for data in schedule]))
    w.span(item, covenant)
    w.span(item, terms)
    for row, data in zip(rows, schedule, strict=True):
        w.span(row, terms.schedule.get(test_date=data.test_date))
    return terms


def _new_terms(
    w: Writer, item: ReviewItem, covenant: Covenant, effective_from: dt.date, values: dict, schedule: list
) -> CovenantTerms:
    """A new version of the covenant's terms, with its schedule, through the terms service
    (which checks it, and requests the agreement's re-evaluation on commit)."""
    forms = {"frequency": values.pop("frequency")} if "frequency" in values else {}
    try:
        if w.actor is not None:
            terms = covenant_terms_create(
                user=w.actor, covenant=covenant, effective_from=effective_from, schedule=schedule, **values, **forms
            )
        else:
            terms = _terms_loaded(covenant, effective_from, {**values, **forms}, schedule)
    except ValidationError as exc:
        raise ValidationError(
            {"items": [f"{item.key}: {name}: {m}" for name, ms in exc.message_dict.items() for m in ms]}
        ) from exc
    w.applied.created[str(CovenantTerms._meta.verbose_name_plural)] += 1
    w.applied.created[str(ThresholdStep._meta.verbose_name_plural)] += len(schedule)
    return terms


def _terms_loaded(covenant: Covenant, effective_from: dt.date, values: dict, schedule: list) -> CovenantTerms:
    """Terms loaded by a command, with no user to check (the seed documents): the same model
    checks, and the same re-evaluation on commit through the models' signals."""
    terms = CovenantTerms(covenant=covenant, effective_from=effective_from, **values)
    terms.full_clean()
    terms.save()
    for data in schedule:
        step = ThresholdStep(terms=terms, test_date=data.test_date, **{n: getattr(data, n) for n in ROW_FIELDS})
        step.full_clean()
        step.save()
    return terms
