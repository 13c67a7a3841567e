"""
Every page of the site, for every kind of user, on the seed Loan Agreement and on a second
agreement that shares no party with it: each user reaches what their role allows, gets 404
for an agreement they are not party to, and never sees the other agreement's parties.

The routes are read from the URL resolver: a new page without a case here fails the suite.
The admin and the REST API have access tests of their own (tests/*/test_admin.py, tests/api/).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import openpyxl
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from covenants import services
from covenants.choices import AlertChannel
from covenants.models import Agreement, AlertDelivery, StatementUpload, WebhookSubscription
from parties.choices import MembershipRole
from parties.models import Party
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.factories import administrator, member, outsider, second_facility

pytestmark = pytest.mark.django_db

EXCLUDED_PREFIXES = ("admin/", "api/")
SEED, HARBOR = "seed", "harbor"
BORROWER, LENDER, AGENT, ADMIN = "borrower", "lender", "agent", "admin"


def site_routes() -> dict[str, str]:
    """Every named route of the site outside the admin and the API: name -> pattern."""
    routes: dict[str, str] = {}

    def walk(patterns, prefix: str = "", namespace: str | None = None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(n for n in (namespace, pattern.namespace) if n) or None
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                path = prefix + str(pattern.pattern)
                if not path.startswith(EXCLUDED_PREFIXES):
                    routes[f"{namespace}:{pattern.name}" if namespace else pattern.name] = path

    walk(get_resolver().url_patterns)
    return routes


@dataclass
class World:
    """Both agreements, a user of each kind, a statement file in each, and how each user stands."""

    agreements: dict[str, Agreement]
    users: dict[str, object]
    relation: dict[tuple[str, str], str | None]
    uploads: dict[str, StatementUpload]
    forbidden: dict[str, list[str]] = field(default_factory=dict)

    def role(self, user: str, agreement: str) -> str | None:
        return self.relation.get((user, agreement))


@pytest.fixture
def world() -> World:
    loan = seed_loan()
    harbor = second_facility()
    cibc = Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    first_union = Party.objects.get(legal_name="First Union National Bank")
    users = {
        "seed.borrower": member("seed.borrower", MembershipRole.BORROWER, *loan.borrowers.values()),
        "seed.lender": member("seed.lender", MembershipRole.LENDER, cibc),
        "seed.agent": member("seed.agent", MembershipRole.AGENT, first_union),
        "harbor.borrower": harbor.users["borrower"],
        "harbor.lender": harbor.users["lender"],
        "harbor.agent": harbor.users["agent"],
        "admin": administrator(),
        "outsider": outsider(),
    }
    relation: dict[tuple[str, str], str | None] = {
        ("seed.borrower", SEED): BORROWER,
        ("seed.lender", SEED): LENDER,
        ("seed.agent", SEED): AGENT,
        ("harbor.borrower", HARBOR): BORROWER,
        ("harbor.lender", HARBOR): LENDER,
        ("harbor.agent", HARBOR): AGENT,
        ("admin", SEED): ADMIN,
        ("admin", HARBOR): ADMIN,
    }
    # Figures in both agreements, so results, alerts and submissions exist in each.
    rows = combined_rows(loan, dt.date(2000, 3, 31), revenues=23_000_000, ebitda=-5_000_000)
    seed_upload = services.statement_file_submit(
        agreement=loan.agreement, user=None, filename="kmc.csv", content=csv_bytes(rows), source="command"
    )
    harbor_rows = [
        (party.legal_name, "2020-06-30", item, amount)
        for party in harbor.borrowers
        for item, amount in (("Revenues", "400,000"), ("EBITDA", "100,000"), ("Total Debt", "3,000,000"))
    ]
    harbor_upload = services.statement_file_submit(
        agreement=harbor.agreement, user=None, filename="harbor.csv", content=csv_bytes(harbor_rows), source="command"
    )
    assert seed_upload.ok and harbor_upload.ok
    # Evaluated here: the test's transaction never commits, so nothing queued on commit runs.
    services.agreements_evaluate(agreement_ids=[loan.agreement.pk, harbor.agreement.pk])
    seed_names = sorted(set(loan.agreement.roles.values_list("party__legal_name", flat=True)))
    harbor_names = sorted(set(harbor.agreement.roles.values_list("party__legal_name", flat=True)))
    seed_words = [*seed_names, loan.agreement.name, "KMC"]
    harbor_words = [*harbor_names, harbor.agreement.name, "Harbor"]
    forbidden = {
        "seed.borrower": harbor_words,
        "seed.lender": harbor_words,
        "seed.agent": harbor_words,
        "harbor.borrower": seed_words,
        "harbor.lender": seed_words,
        "harbor.agent": seed_words,
        "admin": [],
        "outsider": seed_words + harbor_words,
    }
    return World(
        agreements={SEED: loan.agreement, HARBOR: harbor.agreement},
        users=users,
        relation=relation,
        uploads={SEED: seed_upload.upload, HARBOR: harbor_upload.upload},
        forbidden=forbidden,
    )


# --- Cases -------------------------------------------------------------------------------------------


@dataclass
class Case:
    """How to request a route, and which statuses each user may get."""

    url: Callable[[World, str | None], str]
    expect: Callable[[World, str, str | None], set[int]]
    method: str = "get"
    data: dict | None = None
    per_agreement: bool = True


def read(world: World, user: str, agreement: str | None) -> set[int]:
    """Pages of an agreement any party to it may read."""
    return {200} if world.role(user, agreement) else {404}


def submit(world: World, user: str, agreement: str | None) -> set[int]:
    """Pages of the upload journey and the certificate: Borrowers' users, Agents, administrators."""
    role = world.role(user, agreement)
    if role is None:
        return {404}
    return {403} if role == LENDER else {200}


def confirm(world: World, user: str, agreement: str | None) -> set[int]:
    role = world.role(user, agreement)
    if role is None:
        return {404}
    return {403} if role == LENDER else {302}


def everyone(*statuses: int) -> Callable[[World, str, str | None], set[int]]:
    return lambda world, user, agreement: set(statuses)


def own_inbox_entry(world: World, user: str, agreement: str | None) -> set[int]:
    return {200} if _delivery(world, agreement).user == world.users[user] else {404}


def own_inbox_entry_post(world: World, user: str, agreement: str | None) -> set[int]:
    return {302} if _delivery(world, agreement).user == world.users[user] else {404}


def webhook_manager(world: World, user: str, agreement: str | None) -> set[int]:
    """A party's webhooks: its own users, the agreement's Agents, administrators; 404 for anyone else."""
    role = world.role(user, agreement)
    return {302} if role in (LENDER, AGENT, ADMIN) else {404}


def waiver_recorder(world: World, user: str, agreement: str | None) -> set[int]:
    return {200} if user in ("seed.agent", "harbor.agent", "admin") else {403}


def _agreement_url(name: str, **query: str) -> Callable[[World, str | None], str]:
    def build(world: World, agreement: str | None) -> str:
        url = reverse(name, args=[world.agreements[agreement].pk])
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    return build


def _upload_url(name: str) -> Callable[[World, str | None], str]:
    return lambda world, agreement: reverse(name, args=[world.agreements[agreement].pk, world.uploads[agreement].pk])


def _plain(name: str) -> Callable[[World, str | None], str]:
    return lambda world, agreement: reverse(name)


def _delivery(world: World, agreement: str | None) -> AlertDelivery:
    """An inbox entry about the agreement, addressed to its Borrower's user."""
    owner = world.users["seed.borrower" if agreement == SEED else "harbor.borrower"]
    entry = AlertDelivery.objects.filter(
        alert__agreement=world.agreements[agreement], user=owner, channel=AlertChannel.IN_APP
    ).first()
    assert entry is not None, f"no inbox entry was raised for the {agreement} agreement"
    return entry


def _delivery_url(name: str) -> Callable[[World, str | None], str]:
    return lambda world, agreement: reverse(name, args=[_delivery(world, agreement).pk])


def _lender_party(world: World, agreement: str | None) -> Party:
    """The party of the agreement's lender user: its webhooks are the ones requested."""
    return world.users["seed.lender" if agreement == SEED else "harbor.lender"].memberships.get().party


def _subscription_url(name: str) -> Callable[[World, str | None], str]:
    def build(world: World, agreement: str | None) -> str:
        # A fresh subscription each time: a delete by one user must not change the next user's case.
        count = WebhookSubscription.objects.count()
        subscription = WebhookSubscription.objects.create(
            party=_lender_party(world, agreement), url=f"https://hooks.example.com/{count}", secret="s" * 32
        )
        return reverse(name, args=[subscription.pk])

    return build


CASES: dict[str, Case] = {
    "home": Case(_plain("home"), everyone(200), per_agreement=False),
    "login": Case(_plain("login"), everyone(302), per_agreement=False),
    "logout": Case(_plain("logout"), everyone(405), per_agreement=False),
    "password_change": Case(_plain("password_change"), everyone(200), per_agreement=False),
    "password_change_done": Case(_plain("password_change_done"), everyone(200), per_agreement=False),
    "two_factor_setup": Case(_plain("two_factor_setup"), everyone(200, 302), per_agreement=False),
    "two_factor_verify": Case(_plain("two_factor_verify"), everyone(200, 302), per_agreement=False),
    "covenants:agreement_detail": Case(_agreement_url("covenants:agreement_detail"), read),
    "covenants:compliance_csv": Case(_agreement_url("covenants:compliance_csv"), read),
    "covenants:compliance_xlsx": Case(_agreement_url("covenants:compliance_xlsx"), read),
    "covenants:statement_upload": Case(_agreement_url("covenants:statement_upload"), submit),
    "covenants:statement_template": Case(
        _agreement_url("covenants:statement_template", period_end="2000-03-31", format="csv"), submit
    ),
    "covenants:statement_confirm": Case(
        _agreement_url("covenants:statement_confirm"), confirm, method="post", data={"action": "discard"}
    ),
    "covenants:submission_detail": Case(_upload_url("covenants:submission_detail"), submit),
    "covenants:submission_progress": Case(_upload_url("covenants:submission_progress"), submit),
    "covenants:compliance_certificate": Case(_agreement_url("covenants:compliance_certificate"), submit),
    "alerts:inbox": Case(_plain("alerts:inbox"), everyone(200), per_agreement=False),
    "alerts:preferences": Case(_plain("alerts:preferences"), everyone(200), per_agreement=False),
    "alerts:webhooks": Case(_plain("alerts:webhooks"), everyone(200), per_agreement=False),
    "alerts:webhook_add": Case(_plain("alerts:webhook_add"), everyone(200, 403), per_agreement=False),
    "alerts:waiver_new": Case(_plain("alerts:waiver_new"), waiver_recorder, per_agreement=False),
    "alerts:mark_read": Case(_plain("alerts:mark_read"), everyone(302), method="post", per_agreement=False),
    "alerts:detail": Case(_delivery_url("alerts:detail"), own_inbox_entry),
    "alerts:acknowledge": Case(_delivery_url("alerts:acknowledge"), own_inbox_entry_post, method="post"),
    "alerts:webhook_pause": Case(_subscription_url("alerts:webhook_pause"), webhook_manager, method="post"),
    "alerts:webhook_resume": Case(_subscription_url("alerts:webhook_resume"), webhook_manager, method="post"),
    "alerts:webhook_delete": Case(_subscription_url("alerts:webhook_delete"), webhook_manager, method="post"),
}


def test_every_page_of_the_site_has_a_case():
    routes = site_routes()
    missing = sorted(set(routes) - set(CASES))
    assert not missing, f"pages without an access case in {__name__}: {missing}"
    assert not sorted(set(CASES) - set(routes)), "cases for pages that no longer exist"


def _text_of(response) -> str:
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
        )
    # A CSRF token is 64 random letters and digits: now and then it spells "KMC", which is no leak.
    return _CSRF_TOKEN.sub("", body.decode("utf-8-sig", errors="replace"))


_CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def test_every_page_for_every_user_on_both_agreements(client, world):
    failures: list[str] = []
    requests = 0
    for name, case in CASES.items():
        for user in world.users:
            for agreement in (SEED, HARBOR) if case.per_agreement else (None,):
                client.force_login(world.users[user])
                url = case.url(world, agreement)
                response = client.post(url, case.data or {}) if case.method == "post" else client.get(url)
                requests += 1
                expected = case.expect(world, user, agreement)
                where = f"{name} {url} as {user}" + (f" on the {agreement} agreement" if agreement else "")
                if response.status_code not in expected:
                    failures.append(f"{where}: {response.status_code}, expected {sorted(expected)}")
                    continue
                text = _text_of(response)
                for word in world.forbidden[user]:
                    if word in text or html.escape(word) in text:
                        failures.append(f"{where}: shows {word!r}, which is not theirs to see")
    assert not failures, f"{len(failures)} of {requests} requests failed:\n" + "\n".join(failures)
    assert requests > 300


def test_a_submission_is_reached_only_through_its_own_agreement(client, world):
    """Another agreement's file under this agreement's URL is 404, even for an administrator."""
    client.force_login(world.users["admin"])
    url = reverse("covenants:submission_detail", args=[world.agreements[SEED].pk, world.uploads[HARBOR].pk])
    assert client.get(url).status_code == 404
    url = reverse("covenants:submission_progress", args=[world.agreements[HARBOR].pk, world.uploads[SEED].pk])
    assert client.get(url).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    for name, case in CASES.items():
        if name in ("login", "logout") or case.method == "post":
            continue
        url = case.url(world, SEED if case.per_agreement else None)
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_the_agreement_page_decides_who_may_submit_as_the_upload_does(world):
    """The page decides from the roles it has loaded (portal.access.may_submit_given_roles);
    the upload asks borrowers_user_may_submit_for. Both must agree for every kind of user,
    including a Borrower's user whose membership is not a Borrower's, an agent's user whose
    membership is a Lender's (acting for the Agent all the same) and an administrator by
    membership rather than by superuser flag."""
    from django.contrib.auth import get_user_model

    from portal import access

    loan_borrower = world.agreements[SEED].roles.filter(role="borrower").first().party
    first_union = Party.objects.get(legal_name="First Union National Bank")
    users = [
        *world.users.values(),
        member("seed.borrower.reader", MembershipRole.LENDER, loan_borrower),
        member("seed.agent.lender", MembershipRole.LENDER, first_union),
        member("member.admin", MembershipRole.ADMINISTRATOR, first_union),  # not a superuser
    ]
    decided = {}
    for user in users:
        for name, agreement in world.agreements.items():
            fresh = get_user_model().objects.get(pk=user.pk)  # a request's own user object
            by_page = access.may_submit_given_roles(fresh, list(agreement.roles.all()))
            by_upload = access.borrowers_user_may_submit_for(fresh, agreement).exists()
            assert by_page == by_upload, (user.username, name)
            decided[(user.username, name)] = by_page
    assert decided[("seed.borrower", SEED)] and decided[("seed.agent.lender", SEED)]
    assert not decided[("seed.borrower.reader", SEED)] and not decided[("seed.lender", SEED)]
    assert not decided[("seed.borrower", HARBOR)] and decided[("portal.admin", HARBOR)]
    assert decided[("member.admin", HARBOR)]
