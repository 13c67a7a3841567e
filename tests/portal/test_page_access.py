"""
Every page of the site, for every kind of user, on the seed Loan Agreement, on a second
agreement that shares no party with it, and on two deals that do (tests/shared_deals.py:
Gamma, where the seed's Lender Canadian Imperial Bank of Commerce is a Lender too; Delta,
whose Agent is the seed's Agent, First Union). Each user reaches what their role allows, gets
404 for an agreement they are not party to, and never sees the parties, the alerts or the
webhook subscriptions of one they do not see; each download shows its own agreement.

The routes are read from the URL resolver: a new page without a case here fails the suite.
The REST API has its access matrix in tests/api/; the admin, which none of the deals' users
may enter, is checked here for every deal's objects.
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
from django.contrib import admin
from django.core.exceptions import FieldError
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from alerts.choices import AlertChannel
from alerts.models import AlertDelivery, WebhookSubscription
from compliance import services
from covenants.models import Agreement
from documents.models import Document, ImportReview
from documents.review import open_review
from documents.services import document_store
from parties.choices import MembershipRole
from parties.models import Party
from statements import services as statement_services
from statements.models import StatementUpload
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.execution.page_cases import document_block_cases, execution_cases
from tests.factories import administrator, member, outsider, second_facility
from tests.shared_deals import CIBC, FIRST_UNION, delta_deal, gamma_deal, revenue_rows
from tests.syndicate.page_cases import syndicate_cases

pytestmark = pytest.mark.django_db

EXCLUDED_PREFIXES = ("admin/", "api/")
SEED, HARBOR, GAMMA, DELTA = "seed", "harbor", "gamma", "delta"
AGREEMENTS = (SEED, HARBOR, GAMMA, DELTA)
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


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The builders make a user per party and role; none of them signs in with a password here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """The four agreements, a user of each kind, a statement file in each, and how each user stands."""

    agreements: dict[str, Agreement]
    users: dict[str, object]
    relation: dict[tuple[str, str], str | None]
    uploads: dict[str, StatementUpload]
    forbidden: dict[str, list[str]] = field(default_factory=dict)
    # The party whose webhooks the webhook pages of each agreement's case act on.
    hook_parties: dict[str, Party] = field(default_factory=dict)

    def role(self, user: str, agreement: str) -> str | None:
        return self.relation.get((user, agreement))


@pytest.fixture
def world() -> World:
    loan = seed_loan()
    harbor = second_facility()
    gamma = gamma_deal()
    delta = delta_deal()
    cibc = Party.objects.get(legal_name=CIBC)
    first_union = Party.objects.get(legal_name=FIRST_UNION)
    users = {
        "seed.borrower": member("seed.borrower", MembershipRole.BORROWER, *loan.borrowers.values()),
        "seed.lender": member("seed.lender", MembershipRole.LENDER, cibc),  # a Lender in Gamma too
        "seed.agent": member("seed.agent", MembershipRole.AGENT, first_union),  # the Agent of Delta too
        "harbor.borrower": harbor.users["borrower"],
        "harbor.lender": harbor.users["lender"],
        "harbor.agent": harbor.users["agent"],
        "gamma.borrower": gamma.users["borrower"],
        "gamma.lender": gamma.users["lender"],
        "gamma.agent": gamma.users["agent"],
        "delta.borrower": delta.users["borrower"],
        "delta.lender": delta.users["lender"],
        "admin": administrator(),
        "outsider": outsider(),
    }
    relation: dict[tuple[str, str], str | None] = {
        ("seed.borrower", SEED): BORROWER,
        ("seed.lender", SEED): LENDER,
        ("seed.lender", GAMMA): LENDER,
        ("seed.agent", SEED): AGENT,
        ("seed.agent", DELTA): AGENT,
        ("harbor.borrower", HARBOR): BORROWER,
        ("harbor.lender", HARBOR): LENDER,
        ("harbor.agent", HARBOR): AGENT,
        ("gamma.borrower", GAMMA): BORROWER,
        ("gamma.lender", GAMMA): LENDER,
        ("gamma.agent", GAMMA): AGENT,
        ("delta.borrower", DELTA): BORROWER,
        ("delta.lender", DELTA): LENDER,
        **{("admin", agreement): ADMIN for agreement in AGREEMENTS},
    }
    # Figures in every agreement, so results, alerts and submissions exist in each.
    rows = combined_rows(loan, dt.date(2000, 3, 31), revenues=23_000_000, ebitda=-5_000_000)
    uploads = {}
    for name, agreement, filename, content in (
        (SEED, loan.agreement, "kmc.csv", csv_bytes(rows)),
        (HARBOR, harbor.agreement, "harbor.csv", csv_bytes(revenue_rows(harbor, dt.date(2020, 6, 30), 800_000))),
        (GAMMA, gamma.agreement, "gamma.csv", csv_bytes(revenue_rows(gamma, dt.date(2020, 6, 30)))),
        (DELTA, delta.agreement, "delta.csv", csv_bytes(revenue_rows(delta, dt.date(2020, 6, 30)))),
    ):
        outcome = statement_services.statement_file_submit(
            agreement=agreement, user=None, filename=filename, content=content, source="command"
        )
        assert outcome.ok, outcome.errors
        uploads[name] = outcome.upload
    agreements = {SEED: loan.agreement, HARBOR: harbor.agreement, GAMMA: gamma.agreement, DELTA: delta.agreement}
    # Evaluated here: the test's transaction never commits, so nothing queued on commit runs.
    services.agreements_evaluate(agreement_ids=[a.pk for a in agreements.values()])
    words = {
        name: [*sorted(set(agreement.roles.values_list("party__legal_name", flat=True))), agreement.name, marker]
        for (name, agreement), marker in zip(agreements.items(), ("KMC", "Harbor", "Gamma", "Delta"), strict=True)
    }
    forbidden = {}
    for user in users:
        seen = {agreement for agreement in AGREEMENTS if relation.get((user, agreement))}
        allowed = {word for agreement in seen for word in words[agreement]}
        forbidden[user] = sorted({w for a in AGREEMENTS if a not in seen for w in words[a]} - allowed)
    # A standing subscription of each party whose webhooks are at stake: its URL and secret are
    # shown to none but the party's own users and administrators.
    hook_parties = {SEED: cibc, HARBOR: harbor.lender, GAMMA: gamma.agent, DELTA: delta.lender}
    for index, party in enumerate([*hook_parties.values(), first_union]):
        subscription = WebhookSubscription.objects.create(
            party=party, url=f"https://hooks.example.com/standing-{index}", secret=f"{index}standingsecret" * 4
        )
        for user_name, user in users.items():
            if user_name != "admin" and not party.memberships.filter(user=user).exists():
                forbidden[user_name] += [subscription.url, subscription.secret]
    return World(
        agreements=agreements,
        users=users,
        relation=relation,
        uploads=uploads,
        forbidden=forbidden,
        hook_parties=hook_parties,
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
    # A download or document of the agreement: what it answers with 200 names that agreement.
    shows_agreement: bool = False


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
    """A party's webhooks: its own users and administrators only (the party is in other deals
    too, so no deal's Agent manages them); 404 for anyone else. Done, the page redirects to the
    list, or shows what must be shown once (a new secret)."""
    party = world.hook_parties[agreement]
    if user == "admin" or party.memberships.filter(user=world.users[user]).exists():
        return {200, 302}
    return {404}


def waiver_recorder(world: World, user: str, agreement: str | None) -> set[int]:
    return {200} if user in ("seed.agent", "harbor.agent", "gamma.agent", "admin") else {403}


def _agreement_url(name: str, **query: str) -> Callable[[World, str | None], str]:
    def build(world: World, agreement: str | None) -> str:
        url = reverse(name, args=[world.agreements[agreement].pk])
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    return build


def _certificate_url(world: World, agreement: str | None) -> str:
    """The certificate filled in for the quarter each agreement's figures were given for."""
    test_date = "2000-03-31" if agreement == SEED else "2020-06-30"
    url = reverse("covenants:compliance_certificate", args=[world.agreements[agreement].pk])
    return f"{url}?test_date={test_date}&officer_name=Pat+Officer&officer_title=Chief+Financial+Officer"


def _upload_url(name: str) -> Callable[[World, str | None], str]:
    return lambda world, agreement: reverse(name, args=[world.agreements[agreement].pk, world.uploads[agreement].pk])


def _document_url(world: World, agreement: str | None) -> str:
    """A stored text of the agreement (stored once, by an administrator, on first use)."""
    deal = world.agreements[agreement]
    document = Document.objects.filter(agreement=deal).first() or (
        document_store(
            user=world.users["admin"],
            agreement=deal,
            content=f"AMENDMENT NO. 1 TO {deal.name.upper()}\n\nThe {deal.name} is amended.\n",
            filename=f"{agreement}.txt",
        ).document
    )
    return reverse("covenants:document_detail", args=[deal.pk, document.pk]) + "?span=0-9"


def _review(world: World, agreement: str | None) -> ImportReview:
    """A review of the agreement's stored text (opened once, by an administrator, on first use)."""
    deal = world.agreements[agreement]
    review = ImportReview.objects.filter(document__agreement=deal).first()
    if review is None:
        _document_url(world, agreement)
        review = open_review(world.users["admin"], Document.objects.filter(agreement=deal).first(), agreement=deal)
    assert review.items.exists(), f"the {agreement} review proposes nothing"
    return review


def _review_url(name: str, *more: str) -> Callable[[World, str | None], str]:
    """A route of a review of the agreement: the review itself, a section or an item of it."""

    def build(world: World, agreement: str | None) -> str:
        review = _review(world, agreement)
        extra = {"section": [review.items.first().section], "item": [review.items.first().pk]}
        args = [world.agreements[agreement].pk, review.pk, *(arg for name in more for arg in extra[name])]
        return reverse(name, args=args)

    return build


def reviewer(world: World, user: str, agreement: str | None) -> set[int]:
    """The review queue: the agreement's Agents and administrators; 404 for anyone else, its
    Borrowers and Lenders included. A decision or an application redirects back."""
    return {200, 302} if world.role(user, agreement) in (AGENT, ADMIN) else {404}


def _plain(name: str) -> Callable[[World, str | None], str]:
    return lambda world, agreement: reverse(name)


def _delivery(world: World, agreement: str | None) -> AlertDelivery:
    """An inbox entry about the agreement, addressed to its Borrower's user."""
    owner = world.users[f"{agreement}.borrower"]
    entry = AlertDelivery.objects.filter(
        alert__agreement=world.agreements[agreement], user=owner, channel=AlertChannel.IN_APP
    ).first()
    assert entry is not None, f"no inbox entry was raised for the {agreement} agreement"
    return entry


def _delivery_url(name: str) -> Callable[[World, str | None], str]:
    return lambda world, agreement: reverse(name, args=[_delivery(world, agreement).pk])


def _subscription_url(name: str) -> Callable[[World, str | None], str]:
    def build(world: World, agreement: str | None) -> str:
        # A fresh subscription each time: a delete by one user must not change the next user's case.
        count = WebhookSubscription.objects.count()
        subscription = WebhookSubscription.objects.create(
            party=world.hook_parties[agreement], url=f"https://hooks.example.com/{count}", secret="s" * 32
        )
        return reverse(name, args=[subscription.pk])

    return build


CASES: dict[str, Case] = {
    "home": Case(_plain("home"), everyone(200), per_agreement=False),
    "favicon": Case(_plain("favicon"), everyone(301), per_agreement=False),
    "login": Case(_plain("login"), everyone(302), per_agreement=False),
    "logout": Case(_plain("logout"), everyone(405), per_agreement=False),
    "password_change": Case(_plain("password_change"), everyone(200), per_agreement=False),
    "password_change_done": Case(_plain("password_change_done"), everyone(200), per_agreement=False),
    "two_factor_setup": Case(_plain("two_factor_setup"), everyone(200, 302), per_agreement=False),
    "two_factor_verify": Case(_plain("two_factor_verify"), everyone(200, 302), per_agreement=False),
    "covenants:agreement_detail": Case(_agreement_url("covenants:agreement_detail"), read, shows_agreement=True),
    "covenants:compliance_csv": Case(_agreement_url("covenants:compliance_csv"), read, shows_agreement=True),
    "covenants:compliance_xlsx": Case(_agreement_url("covenants:compliance_xlsx"), read, shows_agreement=True),
    "covenants:statement_upload": Case(_agreement_url("covenants:statement_upload"), submit),
    "covenants:statement_template": Case(
        _agreement_url("covenants:statement_template", period_end="2000-03-31", format="csv"), submit
    ),
    "covenants:statement_confirm": Case(
        _agreement_url("covenants:statement_confirm"), confirm, method="post", data={"action": "discard"}
    ),
    "covenants:submission_detail": Case(_upload_url("covenants:submission_detail"), submit),
    "covenants:submission_progress": Case(_upload_url("covenants:submission_progress"), submit),
    "covenants:compliance_certificate": Case(_certificate_url, submit, shows_agreement=True),
    "covenants:document_detail": Case(_document_url, read, shows_agreement=True),
    "covenants:review_list": Case(_agreement_url("covenants:review_list"), reviewer, shows_agreement=True),
    "covenants:review_detail": Case(_review_url("covenants:review_detail"), reviewer, shows_agreement=True),
    "covenants:item_edit": Case(_review_url("covenants:item_edit", "item"), reviewer),
    "covenants:item_decide": Case(
        _review_url("covenants:item_decide", "item"), reviewer, method="post", data={"decision": "rejected"}
    ),
    "covenants:section_decide": Case(
        _review_url("covenants:section_decide", "section"), reviewer, method="post", data={"decision": "rejected"}
    ),
    # Nothing is accepted, so applying is refused and redirects back to the review.
    "covenants:review_apply": Case(_review_url("covenants:review_apply"), reviewer, method="post"),
    "alerts:inbox": Case(_plain("alerts:inbox"), everyone(200), per_agreement=False),
    "alerts:preferences": Case(_plain("alerts:preferences"), everyone(200), per_agreement=False),
    "alerts:webhooks": Case(_plain("alerts:webhooks"), everyone(200), per_agreement=False),
    "alerts:webhook_add": Case(_plain("alerts:webhook_add"), everyone(200, 403), per_agreement=False),
    "alerts:waiver_new": Case(_plain("alerts:waiver_new"), waiver_recorder, per_agreement=False),
    "alerts:mark_read": Case(_plain("alerts:mark_read"), everyone(302), method="post", per_agreement=False),
    "alerts:detail": Case(_delivery_url("alerts:detail"), own_inbox_entry),
    "alerts:acknowledge": Case(_delivery_url("alerts:acknowledge"), own_inbox_entry_post, method="post"),
}
# Every action on one subscription (pause, resume, delete, a new secret, ...), as the resolver
# has them: each is its party's own users' and the administrators', whatever the deal.
CASES |= {
    name: Case(_subscription_url(name), webhook_manager, method="post")
    for name, path in site_routes().items()
    if name.startswith("alerts:webhook_") and "<int:pk>" in path
}


# Execution by counterparts: signature pages, signing, counterparts, revocations, conditions.
CASES |= execution_cases(Case)

# Consent requests: the request and its document, the live tally, opening, voting and closing.
CASES |= syndicate_cases(Case)


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


def _request_every(client, world: World, cases: dict[str, Case]) -> tuple[list[str], int]:
    """Each case requested by every user on every agreement: what failed, and how many requests."""
    failures: list[str] = []
    requests = 0
    for name, case in cases.items():
        for user in world.users:
            for agreement in AGREEMENTS if case.per_agreement else (None,):
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
                if case.shows_agreement and response.status_code == 200:
                    own = world.agreements[agreement].name
                    if own not in text and html.escape(own) not in text:
                        failures.append(f"{where}: does not name its own agreement, {own!r}")
    return failures, requests


def test_every_page_for_every_user_on_every_agreement(client, world):
    failures, requests = _request_every(client, world, CASES)
    assert not failures, f"{len(failures)} of {requests} requests failed:\n" + "\n".join(failures)
    assert requests > 800


def test_every_action_on_the_blocks_of_a_reaffirmation_and_of_the_agreement(client, world):
    """The routes that sign, upload for and revoke an amendment's blocks act on a reaffirmation's
    and the agreement's own blocks too, with the same answers for every user."""
    failures, requests = _request_every(client, world, document_block_cases(Case))
    assert not failures, f"{len(failures)} of {requests} requests failed:\n" + "\n".join(failures)


def test_a_submission_is_reached_only_through_its_own_agreement(client, world):
    """Another agreement's file under this agreement's URL is 404, even for an administrator."""
    client.force_login(world.users["admin"])
    url = reverse("covenants:submission_detail", args=[world.agreements[SEED].pk, world.uploads[HARBOR].pk])
    assert client.get(url).status_code == 404
    url = reverse("covenants:submission_progress", args=[world.agreements[HARBOR].pk, world.uploads[SEED].pk])
    assert client.get(url).status_code == 404
    # Nor through a deal that shares a party with the file's: First Union is the Agent of both.
    client.force_login(world.users["seed.agent"])
    url = reverse("covenants:submission_detail", args=[world.agreements[DELTA].pk, world.uploads[SEED].pk])
    assert client.get(url).status_code == 404
    url = reverse("covenants:submission_detail", args=[world.agreements[SEED].pk, world.uploads[GAMMA].pk])
    assert client.get(url).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    for name, case in CASES.items():
        if name in ("login", "logout", "favicon") or case.method == "post":
            continue
        url = case.url(world, SEED if case.per_agreement else None)
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_the_agreement_page_decides_who_may_submit_as_the_upload_does(world):
    """The page decides from the roles it has loaded (covenants.access.may_submit_given_roles);
    the upload asks borrowers_user_may_submit_for. Both must agree for every kind of user,
    including a Borrower's user whose membership is not a Borrower's, an agent's user whose
    membership is a Lender's (acting for the Agent all the same) and an administrator by
    membership rather than by superuser flag."""
    from django.contrib.auth import get_user_model

    from covenants import access

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
    # A party in two deals acts in each as what it is there: First Union is Delta's Agent too;
    # CIBC is a Lender in Gamma; Gamma's Agent is nothing in the seed agreement.
    assert decided[("seed.agent", DELTA)] and not decided[("seed.lender", GAMMA)]
    assert decided[("gamma.agent", GAMMA)] and not decided[("gamma.agent", SEED)]


def test_the_agreement_page_decides_who_reviews_as_the_access_rule_does(world):
    """The page decides who administers the agreement (reviews its texts) from the roles it has
    loaded (covenants.access.may_administer with ``roles``); everywhere else asks
    ``may(user, "administer", agreement)``. Both must agree for every kind of user, including an
    agent's user whose membership is a Lender's and an administrator by membership."""
    from django.contrib.auth import get_user_model

    from covenants import access

    first_union = Party.objects.get(legal_name="First Union National Bank")
    users = [
        *world.users.values(),
        member("seed.agent.lender", MembershipRole.LENDER, first_union),
        member("member.admin", MembershipRole.ADMINISTRATOR, first_union),  # not a superuser
    ]
    decided = {}
    for user in users:
        for name, agreement in world.agreements.items():
            by_roles = access.may_administer(
                get_user_model().objects.get(pk=user.pk), agreement, roles=list(agreement.roles.all())
            )
            by_rule = access.may(get_user_model().objects.get(pk=user.pk), "administer", agreement)
            assert by_roles == by_rule, (user.username, name)
            decided[(user.username, name)] = by_roles
    assert decided[("seed.agent", SEED)] and decided[("seed.agent.lender", SEED)]
    assert not decided[("seed.lender", SEED)] and not decided[("seed.borrower", SEED)]
    assert decided[("member.admin", HARBOR)] and decided[("portal.admin", HARBOR)]
    assert decided[("seed.agent", DELTA)] and not decided[("gamma.agent", SEED)]


# --- The admin ------------------------------------------------------------------------------------------

# Where each admin model's rows lead to their agreement, tried in turn (the first that fits).
AGREEMENT_LOOKUPS = (
    "agreement",
    "guaranty",
    "covenant__agreement",
    "terms__covenant__agreement",
    "amendment__agreement",
    "facility__agreement",
    "request__agreement",
    "statement__agreement",
    "alert__agreement",
    "delivery__alert__agreement",
    "agreement_roles__agreement",
    "party__agreement_roles__agreement",
    "block__party__agreement_roles__agreement",
    "signatures__block__party__agreement_roles__agreement",
    "memberships__party__agreement_roles__agreement",
    "user__memberships__party__agreement_roles__agreement",
)


def deal_objects(model, agreement: Agreement) -> list:
    """One row of ``model`` that belongs to the agreement (by the first lookup that fits), or none."""
    if model is Agreement:
        return [agreement]
    for lookup in AGREEMENT_LOOKUPS:
        try:
            row = model._default_manager.filter(**{lookup: agreement}).order_by("pk").first()
        except FieldError:
            continue
        return [row] if row is not None else []
    return []


def admin_urls(world: World, agreements: tuple[str, ...]) -> list[str]:
    """The admin's index and app pages, every model's list and add pages, and each page of one
    object (change, history, delete, a download) of every given agreement, for every model that
    has rows there."""
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        app_list = reverse("admin:app_list", kwargs={"app_label": model._meta.app_label})
        if app_list not in urls:
            urls.append(app_list)
        rows = [row for agreement in agreements for row in deal_objects(model, world.agreements[agreement])]
        for pattern in model_admin.get_urls():
            if not pattern.name:
                continue
            params = list(pattern.pattern.regex.groupindex)
            if pattern.pattern.regex.groups > len(params):
                continue  # a page of one history record: reached from the object's history page
            if not params:
                urls.append(reverse(f"admin:{pattern.name}"))
                continue
            for row in rows:
                urls.append(reverse(f"admin:{pattern.name}", kwargs=dict.fromkeys(params, row.pk)))
    return urls


def test_the_admin_is_closed_to_every_deals_users(client, world):
    """No user of any deal is staff: every admin page sends them to sign in, and shows nothing.
    The users of the parties in two deals, and Gamma's Agent (the attacker of the shared Lender),
    are refused every page of every other deal's objects; everyone is refused the index and the
    apps' pages (the same gate stands before every page)."""
    login = reverse("admin:login")
    failures: list[str] = []
    everything = admin_urls(world, AGREEMENTS)
    lists = [url for url in everything if url.count("/") <= 4]
    apps = [url for url in lists if url.count("/") <= 3]
    for user_name, user in world.users.items():
        if user_name == "admin":
            continue
        seen = {a for a in AGREEMENTS if world.role(user_name, a)}
        unseen = tuple(a for a in AGREEMENTS if a not in seen)
        urls = admin_urls(world, unseen) if user_name in ("gamma.agent", "seed.lender", "seed.agent") else apps
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            if response.status_code != 302 or not response["Location"].startswith(login):
                failures.append(f"{url} as {user_name}: {response.status_code}, not sent to sign in")
            elif response.content:
                failures.append(f"{url} as {user_name}: answers with a body")
    assert not failures, "\n".join(failures)
    # The pages exist: an administrator reaches every list.
    client.force_login(world.users["admin"])
    for url in lists:
        assert client.get(url).status_code == 200, url


def test_a_deals_user_made_staff_without_permissions_sees_no_deal_in_the_admin(client, world):
    """The admin is not scoped by deal: a staff user sees what their model permissions give them,
    for every deal at once. So a deal's user made staff with no permissions sees nothing: every
    page of every deal's objects is refused, and the index lists no model."""
    user = world.users["gamma.agent"]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    failures: list[str] = []
    index = client.get(reverse("admin:index"))
    if index.status_code != 200:
        failures.append(f"the admin index: {index.status_code}")
    for url in admin_urls(world, AGREEMENTS)[1:]:
        response = client.get(url)
        if response.status_code not in (403, 404):
            failures.append(f"{url}: {response.status_code}")
        text = _text_of(response)
        shown = [w for w in world.forbidden["gamma.agent"] if w in text or html.escape(w) in text]
        if shown:
            failures.append(f"{url}: shows {shown}")
    models = [model._meta.verbose_name_plural for model in admin.site._registry]
    listed = [str(name) for name in models if f">{str(name).capitalize()}<" in _text_of(index)]
    assert not listed, f"the index lists {listed}"
    assert not failures, "\n".join(failures)
