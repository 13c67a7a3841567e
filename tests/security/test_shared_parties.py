"""
Parties in more than one deal. An attack on the running portal found isolation holding between
deals that share no party and breaking where a party sits in two: the Agent of one deal acted
for a bank that is a Lender in another. The deals (tests/shared_deals.py):

- A, the seed Loan Agreement: First Union National Bank its Agent, Canadian Imperial Bank of
  Commerce (CIBC) one of its Lenders;
- C, Gamma: its own Agent (Gamma National Bank) and Borrowers, with CIBC a Lender;
- D, Delta: its own Borrowers and Lender, with First Union its Agent.

The rules held here:

- Webhook subscriptions belong to their party: created, listed, read, paused, resumed, given a
  new secret, replayed and deleted only by the party's own users and administrators, through
  the API and the pages alike (every webhook route the resolver has). Anyone else gets 404 for
  a subscription, a refusal for a creation, and never its URL or secret.
- A subscription receives alerts only for deals its party holds an alerted role in and that
  its creator may read: CIBC's, made by CIBC's user, receives A's and C's; none made by C's or
  D's users receives A's, whatever party it names.
- Each inbox holds only the alerts of deals its user sees.
- A party's record (or a signatory's) is shared by every deal it is in: an Agent changes it
  only where it administers every one of them; administrators always may.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from alerts.choices import AlertChannel, AlertKind
from alerts.models import AlertDelivery, WebhookSubscription
from alerts.webhooks import webhook_subscription_create
from compliance.services import agreement_evaluate
from covenants.models import Agreement
from parties.choices import MembershipRole
from parties.models import Party, Person
from statements.services import statement_file_submit
from tests.alerts.conftest import webhook_server  # noqa: F401 (a fixture: a real HTTP server on loopback)
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.factories import Facility, administrator, member, outsider
from tests.shared_deals import (
    CIBC,
    CIBC_SIGNATORY,
    FIRST_UNION,
    FIRST_UNION_SIGNATORY,
    NEWCOURT,
    delta_deal,
    gamma_deal,
    revenue_rows,
)

pytestmark = pytest.mark.django_db

A, C, D = "A", "C", "D"
# The deals each user sees: those where a party they belong to holds a role.
SEES = {
    "kmc": {A},
    "cibc": {A, C},
    "first_union": {A, D},
    "newcourt": {A},
    "gamma_agent": {C},
    "gamma_borrower": {C},
    "gamma_lender": {C},
    "delta_borrower": {D},
    "delta_lender": {D},
    "admin": {A, C, D},
    "outsider": set(),
}
# The parties whose webhooks are at stake, and who belongs to each.
HOOK_PARTIES = {
    "cibc": ("cibc",),
    "first_union": ("first_union",),
    "gamma_bank": ("gamma_agent",),
    "delta_lender": ("delta_lender",),
}


@pytest.fixture(autouse=True)
def quick_settings(settings):
    """Fast hashing for the builders' users; webhooks to loopback allowed, as in development."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@dataclass
class Deals:
    agreements: dict[str, Agreement]
    facilities: dict[str, Any]
    users: dict[str, Any]
    parties: dict[str, Party]
    subscriptions: dict[str, WebhookSubscription] = field(default_factory=dict)

    def manages(self, user: str, party: str) -> bool:
        return user == "admin" or user in HOOK_PARTIES[party]


@pytest.fixture
def deals() -> Deals:
    loan = seed_loan()
    gamma = gamma_deal()
    delta = delta_deal()
    named = {name: Party.objects.get(legal_name=name) for name in (CIBC, FIRST_UNION, NEWCOURT)}
    users = {
        "kmc": member("kmc.user", MembershipRole.BORROWER, loan.borrowers["KMC"]),
        "cibc": member("cibc.user", MembershipRole.LENDER, named[CIBC]),
        "first_union": member("firstunion.user", MembershipRole.AGENT, named[FIRST_UNION]),
        "newcourt": member("newcourt.user", MembershipRole.AGENT, named[NEWCOURT]),
        "gamma_agent": gamma.users["agent"],
        "gamma_borrower": gamma.users["borrower"],
        "gamma_lender": gamma.users["lender"],
        "delta_borrower": delta.users["borrower"],
        "delta_lender": delta.users["lender"],
        "admin": administrator("shared.admin"),
        "outsider": outsider("shared.outsider"),
    }
    parties = {
        "cibc": named[CIBC],
        "first_union": named[FIRST_UNION],
        "gamma_bank": gamma.agent,
        "delta_lender": delta.lender,
        "kmc": loan.borrowers["KMC"],
        "gamma_borrower": gamma.borrowers[0],
        "delta_borrower": delta.borrowers[0],
    }
    return Deals(
        agreements={A: loan.agreement, C: gamma.agreement, D: delta.agreement},
        facilities={A: loan, C: gamma, D: delta},
        users=users,
        parties=parties,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def standing_subscriptions(deals: Deals) -> None:
    """One subscription of each party at stake, made by one of its own users."""
    for party in HOOK_PARTIES:
        deals.subscriptions[party] = WebhookSubscription.objects.create(
            party=deals.parties[party],
            url=f"https://hooks.example.com/{party}",
            secret=f"{party}-secret-".ljust(64, "x"),
            kinds=list(AlertKind.values),
            created_by=deals.users[HOOK_PARTIES[party][0]],
        )


def webhook_routes() -> tuple[list[tuple[str, str]], list[str]]:
    """Every action on one subscription: (API route, method) from the ``api`` namespace, and the
    pages' route names from the ``alerts`` one; all that take the subscription's id."""
    _, api_resolver = get_resolver().namespace_dict["api"]
    found_api: list[tuple[str, str]] = []

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif (pattern.name or "").startswith("webhook-") and "pk" in pattern.pattern.regex.groupindex:
                # DRF's view adds "head" to its actions on the first GET it serves: not a route of its own.
                methods = set(pattern.callback.actions) - {"head"}
                found_api.extend((pattern.name, method.upper()) for method in sorted(methods))

    walk(api_resolver.url_patterns)
    _, alerts_resolver = get_resolver().namespace_dict["alerts"]
    pages = [
        f"alerts:{p.name}"
        for p in alerts_resolver.url_patterns
        if (p.name or "").startswith("webhook_") and "pk" in p.pattern.regex.groupindex
    ]
    return sorted(set(found_api)), sorted(pages)


API_SUCCESS = {"GET": {200}, "DELETE": {204}, "POST": {200}}
PAGE_SUCCESS = {200, 302}  # back to the list, or a page showing a new secret once


def snapshot(subscription: WebhookSubscription) -> dict | None:
    return WebhookSubscription.objects.filter(pk=subscription.pk).values().first()


# --- Managing subscriptions ------------------------------------------------------------------


def test_webhook_subscriptions_are_managed_only_by_their_partys_own_users_and_administrators(client, deals):
    standing_subscriptions(deals)
    api_routes, page_routes = webhook_routes()
    assert ("webhook-pause", "POST") in api_routes and "alerts:webhook_delete" in page_routes
    failures: list[str] = []
    requests = 0
    for user_name, user in deals.users.items():
        client.force_login(user)
        for party, subscription in deals.subscriptions.items():
            manages = deals.manages(user_name, party)
            calls = [("api", route, method) for route, method in api_routes] + [
                ("page", route, "POST") for route in page_routes
            ]
            for kind, route, method in calls:
                requests += 1
                where = f"{method} {route} of {party}'s subscription as {user_name}"
                with transaction.atomic():
                    before = snapshot(subscription)
                    if kind == "api":
                        url = reverse(f"api:{route}", args=[subscription.pk])
                        response = getattr(api(user), method.lower())(url)
                        success = API_SUCCESS[method]
                    else:
                        response = client.post(reverse(route, args=[subscription.pk]))
                        success = PAGE_SUCCESS
                    code = response.status_code
                    text = response.content.decode(errors="replace")
                    if manages and code not in success:
                        failures.append(f"{where}: {code}, expected {sorted(success)}")
                    if not manages:
                        if code != 404:
                            failures.append(f"{where}: {code}, expected 404")
                        if snapshot(subscription) != before:
                            failures.append(f"{where}: changed or deleted the subscription")
                        if subscription.secret in text or subscription.url in text:
                            failures.append(f"{where}: shows the subscription's URL or secret")
                    if kind == "api" and method == "GET" and code == 200 and "secret" in response.json():
                        failures.append(f"{where}: shows the secret again")
                    transaction.set_rollback(True)
    assert not failures, f"{len(failures)} of {requests} requests failed:\n" + "\n".join(failures)


def test_each_user_lists_and_is_offered_only_the_subscriptions_of_its_own_parties(client, deals):
    standing_subscriptions(deals)
    failures: list[str] = []
    for user_name, user in deals.users.items():
        mine = {p for p in HOOK_PARTIES if deals.manages(user_name, p)}
        listed = api(user).get(reverse("api:webhook-list"), {"page_size": 500}).json()["results"]
        listed_ids = {row["id"] for row in listed}
        for party, subscription in deals.subscriptions.items():
            if (subscription.pk in listed_ids) != (party in mine):
                failures.append(f"API list as {user_name}: {party}'s subscription listed: {party not in mine}")
        client.force_login(user)
        page = client.get(reverse("alerts:webhooks")).content.decode()
        for party, subscription in deals.subscriptions.items():
            if party not in mine and (subscription.url in page or subscription.secret in page):
                failures.append(f"/alerts/webhooks/ as {user_name}: shows {party}'s subscription")
            if party in mine and subscription.url not in page:
                failures.append(f"/alerts/webhooks/ as {user_name}: misses {party}'s own subscription")
        # The form offers only the user's own parties (all alerted parties for an administrator).
        form = client.get(reverse("alerts:webhook_add"))
        offered = set(map(int, re.findall(r'<option value="(\d+)"', form.content.decode())))
        for party in HOOK_PARTIES:
            if (deals.parties[party].pk in offered) != (party in mine):
                failures.append(f"the form as {user_name}: offers {party}: {party not in mine}")
        if not offered and form.status_code != 403:
            failures.append(f"the form as {user_name}: {form.status_code} with nothing to offer")
    assert not failures, "\n".join(failures)


def test_a_subscription_is_created_only_for_the_users_own_parties(client, deals):
    failures: list[str] = []
    requests = 0
    for user_name, user in deals.users.items():
        client.force_login(user)
        for party in HOOK_PARTIES:
            manages = deals.manages(user_name, party)
            target = deals.parties[party]
            for kind in ("api", "page"):
                requests += 1
                where = f"{kind} subscription for {party} as {user_name}"
                with transaction.atomic():
                    url = f"https://hooks.example.com/{kind}/{user_name}/{party}"
                    data = {"party": target.pk, "url": url, "kinds": ["breach", "cure"]}
                    if kind == "api":
                        response = api(user).post(reverse("api:webhook-list"), data, format="json")
                        refused_codes, success = {400, 403, 404}, {201}
                    else:
                        response = client.post(reverse("alerts:webhook_add"), data)
                        refused_codes, success = {200, 403}, PAGE_SUCCESS
                    made = WebhookSubscription.objects.filter(url=url)
                    if manages:
                        if response.status_code not in success or not made.filter(party=target, created_by=user):
                            failures.append(f"{where}: {response.status_code}, not created")
                    else:
                        if made.exists():
                            failures.append(f"{where}: created ({response.status_code})")
                        elif response.status_code not in refused_codes:
                            failures.append(f"{where}: {response.status_code}")
                    transaction.set_rollback(True)
    assert not failures, f"{len(failures)} of {requests} attempts failed:\n" + "\n".join(failures)


# --- What subscriptions and inboxes receive ------------------------------------------------------


def raise_alerts(deals: Deals) -> None:
    """A breach in each deal: combined revenues far under the minimum."""
    loan = deals.facilities[A]
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=1, ebitda=-1)
    assert statement_file_submit(agreement=deals.agreements[A], user=None, filename="a.csv", content=csv_bytes(rows)).ok
    agreement_evaluate(agreement_id=deals.agreements[A].pk, as_of=dt.date(2026, 1, 1))
    for deal in (C, D):
        facility: Facility = deals.facilities[deal]
        content = csv_bytes(revenue_rows(facility, dt.date(2019, 9, 30), 1_000))
        assert statement_file_submit(agreement=facility.agreement, user=None, filename="f.csv", content=content).ok
        agreement_evaluate(agreement_id=facility.agreement.pk, as_of=dt.date(2019, 12, 1))


def test_a_subscription_receives_only_deals_its_party_is_in_and_its_creator_may_read(
    deals,
    webhook_server,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    """Made through the service by the party's own users (or an administrator), a subscription
    receives every deal its party is alerted in; one naming a party of another deal, made by a
    user of C or D (as the attack did before the rule held), never carries A's alerts."""
    base = f"http://127.0.0.1:{webhook_server.port}/hooks"
    users = deals.users
    kinds = list(AlertKind.values)
    expected = {
        # name: (party, creator, the deals it receives exactly; or None: at most these, never A)
        "cibc-by-cibc": ("cibc", "cibc", {A, C}),
        "cibc-by-admin": ("cibc", "admin", {A, C}),
        "gamma-bank-by-gamma-agent": ("gamma_bank", "gamma_agent", {C}),
        "first-union-by-first-union": ("first_union", "first_union", {A, D}),
        "delta-lender-by-delta-lender": ("delta_lender", "delta_lender", {D}),
        "kmc-by-kmc": ("kmc", "kmc", {A}),
    }
    made_elsewhere = {
        "cibc-by-gamma-agent": ("cibc", "gamma_agent", {C}),
        "cibc-by-gamma-lender": ("cibc", "gamma_lender", {C}),
        "first-union-by-delta-lender": ("first_union", "delta_lender", {D}),
    }
    subscriptions = {}
    for name, (party, creator, _) in expected.items():
        subscriptions[name] = webhook_subscription_create(
            user=users[creator], party=deals.parties[party], url=f"{base}/{name}", kinds=kinds
        )
    for name, (party, creator, _) in made_elsewhere.items():
        subscriptions[name] = WebhookSubscription.objects.create(
            party=deals.parties[party], url=f"{base}/{name}", secret="s" * 64, kinds=kinds, created_by=users[creator]
        )
    with django_capture_on_commit_callbacks(execute=True):
        raise_alerts(deals)
    deal_of = {agreement.pk: deal for deal, agreement in deals.agreements.items()}
    raised = set(AlertDelivery.objects.values_list("alert__agreement_id", flat=True))
    assert {deal_of[pk] for pk in raised} == {A, C, D}, "each deal raises an alert"

    posted: dict[str, set[str]] = {name: set() for name in subscriptions}
    for post in webhook_server.posts():
        posted[post.path.rsplit("/", 1)[1]].add(deal_of[post.json()["alert"]["agreement"]["id"]])
    failures: list[str] = []
    for name, subscription in subscriptions.items():
        stored = {
            deal_of[pk]
            for pk in AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK, subscription=subscription)
            .exclude(status="cancelled")
            .values_list("alert__agreement_id", flat=True)
        }
        if name in expected:
            want = expected[name][2]
            if stored != want or posted[name] != want:
                got = f"deliveries of {sorted(stored)}, posted {sorted(posted[name])}"
                failures.append(f"{name}: {got}; want {sorted(want)}")
        else:
            most = made_elsewhere[name][2]
            if not stored <= most or not posted[name] <= most:
                got = f"deliveries of {sorted(stored)}, posted {sorted(posted[name])}"
                failures.append(f"{name}: {got}; at most {sorted(most)}, never A")
    assert not failures, "\n".join(failures)


def test_each_inbox_holds_only_the_alerts_of_deals_its_user_sees(client, deals):
    raise_alerts(deals)
    deal_of = {agreement.pk: deal for deal, agreement in deals.agreements.items()}
    entries = list(AlertDelivery.objects.filter(channel=AlertChannel.IN_APP).select_related("alert"))
    failures: list[str] = []
    for user_name, user in deals.users.items():
        seen = SEES[user_name]
        listed = api(user).get(reverse("api:alert-list"), {"page_size": 500}).json()["results"]
        listed_deals = {deal_of[row["agreement"]] for row in listed}
        if not listed_deals <= seen:
            failures.append(f"API inbox of {user_name}: alerts of {sorted(listed_deals - seen)}")
        if user_name not in ("admin", "outsider") and listed_deals != seen:
            failures.append(f"API inbox of {user_name}: alerts of {sorted(listed_deals)}, want {sorted(seen)}")
        client.force_login(user)
        inbox = client.get(reverse("alerts:inbox"), {"page": 1}).content.decode()
        for entry in entries:
            if deal_of[entry.alert.agreement_id] in seen and entry.user_id == user.pk:
                continue
            detail = reverse("alerts:detail", args=[entry.pk])
            if f'href="{detail}"' in inbox:
                failures.append(f"/alerts/ of {user_name}: links {detail}, another's entry")
        # Another deal's entry, read directly: not found, by page or by API.
        for entry in entries:
            if deal_of[entry.alert.agreement_id] in seen:
                continue
            if client.get(reverse("alerts:detail", args=[entry.pk])).status_code != 404:
                failures.append(f"/alerts/{entry.pk}/ as {user_name}: not 404")
            if api(user).get(reverse("api:alert-detail", args=[entry.pk])).status_code != 404:
                failures.append(f"API alert {entry.pk} as {user_name}: not 404")
            break
    assert not failures, "\n".join(failures)


# --- Party records and signatories shared by several deals ---------------------------------------

# (user, party, whether the user may change the party's record)
PARTY_EDITS = [
    ("gamma_agent", "gamma_borrower", True),  # in C only, which it administers
    ("gamma_agent", "gamma_bank", True),  # its own party, in C only
    ("gamma_agent", "cibc", False),  # a Lender in A too: not C's Agent's to change
    ("gamma_agent", "kmc", False),  # not in C at all
    ("first_union", "delta_borrower", True),  # in D only, which it administers
    ("first_union", "first_union", True),  # its own party
    ("first_union", "cibc", False),  # in C too, which First Union does not administer
    ("first_union", "gamma_bank", False),
    ("first_union", "kmc", False),  # in the Lucent agreement too, where First Union has no role
    ("newcourt", "first_union", False),  # First Union is in D, which Newcourt does not administer
    ("delta_lender", "delta_borrower", False),  # a Lender's user is no Agent's
    ("gamma_borrower", "cibc", False),
    ("admin", "cibc", True),
    ("admin", "first_union", True),
]
# (user, person, whether the user may change the signatory's record)
PERSON_EDITS = [
    ("gamma_agent", "Gina Gamma", True),  # signs only in C
    ("gamma_agent", CIBC_SIGNATORY, False),  # signs for CIBC in A too
    ("first_union", "Dana Delta", True),  # signs only in D
    ("first_union", FIRST_UNION_SIGNATORY, True),  # signs in A and D, both First Union's
    ("first_union", CIBC_SIGNATORY, False),  # signs in C too
    ("newcourt", FIRST_UNION_SIGNATORY, False),  # signs in D too, which Newcourt does not administer
    ("admin", CIBC_SIGNATORY, True),
]


def test_a_party_in_several_deals_is_changed_only_by_its_users_administrators_or_an_agent_of_each(deals):
    failures: list[str] = []
    edits = [("party", user, deals.parties[name], allowed) for user, name, allowed in PARTY_EDITS]
    edits += [("person", user, Person.objects.get(full_name=name), allowed) for user, name, allowed in PERSON_EDITS]
    for kind, user_name, row, allowed in edits:
        model = type(row)
        route, change = ("api:party-detail", {"legal_name": "Renamed Bank"})
        if kind == "person":
            route, change = ("api:person-detail", {"email": "renamed@example.com"})
        where = f"PATCH {kind} {row} as {user_name}"
        with transaction.atomic():
            before = model.objects.filter(pk=row.pk).values().get()
            response = api(deals.users[user_name]).patch(reverse(route, args=[row.pk]), change, format="json")
            after = model.objects.filter(pk=row.pk).values().get()
            field_name, value = next(iter(change.items()))
            if allowed and (response.status_code != 200 or after[field_name] != value):
                failures.append(f"{where}: {response.status_code}, not changed")
            if not allowed:
                if response.status_code not in (403, 404):
                    failures.append(f"{where}: {response.status_code}, expected 403 or 404")
                if after != before:
                    failures.append(f"{where}: changed {field_name} to {after[field_name]!r}")
            transaction.set_rollback(True)
    assert not failures, "\n".join(failures)
