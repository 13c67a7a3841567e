"""
Late compliance certificates, by the rule late financials follow (``compliance.late_financials``,
the one place it is written): a certificate is due for each period the covenants need whose
reporting deadline (the period end plus the agreement's ``reporting_deadline_days``) has passed,
within the same look-back, and late from the day after while no certificate for that period
stands signed (signed, or accepted by the Agent).

The Borrowers deliver one certificate per period, whichever Borrower's Responsible Officer signs
it, so a late one is one per agreement and period. A certificate the Agent returns with comments,
or one superseded by restated figures, is not delivered: once the deadline has passed the period
is late again until a new version is signed (the agreement asks for a certificate of compliance
with the financial statements; one refused or made untrue by restated figures is none).

What counts as delivered is written once, here (:data:`CERTIFICATES`), as the SQL condition the
late rule applies: the certificates page, the daily alert and the dashboard's count read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.late_financials import Calendar, Deliverable, periods_late
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate

__all__ = ["CERTIFICATES", "DELIVERED", "LateCertificate", "late_certificates"]

#: The statuses in which a period's certificate is delivered.
DELIVERED: tuple[str, ...] = (CertificateStatus.SIGNED, CertificateStatus.ACCEPTED)

_TABLE = ComplianceCertificate._meta.db_table
#: The compliance certificates as a deliverable of the late rule: one signed (or accepted) for the period due.
CERTIFICATES = Deliverable(
    name="certificates",
    delivered=(
        f"EXISTS (SELECT 1 FROM {_TABLE} c WHERE c.agreement_id = d.agreement_id "  # noqa: S608 (the model's table)
        f"AND c.period_end = d.period_end AND c.status IN ({', '.join(['%s'] * len(DELIVERED))}))"
    ),
    params=tuple(str(status) for status in DELIVERED),
)


@dataclass(frozen=True)
class LateCertificate:
    """A period's compliance certificate not signed by its deadline."""

    agreement_id: int
    period_end: dt.date
    due_on: dt.date


def late_certificates(agreements: Sequence[Calendar], *, as_of: dt.date) -> dict[int, list[LateCertificate]]:
    """Per agreement, the periods whose certificate is late as of ``as_of``, oldest first (two
    queries for any number of agreements)."""
    late = periods_late(agreements, CERTIFICATES, as_of=as_of)
    return {
        agreement_id: [LateCertificate(agreement_id, period, due_on) for period, due_on in periods]
        for agreement_id, periods in late.items()
    }
