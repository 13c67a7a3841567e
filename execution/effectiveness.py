"""
An amendment becomes effective when every condition precedent holds: each evaluated
condition's ``satisfied_on`` follows its findings (set when it comes to hold, cleared while the
amendment is pending if a revocation undoes it), and when all hold the amendment is marked
effective as of the date its text gives. Saving it re-evaluates the covenants through the
existing path (``covenants.signals``: results stop being provisional), and the parties are
alerted once, under a key that makes a second raise a no-op.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.fanout import alerts_store
from alerts.models import Alert
from alerts.raising import agreement_words, alert_key
from compliance.formatting import long_date
from covenants.choices import AmendmentStatus
from covenants.models import Amendment, ConditionPrecedent
from execution.conditions import ConditionFindings, amendment_findings
from execution.models import ExecutionCondition

__all__ = ["amendment_conditions_apply", "effective_as_of"]


def effective_as_of(amendment: Amendment, findings: list[ConditionFindings]) -> dt.date | None:
    """The date the text makes the amendment effective as of: the one its execution condition
    reads, else the date it already carries."""
    for found in findings:
        terms: ExecutionCondition | None = getattr(found.condition, "execution_terms", None)
        if terms is not None and terms.effective_as_of is not None:
            return terms.effective_as_of
    return amendment.in_force_from


def _satisfied_on(found: ConditionFindings, today: dt.date) -> dt.date | None:
    whole = [r.satisfied_on for r in found.recorded if r.party_id is None]
    return min(whole) if whole else today


def _follow(found: ConditionFindings, today: dt.date, pending: bool) -> None:
    condition: ConditionPrecedent = found.condition
    if found.met and condition.satisfied_on is None:
        condition.satisfied_on = _satisfied_on(found, today)
        condition.save(update_fields=["satisfied_on", "updated_at"])
    elif not found.met and condition.satisfied_on is not None and pending and found.evaluated:
        condition.satisfied_on = None
        condition.save(update_fields=["satisfied_on", "updated_at"])


def amendment_conditions_apply(*, amendment: Amendment) -> list[ConditionFindings]:
    """Evaluate the amendment's conditions precedent and act on them (inside the caller's
    transaction, the amendment row locked so two last signatures cannot both make it effective)."""
    amendment = Amendment.objects.select_for_update(of=("self",)).select_related("agreement").get(pk=amendment.pk)
    findings = amendment_findings(amendment)
    today = timezone.localdate()
    for found in findings:
        if found.evaluated or found.recorded:
            _follow(found, today, amendment.is_pending)
    all_hold = all(f.condition.satisfied_on is not None for f in findings)
    if findings and all_hold and amendment.is_pending:
        amendment.status = AmendmentStatus.EFFECTIVE
        amendment.effective_on = effective_as_of(amendment, findings)
        amendment.save(update_fields=["status", "effective_on", "updated_at"])
        alerts_store([_effective_alert(amendment, findings)])
    return findings


def _effective_alert(amendment: Amendment, findings: list[ConditionFindings]) -> Alert:
    agreement = amendment.agreement
    by_other_means = [r for f in findings for r in f.recorded]
    means = (
        " Recorded satisfied by other means: "
        + "; ".join(f"{r.party or 'the whole condition'} ({r.reason})" for r in by_other_means)
        + "."
        if by_other_means
        else ""
    )
    as_of = amendment.in_force_from
    return Alert(
        kind=AlertKind.AMENDMENT_EFFECTIVE,
        key=alert_key(
            agreement_id=agreement.pk,
            test_date=as_of,
            kind=AlertKind.AMENDMENT_EFFECTIVE,
            transition=f"amendment{amendment.pk}>effective",
        ),  # fmt: skip
        agreement=agreement,
        amendment=amendment,
        test_date=as_of,
        transition="conditions precedent satisfied",
        title=f"{amendment.title} is effective" + (f" as of {long_date(as_of)}" if as_of else ""),
        message=(
            f"Every condition precedent of {amendment.title} to {agreement_words(agreement)} now holds, so it is "
            f"effective{f' as of {long_date(as_of)}' if as_of else ''}. Results computed under its terms are no "
            f"longer provisional; the covenants are evaluated again.{means}"
        ),
        link_path=reverse("covenants:agreement_detail", args=[agreement.pk]),
    )
