"""
Raising the alert for a compliance certificate not signed by its deadline: late as the one rule
decides it (``compliance.late_financials``, through :mod:`execution.certificate_deadlines`), told
to the agreement's Agents, Lenders and Borrowers through the alerts app's recipient rule.

One alert per agreement and period (the Borrowers owe one certificate, whichever Borrower's
officer signs it), raised again only if a version signed since was then returned or superseded:
the key names the last version withdrawn, so each time the period falls late it is told once.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.urls import reverse

from alerts.choices import AlertKind
from alerts.fanout import alerts_store
from alerts.models import Alert
from alerts.raising import agreement_words, alert_key
from compliance.formatting import long_date
from covenants.choices import Role
from covenants.models import Agreement
from execution.certificate_deadlines import LateCertificate, late_certificates
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate

__all__ = ["alerts_raise_late_certificates"]

WITHDRAWN = (CertificateStatus.RETURNED, CertificateStatus.SUPERSEDED)


@transaction.atomic
def alerts_raise_late_certificates(*, as_of: dt.date) -> list[Alert]:
    """One alert per period whose compliance certificate is late as of ``as_of``; raising again
    changes nothing. Three queries whatever the number of agreements, plus the fan-out's."""
    agreements = list(Agreement.objects.filter(roles__role=Role.BORROWER).distinct().order_by("pk"))
    late = late_certificates(agreements, as_of=as_of)
    if not late:
        return []
    withdrawn = {
        (row["agreement_id"], row["period_end"]): row["last"]
        for row in ComplianceCertificate.objects.filter(agreement_id__in=list(late), status__in=WITHDRAWN)
        .values("agreement_id", "period_end")
        .annotate(last=Max("version"))
        .order_by()
    }
    return alerts_store(
        [
            _late_certificate_alert(agreement, item, withdrawn.get((agreement.pk, item.period_end), 0))
            for agreement in agreements
            for item in late.get(agreement.pk, [])
        ]
    )


def _late_certificate_alert(agreement: Agreement, late: LateCertificate, withdrawn: int) -> Alert:
    period = late.period_end
    again = (
        f" Version {withdrawn} of the certificate was returned by the Agent or superseded by restated figures."
        if withdrawn
        else ""
    )
    return Alert(
        kind=AlertKind.CERTIFICATE_LATE,
        key=alert_key(
            agreement_id=agreement.pk,
            test_date=period,
            kind=AlertKind.CERTIFICATE_LATE,
            transition=f"unsigned after version {withdrawn}" if withdrawn else "unsigned",
        ),
        agreement=agreement,
        test_date=period,
        transition="compliance certificate unsigned after the reporting deadline",
        title=f"Compliance certificate late: fiscal quarter ending {long_date(period)}",
        message=(
            f"The Borrowers' compliance certificate for the fiscal quarter ending {long_date(period)} was due by "
            f"{long_date(late.due_on)} ({agreement.reporting_deadline_days} days after the quarter end under "
            f"{agreement_words(agreement)}) and no certificate signed by a Responsible Officer stands for it.{again}"
        ),
        link_path=reverse("execution:certificates", args=[agreement.pk]),
    )
