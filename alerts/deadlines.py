"""
Raising alerts for what did not arrive by a deadline: financial statements late as the one
rule decides it (``compliance.late_financials``), and amendments still pending their
conditions precedent after theirs. Raised by the daily tasks; raising again changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from alerts.choices import AlertKind
from alerts.fanout import alerts_store
from alerts.models import Alert
from alerts.raising import agreement_words, alert_key
from compliance.formatting import long_date
from compliance.late_financials import LateFinancial, late_financials
from covenants.choices import AmendmentStatus, Basis, Role
from covenants.models import Agreement, Amendment


@transaction.atomic
def alerts_raise_late_financials(*, as_of: dt.date) -> list[Alert]:
    """One alert per late statement as of ``as_of``, naming the party that owes it (a Borrower, or
    a consolidated test's reporting party) and its quarter: late as the one rule decides it
    (:mod:`compliance.late_financials`), the rule the dashboard, the agreement page and the API
    read too. Raising again changes nothing."""
    owing = Q(roles__role=Role.BORROWER) | Q(covenants__terms__basis=Basis.CONSOLIDATED)
    agreements = list(Agreement.objects.filter(owing).distinct().order_by("pk"))
    late = late_financials(agreements, as_of=as_of)
    return alerts_store([_late_financials_alert(a, item) for a in agreements for item in late.get(a.pk, [])])


def _late_financials_alert(agreement: Agreement, late: LateFinancial) -> Alert:
    quarter, borrower = late.period_end, late.borrower
    named = f'{borrower} ("{late.defined_term}")' if late.defined_term else borrower
    return Alert(
        kind=AlertKind.FINANCIALS_LATE,
        key=alert_key(
            agreement_id=agreement.pk,
            test_date=quarter,
            borrower_id=late.party_id,
            kind=AlertKind.FINANCIALS_LATE,
            transition="missing",
        ),
        agreement=agreement,
        test_date=quarter,
        borrower_id=late.party_id,
        transition="statement missing after the reporting deadline",
        title=f"Financials late: {borrower}, fiscal quarter ending {long_date(quarter)}",
        message=(
            f"The financial statements of {named} for the fiscal quarter ending {long_date(quarter)} were due "
            f"by {long_date(late.due_on)} ({agreement.reporting_deadline_days} days after the quarter end under "
            f"{agreement_words(agreement)}) and have not been received. Until they are, the covenant tests "
            "that need them cannot be decided."
        ),
        link_path=reverse("covenants:agreement_detail", args=[agreement.pk]),
    )


@transaction.atomic
def alerts_raise_overdue_amendments(*, as_of: dt.date) -> list[Alert]:
    """For every amendment still pending its conditions precedent after a known deadline
    (one not satisfied, with a deadline before ``as_of``): one alert. A deadline the document
    leaves blank is unknown and never alerts."""
    amendments = (
        Amendment.objects.filter(
            status=AmendmentStatus.PENDING,
            conditions_precedent__deadline__isnull=False,
            conditions_precedent__deadline__lt=as_of,
            conditions_precedent__satisfied_on__isnull=True,
        )
        .select_related("agreement")
        .prefetch_related("conditions_precedent")
        .distinct()
    )
    candidates: list[Alert] = []
    for amendment in amendments:
        overdue = [
            cp
            for cp in amendment.conditions_precedent.all()
            if cp.deadline is not None and cp.deadline < as_of and cp.satisfied_on is None
        ]
        deadline = min(cp.deadline for cp in overdue)
        agreement = amendment.agreement
        listed = "; ".join(cp.description.strip().rstrip(".") for cp in overdue)
        candidates.append(
            Alert(
                kind=AlertKind.AMENDMENT_OVERDUE,
                key=alert_key(
                    agreement_id=agreement.pk,
                    test_date=deadline,
                    kind=AlertKind.AMENDMENT_OVERDUE,
                    transition=f"amendment{amendment.pk}>pending",
                ),
                agreement=agreement,
                amendment=amendment,
                test_date=deadline,
                transition="still pending after its conditions-precedent deadline",
                title=f"{amendment.title} still pending after {long_date(deadline)}",
                message=(
                    f"{amendment.title} to {agreement_words(agreement)} is still pending: its conditions "
                    f"precedent were to be satisfied on or prior to {long_date(deadline)}, and "
                    f"{len(overdue)} of them {'is' if len(overdue) == 1 else 'are'} not marked satisfied: {listed}. "
                    "Results computed under it remain provisional."
                ),
                link_path=reverse("covenants:agreement_detail", args=[agreement.pk]),
            )
        )
    return alerts_store(candidates)
