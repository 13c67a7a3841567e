"""
The late-financials rule (compliance.late_financials) counted per agreement: how many statements
are late, in how many periods, and how many periods of each other deliverable. The same SQL as
the rule's lists and pages (its periods due, who owes them, what is filed), grouped by agreement:
what an agreement's stored standing keeps (compliance.standings), and what the dashboard counts
live for an agreement whose standing is not as it stands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection

from compliance.late_financials import Deliverable, _due_periods, _late_ctes, statements_due
from compliance.periods_due import Calendar

__all__ = ["LateCounts", "late_counts"]


@dataclass(frozen=True)
class LateCounts:
    """What is late of one agreement as of a day."""

    statements: int = 0  # late statements
    periods: int = 0  # periods with a late statement (the dashboard's groups)
    others: dict[str, int] = field(default_factory=dict)  # periods late of each other deliverable, by name


_BY_AGREEMENT = """
SELECT 0, agreement_id, COUNT(*), COUNT(DISTINCT period_end) FROM late GROUP BY agreement_id"""
_OTHER = """
UNION ALL
SELECT {kind}, d.agreement_id, COUNT(*), NULL FROM due_period d WHERE NOT ({delivered}) GROUP BY d.agreement_id"""


def late_counts(
    agreements: Sequence[Calendar], *, as_of: dt.date, others: Sequence[Deliverable] = ()
) -> dict[int, LateCounts]:
    """Per agreement (every one given, with nothing late as zeros), its late statements, the
    periods they are in and the periods late of each of ``others``, as of ``as_of``. Two queries
    for any number of agreements (the covenants' terms, then the counts); one when nothing is due."""
    due = statements_due(agreements, as_of=as_of)
    counted = {a.pk: [0, 0, dict.fromkeys((o.name for o in others), 0)] for a in agreements}
    if due:
        sql, params = _late_ctes(due, {})
        if others:
            cte, cte_params = _due_periods(due)
            sql, params = f"{sql},\n{cte}", [*params, *cte_params]
        sql += _BY_AGREEMENT
        for kind, other in enumerate(others, start=1):
            # The condition is the deliverable's own app's SQL text (no user input); its values are parameters.
            sql += _OTHER.format(kind=kind, delivered=other.delivered)
            params += list(other.params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for kind, agreement_id, count, periods in cursor.fetchall():
                if kind == 0:
                    counted[agreement_id][0], counted[agreement_id][1] = int(count), int(periods)
                else:
                    counted[agreement_id][2][others[kind - 1].name] = int(count)
    return {pk: LateCounts(statements, periods, others) for pk, (statements, periods, others) in counted.items()}
