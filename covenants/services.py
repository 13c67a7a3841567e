"""
Writes for the covenants app. Each service is keyword-only, runs in one transaction and
queues its follow-up tasks only once that transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from covenants.access import may
from covenants.models import (
    Covenant,
    Waiver,
)

logger = logging.getLogger(__name__)


# --- Waivers ------------------------------------------------------------------------


class WaiverRefused(Exception):
    """A waiver that cannot be recorded, with a sentence saying why."""


@transaction.atomic
def waiver_record(
    *,
    covenant_id: int,
    test_date: dt.date,
    instrument: str,
    recorded_by: AbstractBaseUser,
    borrower_id: int | None = None,
    amendment_id: int | None = None,
    note: str = "",
) -> Waiver:
    """Record the Lenders' waiver of one test; the agreement is re-evaluated on commit, so
    the result shows waived. A waiver covers only the covenant, test date and Borrower it names.

    The one check of who may waive (``may(user, "waive", covenant)``: the Agents of the
    agreement and administrators) for every way in: the page, the API and the admin. Refused
    access is ``PermissionDenied``; anything else refused is :class:`WaiverRefused`."""
    covenant = Covenant.objects.select_related("agreement").get(pk=covenant_id)
    if not may(recorded_by, "waive", covenant):
        raise PermissionDenied("Only the Agents of this agreement and administrators may record a waiver.")
    refusal = waiver_refusal(
        covenant=covenant,
        test_date=test_date,
        instrument=instrument,
        borrower_id=borrower_id,
        amendment_id=amendment_id,
    )
    if refusal:
        raise WaiverRefused(refusal)
    waiver = Waiver.objects.create(
        agreement=covenant.agreement,
        covenant=covenant,
        test_date=test_date,
        borrower_id=borrower_id,
        instrument=instrument.strip(),
        amendment_id=amendment_id,
        note=note,
        recorded_by=recorded_by,
    )
    # The post_save receiver requests the re-evaluation; nothing else to do here.
    return waiver


def waiver_refusal(
    *, covenant: Covenant, test_date: dt.date, instrument: str, borrower_id: int | None, amendment_id: int | None
) -> str:
    """Why a waiver could not be recorded, whoever records it (empty when it can); forms show
    it next to the fields before :func:`waiver_record` is asked."""
    if not instrument.strip():
        return "Name the instrument that grants the waiver (e.g. Waiver and Amendment No. 3)."
    if amendment_id is not None and not covenant.agreement.amendments.filter(pk=amendment_id).exists():
        return "The amendment named is not an amendment of this agreement."
    existing = Waiver.objects.filter(covenant=covenant, test_date=test_date, borrower_id=borrower_id)
    if existing.exists():
        return f"{covenant.section} on {test_date.isoformat()} is already waived."
    return ""
