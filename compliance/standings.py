"""
Each agreement's standing kept as data (:class:`compliance.models.AgreementStanding`): its
covenants' latest results counted by the status shown, and how much is late as of a day, so
that the portfolio dashboard of a Lender in a thousand agreements reads a thousand small rows
instead of working out tens of thousands of results and the late-financials rule per request.

The rules compute; the standing stores. The covenants table's selection of results is written
once, here (:func:`tabled`: each covenant's latest tested result per Borrower, and every breach
whatever its date), and the dashboard's table reads the same SQL; what is late is the
late-financials rule's (compliance.late_counts). Written:

- by each evaluation, in its transaction, once per batch of agreements after its results (and
  the receivers of its events) are written: :func:`standings_write`;
- by the daily refresh, for the new day (a statement becomes late when its deadline passes,
  with nothing written): :func:`standings_refresh`;
- by whatever changes another deliverable counted here (a compliance certificate signed,
  returned, superseded), for its agreement.

Whatever changes figures, terms, roles, amendments or waivers asks for an evaluation first (the
agreement's ``evaluation_requested_at``), so a standing is the agreement's as it stands while no
evaluation is outstanding, it is as of the day asked, and it was counted under the agreement's
calendar and deadline as they are (:func:`standing_of`).
Readers count live the agreements whose standing is not.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone

from compliance.choices import ResultStatus
from compliance.late_counts import late_counts
from compliance.late_financials import Deliverable
from compliance.models import AgreementStanding, CovenantTestResult
from compliance.periods_due import Calendar
from compliance.statuses import NEAR_BREACH, STATUS_LABELS
from covenants.choices import Frequency
from covenants.models import Agreement, Covenant

__all__ = [
    "NO_RESULT",
    "Standing",
    "calendar_key",
    "deliverable_counted",
    "standing_of",
    "standings_refresh",
    "standings_write",
    "table_counts",
    "tabled",
]

#: The key of the covenants without a result in the table's counts.
NO_RESULT = None
_COUNTED = (*STATUS_LABELS, "no_result")  # AgreementStanding's count columns, named as the keys
# Agreements per statement of the daily refresh: the rule's VALUES rows and the upsert stay small.
REFRESH_CHUNK = 1000

#: Other deliverables owed per period due whose late periods the standing counts, registered by
#: the apps that store them (execution: the compliance certificates), so this app names none.
_DELIVERABLES: dict[str, Deliverable] = {}


def deliverable_counted(deliverable: Deliverable) -> None:
    """Count ``deliverable``'s late periods in every standing written from now on."""
    _DELIVERABLES[deliverable.name] = deliverable


# --- The covenants table's selection of results --------------------------------------------

# Each covenant's latest tested result per Borrower key (a window function), every breach not
# waived whatever its date, covenants without any as a row of their own, each with the status
# shown. Standard SQL that SQLite runs too.
_TABLED = """
WITH latest AS (
    SELECT r.id, r.covenant_id, r.test_date, r.borrower_id, r.status, r.near_breach, r.headroom_percent,
           MAX(r.test_date) OVER (PARTITION BY r.covenant_id, COALESCE(r.borrower_id, 0)) AS latest_date
    FROM {result} r
    WHERE r.agreement_id IN ({ids}) AND r.is_current = %s AND r.status <> %s
),
tabled AS (
    SELECT c.agreement_id, c.id AS covenant_id, l.id AS result_id, l.test_date, l.borrower_id, l.headroom_percent,
           CASE WHEN l.test_date < l.latest_date THEN 1 ELSE 0 END AS earlier,
           CASE WHEN l.id IS NULL THEN NULL
                WHEN l.status = %s AND l.near_breach = %s THEN %s
                ELSE l.status END AS shown_status
    FROM {covenant} c
    LEFT JOIN latest l ON l.covenant_id = c.id AND (l.test_date = l.latest_date OR l.status = %s)
    WHERE c.agreement_id IN ({ids})
)
"""


def tabled(ids: Sequence[int]) -> tuple[str, list]:
    """``WITH latest AS (...), tabled AS (...)`` over these agreements, and its parameters:
    ``tabled`` (agreement_id, covenant_id, result_id, test_date, borrower_id, headroom_percent,
    earlier, shown_status) holds a row per covenant's result in the table (shown_status NULL for
    a covenant without one); ``earlier`` is 1 for a breach before the latest test date."""
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(ids))
    sql = _TABLED.format(
        result=quote(CovenantTestResult._meta.db_table), covenant=quote(Covenant._meta.db_table), ids=placeholders
    )
    params = [
        *ids,
        True,
        ResultStatus.NOT_TESTED,
        ResultStatus.COMPLIANT,
        True,
        NEAR_BREACH,
        ResultStatus.BREACH,
        *ids,
    ]
    return sql, params


_COUNTS = "SELECT agreement_id, shown_status, COUNT(*) FROM tabled GROUP BY agreement_id, shown_status"


def table_counts(ids: Sequence[int]) -> dict[int, dict[str | None, int]]:
    """The covenants table's rows of these agreements counted by agreement and status shown
    (:data:`NO_RESULT` for covenants without a result); agreements without a covenant left out.
    One query."""
    if not ids:
        return {}
    sql, params = tabled(ids)
    counts: dict[int, dict[str | None, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql + _COUNTS, params)
        for agreement_id, shown, count in cursor.fetchall():
            counts[agreement_id][shown] = count
    return dict(counts)


# --- The standing as read ------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """An agreement's standing as the dashboard reads it."""

    counts: dict[str | None, int]  # the table's rows by status shown; NO_RESULT: covenants without one
    late_financials: int
    late_quarters: int
    others: dict[str, int] = field(default_factory=dict)  # late periods of other deliverables, by name


#: The columns of AgreementStanding a reader fetches (through the agreement: ``standing__<column>``),
#: in the order :func:`standing_of` takes them; the last is never NULL in a stored standing.
COLUMNS = (*_COUNTED, "late_financials", "late_quarters", "late_deliverables", "calendar", "as_of")


class _Agreement(Calendar, Protocol):
    evaluation_requested_at: dt.datetime | None


def calendar_key(agreement: Calendar) -> str:
    """A digest of what the late rule reads of the agreement itself: its fiscal calendar,
    reporting frequency and reporting deadline. A standing counted under others is not its own.
    Read for every agreement of a dashboard: worked out once per distinct calendar."""
    stored = getattr(agreement, "fiscal_calendar", None)
    return _calendar_key(
        agreement.fiscal_year_end_month,
        agreement.reporting_deadline_days,
        getattr(agreement, "reporting_frequency", None) or Frequency.QUARTER,
        json.dumps(stored, sort_keys=True) if stored else "",
    )


@functools.lru_cache(maxsize=1024)
def _calendar_key(month: int, deadline_days: int, reporting: str, calendar: str) -> str:
    text = f"{month}:{deadline_days}:{reporting}:{calendar}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def standing_of(agreement: _Agreement, row: Sequence, *, today: dt.date) -> Standing | None:
    """The agreement's stored standing, read as :data:`COLUMNS`, if it is the agreement's as it
    stands today; None otherwise. It is while no evaluation is outstanding (whatever changes
    figures, terms, roles, amendments or waivers asks for one, and the evaluation rewrites the
    standing with the results), it is as of today, and it was counted under the agreement's
    calendar and deadline as they are."""
    values = dict(zip(COLUMNS, row, strict=True))
    others = values["late_deliverables"] or {}
    if (
        agreement.evaluation_requested_at is not None
        or values["as_of"] != today
        or values["calendar"] != calendar_key(agreement)
        or any(name not in others for name in _DELIVERABLES)
    ):
        return None
    counts: dict[str | None, int] = {key: values[key] for key in STATUS_LABELS if values[key]}
    if values["no_result"]:
        counts[NO_RESULT] = values["no_result"]
    return Standing(
        counts=counts,
        late_financials=values["late_financials"],
        late_quarters=values["late_quarters"],
        others=dict(others),
    )


# --- Writing -------------------------------------------------------------------------------

_CALENDAR_FIELDS = (
    "id",
    "name",
    "fiscal_year_end_month",
    "fiscal_calendar",
    "reporting_frequency",
    "reporting_deadline_days",
)


def standings_write(*, agreement_ids: Iterable[int], as_of: dt.date) -> int:
    """Write the standing of these agreements as of ``as_of``, from the results stored now and
    the late rule: four queries for any number of them (their calendars, the table's counts,
    the covenants' terms and the late counts) and one upsert per thousand. Called inside the
    transaction that wrote what it counts. Returns how many were written."""
    ids = sorted(set(agreement_ids))
    if not ids:
        return 0
    with transaction.atomic(savepoint=False):
        # Locked, as an evaluation locks them: none commits new results between this read and the write.
        agreements = list(
            Agreement.objects.select_for_update().filter(pk__in=ids).order_by("pk").only(*_CALENDAR_FIELDS)
        )
        return _standings_write(agreements, as_of=as_of)


def _standings_write(agreements: list[Agreement], *, as_of: dt.date) -> int:
    ids = [a.pk for a in agreements]
    counts = table_counts(ids)
    others = list(_DELIVERABLES.values())
    late = late_counts(agreements, as_of=as_of, others=others)
    now = timezone.now()
    rows = []
    for agreement in agreements:
        pk = agreement.pk
        mine = counts.get(pk, {})
        rows.append(
            AgreementStanding(
                agreement_id=pk,
                **{key: mine.get(key, 0) for key in STATUS_LABELS},
                no_result=mine.get(NO_RESULT, 0),
                late_financials=late[pk].statements,
                late_quarters=late[pk].periods,
                late_deliverables=late[pk].others,
                calendar=calendar_key(agreement),
                as_of=as_of,
                written_at=now,
            )
        )
    AgreementStanding.objects.bulk_create(
        rows,
        batch_size=REFRESH_CHUNK,
        update_conflicts=True,
        unique_fields=["agreement"],
        update_fields=[
            *_COUNTED,
            "late_financials",
            "late_quarters",
            "late_deliverables",
            "calendar",
            "as_of",
            "written_at",
        ],
    )
    return len(rows)


def standings_refresh(*, as_of: dt.date, agreement_ids: Sequence[int] | None = None) -> int:
    """Rewrite the standings of every agreement (or of these) as of ``as_of``, a thousand
    agreements per statement: the daily refresh, for the day's late statements. Returns how
    many were written."""
    ids = (
        list(agreement_ids)
        if agreement_ids is not None
        else list(Agreement.objects.order_by("pk").values_list("pk", flat=True))
    )
    written = 0
    # A transaction per thousand: each holds its agreements' locks briefly.
    for start in range(0, len(ids), REFRESH_CHUNK):
        with transaction.atomic():
            written += standings_write(agreement_ids=ids[start : start + REFRESH_CHUNK], as_of=as_of)
    return written
