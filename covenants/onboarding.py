"""
Onboarding a facility from nothing through the API: agreements, line items, defined terms and
versions of a covenant's terms with every field the models hold (defined terms tested,
frequency, consolidated basis, relative thresholds, printed dates).

The same checks as the admin: each row's ``full_clean()`` (so the models' own rules apply, as
they are written today and tomorrow), and the one access rule (``covenants.access.may``)
before anything is written. Each service is keyword-only and runs in one transaction: a
version of the terms and its schedule are saved together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from covenants.access import may
from covenants.choices import TermsAction
from covenants.evaluation_requests import agreement_evaluation_request
from covenants.models import Agreement, Covenant, CovenantTerms, DefinedMetric, LineItem, ThresholdStep
from covenants.periods import calendar_of

__all__ = [
    "AGREEMENT_FIELDS",
    "METRIC_FIELDS",
    "agreement_create",
    "agreement_update",
    "covenant_update",
    "defined_metric_create",
    "defined_metric_update",
    "line_item_create",
    "terms_version_create",
]

ADD_AGREEMENT_REFUSED = "Only administrators may create agreements."
CHANGE_REFUSED = "Only the Agents of this agreement and administrators may change it."
LINE_ITEM_REFUSED = "Only administrators may create or change line items: every deal's statements name them."
AGREEMENT_FIELDS = (
    "kind",
    "title",
    "name",
    "defined_term",
    "contract_number",
    "dated_as_of",
    "effective_on",
    "governing_law",
    "guaranteed_agreement",
    "currency",
    "fiscal_year_end_month",
    "fiscal_calendar",
    "reporting_frequency",
    "reporting_deadline_days",
)
METRIC_FIELDS = ("name", "label", "formula", "nature", "text_as_printed")
COVENANT_FIELDS = ("section", "name", "warning_band_percent")
ROW_FIELDS = (
    "test_date",
    "threshold",
    "threshold_state",
    "applies_thereafter",
    "amount_as_printed",
    "date_as_printed",
    "date_reading",
)


def _refuse_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _apply(instance: Any, changes: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _clean_agreement(agreement: Agreement) -> None:
    """The model's checks, and a fiscal calendar the portal can read (one it cannot would fail
    every page and evaluation of the agreement later)."""
    errors: dict[str, list[str]] = {}
    try:
        agreement.full_clean()
    except ValidationError as exc:
        errors = dict(exc.message_dict)
    if "fiscal_calendar" not in errors and "fiscal_year_end_month" not in errors:
        try:
            calendar_of(agreement.fiscal_calendar, agreement.fiscal_year_end_month)
        except (ValueError, TypeError, KeyError) as exc:
            errors["fiscal_calendar"] = [str(exc)]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def agreement_create(
    *, user: AbstractBaseUser, required_line_items: Iterable[LineItem] = (), **fields: Any
) -> Agreement:
    """A new agreement (administrators: it names no party yet, so nobody else would see it).
    Its parties' roles follow with ``terms_services.agreement_role_add``."""
    _refuse_unless(may(user, "add", Agreement), ADD_AGREEMENT_REFUSED)
    agreement = Agreement()
    _apply(agreement, fields, AGREEMENT_FIELDS)
    _clean_agreement(agreement)
    agreement.save()
    agreement.required_line_items.set(list(required_line_items))
    return agreement


@transaction.atomic
def agreement_update(
    *,
    user: AbstractBaseUser,
    agreement: Agreement,
    changes: Mapping[str, Any],
    required_line_items: Iterable[LineItem] | None = None,
) -> Agreement:
    """Change an agreement's particulars (its Agents and administrators)."""
    _refuse_unless(may(user, "change", agreement), CHANGE_REFUSED)
    guaranteed = changes.get("guaranteed_agreement")
    if guaranteed is not None and guaranteed.pk == agreement.pk:
        raise ValidationError({"guaranteed_agreement": ["An agreement cannot guarantee itself."]})
    _apply(agreement, changes, AGREEMENT_FIELDS)
    _clean_agreement(agreement)
    agreement.save()
    if required_line_items is not None:
        agreement.required_line_items.set(list(required_line_items))
    # Its calendar, reporting frequency or line items decide its results: evaluated again on commit.
    agreement_evaluation_request(agreement_ids=[agreement.pk])
    return agreement


@transaction.atomic
def line_item_create(*, user: AbstractBaseUser, code: str, name: str, description: str = "") -> LineItem:
    """A figure Borrowers report, named the same in every deal (administrators)."""
    _refuse_unless(may(user, "change", LineItem), LINE_ITEM_REFUSED)
    line_item = LineItem()
    _apply(line_item, {"code": code, "name": name, "description": description}, ("code", "name", "description"))
    line_item.full_clean()
    line_item.save()
    return line_item


@transaction.atomic
def defined_metric_create(*, user: AbstractBaseUser, agreement: Agreement, **fields: Any) -> DefinedMetric:
    """A defined term of the agreement as a formula, checked as the admin checks it."""
    metric = DefinedMetric(agreement=agreement)
    _refuse_unless(may(user, "change", metric), CHANGE_REFUSED)
    _apply(metric, fields, METRIC_FIELDS)
    metric.full_clean()
    metric.save()
    return metric


@transaction.atomic
def defined_metric_update(
    *, user: AbstractBaseUser, metric: DefinedMetric, changes: Mapping[str, Any]
) -> DefinedMetric:
    """Change a defined term's name, label, formula or nature (terms testing it follow)."""
    _refuse_unless(may(user, "change", metric), CHANGE_REFUSED)
    _apply(metric, changes, METRIC_FIELDS)
    metric.full_clean()
    metric.save()
    # The covenants testing the term (or a term defined through it) are evaluated again on commit.
    agreement_evaluation_request(agreement_ids=[metric.agreement_id])
    return metric


@transaction.atomic
def covenant_update(*, user: AbstractBaseUser, covenant: Covenant, changes: Mapping[str, Any]) -> Covenant:
    """Change a covenant's section, name or warning band (its Agents and administrators)."""
    _refuse_unless(may(user, "change", covenant), CHANGE_REFUSED)
    _apply(covenant, changes, COVENANT_FIELDS)
    covenant.full_clean()
    covenant.save()
    return covenant


@transaction.atomic
def terms_version_create(
    *, user: AbstractBaseUser, covenant: Covenant, schedule: Sequence[Mapping[str, Any]], **fields: Any
) -> CovenantTerms:
    """
    A new version of a covenant's terms with its schedule, in force from ``effective_from``.

    Every problem comes back at once, by field; a schedule row's by its position (from 1):
    ``{"schedule": ["Row 2 (test_date): ..."]}``. Nothing is saved unless everything is valid.
    """
    _refuse_unless(may(user, "change", covenant), CHANGE_REFUSED)
    terms = CovenantTerms(covenant=covenant, **fields)
    errors: dict[str, list[str]] = {}
    try:
        terms.full_clean()
    except ValidationError as exc:
        errors = {field: list(messages) for field, messages in exc.message_dict.items()}
    for field, messages in _terms_refusals(terms, schedule).items():
        if field == "schedule":
            errors.setdefault(field, []).extend(messages)
        else:  # the model's own word on a field, when it has one, is the one given
            errors.setdefault(field, messages)
    steps = _schedule_steps(terms, schedule, errors)
    if errors:
        raise ValidationError(errors)
    terms.save()
    for step in steps:
        step.terms = terms
    bulk_create_with_history(steps, ThresholdStep, default_user=user)
    return terms


def _terms_refusals(terms: CovenantTerms, schedule: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """What the rows the terms name must share with the covenant: its agreement."""
    agreement = terms.covenant.agreement
    errors: dict[str, list[str]] = {}
    if terms.amendment is not None and terms.amendment.agreement_id != agreement.pk:
        errors["amendment"] = [f"{terms.amendment.title} is not an amendment of {agreement.name}."]
    if terms.metric is not None and terms.metric.agreement_id != agreement.pk:
        errors["metric"] = [f"{terms.metric.label} is not a defined term of {agreement.name}."]
    party = terms.reporting_party
    if party is not None and not agreement.roles.filter(party=party).exists():
        errors["reporting_party"] = [f"{party.legal_name} holds no role in {agreement.name}."]
    if terms.action == TermsAction.DELETE and schedule:
        errors["schedule"] = ["Terms that delete the covenant have no schedule."]
    if terms.action != TermsAction.DELETE and not schedule:
        errors["schedule"] = ["Give the schedule: at least one test date with its threshold."]
    seen: dict[dt.date, int] = {}
    for index, row in enumerate(schedule, start=1):
        day = row.get("test_date")
        if day in seen:
            message = f"Row {index} (test_date): {day.isoformat()} is given twice (row {seen[day]} too)."
            errors.setdefault("schedule", []).append(message)
        seen.setdefault(day, index)
    return errors


def _schedule_steps(
    terms: CovenantTerms, schedule: Sequence[Mapping[str, Any]], errors: dict[str, list[str]]
) -> list[ThresholdStep]:
    """The rows as steps of these terms, each checked by the model (with its terms, so a rule
    reading the agreement's calendar applies); problems go to ``errors`` by row."""
    steps = []
    for index, row in enumerate(schedule, start=1):
        step = ThresholdStep(terms=terms)
        _apply(step, row, ROW_FIELDS)
        try:
            step.full_clean(exclude=["terms"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                where = "" if field == "__all__" else f" ({field})"
                errors.setdefault("schedule", []).extend(f"Row {index}{where}: {m}" for m in messages)
        steps.append(step)
    return steps
