"""
Late financials: the one rule deciding whose statements are late, as of a date.

A party's statement for a fiscal quarter (or the agreement's reporting period) is **late** as
of a day when all of these hold:

1. a covenant needs it: the quarter is in the window (either side of a ratio) of a test the
   covenant makes on or before that day, under the terms in force for that test;
2. its reporting deadline has passed: the quarter end plus the agreement's
   ``reporting_deadline_days`` is before the day (the deadline day itself is not late);
3. it is among the latest ``ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS`` (8) such quarters of
   the agreement: the look-back, counted in quarters the covenants need, so that an agreement
   whose tests have ended keeps its last missing statements in view without the portal
   chasing a quarter from decades ago;
4. the party owes it and has no current statement for it. A test on a consolidated basis
   through a named reporting party (a parent or guarantor; ``CovenantTerms.reporting_party``)
   reads that party's statement alone, as the engine does: that party owes the quarters of
   those tests, whatever its role, and the Borrowers do not. Every other test reads the
   Borrowers': each party holding the Borrower role on the quarter end owes them.

A quarter no covenant needs (before the first test, or after the schedules end) is never
late: nothing waits on it. docs/alerts.md states the rule for users.

Public entry points (everything else here is the rule's own working):

- :func:`statements_due`: per agreement, the periods past their deadline that the covenants
  need, and who owes them (pure Python over the terms' shapes; one query without ``specs``).
  A check of what else is owed by a deadline can start from it.
- :func:`late_financials`: every late statement of some agreements, as :class:`LateFinancial`
  items (the agreement page, a Borrower's home, the daily alert task, the upload page).
- :func:`late_financials_page`: the same statements counted in the database, with one page of
  them grouped by quarter and the counts of some agreements (the portfolio dashboard, where a
  Lender's late financials run to tens of thousands).

Both read the same SQL (``_LATE``): the periods due are sent with the query, and the database
pairs them with the parties owing them and keeps those with no current statement. Two queries
for any number of agreements (one when the caller has read the covenants' terms already).

Other deliverables owed for the same periods follow the same rule (rules 1 to 3: due the
reporting deadline after a period the covenants need, late the day after, in the same
look-back), each said only by what counts as delivered (:class:`Deliverable`, an SQL condition
its own app writes: the compliance certificate is ``execution``'s). :func:`periods_late` lists
them; :func:`late_financials_page` counts them in its one statement beside the statements.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import connection

from compliance import engine
from compliance.periods_due import Calendar, agreement_calendar, late_quarters, periods_needed_by, quarters_needed
from compliance.terms_shapes import Versions, terms_shapes, versions_of
from covenants.choices import Role
from covenants.models import AgreementRole
from covenants.periods import FiscalCalendar
from covenants.reporting_periods import periods_needed
from parties.models import Party
from statements.choices import StatementStatus
from statements.models import FinancialStatement

__all__ = [
    "Deliverable",
    "LateFinancial",
    "LatePage",
    "StatementsDue",
    "late_financials",
    "late_financials_page",
    "late_quarters",
    "periods_late",
    "periods_needed_by",
    "quarters_needed",
    "statements_due",
]


@dataclass(frozen=True)
class LateFinancial:
    """A party's statement for a fiscal quarter that a covenant needs and that is past its
    reporting deadline (a Borrower's, or a consolidated test's reporting party's)."""

    agreement_id: int
    agreement_name: str
    borrower: str
    period_end: dt.date
    due_on: dt.date
    party_id: int = 0
    defined_term: str = ""


@dataclass(frozen=True)
class StatementsDue:
    """An agreement's periods past their deadline that its covenants need (within the
    look-back), and who owes each: every Borrower holding the role on the period end, and each
    consolidated test's reporting party."""

    agreement_id: int
    periods: tuple[dt.date, ...]  # every period due, oldest first
    borrowers: tuple[dt.date, ...]  # those the Borrowers owe
    reporters: tuple[tuple[int, tuple[dt.date, ...]], ...] = ()  # (party id, periods it owes)


@dataclass(frozen=True)
class Deliverable:
    """Something else owed once per agreement for each period due (the rule's periods, rules 1 to
    3), late while it is not delivered. ``delivered`` is an SQL condition on ``d.agreement_id``
    and ``d.period_end`` (a period due) that holds once it is, with its ``params``: written by the
    app that stores the deliverable, so this rule never names another app's tables."""

    name: str
    delivered: str
    params: tuple = ()


@dataclass(frozen=True)
class LatePage:
    """The late financials of many agreements, counted, with one page of them."""

    total: int  # late statements in all
    quarters: int  # (agreement, quarter) groups in all
    items: list[LateFinancial]  # the statements of the page's groups, in the rule's order
    counts: dict[int, int]  # late statements of each agreement asked about
    page: int = 1  # which page of groups ``items`` holds
    # Per Deliverable asked for (by name): how many periods' are late in all, and of each agreement asked about.
    others: dict[str, int] = dataclasses.field(default_factory=dict)
    other_counts: dict[str, dict[int, int]] = dataclasses.field(default_factory=dict)


# The pure part (which periods are needed, which are past their deadline) is in
# compliance.periods_due; imported here, where callers have always found it.


# --- The rule: the periods due, and who owes them ----------------------------------------------


def statements_due(
    agreements: Sequence[Calendar],
    *,
    as_of: dt.date,
    specs: Mapping[int, Sequence[engine.CovenantSpec]] | None = None,
    lookback: int | None = None,
) -> dict[int, StatementsDue]:
    """
    Per agreement, the periods its covenants need whose reporting deadline has passed by
    ``as_of`` (the latest ``lookback`` of them), and who owes each (rules 1 to 3 and the first
    half of 4 in this module's docstring). Agreements with nothing due are left out.

    One query for the covenants' terms, none when the caller has their ``specs`` already.
    Covenants drafted alike (the same versions, windows and schedule dates on the same calendar)
    are worked out once.
    """
    if not agreements:
        return {}
    shapes = (
        {pk: [versions_of(spec) for spec in covenant_specs] for pk, covenant_specs in specs.items()}
        if specs is not None
        else terms_shapes([a.pk for a in agreements])
    )
    worked_out: dict[tuple[Versions, FiscalCalendar, str], dict[int | None, frozenset[dt.date]]] = {}
    due: dict[int, StatementsDue] = {}
    for agreement in agreements:
        cal, reporting = agreement_calendar(agreement)
        needed: dict[int | None, set[dt.date]] = defaultdict(set)
        for versions in shapes.get(agreement.pk, []):
            key = (versions, cal, reporting)
            if key not in worked_out:
                worked_out[key] = _needed_by_party(versions, cal=cal, reporting=reporting, as_of=as_of)
            for party, periods in worked_out[key].items():
                needed[party] |= periods
        periods = late_quarters(
            set().union(*needed.values()),
            as_of=as_of,
            reporting_deadline_days=agreement.reporting_deadline_days,
            lookback=lookback,
        )
        if periods:
            owed = {party: tuple(p for p in periods if p in needed[party]) for party in needed}
            due[agreement.pk] = StatementsDue(
                agreement_id=agreement.pk,
                periods=periods,
                borrowers=owed.pop(None, ()),
                reporters=tuple(sorted((party, ps) for party, ps in owed.items() if party is not None and ps)),
            )
    return due


def _needed_by_party(
    versions: Versions, *, cal: FiscalCalendar, reporting: str, as_of: dt.date
) -> dict[int | None, frozenset[dt.date]]:
    """The periods a covenant needs, by whose statement its terms read (None: the Borrowers').
    A version reading another party's statement is read as a deletion: it still ends the
    versions before it, and its own test dates need nothing of this party."""
    needed = {}
    for party in {owner for _, owner in versions}:
        mine = tuple(
            shape if owner == party else dataclasses.replace(shape, action=_DELETE) for shape, owner in versions
        )
        needed[party] = periods_needed([mine], as_of=as_of, calendar=cal, reporting=reporting)
    return needed


# --- The rule in the database: who has not filed what is due ------------------------------------

_DELETE = "delete"
_ROLES, _STATEMENTS, _PARTIES = (m._meta.db_table for m in (AgreementRole, FinancialStatement, Party))

# Each Borrower holding the role on a period end its agreement's Borrowers owe.
_BORROWERS_OWE = f"""
    SELECT a.agreement_id, d.period_end, r.party_id, r.id AS role_id
    FROM due_agreement a JOIN due_set d ON d.set_no = a.set_no
    JOIN {_ROLES} r ON r.agreement_id = a.agreement_id AND r.role = %s
    WHERE (r.holds_from IS NULL OR r.holds_from <= d.period_end)
      AND (r.holds_to IS NULL OR d.period_end <= r.holds_to)"""  # noqa: S608 (the models' table names)
# Each reporting party, for the periods its consolidated tests need (named by its first role).
_REPORTERS_OWE = f"""
    SELECT d.agreement_id, d.period_end, d.party_id,
           (SELECT MIN(r.id) FROM {_ROLES} r
            WHERE r.agreement_id = d.agreement_id AND r.party_id = d.party_id) AS role_id
    FROM due_reporter d"""  # noqa: S608
# Of what is owed, each party once per period, without a current statement for it. The current
# statements of the periods due are read once (the index on agreement, status and period) and
# matched by hash: probing the unique index once per party and period owed cost a Lender in
# 1,000 agreements (40,000 owed) twice the CPU on the real date (docs/benchmarks.md, workload 3).
# MATERIALIZED, or PostgreSQL folds ``filed`` back into those probes.
_LATE = f"""
filed AS MATERIALIZED (
    SELECT s.agreement_id, s.borrower_id, s.period_end FROM {_STATEMENTS} s
    WHERE s.agreement_id IN (SELECT agreement_id FROM due_agreement) AND s.status = %s AND s.period_end >= %s
),
late AS (
    SELECT o.agreement_id, o.period_end, o.party_id, MIN(o.role_id) AS role_id FROM owed o
    LEFT JOIN filed f ON f.agreement_id = o.agreement_id AND f.borrower_id = o.party_id AND f.period_end = o.period_end
    WHERE f.agreement_id IS NULL
    GROUP BY o.agreement_id, o.period_end, o.party_id
)"""  # noqa: S608
_ITEMS = f"""
SELECT l.agreement_id, l.period_end, l.party_id, p.legal_name, r.defined_term
FROM late l JOIN {_PARTIES} p ON p.id = l.party_id LEFT JOIN {_ROLES} r ON r.id = l.role_id"""  # noqa: S608


def _values(name: str, columns: Sequence[str], rows: Sequence[tuple]) -> tuple[str, list]:
    """``name (columns) AS (VALUES (...), ...)`` and its parameters."""
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"{name} ({', '.join(columns)}) AS (VALUES {', '.join([row] * len(rows))})", [v for r in rows for v in r]


def _late_ctes(due: Mapping[int, StatementsDue], positions: Mapping[int, int]) -> tuple[str, list]:
    """``WITH`` the periods due sent as rows, ending in ``late`` (agreement_id, period_end,
    party_id, role_id): one row per party and period it owes and has not filed. Agreements whose
    Borrowers owe the same periods (agreements drafted alike) share a set of them;
    ``due_agreement`` also carries each agreement's position in the caller's order."""
    day = connection.ops.adapt_datefield_value
    sets: dict[tuple[dt.date, ...], int] = {}
    agreements, reporters = [], []
    for agreement_id, item in due.items():
        set_no = sets.setdefault(item.borrowers, len(sets)) if item.borrowers else -1
        agreements.append((agreement_id, set_no, positions.get(agreement_id, 0)))
        reporters += [(agreement_id, day(p), party) for party, periods in item.reporters for p in periods]
    periods = [(n, day(p)) for owed, n in sets.items() for p in owed]
    parts = [_values("due_agreement", ("agreement_id", "set_no", "position"), agreements)]
    owed, owed_params = [], []
    if periods:
        parts.append(_values("due_set", ("set_no", "period_end"), periods))
        owed.append(_BORROWERS_OWE)
        owed_params.append(Role.BORROWER)
    if reporters:
        parts.append(_values("due_reporter", ("agreement_id", "period_end", "party_id"), reporters))
        owed.append(_REPORTERS_OWE)
    sql = "WITH " + ",\n".join([s for s, _ in parts] + [f"owed AS ({' UNION ALL '.join(owed)})", _LATE])
    first = day(min(min(item.periods) for item in due.values()))  # no statement before it is looked at
    return sql, [v for _, p in parts for v in p] + owed_params + [StatementStatus.CURRENT, first]


def _date(value: dt.date | str) -> dt.date:
    """A date as the database returns a date sent as a parameter (SQLite: its text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _item(agreement: Calendar, row: Sequence) -> LateFinancial:
    """A row of ``_ITEMS`` as the rule's item."""
    agreement_id, period_end, party_id, name, term = row[:5]
    period_end = _date(period_end)
    return LateFinancial(
        agreement_id=agreement_id,
        agreement_name=agreement.name,
        borrower=name,
        period_end=period_end,
        due_on=period_end + dt.timedelta(days=agreement.reporting_deadline_days),
        party_id=party_id,
        defined_term=term or "",
    )


def _in_order(items: Iterable[LateFinancial]) -> list[LateFinancial]:
    return sorted(items, key=lambda i: (i.period_end, i.borrower, i.party_id))


# --- The entry points --------------------------------------------------------------------------


def late_financials(
    agreements: Sequence[Calendar],
    *,
    as_of: dt.date,
    specs: Mapping[int, Sequence[engine.CovenantSpec]] | None = None,
    lookback: int | None = None,
) -> dict[int, list[LateFinancial]]:
    """
    The late statements of these agreements as of ``as_of`` (the rule in this module's
    docstring), by agreement: oldest quarter first, then by party name, each party once per
    quarter. Agreements with none are left out.

    Two queries (one when the caller has the covenants' ``specs`` already): the covenants'
    terms, then the parties owing a period due that have no current statement for it.
    """
    due = statements_due(agreements, as_of=as_of, specs=specs, lookback=lookback)
    if not due:
        return {}
    sql, params = _late_ctes(due, {})
    with connection.cursor() as cursor:
        cursor.execute(sql + _ITEMS, params)
        rows = cursor.fetchall()
    by_pk = {a.pk: a for a in agreements}
    late: dict[int, list[LateFinancial]] = defaultdict(list)
    for row in rows:
        late[row[0]].append(_item(by_pk[row[0]], row))
    return {pk: _in_order(late[pk]) for pk in by_pk if pk in late}


def _due_periods(due: Mapping[int, StatementsDue]) -> tuple[str, list]:
    """``due_period (agreement_id, period_end)``: every period due of each agreement. Agreements
    due the same periods (drafted alike) share a set of them, so a portfolio's thousands of
    agreements send one row each and a few sets, not a row per agreement and period."""
    day = connection.ops.adapt_datefield_value
    sets: dict[tuple[dt.date, ...], int] = {}
    agreements = [(agreement_id, sets.setdefault(item.periods, len(sets))) for agreement_id, item in due.items()]
    periods = [(n, day(p)) for owed, n in sets.items() for p in owed]
    parts = [
        _values("due_period_agreement", ("agreement_id", "set_no"), agreements),
        _values("due_period_set", ("set_no", "period_end"), periods),
    ]
    sql = ",\n".join(
        [s for s, _ in parts]
        + [
            "due_period AS (SELECT a.agreement_id, s.period_end FROM due_period_agreement a "
            "JOIN due_period_set s ON s.set_no = a.set_no)"
        ]
    )
    return sql, [v for _, p in parts for v in p]


def periods_late(
    agreements: Sequence[Calendar],
    deliverable: Deliverable,
    *,
    as_of: dt.date,
    specs: Mapping[int, Sequence[engine.CovenantSpec]] | None = None,
    lookback: int | None = None,
) -> dict[int, list[tuple[dt.date, dt.date]]]:
    """Per agreement, the periods due (this module's rules 1 to 3) whose ``deliverable`` is not
    delivered as of ``as_of``, as (period end, due on), oldest first; agreements with none are
    left out. Two queries (one with ``specs``): the covenants' terms, then the periods."""
    due = statements_due(agreements, as_of=as_of, specs=specs, lookback=lookback)
    if not due:
        return {}
    cte, params = _due_periods(due)
    # The condition is the deliverable app's own SQL text (no user input); its values are parameters.
    sql = f"WITH {cte} SELECT d.agreement_id, d.period_end FROM due_period d WHERE NOT ({deliverable.delivered})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *deliverable.params])
        rows = cursor.fetchall()
    days = {a.pk: dt.timedelta(days=a.reporting_deadline_days) for a in agreements}
    late: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for agreement_id, period_end in sorted((pk, _date(day)) for pk, day in rows):
        late[agreement_id].append((period_end, period_end + days[agreement_id]))
    return dict(late)


# Each Deliverable's late periods counted beside the statements: in all (row kind 10 + its
# position), then of each agreement asked about (20 + its position).
_OTHERS = """
UNION ALL
SELECT {total}, NULL, NULL, NULL, NULL, NULL, COUNT(*), NULL FROM due_period d WHERE NOT ({delivered})"""
_OTHER_COUNTS = """
UNION ALL
SELECT {each}, d.agreement_id, NULL, NULL, NULL, NULL, COUNT(*), NULL FROM due_period d
WHERE d.agreement_id IN ({ids}) AND NOT ({delivered}) GROUP BY d.agreement_id"""

_PAGE = """,
groups AS (SELECT agreement_id, period_end, COUNT(*) AS n FROM late GROUP BY agreement_id, period_end),
ranked AS (
    SELECT g.agreement_id, g.period_end, ROW_NUMBER() OVER (ORDER BY a.position, g.period_end) AS rn
    FROM groups g JOIN due_agreement a ON a.agreement_id = g.agreement_id
)
SELECT 0, NULL, NULL, NULL, NULL, NULL, (SELECT COUNT(*) FROM late), (SELECT COUNT(*) FROM groups)
UNION ALL
SELECT 1, l.agreement_id, l.period_end, l.party_id, p.legal_name, r.defined_term, NULL, NULL
FROM late l JOIN ranked k ON k.agreement_id = l.agreement_id AND k.period_end = l.period_end
JOIN {parties} p ON p.id = l.party_id LEFT JOIN {roles} r ON r.id = l.role_id
WHERE k.rn > %s AND k.rn <= %s"""
_COUNTS = """
UNION ALL
SELECT 2, agreement_id, NULL, NULL, NULL, NULL, SUM(n), NULL FROM groups
WHERE agreement_id IN ({ids}) GROUP BY agreement_id"""


def late_financials_page(
    agreements: Sequence[Calendar],
    *,
    as_of: dt.date,
    page: int = 1,
    size: int = 50,
    counted: Sequence[int] = (),
    lookback: int | None = None,
    others: Sequence[Deliverable] = (),
) -> LatePage:
    """
    The late statements of these agreements as of ``as_of`` (the rule of :func:`late_financials`),
    counted in the database: how many in all and in how many (agreement, quarter) groups, the
    statements of one page of ``size`` groups (in the agreements' order as given, then quarter),
    and how many each agreement of ``counted`` has; the last page when ``page`` asks beyond it.
    Each of ``others`` (late certificates, say) is counted in the same statement, in all and
    for each agreement of ``counted``, by the same periods due.

    Two queries (the covenants' terms, then the counts and the page); three past the last page.
    """
    due = statements_due(agreements, as_of=as_of, lookback=lookback)
    if not due:
        return LatePage(
            0, 0, [], {}, page=1, others={o.name: 0 for o in others}, other_counts={o.name: {} for o in others}
        )
    positions = {a.pk: position for position, a in enumerate(agreements)}
    sql, params = _late_ctes(due, positions)
    if others:
        cte, cte_params = _due_periods(due)
        sql, params = f"{sql},\n{cte}", [*params, *cte_params]
    ids = [pk for pk in counted if pk in due]
    sql += _PAGE.format(parties=_PARTIES, roles=_ROLES)
    if ids:
        sql += _COUNTS.format(ids=", ".join(["%s"] * len(ids)))
    tail: list = []
    for position, other in enumerate(others):
        sql += _OTHERS.format(total=10 + position, delivered=other.delivered)
        tail += other.params
        if ids:
            sql += _OTHER_COUNTS.format(each=20 + position, ids=", ".join(["%s"] * len(ids)), delivered=other.delivered)
            tail += [*ids, *other.params]
    number = max(page, 1)
    rows = _page_rows(sql, params, ids, number, size, tail)
    groups = int(rows[0][7])
    if number > max(1, -(-groups // size)):
        number = max(1, -(-groups // size))
        rows = _page_rows(sql, params, ids, number, size, tail)
    by_pk = {a.pk: a for a in agreements}
    items = [_item(by_pk[row[1]], row[1:]) for row in rows if row[0] == 1]
    items.sort(key=lambda i: (positions[i.agreement_id], i.period_end, i.borrower, i.party_id))
    counts = {row[1]: int(row[6]) for row in rows if row[0] == 2}
    return LatePage(
        total=int(rows[0][6]),
        quarters=groups,
        items=items,
        counts=counts,
        page=number,
        others={other.name: sum(int(r[6]) for r in rows if r[0] == 10 + i) for i, other in enumerate(others)},
        other_counts={other.name: {r[1]: int(r[6]) for r in rows if r[0] == 20 + i} for i, other in enumerate(others)},
    )


def _page_rows(sql: str, params: list, ids: Sequence[int], page: int, size: int, tail: Sequence = ()) -> list[tuple]:
    """The rows of ``_PAGE`` (the totals first) for one page of groups."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, (page - 1) * size, page * size, *ids, *tail])
        rows = cursor.fetchall()
    return sorted(rows, key=lambda row: row[0])
