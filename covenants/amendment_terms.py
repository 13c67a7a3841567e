"""
Terms follow their amendment: terms an amendment made (``effective_from_as_printed`` off) take
effect on the amendment's effective date (``Amendment.in_force_from``), and move with it.

Every write path of an amendment (the admin, the API, the services) saves it, so the move hangs
on its save (:mod:`covenants.signals`): before the row is written the move is checked, and
refused with a message naming the terms whose schedule would fall outside their time in force;
after it, the terms are moved, each save recorded in their history, in the same transaction
(requests are atomic, the services too). The terms' save requests the agreement's evaluation,
as any change of terms does.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from covenants.models import Amendment, CovenantTerms

__all__ = ["amendment_move_refusals", "amendment_terms_follow", "refusal_error", "terms_following"]


def terms_following(amendment: Amendment) -> list[CovenantTerms]:
    """The terms the amendment made that take effect on its effective date."""
    if amendment.pk is None:
        return []
    return list(
        CovenantTerms.objects.filter(amendment=amendment, effective_from_as_printed=False)
        .select_related("covenant")
        .prefetch_related("schedule")
        .order_by("covenant__section", "effective_from")
    )


def _neighbours(terms: CovenantTerms, moving: set[int], new_from: dt.date) -> tuple[CovenantTerms | None, ...]:
    """The covenant's version on the new date (a clash), the one before it and the one after it,
    the terms that move together left out."""
    others = [
        t
        for t in CovenantTerms.objects.filter(covenant_id=terms.covenant_id).prefetch_related("schedule")
        if t.pk not in moving
    ]
    clash = next((t for t in others if t.effective_from == new_from), None)
    before = max((t for t in others if t.effective_from < new_from), key=lambda t: t.effective_from, default=None)
    after = min((t for t in others if t.effective_from > new_from), key=lambda t: t.effective_from, default=None)
    return clash, before, after


def _refusal(terms: CovenantTerms, moving: set[int], new_from: dt.date) -> str | None:
    """Why these terms cannot take effect on ``new_from``, or None."""
    name = f"the terms of {terms.covenant.section} made by {terms.amendment.title if terms.amendment_id else 'it'}"
    clash, before, after = _neighbours(terms, moving, new_from)
    if clash is not None:
        return f"{name}: {terms.covenant.section} already has terms taking effect on {new_from.isoformat()}"
    dates = sorted(step.test_date for step in terms.schedule.all())
    early = [d for d in dates if d < new_from]
    late = [d for d in dates if after is not None and d >= after.effective_from]
    if early:
        return (
            f"{name}: their schedule tests {', '.join(d.isoformat() for d in early)}, before they would take "
            f"effect on {new_from.isoformat()}"
        )
    if late:
        return (
            f"{name}: their schedule tests {', '.join(d.isoformat() for d in late)}, after the next version takes "
            f"over on {after.effective_from.isoformat()}"
        )
    if before is not None:
        stranded = sorted(s.test_date for s in before.schedule.all() if s.test_date >= new_from)
        if stranded:
            return (
                f"{name}: the earlier terms of {terms.covenant.section} (from {before.effective_from.isoformat()}) "
                f"test {', '.join(d.isoformat() for d in stranded)}, which these would then govern"
            )
    return None


def amendment_move_refusals(amendment: Amendment, new_from: dt.date | None) -> list[str]:
    """What disagrees with the amendment's terms taking effect on ``new_from`` (empty: nothing)."""
    following = [t for t in terms_following(amendment) if new_from is not None and t.effective_from != new_from]
    moving = {t.pk for t in following}
    assert new_from is not None or not following
    return [why for t in following if (why := _refusal(t, moving, new_from)) is not None]


def refusal_error(amendment: Amendment, refusals: list[str], new_from: dt.date | None = None) -> ValidationError:
    """The refusals as the error the admin, the API and the services show."""
    new_from = new_from or amendment.in_force_from
    when = new_from.isoformat() if new_from else "no date"
    return ValidationError(
        {
            "effective_on": [
                f"The terms {amendment.title} made take effect on its effective date ({when}), and these disagree: "
                + "; ".join(refusals)
                + ". Change their schedules first, or mark their effective date as printed."
            ]
        }
    )


@transaction.atomic
def amendment_terms_follow(amendment: Amendment) -> list[CovenantTerms]:
    """Move the terms the amendment made to its effective date (refused, changing nothing, when a
    schedule row would fall outside its terms' time in force). Returns the terms moved."""
    new_from = amendment.in_force_from
    if new_from is None:
        return []
    refusals = amendment_move_refusals(amendment, new_from)
    if refusals:
        raise refusal_error(amendment, refusals)
    # Latest first when moving later, earliest first when moving earlier: one version per date.
    following = [t for t in terms_following(amendment) if t.effective_from != new_from]
    for terms in following:
        terms.effective_from = new_from
        terms.save(update_fields=["effective_from", "updated_at"])
    return following
