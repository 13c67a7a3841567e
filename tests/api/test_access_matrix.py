"""
The access matrix: every route of the API, every method, for each role on the seed Loan
Agreement (Borrower, Lender, Agent, Collateral Agent), an administrator, an outsider, the
users of a second facility that shares no party with it, the users of two deals that do
share a party with it (tests/shared_deals.py: Gamma, where the seed's Lender Canadian
Imperial Bank of Commerce is a Lender too; Delta, whose Agent is the seed's Agent, First
Union), and no one signed in.

Who sees what (``SEES``): a user sees the facilities in which a party they belong to holds a
role, so the seed's Lender's user sees the seed and Gamma, the seed's Agent's user the seed
and Delta; Gamma's and Delta's own users see their deal only.

Reads: an object the user may not see is 404, no list holds rows of a facility the user
does not see (rows shared with one they see excepted), and no response names a party,
person or agreement that only such a facility holds.
Writes: allowed roles succeed; a role that sees the object but may not change it gets 403;
one that does not see it gets 404 (or 400/403 when the object is named in the body); and
nothing is changed by a refused write. Parties and people are rows several deals share: an
Agent changes one only where it administers every deal the row is in; administrators (and,
for a party, its own users) may. Line items are reference data every deal's statements name:
anyone signed in reads them, and only administrators add them, as only they create agreements.

The routes come from the URL resolver, so a route added without a case here fails
``test_every_route_has_a_case``. A new resource adds its cases to ``CASES``, its rows to
``_rows``, one object per facility to ``_objects`` and, for a list, an entry in ``LISTED``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model, Q
from django.urls import URLResolver, get_resolver, reverse

from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import Role
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    Covenant,
    CovenantTerms,
    DefinedMetric,
    LineItem,
    Waiver,
)
from covenants.services import waiver_record
from documents.models import Document, ImportReview, ReviewItem
from documents.review.opening import open_review_as
from parties.models import Party, PartyRelationship, Person
from statements.models import FinancialStatement
from statements.services import statement_records_submit
from syndicate.models import Assignment, Commitment, ConsentRequest, DefaultingLender, Vote, VotingThreshold
from tests.factories import Facility
from tests.shared_deals import (
    CIBC,
    CIBC_SIGNATORY,
    FIRST_UNION,
    FIRST_UNION_SIGNATORY,
    administered_by,
    agreements_of_party,
    agreements_signed_by,
    delta_deal,
    gamma_deal,
)

from .conftest import AS_OF, HARBOR, SEED, World, build_world, harbor_records, seed_records
from .execution_world import add_executions, execution_cases, execution_objects, execution_rows
from .syndicate_world import LENDER_SIDE, VOTERS, add_syndicates, syndicate_objects, syndicate_rows

pytestmark = pytest.mark.django_db

GAMMA = "gamma"
DELTA = "delta"
ROLES = (
    "borrower",
    "lender",
    "agent",
    "collateral_agent",
    "admin",
    "outsider",
    "harbor_borrower",
    "harbor_agent",
    "gamma_agent",
    "gamma_borrower",
    "delta_borrower",
    "delta_lender",
    "anonymous",
)
FACILITIES = (SEED, HARBOR, GAMMA, DELTA)
# The facilities each role's user sees: those where one of their parties holds a role.
SEES: dict[str, set[str]] = {
    "borrower": {SEED},
    "lender": {SEED, GAMMA},  # Canadian Imperial Bank of Commerce: a Lender in both
    "agent": {SEED, DELTA},  # First Union National Bank: the Agent of both
    "collateral_agent": {SEED},
    "admin": set(FACILITIES),
    "outsider": set(),
    "harbor_borrower": {HARBOR},
    "harbor_agent": {HARBOR},
    "gamma_agent": {GAMMA},
    "gamma_borrower": {GAMMA},
    "delta_borrower": {DELTA},
    "delta_lender": {DELTA},
    "anonymous": set(),
}
AGENTS = {
    SEED: {"agent", "collateral_agent", "admin"},
    HARBOR: {"harbor_agent", "admin"},
    GAMMA: {"gamma_agent", "admin"},
    DELTA: {"agent", "admin"},
}
SUBMITTERS = {
    SEED: {"borrower", "agent", "collateral_agent", "admin"},
    HARBOR: {"harbor_borrower", "harbor_agent", "admin"},
    GAMMA: {"gamma_borrower", "gamma_agent", "admin"},
    DELTA: {"delta_borrower", "agent", "admin"},
}
# Users who may record parties and signatories at all: administrators and the Agents' users.
PARTY_MANAGERS = {"agent", "collateral_agent", "harbor_agent", "gamma_agent", "admin"}


def api_routes() -> set[tuple[str, str]]:
    """(url name, method) of every route mounted under the ``api`` namespace."""
    _, resolver = get_resolver().namespace_dict["api"]
    found: set[tuple[str, str]] = set()

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            callback = pattern.callback
            actions = getattr(callback, "actions", None)
            if actions:
                # DRF's view adds "head" to this dict on the first GET it serves: not a route of its own.
                methods = set(actions) - {"head"}
            else:
                view_class = callback.view_class
                methods = {m for m in view_class.http_method_names if hasattr(view_class, m)} - {"options", "head"}
            found.update((pattern.name, method.upper()) for method in methods)

    walk(resolver.url_patterns)
    return found


# --- The world: the API's seed and Harbor facilities, and the two deals sharing a party ----


def add_shared_deals(world: World) -> None:
    """Gamma and Delta with figures, results, a waiver, an amendment and signatories, and
    users of their own parties (the shared parties' users are the seed's Lender and Agent)."""
    deals = {GAMMA: gamma_deal(), DELTA: delta_deal()}
    world.cache["deals"] = deals
    gamma, delta = deals[GAMMA], deals[DELTA]
    world.users |= {
        "gamma_agent": gamma.users["agent"],
        "gamma_borrower": gamma.users["borrower"],
        "delta_borrower": delta.users["borrower"],
        "delta_lender": delta.users["lender"],
    }
    for facility in deals.values():
        for quarter in (dt.date(2020, 3, 31), dt.date(2020, 6, 30)):
            outcome = statement_records_submit(
                agreement=facility.agreement, user=None, records=harbor_records(facility, quarter), source="command"
            )
            assert outcome.ok, outcome.errors
        agreement_evaluate(agreement_id=facility.agreement.pk, as_of=AS_OF)
        waiver_record(
            covenant_id=facility.agreement.covenants.get(section="6.1").pk,
            test_date=dt.date(2020, 3, 31),
            instrument="First Waiver",
            recorded_by=world.users["admin"],
        )
        Amendment.objects.create(agreement=facility.agreement, number=1, title="Amendment No. 1 to Credit Agreement")


def add_defined_metrics(world: World) -> None:
    """A defined term in each facility's agreement, for the defined-metrics routes."""
    for agreement in (
        world.seed.agreement,
        world.harbor.agreement,
        *(d.agreement for d in world.cache["deals"].values()),
    ):
        DefinedMetric.objects.create(agreement=agreement, name="net_revenues", label="Net Revenues", formula="revenues")


def add_documents(world: World) -> None:
    """A stored text in each facility's agreement, for the documents routes."""
    for agreement in (
        world.seed.agreement,
        world.harbor.agreement,
        *(d.agreement for d in world.cache["deals"].values()),
    ):
        text = f"AMENDMENT NO. 1 TO {agreement.title.upper()}"
        document = Document.objects.create(
            agreement=agreement,
            filename="a1.txt",
            original=text.encode(),
            sha256=sha256(text.encode()).hexdigest(),
            text=text,
        )
        # Its review, with the agreement's item accepted, for the review routes.
        review = open_review_as(None, document)
        review.items.filter(key__startswith="agreement:").update(decision="accepted")


@pytest.fixture
def world(db) -> World:
    world = build_world()
    add_shared_deals(world)
    add_defined_metrics(world)
    add_documents(world)
    add_syndicates(world, {HARBOR: world.harbor, **world.cache["deals"]})
    add_executions(
        world, [world.seed.agreement, world.harbor.agreement, *(d.agreement for d in world.cache["deals"].values())]
    )
    return world


def facility(world: World, which: str) -> Facility:
    if which == HARBOR:
        return world.harbor
    return world.cache["deals"][which]


# --- The rows of each facility ---------------------------------------------------------


def agreements_of(world: World, which: str) -> list[Agreement]:
    """A facility's agreements: the seed's are every agreement the seed documents hold."""
    others = {other: facility(world, other).agreement for other in FACILITIES if other != SEED}
    if which != SEED:
        return [others[which]]
    return list(Agreement.objects.exclude(pk__in=[a.pk for a in others.values()]))


def parties_with_roles(agreements: list[Agreement]) -> set[int]:
    """The parties holding a role in the agreements, and those related to them (an affiliate, an
    agent for one): the API shows a party with its relationships, wherever the party is seen."""
    parties = set(AgreementRole.objects.filter(agreement__in=agreements).values_list("party_id", flat=True))
    related = PartyRelationship.objects.filter(Q(party_id__in=parties) | Q(other_id__in=parties))
    return parties | {pk for pair in related.values_list("party_id", "other_id") for pk in pair}


def rows(world: World, which: str, route: str) -> set[int]:
    """Ids of the rows of one facility a list route could return (computed once per test)."""
    key = ("rows", which, route)
    if key not in world.cache:
        world.cache[key] = _rows(world, which, route)
    return world.cache[key]


def _rows(world: World, which: str, route: str) -> set[int]:
    agreements = agreements_of(world, which)
    by_agreement: dict[str, type[Model]] = {
        "amendment-list": Amendment,
        "covenant-list": Covenant,
        "financialstatement-list": FinancialStatement,
        "covenanttest-list": CovenantTestResult,
        "waiver-list": Waiver,
        "definedmetric-list": DefinedMetric,
        "document-list": Document,
    }
    if route == "agreement-list":
        return {a.pk for a in agreements}
    if (syndicate := syndicate_rows(route, agreements)) is not None:
        return syndicate
    if (executed := execution_rows(route, agreements)) is not None:
        return executed
    if route in by_agreement:
        return set(by_agreement[route].objects.filter(agreement__in=agreements).values_list("pk", flat=True))
    if route == "party-list":
        if which != SEED:
            return parties_with_roles(agreements)
        # The seed's parties: every party but those only the other facilities name, and the outsider's.
        elsewhere = set().union(*(parties_with_roles(agreements_of(world, f)) for f in FACILITIES if f != SEED))
        outsider_parties = set(world.users["outsider"].memberships.values_list("party_id", flat=True))
        everyone = set(Party.objects.values_list("pk", flat=True))
        return everyone - (elsewhere - parties_with_roles(agreements)) - outsider_parties
    if route == "person-list":
        mine = {a.pk for a in agreements}
        return {p.pk for p in Person.objects.all() if agreements_signed_by(p) & mine}
    raise AssertionError(f"no rows defined for {route}")


def objects(world: World, which: str) -> dict[str, Any]:
    """One object of each resource in a facility, and what the writes need (computed once per test)."""
    key = ("objects", which)
    if key not in world.cache:
        world.cache[key] = _objects(world, which)
    return world.cache[key]


def _objects(world: World, which: str) -> dict[str, Any]:
    return (
        _facility_objects(world, which)
        | {
            "metric": DefinedMetric.objects.get(agreement=objects_agreement(world, which), name="net_revenues"),
            "line_item": LineItem.objects.get(code="revenues"),
            "document": Document.objects.get(agreement=objects_agreement(world, which), filename="a1.txt"),
            "review": ImportReview.objects.get(
                document__agreement=objects_agreement(world, which), document__filename="a1.txt"
            ),
            "review_item": ReviewItem.objects.get(
                review__document__agreement=objects_agreement(world, which),
                review__document__filename="a1.txt",
                key__startswith="agreement:",
            ),
        }
        | syndicate_objects(objects_agreement(world, which))
        | execution_objects(objects_agreement(world, which))
    )


def objects_agreement(world: World, which: str) -> Agreement:
    return world.seed.agreement if which == SEED else facility(world, which).agreement


def _facility_objects(world: World, which: str) -> dict[str, Any]:
    if which == SEED:
        loan = world.seed
        agreement = loan.agreement
        cibc = agreement.roles.get(role=Role.LENDER, party__legal_name=CIBC)
        grenfell = Person.objects.get(full_name="James D. Grenfell")
        return {
            "agreement": agreement,
            # Effective, so a PATCH back to pending is always a change the Agents may make.
            "amendment": agreement.amendments.get(number=3),
            "covenant": loan.covenants["7.01(b)"],
            "statement": FinancialStatement.objects.filter(agreement=agreement).order_by("pk").first(),
            "result": CovenantTestResult.objects.filter(agreement=agreement).order_by("pk").first(),
            "waiver": Waiver.objects.get(agreement=agreement),
            "party": loan.borrowers["KMC"],
            "parties": [loan.borrowers["KMC"]],
            "person": grenfell,
            "people": [grenfell],
            "role": cibc,
            "new_role_party": agreement.roles.get(role=Role.AGENT).party,
            "terms_from": "2001-06-30",
            "test_date": "2000-06-30",
            "records": seed_records(loan, dt.date(2000, 3, 31), 24_000_000, -10_000_000),
        }
    deal = facility(world, which)
    agreement = deal.agreement
    common = {
        "agreement": agreement,
        "amendment": agreement.amendments.get(number=1),
        "covenant": agreement.covenants.get(section="6.1"),
        "statement": FinancialStatement.objects.filter(agreement=agreement).order_by("pk").first(),
        "result": CovenantTestResult.objects.filter(agreement=agreement).order_by("pk").first(),
        "waiver": Waiver.objects.get(agreement=agreement),
        "party": deal.borrowers[0],
        "new_role_party": deal.lender,
        "terms_from": "2021-03-31",
        "test_date": "2020-06-30",
        "records": harbor_records(deal, dt.date(2020, 9, 30)),
    }
    if which == HARBOR:
        hannah = Person.objects.get(full_name="Hannah Harbor")
        return common | {
            "parties": [deal.borrowers[0]],
            "person": hannah,
            "people": [hannah],
            "role": agreement.roles.get(party=deal.lender),
        }
    if which == GAMMA:
        gina = Person.objects.get(full_name="Gina Gamma")
        cibc = Party.objects.get(legal_name=CIBC)
        return common | {
            # Its Borrower and Agent are Gamma's alone; the Lender CIBC is the seed's too.
            "parties": [deal.borrowers[0], deal.agent, cibc],
            "person": gina,
            "people": [gina, Person.objects.get(full_name=CIBC_SIGNATORY)],
            "role": agreement.roles.get(party=cibc),
        }
    dana = Person.objects.get(full_name="Dana Delta")
    return common | {
        # Its Borrower and Lender are Delta's alone; the Agent First Union is the seed's too.
        "parties": [deal.borrowers[0], deal.lender, Party.objects.get(legal_name=FIRST_UNION)],
        "person": dana,
        "people": [dana, Person.objects.get(full_name=FIRST_UNION_SIGNATORY)],
        "role": agreement.roles.get(party=deal.lender, role=Role.LENDER),
    }


# Each list route, and the object of ``objects()`` it must show its own facility's users.
LISTED = {
    "agreement-list": "agreement",
    "amendment-list": "amendment",
    "covenant-list": "covenant",
    "financialstatement-list": "statement",
    "covenanttest-list": "result",
    "waiver-list": "waiver",
    "definedmetric-list": "metric",
    "document-list": "document",
    "party-list": "party",
    "person-list": "person",
    "facility-list": "syn_facility",
    "commitment-list": "commitment",
    "assignment-list": "assignment",
    "consentrequest-list": "consent",
    "vote-list": "vote",
    "defaultinglender-list": "defaulting",
    "votingthreshold-list": "threshold",
    "execution-list": "execution",
    "compliancecertificate-list": "certificate",
}


def forbidden_words(world: World, role: str) -> set[str]:
    """Names of the parties, people and agreements only facilities the role does not see hold."""
    key = ("words", role)
    if key in world.cache:
        return world.cache[key]
    seen = SEES[role]
    words: set[str] = set()
    if role != "admin":
        for route, model, name in (
            ("party-list", Party, "legal_name"),
            ("person-list", Person, "full_name"),
            ("agreement-list", Agreement, "name"),
        ):
            unseen_rows = set().union(*(rows(world, f, route) for f in FACILITIES if f not in seen))
            seen_rows = set().union(*(rows(world, f, route) for f in seen))
            words |= set(model.objects.filter(pk__in=unseen_rows - seen_rows).values_list(name, flat=True))
    world.cache[key] = words
    return words


# --- Who may change a party or a person: read from the data, as the rules state them -------


def may_change_party(world: World, role: str, party: Party) -> bool | None:
    """Administrators; the party's own users; an Agent's user where every deal the party is in
    is one they administer. None: the party's own users who are no Agent's, whom the API may
    refuse as it refuses them every party record (either answer is in the rules)."""
    if role == "anonymous":
        return False
    user = world.users[role]
    if user.is_superuser:
        return True
    own = party.memberships.filter(user=user).exists()
    if role not in PARTY_MANAGERS:
        return None if own else False
    return own or agreements_of_party(party) <= administered_by(user)


def may_change_person(world: World, role: str, person: Person) -> bool:
    """Administrators; an Agent's user where every document the person signs belongs to an
    agreement they administer."""
    if role == "anonymous":
        return False
    user = world.users[role]
    if user.is_superuser:
        return True
    if role not in PARTY_MANAGERS:
        return False
    return agreements_signed_by(person) <= administered_by(user)


def in_facility(table: dict[str, set[str]]) -> Callable[[World, str, str, dict], bool]:
    return lambda world, role, which, o: role in table[which]


def row_state(model: type[Model], key: str) -> Callable[[dict], Any]:
    """The stored values of the object a write names: a refused write leaves them as they were."""
    return lambda o: model._default_manager.filter(pk=o[key].pk).values().first()


# --- Cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """How to call one route on one facility's object, and who may."""

    kind: str  # public | auth | root | reference | list | detail | create | write | own
    kwargs: Callable[[dict], dict] = lambda o: {}
    payload: Callable[[dict], dict] | None = None
    # Whether the role may write, given the facility the object (or the body) belongs to and
    # the objects; None when either answer is right.
    allowed: Callable[[World, str, str, dict], bool | None] = lambda world, role, which, o: False
    success: int = 200
    count: type[Model] | None = None  # a refused write leaves this model's rows unchanged
    state: Callable[[dict], Any] | None = None  # ... and the named row's values unchanged
    query: dict = field(default_factory=dict)
    # Repeat the case for each object of objs[each[0]], named as objs[each[1]]; each one is
    # visible where its own rows are (a party or person several facilities share).
    each: tuple[str, str] | None = None
    # What a user who sees the object but may not change it gets.
    refused: frozenset[int] = frozenset({403})
    # Who sees the rows, per facility, where not everyone who sees the facility does.
    seen_by: dict[str, set[str]] | None = None


def detail(key: str, **extra: Any) -> Case:
    return Case("detail", kwargs=lambda o: {"pk": o[key].pk}, **extra)


# Alerts and webhooks belong to a user or a party, not to an agreement's facility: their
# isolation is proved per user in tests/api/test_alerts_api.py and, for parties in several
# deals, in tests/security/test_shared_parties.py. Alert routes are listed here so that a new
# one still needs a case; webhook routes are all taken from the resolver, as that file's
# matrix takes every one of them too.
OWN = Case("own")
NEW_TEXTS = itertools.count(100)
# Reference data every deal's statements name (line items): read by anyone signed in.
REFERENCE = Case("reference")
ADMINISTRATORS_ONLY = {"admin"}


def administrators_only(world: World, role: str, which: str, o: dict) -> bool:
    return role in ADMINISTRATORS_ONLY


CASES: dict[tuple[str, str], Case] = {
    ("api-root", "GET"): Case("root"),
    ("alert-list", "GET"): OWN,
    ("alert-detail", "GET"): OWN,
    ("alert-acknowledge", "POST"): OWN,
    ("alert-mark-read", "POST"): OWN,
    ("schema", "GET"): Case("public"),
    ("docs", "GET"): Case("public"),
    ("auth-token", "POST"): Case("auth", success=200),
    ("auth-logout", "POST"): Case("auth", success=204),
    ("auth-logout-all", "POST"): Case("auth", success=204),
    # Reads
    ("agreement-list", "GET"): Case("list"),
    ("amendment-list", "GET"): Case("list"),
    ("covenant-list", "GET"): Case("list"),
    ("financialstatement-list", "GET"): Case("list"),
    ("covenanttest-list", "GET"): Case("list", query={"is_current": "all"}),
    ("waiver-list", "GET"): Case("list"),
    ("party-list", "GET"): Case("list"),
    ("person-list", "GET"): Case("list"),
    ("agreement-detail", "GET"): detail("agreement"),
    ("amendment-detail", "GET"): detail("amendment"),
    ("covenant-detail", "GET"): detail("covenant"),
    ("covenant-terms-in-force", "GET"): Case(
        "detail", kwargs=lambda o: {"pk": o["covenant"].pk}, query={"date": "2020-06-30"}
    ),
    ("financialstatement-detail", "GET"): detail("statement"),
    ("financialstatement-file", "GET"): detail("statement"),
    ("covenanttest-detail", "GET"): detail("result"),
    ("waiver-detail", "GET"): detail("waiver"),
    ("definedmetric-list", "GET"): Case("list"),
    ("definedmetric-detail", "GET"): detail("metric"),
    ("lineitem-list", "GET"): REFERENCE,
    ("lineitem-detail", "GET"): Case("reference", kwargs=lambda o: {"pk": o["line_item"].pk}),
    ("party-detail", "GET"): detail("party", each=("parties", "party")),
    ("person-detail", "GET"): detail("person", each=("people", "person")),
    # Writes on an object
    ("agreement-add-role", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["agreement"].pk},
        payload=lambda o: {"party": o["new_role_party"].pk, "role": "guarantor"},
        allowed=in_facility(AGENTS),
        success=201,
        count=AgreementRole,
    ),
    ("agreement-remove-role", "DELETE"): Case(
        "write",
        kwargs=lambda o: {"pk": o["agreement"].pk, "role_id": o["role"].pk},
        allowed=in_facility(AGENTS),
        success=204,
        count=AgreementRole,
    ),
    ("agreement-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["agreement"].pk},
        payload=lambda o: {"governing_law": "Delaware", "reporting_deadline_days": 50},
        allowed=in_facility(AGENTS),
        count=Agreement,
        state=row_state(Agreement, "agreement"),
    ),
    ("covenant-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["covenant"].pk},
        payload=lambda o: {"name": "As amended", "warning_band_percent": "12.50"},
        allowed=in_facility(AGENTS),
        count=Covenant,
        state=row_state(Covenant, "covenant"),
    ),
    ("definedmetric-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["metric"].pk},
        payload=lambda o: {"label": "Net Revenues (as amended)", "formula": "revenues - 0"},
        allowed=in_facility(AGENTS),
        count=DefinedMetric,
        state=row_state(DefinedMetric, "metric"),
    ),
    ("amendment-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["amendment"].pk},
        payload=lambda o: {"status": "effective" if o["amendment"].status == "pending" else "pending"},
        allowed=in_facility(AGENTS),
        count=Amendment,
        state=row_state(Amendment, "amendment"),
    ),
    ("covenant-add-terms", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["covenant"].pk},
        payload=lambda o: {
            "effective_from": o["terms_from"],
            "action": "replace",
            "line_item": "revenues",
            "direction": "at_least",
            "schedule": [{"test_date": o["terms_from"], "threshold": "1000000", "applies_thereafter": True}],
        },
        allowed=in_facility(AGENTS),
        success=201,
        count=CovenantTerms,
    ),
    ("party-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["party"].pk},
        payload=lambda o: {"jurisdiction": "New York"},
        allowed=lambda world, role, which, o: may_change_party(world, role, o["party"]),
        count=Party,
        state=row_state(Party, "party"),
        each=("parties", "party"),
        refused=frozenset({403, 404}),
    ),
    ("person-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["person"].pk},
        payload=lambda o: {"email": "signer@example.com"},
        allowed=lambda world, role, which, o: may_change_person(world, role, o["person"]),
        count=Person,
        state=row_state(Person, "person"),
        each=("people", "person"),
        refused=frozenset({403, 404}),
    ),
    # Creates naming their agreement (or nothing) in the body
    ("agreement-list", "POST"): Case(
        "create",
        payload=lambda o: {
            "kind": "credit_agreement",
            "title": "Credit Agreement",
            "name": "Onboarded Credit Agreement",
        },
        allowed=administrators_only,
        success=201,
        count=Agreement,
    ),
    ("lineitem-list", "POST"): Case(
        "create",
        payload=lambda o: {"code": "capital_expenditures", "name": "Capital Expenditures"},
        allowed=administrators_only,
        success=201,
        count=LineItem,
    ),
    ("definedmetric-list", "POST"): Case(
        "create",
        payload=lambda o: {
            "agreement": o["agreement"].pk,
            "name": "gross_revenues",
            "label": "Gross Revenues",
            "formula": "revenues",
        },
        allowed=in_facility(AGENTS),
        success=201,
        count=DefinedMetric,
    ),
    ("amendment-list", "POST"): Case(
        "create",
        payload=lambda o: {
            "agreement": o["agreement"].pk,
            "number": 99,
            "title": "Amendment No. 99",
            "dated_as_of": "2026-01-15",
            "effective_on": "2026-01-31",
        },
        allowed=in_facility(AGENTS),
        success=201,
        count=Amendment,
    ),
    ("covenant-list", "POST"): Case(
        "create",
        payload=lambda o: {"agreement": o["agreement"].pk, "section": "9.99", "name": "Minimum liquidity"},
        allowed=in_facility(AGENTS),
        success=201,
        count=Covenant,
    ),
    ("financialstatement-list", "POST"): Case(
        "create",
        payload=lambda o: {"agreement": o["agreement"].pk, "records": o["records"]},
        allowed=in_facility(SUBMITTERS),
        success=201,
        count=FinancialStatement,
    ),
    ("document-list", "GET"): Case("list"),
    ("document-detail", "GET"): detail("document"),
    ("document-proposal", "GET"): detail("document"),
    ("document-list", "POST"): Case(
        "create",
        # A new text each time: the same text again is the stored document (200), not a new one.
        payload=lambda o: {"agreement": o["agreement"].pk, "text": f"AMENDMENT NO. {next(NEW_TEXTS)} TO THE AGREEMENT"},
        allowed=in_facility(AGENTS),
        success=201,
        count=Document,
    ),
    # A stored text's review: its agreement's Agents and administrators; whoever else sees the
    # document does not see that it has a review (404), and may not open one (403).
    ("document-review", "GET"): Case(
        "write", kwargs=lambda o: {"pk": o["document"].pk}, allowed=in_facility(AGENTS), refused=frozenset({404})
    ),
    ("document-review", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["document"].pk},
        payload=lambda o: {},
        allowed=in_facility(AGENTS),
        success=201,
        count=ImportReview,
    ),
    ("document-review-decision", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["document"].pk, "key": o["review_item"].key},
        payload=lambda o: {"decision": "rejected", "note": "not in this deal"},
        allowed=in_facility(AGENTS),
        refused=frozenset({404}),
        state=row_state(ReviewItem, "review_item"),
    ),
    ("document-review-section", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["document"].pk, "section": "instrument"},
        payload=lambda o: {"decision": "rejected"},
        allowed=in_facility(AGENTS),
        refused=frozenset({404}),
        state=row_state(ReviewItem, "review_item"),
    ),
    ("document-review-apply", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["document"].pk},
        allowed=in_facility(AGENTS),
        refused=frozenset({404}),
        state=row_state(ImportReview, "review"),
    ),
    ("waiver-list", "POST"): Case(
        "create",
        payload=lambda o: {"covenant": o["covenant"].pk, "test_date": o["test_date"], "instrument": "Waiver No. 9"},
        allowed=in_facility(AGENTS),
        success=201,
        count=Waiver,
    ),
    ("party-list", "POST"): Case(
        "create",
        payload=lambda o: {"legal_name": "Newport Savings Bank", "kind": "bank"},
        allowed=lambda world, role, which, o: role in PARTY_MANAGERS,
        success=201,
        count=Party,
    ),
    ("person-list", "POST"): Case(
        "create",
        payload=lambda o: {"full_name": "Pat Newcomer"},
        allowed=lambda world, role, which, o: role in PARTY_MANAGERS,
        success=201,
        count=Person,
    ),
}

# The syndicate: commitments, assignments and votes are read by the lender side only; a request by
# whoever sees its agreement, its tally by the lender side; a Lender's vote by its own signatories.
CASES |= {
    ("facility-list", "GET"): Case("list", seen_by=LENDER_SIDE),
    ("facility-detail", "GET"): detail("syn_facility", seen_by=LENDER_SIDE),
    ("commitment-list", "GET"): Case("list", seen_by=LENDER_SIDE),
    ("commitment-detail", "GET"): detail("commitment", seen_by=LENDER_SIDE),
    ("assignment-list", "GET"): Case("list", seen_by=LENDER_SIDE),
    ("assignment-detail", "GET"): detail("assignment", seen_by=LENDER_SIDE),
    ("consentrequest-list", "GET"): Case("list"),
    ("consentrequest-detail", "GET"): detail("consent"),
    ("vote-list", "GET"): Case("list", seen_by=LENDER_SIDE),
    ("vote-detail", "GET"): detail("vote", seen_by=LENDER_SIDE),
    ("consentrequest-tally", "GET"): Case(
        "write", kwargs=lambda o: {"pk": o["consent"].pk}, allowed=in_facility(LENDER_SIDE)
    ),
    ("consentrequest-close", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["consent"].pk},
        allowed=in_facility(AGENTS),
        state=row_state(ConsentRequest, "consent"),
    ),
    ("commitment-list", "POST"): Case(
        "create",
        payload=lambda o: o["new_commitment"],
        allowed=in_facility(AGENTS),
        success=201,
        count=Commitment,
        refused=frozenset({400, 403}),  # a Borrower's user does not see the facility it names
    ),
    ("assignment-list", "POST"): Case(
        "create",
        payload=lambda o: o["new_assignment"],
        allowed=in_facility(AGENTS),
        success=201,
        count=Assignment,
        refused=frozenset({400, 403}),  # a Borrower's user does not see the facility it names
    ),
    ("consentrequest-list", "POST"): Case(
        "create", payload=lambda o: o["new_request"], allowed=in_facility(AGENTS), success=201, count=ConsentRequest
    ),
    ("vote-list", "POST"): Case(
        "create",
        payload=lambda o: o["new_vote"],
        allowed=in_facility(VOTERS),
        success=201,
        state=row_state(Vote, "vote"),
    ),
    # Defaulting Lenders: read by the lender side, never a Borrower; thresholds by whoever sees the
    # agreement (its definitions); both changed by the agreement's own Agents and administrators.
    ("defaultinglender-list", "GET"): Case("list", seen_by=LENDER_SIDE),
    ("defaultinglender-detail", "GET"): detail("defaulting", seen_by=LENDER_SIDE),
    ("defaultinglender-list", "POST"): Case(
        "create",
        payload=lambda o: o["new_defaulting"],
        allowed=in_facility(AGENTS),
        success=201,
        count=DefaultingLender,
        refused=frozenset({400, 403}),  # another deal's Agent does not see the agreement it names
    ),
    ("defaultinglender-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["defaulting"].pk},
        payload=lambda o: {"reason": "Failed to fund its share of a borrowing"},
        allowed=in_facility(AGENTS),
        state=row_state(DefaultingLender, "defaulting"),
        seen_by=LENDER_SIDE,
    ),
    ("defaultinglender-end", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["defaulting"].pk},
        payload=lambda o: {"to_date": "2000-12-31"},
        allowed=in_facility(AGENTS),
        state=row_state(DefaultingLender, "defaulting"),
        seen_by=LENDER_SIDE,
    ),
    ("votingthreshold-list", "GET"): Case("list"),
    ("votingthreshold-detail", "GET"): detail("threshold"),
    ("votingthreshold-list", "POST"): Case(
        "create",
        payload=lambda o: o["new_threshold"],
        allowed=in_facility(AGENTS),
        success=201,
        count=VotingThreshold,
        refused=frozenset({400, 403}),
    ),
    ("votingthreshold-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["threshold"].pk},
        payload=lambda o: {"percent": "60"},
        allowed=in_facility(AGENTS),
        state=row_state(VotingThreshold, "threshold"),
    ),
}
# Execution by counterparts and compliance certificates: read by whoever sees the agreement; a
# block signed only by its named signatory; revocations, recorded satisfaction and reviews by the
# Agents; certificates prepared by the Borrowers' users and the Agents (tests/api/execution_world.py).
CASES |= execution_cases(
    Case, detail, in_facility, row_state, {"AGENTS": AGENTS, "SUBMITTERS": SUBMITTERS, "VOTERS": VOTERS}
)
CASES |= {route: OWN for route in api_routes() if route[0].startswith("webhook-")}


def sees(world: World, role: str, which: str, case: Case, objs: dict) -> bool:
    """Whether the role sees the object the case names: a party or person wherever one of its
    facilities is seen, anything else where its facility is."""
    if case.seen_by is not None:
        return role in case.seen_by[which]
    if case.each is not None:
        key = case.each[1]
        return any(objs[key].pk in rows(world, seen, f"{key}-list") for seen in SEES[role])
    return which in SEES[role]


def client_for(world: World, role: str) -> Any:
    """One client (and token) per role for the whole test: made outside the rolled-back requests."""
    key = ("client", role)
    if key not in world.cache:
        world.cache[key] = world.client(None if role == "anonymous" else role)
    return world.cache[key]


def call(world: World, role: str, method: str, url: str, payload: dict | None, query: dict) -> Any:
    client = client_for(world, role)
    if method == "GET":
        return client.get(url, query)
    return getattr(client, method.lower())(url, payload, format="json")


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- Tests --------------------------------------------------------------------------------


def test_every_route_has_a_case():
    routes = api_routes()
    assert routes - set(CASES) == set(), "routes without a case in the access matrix"
    assert set(CASES) - routes == set(), "cases for routes that no longer exist"


def test_the_shared_deals_share_what_they_say(world):
    """Gamma's Lender CIBC and Delta's Agent First Union are parties to the seed agreement too,
    and each role's user sees exactly the facilities ``SEES`` gives it."""
    seed = world.seed.agreement
    cibc, first_union = Party.objects.get(legal_name=CIBC), Party.objects.get(legal_name=FIRST_UNION)
    assert seed.roles.filter(party=cibc, role=Role.LENDER).exists()
    assert facility(world, GAMMA).agreement.roles.filter(party=cibc, role=Role.LENDER).exists()
    assert seed.roles.filter(party=first_union, role=Role.AGENT).exists()
    assert facility(world, DELTA).agreement.roles.filter(party=first_union, role=Role.AGENT).exists()
    for role in ROLES:
        if role in ("anonymous", "admin"):
            continue
        user = world.users[role]
        shown = set(Agreement.objects.filter(roles__party__memberships__user=user).values_list("pk", flat=True))
        expected = {a.pk for which in SEES[role] for a in agreements_of(world, which)}
        assert shown <= expected and {objects(world, w)["agreement"].pk for w in SEES[role]} <= shown, role


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, role):
    """Every case, all four facilities, as one role; all of the role's failures reported at once.
    One test per role, so the roles' requests (several thousand in all) spread over the suite's
    processes."""
    failures: list[str] = []
    requests = 0
    client_for(world, role)
    for route, method in sorted(CASES):
        case = CASES[(route, method)]
        if case.kind == "own":
            continue
        # Lists, public, auth, root and reference routes name no facility's object: one pass is enough (a
        # list is checked against every facility's rows at once); a public one, for no one signed in.
        facilities = FACILITIES if case.kind in ("detail", "write", "create") else (SEED,)
        if case.kind == "public" and role != "anonymous":
            continue
        for which in facilities:
            objs = objects(world, which)
            for subject in objs[case.each[0]] if case.each else [None]:
                named = {**objs, case.each[1]: subject} if case.each else objs
                url = reverse(f"api:{route}", kwargs=case.kwargs(named))
                requests += 1
                try:
                    attempt(world, case, route, method, url, named, role, which)
                except AssertionError as exc:
                    failures.append(str(exc).splitlines()[0])
    assert requests, f"no request was made as {role}"
    assert not failures, f"{len(failures)} of {requests} requests as {role} failed:\n" + "\n".join(failures)


def attempt(world: World, case: Case, route: str, method: str, url: str, objs: dict, role: str, which: str) -> None:
    """One request, in a transaction rolled back afterwards so the next role finds the same data."""
    with transaction.atomic():
        before = case.count.objects.count() if case.count else None
        state = case.state(objs) if case.state else None
        payload = case.payload(objs) if case.payload else None
        if route == "auth-token":
            username = "nobody" if role == "anonymous" else world.users[role].get_username()
            payload = {"username": username, "password": "x-portal-test-password-1"}
        query = {**case.query, "page_size": 500} if case.kind == "list" else case.query
        response = call(world, role, method, url, payload, query)
        where = f"{method} {url} as {role}" + (f" ({which})" if case.kind in ("detail", "write", "create") else "")
        try:
            check(world, case, route, role, which, objs, response, where)
            if response.status_code >= 400:
                if case.count:
                    assert case.count.objects.count() == before, f"{where} changed data though refused"
                if case.state:
                    assert case.state(objs) == state, f"{where} changed the row though refused"
            if case.kind not in ("public", "auth", "root") and role not in ("admin", "anonymous"):
                shows_nothing_unseen(world, role, response, payload, where)
        finally:
            transaction.set_rollback(True)


def shows_nothing_unseen(world: World, role: str, response: Any, payload: dict | None, where: str) -> None:
    """No name only an unseen facility holds, unless the request itself carried it."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", errors="replace")
    sent = json.dumps(payload, ensure_ascii=False) if payload else ""
    shown = sorted(w for w in forbidden_words(world, role) if w in text and w not in sent)
    assert not shown, f"{where}: shows {shown}, which only facilities the user does not see hold"


def check(world: World, case: Case, route: str, role: str, which: str, objs: dict, response: Any, where: str) -> None:
    code = response.status_code
    if case.kind == "public":
        assert code == 200, where
        return
    if role == "anonymous":
        if case.kind == "auth" and route == "auth-token":
            assert code == 400, where
        else:
            assert code == 401, where
        return
    if case.kind in ("auth", "root", "reference"):
        assert code == case.success, f"{where}: {code} {response.content[:300]!r}"
        return
    if case.kind == "list":
        assert code == 200, where
        got = ids(response)
        seen = {f for f in FACILITIES if role in case.seen_by[f]} if case.seen_by else SEES[role]
        unseen_rows = set().union(*(rows(world, f, route) for f in FACILITIES if f not in seen))
        seen_rows = set().union(*(rows(world, f, route) for f in seen))
        foreign = unseen_rows - seen_rows
        if route == "party-list" and role != "admin":
            foreign |= set(world.users["outsider"].memberships.values_list("party_id", flat=True))
        assert not got & foreign, f"{where} lists another party's rows: {sorted(got & foreign)}"
        if not seen:
            assert got == set(), where
        for mine in seen:
            key = LISTED[route]
            assert objects(world, mine)[key].pk in got, f"{where} misses the user's own {key} of {mine}"
        return
    visible = sees(world, role, which, case, objs)
    if case.kind == "detail":
        if visible:
            assert code == 200, f"{where}: {code} {response.content[:300]!r}"
        else:
            assert code == 404, f"{where}: a read the user may not make must be 404, got {code}"
        return
    allowed = case.allowed(world, role, which, objs)
    if allowed:
        assert code == case.success, f"{where}: {code} {response.content[:500]!r}"
    elif allowed is None:
        assert code in {case.success, *case.refused}, f"{where}: {code} {response.content[:300]!r}"
    elif visible:
        assert code in case.refused, f"{where}: may not, got {code} {response.content[:300]!r}"
    elif case.kind == "write":
        assert code in (403, 404), f"{where}: {code}"
    else:
        assert code in (400, 403), f"{where}: {code} {response.content[:300]!r}"


def test_anonymous_requests_are_refused_and_token_requests_need_the_right_password(world):
    client = world.client(None)
    assert client.get(reverse("api:agreement-list")).status_code == 401
    response = client.post(reverse("api:auth-token"), {"username": "kmc.api", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to sign in with the username and password given."]}
    get_user_model().objects.filter(username="kmc.api").update(is_active=False)
    response = client.post(
        reverse("api:auth-token"), {"username": "kmc.api", "password": "x-portal-test-password-1"}, format="json"
    )
    assert response.status_code == 400
