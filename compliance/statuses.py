"""
A result's status as users read it: the one place it is worded.

A stored result has its status (compliant, breach, incomplete, not tested, waived) and, from
the engine, whether it is near breach (``CovenantTestResult.near_breach``, decided by
:func:`compliance.engine.is_near_breach` and nowhere else). Users see a compliant result in the
warning band as "Near breach": the pages, the exports, the certificate, the alerts and the API
all say so through :func:`shown_status` and :func:`status_label`.
"""

from __future__ import annotations

from compliance.choices import ResultStatus

__all__ = ["NEAR_BREACH", "STATUS_LABELS", "STATUS_RANK", "shown_status", "status_label"]

NEAR_BREACH = "near_breach"

#: Every status a user is shown, worst first: the order of filters, counts and legends.
STATUS_LABELS: dict[str, str] = {
    ResultStatus.BREACH: "Breach",
    NEAR_BREACH: "Near breach",
    ResultStatus.INCOMPLETE: "Incomplete",
    ResultStatus.WAIVED: "Waived",
    ResultStatus.COMPLIANT: "Compliant",
    ResultStatus.NOT_TESTED: "Not tested",
}
STATUS_RANK = {key: rank for rank, key in enumerate(STATUS_LABELS)}


def shown_status(status: str, near_breach: bool = False) -> str:
    """The status a user is shown: the result's own, or near breach for a compliant result the
    engine found in the warning band."""
    return NEAR_BREACH if near_breach and status == ResultStatus.COMPLIANT else str(status)


def status_label(status: str, near_breach: bool = False) -> str:
    """The status in words ("Near breach", "Compliant", ...); "No result" for none."""
    if not status:
        return "No result"
    shown = shown_status(status, near_breach)
    return STATUS_LABELS.get(shown, shown)
