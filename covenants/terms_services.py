"""
Writes to what was agreed: covenants, new versions of their terms with their schedules,
amendments' status, and the parties' roles. Only the Agents of the agreement and
administrators may make them (``covenants.access.may_administer``).

Each service is keyword-only and runs in one transaction. Saving a covenant, its terms, an
amendment or a role fires the receivers in ``covenants.signals``, which request the
agreement's re-evaluation once the transaction commits: results never lag the terms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from covenants.access import may_administer
from covenants.choices import AmendmentStatus, Basis, Direction, MetricKind, TermsAction, ThresholdState, WindowKind
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    LineItem,
    ThresholdStep,
)
from parties.models import Party

__all__ = [
    "ScheduleRowData",
    "agreement_role_add",
    "agreement_role_remove",
    "amendment_create",
    "amendment_status_set",
    "amendment_update",
    "covenant_create",
    "covenant_terms_create",
]

#: The forms of terms beyond the seed's: how often it is tested, a defined term instead of a
#: line item, the party reporting a consolidated statement, a relative threshold, and whether
#: the text sets its own effective date (else the terms follow their amendment's).
TERMS_FORMS = ("frequency", "metric", "reporting_party", "threshold_relative_to", "effective_from_as_printed")

REFUSED = "Only the Agents of this agreement and administrators may change its terms, amendments and roles."


def _require_administrator(user: AbstractBaseUser, agreement: Agreement) -> None:
    if not may_administer(user, agreement):
        raise PermissionDenied(REFUSED)


@dataclass(frozen=True)
class ScheduleRowData:
    """One row of a schedule as given: the threshold for a test date (``None`` when not set)."""

    test_date: dt.date
    threshold: Decimal | None = None
    threshold_state: str = ThresholdState.SET
    applies_thereafter: bool = False
    amount_as_printed: str = ""
    date_as_printed: str = ""
    date_reading: str = ""


@transaction.atomic
def covenant_create(
    *,
    user: AbstractBaseUser,
    agreement: Agreement,
    section: str,
    name: str,
    warning_band_percent: Decimal | None = None,
) -> Covenant:
    """Add a covenant to an agreement; its terms follow with :func:`covenant_terms_create`."""
    _require_administrator(user, agreement)
    covenant = Covenant(agreement=agreement, section=section.strip(), name=name.strip())
    if warning_band_percent is not None:
        covenant.warning_band_percent = warning_band_percent
    covenant.full_clean()
    covenant.save()
    return covenant


@transaction.atomic
def covenant_terms_create(
    *,
    user: AbstractBaseUser,
    covenant: Covenant,
    effective_from: dt.date,
    action: str = TermsAction.ADD,
    amendment: Amendment | None = None,
    text_as_printed: str = "",
    reading: str = "",
    metric_kind: str = MetricKind.SUM,
    line_item: LineItem | None = None,
    window_periods: int = 1,
    window_kind: str = WindowKind.TRAILING,
    denominator_line_item: LineItem | None = None,
    denominator_window_periods: int | None = None,
    denominator_window_kind: str = WindowKind.TRAILING,
    direction: str = Direction.AT_LEAST,
    basis: str = Basis.COMBINED,
    schedule: Sequence[ScheduleRowData] = (),
    **forms: Any,
) -> CovenantTerms:
    """Record a new version of a covenant's terms, in force from ``effective_from`` until the next
    version, with its schedule; earlier versions are kept. ``forms`` are the other forms real
    agreements write (:data:`TERMS_FORMS`), checked with the rest when saved."""
    _check_forms(forms)
    agreement = covenant.agreement
    _require_administrator(user, agreement)
    errors = _terms_refusals(agreement, amendment=amendment, action=action, schedule=schedule)
    terms = CovenantTerms(
        covenant=covenant,
        amendment=amendment,
        action=action,
        effective_from=effective_from,
        text_as_printed=text_as_printed,
        reading=reading,
        metric_kind=metric_kind,
        line_item=line_item,
        window_periods=window_periods,
        window_kind=window_kind,
        denominator_line_item=denominator_line_item,
        denominator_window_periods=denominator_window_periods,
        denominator_window_kind=denominator_window_kind,
        direction=direction,
        basis=basis,
        **forms,
    )
    try:
        terms.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    steps = _schedule_steps(terms, schedule, errors)
    if errors:
        raise ValidationError(errors)
    return _save_with_schedule(terms, steps, user)


def _check_forms(forms: dict[str, Any]) -> None:
    unknown = sorted(set(forms) - set(TERMS_FORMS))
    if unknown:
        raise TypeError(f"covenant_terms_create() got unexpected keyword arguments: {', '.join(unknown)}")


def _save_with_schedule(terms: CovenantTerms, steps: list[ThresholdStep], user: AbstractBaseUser) -> CovenantTerms:
    terms.save()
    for step in steps:
        step.terms = terms
    bulk_create_with_history(steps, ThresholdStep, default_user=user)
    return terms


def _terms_refusals(
    agreement: Agreement, *, amendment: Amendment | None, action: str, schedule: Sequence[ScheduleRowData]
) -> dict[str, list[str]]:
    """What is wrong with new terms before their own fields are checked, by field."""
    errors: dict[str, list[str]] = {}
    if amendment is not None and amendment.agreement_id != agreement.pk:
        errors["amendment"] = [f"{amendment.title} is not an amendment of {agreement.name}."]
    if action == TermsAction.DELETE and schedule:
        errors["schedule"] = ["Terms that delete the covenant have no schedule."]
    if action != TermsAction.DELETE and not schedule:
        errors["schedule"] = ["Give the schedule: at least one test date with its threshold."]
    seen: set[dt.date] = set()
    for index, row in enumerate(schedule, start=1):
        if row.test_date in seen:
            errors.setdefault("schedule", []).append(f"Row {index}: {row.test_date.isoformat()} is given twice.")
        seen.add(row.test_date)
    return errors


def _schedule_steps(
    terms: CovenantTerms, schedule: Sequence[ScheduleRowData], errors: dict[str, list[str]]
) -> list[ThresholdStep]:
    """The schedule's rows as steps of these terms; each row's problems go to ``errors`` by row."""
    steps = [
        ThresholdStep(
            terms=terms,
            test_date=row.test_date,
            threshold=row.threshold,
            threshold_state=row.threshold_state,
            applies_thereafter=row.applies_thereafter,
            amount_as_printed=row.amount_as_printed,
            date_as_printed=row.date_as_printed,
            date_reading=row.date_reading,
        )
        for row in schedule
    ]
    for index, step in enumerate(steps, start=1):
        try:
            step.full_clean(exclude=["terms"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                where = "" if field == "__all__" else f" ({field})"
                errors.setdefault("schedule", []).extend(f"Row {index}{where}: {m}" for m in messages)
    return steps


def effectiveness_refusal(amendment: Amendment, conditions: Sequence[ConditionPrecedent]) -> str:
    """Why the amendment cannot be effective yet, or "" when every condition precedent is
    satisfied: the one rule the API, the pages and the admin apply."""
    open_conditions = [c for c in conditions if c.satisfied_on is None]
    if not open_conditions:
        return ""
    listed = "; ".join(f"“{c.description[:120]}”" for c in open_conditions)
    return (
        f"{amendment.title} cannot be marked effective: {len(open_conditions)} of its conditions precedent "
        f"{'is' if len(open_conditions) == 1 else 'are'} not satisfied ({listed}). "
        "Record the date each was satisfied first."
    )


#: An amendment's particulars as recorded from its text; its status has its own service.
AMENDMENT_FIELDS = ("number", "title", "defined_term", "contract_number", "dated_as_of", "effective_on")


def _amendment_save(amendment: Amendment, fields: dict[str, Any]) -> Amendment:
    unknown = set(fields) - set(AMENDMENT_FIELDS)
    if unknown:
        raise ValueError(f"Cannot set {', '.join(sorted(unknown))} of an amendment.")
    for name, value in fields.items():
        setattr(amendment, name, value.strip() if isinstance(value, str) else value)
    amendment.full_clean()
    # A new effective date moves the terms the amendment made, or is refused naming the terms
    # that disagree (covenants.amendment_terms, on the save, as the admin's save does).
    amendment.save()
    return amendment


@transaction.atomic
def amendment_create(*, user: AbstractBaseUser, agreement: Agreement, **fields: Any) -> Amendment:
    """Record an amendment of the agreement (its Agents and administrators); effective unless
    conditions precedent recorded later hold it pending."""
    _require_administrator(user, agreement)
    return _amendment_save(Amendment(agreement=agreement), fields)


@transaction.atomic
def amendment_update(*, user: AbstractBaseUser, amendment: Amendment, **fields: Any) -> Amendment:
    """Change an amendment's particulars. Its terms follow a new effective date, each move kept in
    their history, or nothing is saved and the message names the terms whose schedule disagrees."""
    _require_administrator(user, amendment.agreement)
    return _amendment_save(amendment, fields)


@transaction.atomic
def amendment_status_set(*, user: AbstractBaseUser, amendment: Amendment, status: str) -> Amendment:
    """Mark an amendment effective (its conditions precedent satisfied) or pending again.

    Results computed under a pending amendment are provisional; the agreement is
    re-evaluated when the status changes."""
    _require_administrator(user, amendment.agreement)
    if status not in AmendmentStatus.values:
        raise ValidationError({"status": [f"{status!r} is not a status; use one of {', '.join(AmendmentStatus)}."]})
    if status == AmendmentStatus.EFFECTIVE and amendment.status != status:
        refusal = effectiveness_refusal(amendment, list(amendment.conditions_precedent.all()))
        if refusal:
            raise ValidationError({"status": [refusal]})
    if amendment.status != status:
        amendment.status = status
        amendment.save(update_fields=["status", "updated_at"])
    return amendment


@transaction.atomic
def agreement_role_add(
    *,
    user: AbstractBaseUser,
    agreement: Agreement,
    party: Party,
    role: str,
    defined_term: str = "",
    capacity_as_printed: str = "",
    holds_from: dt.date | None = None,
    holds_to: dt.date | None = None,
    added_by: Amendment | None = None,
) -> AgreementRole:
    """Give a party a role in an agreement (from a date, and by an amendment, where it says so)."""
    _require_administrator(user, agreement)
    if added_by is not None and added_by.agreement_id != agreement.pk:
        raise ValidationError({"added_by": [f"{added_by.title} is not an amendment of {agreement.name}."]})
    agreement_role = AgreementRole(
        agreement=agreement,
        party=party,
        role=role,
        defined_term=defined_term,
        capacity_as_printed=capacity_as_printed,
        holds_from=holds_from,
        holds_to=holds_to,
        added_by=added_by,
    )
    agreement_role.full_clean()
    agreement_role.save()
    return agreement_role


@transaction.atomic
def agreement_role_remove(*, user: AbstractBaseUser, agreement_role: AgreementRole) -> None:
    """Remove a party's role from an agreement (its history is kept)."""
    _require_administrator(user, agreement_role.agreement)
    agreement_role.delete()
