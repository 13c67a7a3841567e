"""
Late compliance certificates, by the rule late financials follow (``compliance.late_financials``,
the one place it is written): a certificate is due for each period the covenants need whose
reporting deadline (the period end plus the agreement's ``reporting_deadline_days``) has passed,
within the same look-back; it is late while no certificate for that period is signed (signed or
accepted; a returned or superseded one does not count).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.late_financials import statements_due
from covenants.models import Agreement
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate

__all__ = ["LateCertificate", "late_certificates"]


@dataclass(frozen=True)
class LateCertificate:
    """A period's compliance certificate not signed by its deadline."""

    agreement_id: int
    period_end: dt.date
    due_on: dt.date


def late_certificates(agreements: Sequence[Agreement], *, as_of: dt.date) -> dict[int, list[LateCertificate]]:
    """Per agreement, the periods whose certificate is late as of ``as_of``, oldest first (two
    queries for any number of agreements)."""
    due = statements_due(agreements, as_of=as_of)
    if not due:
        return {}
    signed = set(
        ComplianceCertificate.objects.filter(
            agreement_id__in=list(due), status__in=(CertificateStatus.SIGNED, CertificateStatus.ACCEPTED)
        ).values_list("agreement_id", "period_end")
    )
    days = {agreement.pk: agreement.reporting_deadline_days for agreement in agreements}
    late: dict[int, list[LateCertificate]] = {}
    for agreement_id, owed in due.items():
        items = [
            LateCertificate(agreement_id, period, period + dt.timedelta(days=days[agreement_id]))
            for period in owed.periods
            if (agreement_id, period) not in signed
        ]
        if items:
            late[agreement_id] = items
    return late
