"""
The access matrix: every route of the API, every method, for each role on the seed Loan
Agreement (Borrower, Lender, Agent, Collateral Agent), an administrator, an outsider, the
users of a second facility that shares no party with it, and no one signed in.

Reads: an object the user may not see is 404, and no list holds another party's rows.
Writes: allowed roles succeed; a role that sees the object but may not change it gets 403;
one that does not see it gets 404 (or 400/403 when the object is named in the body); and
nothing is changed by a refused write.

The routes come from the URL resolver, so a route added without a case here fails
``test_every_route_has_a_case``. A new resource adds its cases to ``CASES``, its rows to
``_rows``, one object per facility to ``_objects`` and, for a list, an entry in ``LISTED``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model
from django.urls import URLResolver, get_resolver, reverse

from covenants.choices import Role
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    Covenant,
    CovenantTerms,
    CovenantTestResult,
    FinancialStatement,
    Waiver,
)
from parties.models import Party, Person

from .conftest import HARBOR, SEED, World, harbor_records, seed_records

pytestmark = pytest.mark.django_db

ROLES = (
    "borrower",
    "lender",
    "agent",
    "collateral_agent",
    "admin",
    "outsider",
    "harbor_borrower",
    "harbor_agent",
    "anonymous",
)
FACILITIES = (SEED, HARBOR)
AGENTS = {SEED: {"agent", "collateral_agent", "admin"}, HARBOR: {"harbor_agent", "admin"}}
SUBMITTERS = {
    SEED: {"borrower", "agent", "collateral_agent", "admin"},
    HARBOR: {"harbor_borrower", "harbor_agent", "admin"},
}
PARTY_MANAGERS = {"agent", "collateral_agent", "harbor_agent", "admin"}


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
                methods = set(actions)
            else:
                view_class = callback.view_class
                methods = {m for m in view_class.http_method_names if hasattr(view_class, m)} - {"options", "head"}
            found.update((pattern.name, method.upper()) for method in methods)

    walk(resolver.url_patterns)
    return found


# --- The rows of each facility ---------------------------------------------------------


def agreements_of(world: World, which: str) -> list[Agreement]:
    harbor = world.harbor.agreement
    if which == HARBOR:
        return [harbor]
    return list(Agreement.objects.exclude(pk=harbor.pk))


def harbor_parties(world: World) -> set[int]:
    h = world.harbor
    return {p.pk for p in (*h.borrowers, h.agent, h.collateral_agent, h.lender)}


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
    }
    if route == "agreement-list":
        return {a.pk for a in agreements}
    if route in by_agreement:
        return set(by_agreement[route].objects.filter(agreement__in=agreements).values_list("pk", flat=True))
    if route == "party-list":
        harbor = harbor_parties(world)
        if which == HARBOR:
            return harbor
        outsider_parties = set(world.users["outsider"].memberships.values_list("party_id", flat=True))
        return set(Party.objects.values_list("pk", flat=True)) - harbor - outsider_parties
    if route == "person-list":
        hannah = Person.objects.get(full_name="Hannah Harbor").pk
        return {hannah} if which == HARBOR else set(Person.objects.exclude(pk=hannah).values_list("pk", flat=True))
    raise AssertionError(f"no rows defined for {route}")


def objects(world: World, which: str) -> dict[str, Any]:
    """One object of each resource in a facility, and what the writes need (computed once per test)."""
    key = ("objects", which)
    if key not in world.cache:
        world.cache[key] = _objects(world, which)
    return world.cache[key]


def _objects(world: World, which: str) -> dict[str, Any]:
    agreement = world.agreement(which)
    if which == SEED:
        loan = world.seed
        cibc = agreement.roles.get(role=Role.LENDER, party__legal_name="Canadian Imperial Bank of Commerce")
        return {
            "agreement": agreement,
            "amendment": agreement.amendments.get(number=4),
            "covenant": loan.covenants["7.01(b)"],
            "statement": FinancialStatement.objects.filter(agreement=agreement).order_by("pk").first(),
            "result": CovenantTestResult.objects.filter(agreement=agreement).order_by("pk").first(),
            "waiver": Waiver.objects.get(agreement=agreement),
            "party": loan.borrowers["KMC"],
            "person": Person.objects.get(full_name="James D. Grenfell"),
            "role": cibc,
            "new_role_party": agreement.roles.get(role=Role.AGENT).party,
            "terms_from": "2001-06-30",
            "test_date": "2000-06-30",
            "records": seed_records(loan, dt.date(2000, 3, 31), 24_000_000, -10_000_000),
        }
    h = world.harbor
    return {
        "agreement": agreement,
        "amendment": agreement.amendments.get(number=1),
        "covenant": agreement.covenants.get(section="6.1"),
        "statement": FinancialStatement.objects.filter(agreement=agreement).order_by("pk").first(),
        "result": CovenantTestResult.objects.filter(agreement=agreement).order_by("pk").first(),
        "waiver": Waiver.objects.get(agreement=agreement),
        "party": h.borrowers[0],
        "person": Person.objects.get(full_name="Hannah Harbor"),
        "role": agreement.roles.get(party=h.lender),
        "new_role_party": h.lender,
        "terms_from": "2021-03-31",
        "test_date": "2020-06-30",
        "records": harbor_records(h, dt.date(2020, 9, 30)),
    }


# Each list route, and the object of ``objects()`` it must show its own facility's users.
LISTED = {
    "agreement-list": "agreement",
    "amendment-list": "amendment",
    "covenant-list": "covenant",
    "financialstatement-list": "statement",
    "covenanttest-list": "result",
    "waiver-list": "waiver",
    "party-list": "party",
    "person-list": "person",
}

# --- Cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """How to call one route on one facility's object, and who may."""

    kind: str  # public | auth | root | list | detail | create | write | own
    kwargs: Callable[[dict], dict] = lambda o: {}
    payload: Callable[[dict], dict] | None = None
    # Roles allowed to write, by the facility the object (or the body) belongs to.
    allowed: Callable[[str], set[str]] = lambda which: set()
    success: int = 200
    count: type[Model] | None = None  # a refused write leaves this model's rows unchanged
    query: dict = field(default_factory=dict)


def detail(key: str, **extra: Any) -> Case:
    return Case("detail", kwargs=lambda o: {"pk": o[key].pk}, **extra)


# Alerts and webhooks belong to a user or a party, not to an agreement's facility: their
# isolation is proved per user in tests/api/test_alerts_api.py, and listed here so that a
# new route still needs a case.
OWN = Case("own")

CASES: dict[tuple[str, str], Case] = {
    ("api-root", "GET"): Case("root"),
    ("alert-list", "GET"): OWN,
    ("alert-detail", "GET"): OWN,
    ("alert-acknowledge", "POST"): OWN,
    ("alert-mark-read", "POST"): OWN,
    ("webhook-list", "GET"): OWN,
    ("webhook-list", "POST"): OWN,
    ("webhook-detail", "GET"): OWN,
    ("webhook-detail", "DELETE"): OWN,
    ("webhook-pause", "POST"): OWN,
    ("webhook-resume", "POST"): OWN,
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
    ("party-detail", "GET"): detail("party"),
    ("person-detail", "GET"): detail("person"),
    # Writes on an object
    ("agreement-add-role", "POST"): Case(
        "write",
        kwargs=lambda o: {"pk": o["agreement"].pk},
        payload=lambda o: {"party": o["new_role_party"].pk, "role": "guarantor"},
        allowed=lambda which: AGENTS[which],
        success=201,
        count=AgreementRole,
    ),
    ("agreement-remove-role", "DELETE"): Case(
        "write",
        kwargs=lambda o: {"pk": o["agreement"].pk, "role_id": o["role"].pk},
        allowed=lambda which: AGENTS[which],
        success=204,
        count=AgreementRole,
    ),
    ("amendment-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["amendment"].pk},
        payload=lambda o: {"status": "effective" if o["amendment"].status == "pending" else "pending"},
        allowed=lambda which: AGENTS[which],
        count=Amendment,
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
        allowed=lambda which: AGENTS[which],
        success=201,
        count=CovenantTerms,
    ),
    ("party-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["party"].pk},
        payload=lambda o: {"jurisdiction": "New York"},
        allowed=lambda which: PARTY_MANAGERS & (AGENTS[which] | {"admin"}),
        count=Party,
    ),
    ("person-detail", "PATCH"): Case(
        "write",
        kwargs=lambda o: {"pk": o["person"].pk},
        payload=lambda o: {"email": "signer@example.com"},
        allowed=lambda which: PARTY_MANAGERS & (AGENTS[which] | {"admin"}),
        count=Person,
    ),
    # Creates naming their agreement (or nothing) in the body
    ("covenant-list", "POST"): Case(
        "create",
        payload=lambda o: {"agreement": o["agreement"].pk, "section": "9.99", "name": "Minimum liquidity"},
        allowed=lambda which: AGENTS[which],
        success=201,
        count=Covenant,
    ),
    ("financialstatement-list", "POST"): Case(
        "create",
        payload=lambda o: {"agreement": o["agreement"].pk, "records": o["records"]},
        allowed=lambda which: SUBMITTERS[which],
        success=201,
        count=FinancialStatement,
    ),
    ("waiver-list", "POST"): Case(
        "create",
        payload=lambda o: {"covenant": o["covenant"].pk, "test_date": o["test_date"], "instrument": "Waiver No. 9"},
        allowed=lambda which: AGENTS[which],
        success=201,
        count=Waiver,
    ),
    ("party-list", "POST"): Case(
        "create",
        payload=lambda o: {"legal_name": "Newport Savings Bank", "kind": "bank"},
        allowed=lambda which: PARTY_MANAGERS,
        success=201,
        count=Party,
    ),
    ("person-list", "POST"): Case(
        "create",
        payload=lambda o: {"full_name": "Pat Newcomer"},
        allowed=lambda which: PARTY_MANAGERS,
        success=201,
        count=Person,
    ),
}


def sees(world: World, role: str, which: str) -> bool:
    home = world.home.get(role)
    return home == "all" or home == which


def call(world: World, role: str, method: str, url: str, payload: dict | None, query: dict) -> Any:
    client = world.client(None if role == "anonymous" else role)
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


def test_access_matrix(world):
    """Every case, every role, both facilities; all failures reported at once."""
    failures: list[str] = []
    for route, method in sorted(CASES):
        case = CASES[(route, method)]
        if case.kind == "own":
            continue
        # Public, auth and root routes name no facility's object: one pass is enough.
        facilities = FACILITIES if case.kind in ("list", "detail", "write", "create") else (SEED,)
        for which in facilities:
            objs = objects(world, which)
            url = reverse(f"api:{route}", kwargs=case.kwargs(objs))
            for role in ROLES:
                try:
                    attempt(world, case, route, method, url, objs, role, which)
                except AssertionError as exc:
                    failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)


def attempt(world: World, case: Case, route: str, method: str, url: str, objs: dict, role: str, which: str) -> None:
    """One request, in a transaction rolled back afterwards so the next role finds the same data."""
    with transaction.atomic():
        before = case.count.objects.count() if case.count else None
        payload = case.payload(objs) if case.payload else None
        if route == "auth-token":
            username = "nobody" if role == "anonymous" else world.users[role].get_username()
            payload = {"username": username, "password": "x-portal-test-password-1"}
        query = {**case.query, "page_size": 500} if case.kind == "list" else case.query
        response = call(world, role, method, url, payload, query)
        where = f"{method} {url} as {role} ({which})"
        try:
            check(world, case, route, role, which, response, where)
            if case.count and response.status_code >= 400:
                assert case.count.objects.count() == before, f"{where} changed data though refused"
        finally:
            transaction.set_rollback(True)


def check(world: World, case: Case, route: str, role: str, which: str, response: Any, where: str) -> None:
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
    if case.kind in ("auth", "root"):
        assert code == case.success, f"{where}: {code} {response.content[:300]!r}"
        return
    if case.kind == "list":
        assert code == 200, where
        got = ids(response)
        home = world.home[role]
        foreign = set()
        for other in FACILITIES:
            if home != "all" and home != other:
                foreign |= rows(world, other, route)
        if route == "party-list" and home != "all":
            foreign |= set(world.users["outsider"].memberships.values_list("party_id", flat=True))
        assert not got & foreign, f"{where} lists another party's rows: {sorted(got & foreign)}"
        if home is None:
            assert got == set(), where
        for mine in FACILITIES if home == "all" else ([home] if home else []):
            key = LISTED[route]
            assert objects(world, mine)[key].pk in got, f"{where} misses the user's own {key}"
        return
    visible = sees(world, role, which)
    if case.kind == "detail":
        if visible:
            assert code == 200, f"{where}: {code} {response.content[:300]!r}"
        else:
            assert code == 404, f"{where}: a read the user may not make must be 404, got {code}"
        return
    allowed = role in case.allowed(which)
    if allowed:
        assert code == case.success, f"{where}: {code} {response.content[:500]!r}"
    elif visible:
        assert code == 403, f"{where}: {code} {response.content[:300]!r}"
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
