"""Checks of an edited value against the review's other items, made when the edit is taken (not
only when the review is applied): a schedule row's date taken by another row of the covenant or
before its terms take effect, a level whose sign the covenant's direction and printed amount
contradict, a party renamed to another proposed party's name.

Each problem names the field, so the review page shows it beside the field and the API answers
400 with the field as its key. Pure reads: one query for the items the value is checked against.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from covenants.choices import Direction, MetricKind
from documents.importer.text import name_key
from documents.models import ReviewItem

Problems = dict[str, list[str]]
ROW = ":row:"


def check_edit(item: ReviewItem, value: dict[str, Any]) -> None:
    """Raise ValidationError naming each field of ``value`` the review's other items contradict."""
    if ROW in item.key:
        problems = _row_problems(item, value)
    elif item.key.startswith("party:"):
        problems = _party_problems(item, value)
    else:
        problems = {}
    if problems:
        raise ValidationError(problems)


def _current(item: ReviewItem) -> dict[str, Any]:
    value = item.value
    return value if isinstance(value, dict) else {}


def _date(raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        return None


def _row_problems(item: ReviewItem, value: dict[str, Any]) -> Problems:
    covenant_key = item.key.split(ROW, 1)[0]
    others = list(
        ReviewItem.objects.filter(review_id=item.review_id, key__startswith=covenant_key)
        .exclude(pk=item.pk)
        .exclude(decision=ReviewItem.Decision.REJECTED)
    )
    covenant = next((other for other in others if other.key == covenant_key), None)
    terms = _current(covenant) if covenant is not None else {}
    problems: Problems = {}
    test_date = _date(value.get("test_date"))
    if test_date is None:
        problems["test_date"] = [f"“{value.get('test_date')}” is not a date (YYYY-MM-DD)."]
    else:
        problems.update(_date_problems(test_date, others, terms, covenant_key))
    problems.update(_sign_problems(value, terms, covenant_key))
    return problems


def _date_problems(test_date: dt.date, others: list[ReviewItem], terms: dict[str, Any], covenant_key: str) -> Problems:
    section = covenant_key.removeprefix("covenant:")
    for other in others:
        if ROW in other.key and _date(_current(other).get("test_date")) == test_date:
            return {
                "test_date": [
                    f"{test_date.isoformat()} is already the date of another row of {section} ({other.label}): "
                    "a schedule has one row per test date; edit or reject that row instead."
                ]
            }
    effective = _date(terms.get("effective_from"))
    if effective is not None and test_date < effective:
        return {
            "test_date": [
                f"{test_date.isoformat()} is before the terms of {section} this document gives take effect "
                f"({effective.isoformat()}): a row of these terms falls on or after that date."
            ]
        }
    return {}


def _sign_problems(value: dict[str, Any], terms: dict[str, Any], covenant_key: str) -> Problems:
    raw = value.get("threshold")
    if raw in (None, ""):
        return {}
    try:
        threshold = Decimal(str(raw))
    except InvalidOperation:
        return {"threshold": [f"“{raw}” is not a number."]}
    if not threshold.is_finite():
        return {"threshold": [f"“{raw}” is not a number."]}
    section = covenant_key.removeprefix("covenant:")
    if terms.get("metric_kind") == MetricKind.RATIO:
        if threshold <= 0:
            return {"threshold": [f"{section} tests a ratio, whose level is above zero: {threshold} is not."]}
        return {}
    printed = str(value.get("amount_as_printed") or "").strip()
    if not any(ch.isdigit() for ch in printed):
        return {}
    printed_negative = printed.lstrip("$ ").startswith(("(", "-"))
    if (threshold < 0) == printed_negative:
        return {}
    tested = "at most" if terms.get("direction") == Direction.AT_MOST else "at least"
    sign = "below zero" if threshold < 0 else "zero or more"
    printed_as = "a negative amount" if printed_negative else "an amount of zero or more"
    return {
        "threshold": [
            f"{threshold} is {sign}, but the level is printed “{printed}”, {printed_as}, and {section} is tested "
            f"{tested} that level: keep the printed sign (or correct the amount as printed as well)."
        ]
    }


def _party_problems(item: ReviewItem, value: dict[str, Any]) -> Problems:
    name = str(value.get("legal_name") or "").strip()
    if not name:
        return {}
    wanted = name_key(name)
    others = (
        ReviewItem.objects.filter(review_id=item.review_id, key__startswith="party:")
        .exclude(pk=item.pk)
        .exclude(decision=ReviewItem.Decision.REJECTED)
    )
    for other in others:
        held = str(_current(other).get("legal_name") or "")
        if held and name_key(held) == wanted:
            return {
                "legal_name": [
                    f"“{name}” is the name of another party this document proposes ({other.label}): two parties "
                    "cannot share a name; reject one of them, or give this one its own name."
                ]
            }
    return {}
