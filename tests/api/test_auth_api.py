"""
Signing in to the API: tokens that expire and are stored hashed, revocation of one or all,
two-factor codes for accounts that use them, the sign-in lockout, session auth for the
browsable API, per-user throttling, and the schema and docs served without a CDN.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = reverse("api:auth-token")
AGREEMENTS = reverse("api:agreement-list")


def sign_in(username: str, password: str = PASSWORD, **extra: str):
    return APIClient().post(TOKEN, {"username": username, "password": password, **extra}, format="json")


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_expires_and_only_its_digest_is_stored(world):
    before = timezone.now()
    response = sign_in("kmc.api")
    assert response.status_code == 200
    token = response.json()["token"]
    expiry = dt.datetime.fromisoformat(response.json()["expiry"])
    assert dt.timedelta(hours=9, minutes=59) < expiry - before <= dt.timedelta(hours=10, minutes=1)
    stored = AuthToken.objects.get(user__username="kmc.api")
    assert stored.digest != token and token not in stored.digest and len(stored.digest) == 128
    assert with_token(token).get(AGREEMENTS).status_code == 200
    # Past its expiry the token no longer works; the user's next valid token sweeps it away.
    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = with_token(token).get(AGREEMENTS)
    assert response.status_code == 401
    fresh = sign_in("kmc.api").json()["token"]
    assert with_token(fresh).get(AGREEMENTS).status_code == 200
    assert not AuthToken.objects.filter(pk=stored.pk).exists()


def test_logout_revokes_the_token_and_logout_all_revokes_every_token(world):
    first, second, third = (sign_in("kmc.api").json()["token"] for _ in range(3))
    assert with_token(first).post(reverse("api:auth-logout")).status_code == 204
    assert with_token(first).get(AGREEMENTS).status_code == 401
    assert with_token(second).get(AGREEMENTS).status_code == 200
    assert with_token(second).post(reverse("api:auth-logout-all")).status_code == 204
    assert with_token(second).get(AGREEMENTS).status_code == 401
    assert with_token(third).get(AGREEMENTS).status_code == 401
    assert not AuthToken.objects.filter(user__username="kmc.api").exists()


def test_an_account_with_two_factor_needs_its_code_for_a_token(world):
    user = world.users["agent"]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = sign_in("firstunion.api")
    assert response.status_code == 400 and "otp" in response.json()
    assert sign_in("firstunion.api", otp="000000").status_code == 400
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = sign_in("firstunion.api", otp=code)
    assert response.status_code == 200, response.content
    assert with_token(response.json()["token"]).get(AGREEMENTS).status_code == 200


def test_a_deployment_requiring_two_factor_refuses_tokens_until_it_is_set_up(world, settings):
    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    response = sign_in("firstunion.api")
    assert response.status_code == 400
    assert "two-factor" in response.json()["non_field_errors"][0]
    assert sign_in("kmc.api").status_code == 200  # required of agents and administrators only


def test_repeated_failures_lock_the_token_endpoint_like_the_sign_in_page(world, settings):
    for _ in range(5):
        assert sign_in("kmc.api", password="wrong").status_code == 400
    response = sign_in("kmc.api")
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]


def test_the_browsable_api_works_with_the_session(world, client):
    client.force_login(world.users["lender"])
    response = client.get(AGREEMENTS, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "KMC Telecom Loan and Security Agreement" in response.content.decode()
    assert "Harbor" not in response.content.decode()


def test_requests_are_throttled_per_user(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "3/minute"},
    }
    lender, borrower = world.client("lender"), world.client("borrower")
    assert [lender.get(AGREEMENTS).status_code for _ in range(4)] == [200, 200, 200, 429]
    response = lender.get(AGREEMENTS)
    assert response.status_code == 429 and "throttled" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    assert borrower.get(AGREEMENTS).status_code == 200  # another user has a budget of their own


def test_the_schema_and_its_docs_are_served_by_the_app_itself(client):
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Lender portal API"
    assert "/api/v1/financial-statements/" in schema.json()["paths"]
    page = client.get(reverse("api:docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, "the docs page loads no assets?"
    assert not [a for a in assets if re.match(r"(?i)(https?:)?//", a)], assets
    assert not re.search(r"(?i)https?://", html), "the docs page names an outside address"
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), f"{asset} is not served by the app"
    script = client.get(reverse("api:docs"), {"script": ""})
    assert script.status_code == 200
    assert not re.search(r"(?i)https?://(?!localhost|testserver)", script.content.decode())


def test_requests_go_through_but_sign_in_waits_when_the_throttling_cache_does_not_answer(world):
    client = world.client("borrower")
    # A Redis that is not there: nothing listens on port 1.
    unreachable = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    tokens = AuthToken.objects.filter(user__username="kmc.api").count()
    with override_settings(CACHES=unreachable):
        assert client.get(AGREEMENTS).status_code == 200
        # The sign-in lockout's counters are in the cache too: without them no password is
        # checked (fail closed), rather than letting unlimited guesses through.
        response = sign_in("kmc.api")
        assert response.status_code == 503
        assert response.json()["detail"] == "Signing in is unavailable for a moment: try again shortly."
        assert int(response["Retry-After"]) > 0
        assert AuthToken.objects.filter(user__username="kmc.api").count() == tokens
    assert sign_in("kmc.api").status_code == 200


# --- Two-factor follows the powers held; tokens end with security changes -------------


def otp_for(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def waiver_payload(world) -> dict:
    return {"covenant": world.seed.covenants["7.01(c)(i)"].pk, "test_date": "2000-03-31", "instrument": "Waiver No. 5"}


def test_a_lender_membership_in_the_agent_party_needs_two_factor_for_agent_powers(world, settings):
    """The attack: a user whose membership in First Union (the seed's Agent) says Lender got a
    token with no code under production settings, then recorded a waiver as the Agent."""
    from parties.choices import MembershipRole
    from tests.factories import member

    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    first_union = world.seed.agreement.roles.get(role="agent").party
    member("firstunion.lender", MembershipRole.LENDER, first_union)
    response = sign_in("firstunion.lender")
    assert response.status_code == 400, response.content
    assert "two-factor" in response.json()["non_field_errors"][0]
    assert not AuthToken.objects.filter(user__username="firstunion.lender").exists()


def test_a_token_issued_before_two_factor_was_required_stops_working(world, settings):
    """Under production settings, a Lender's user gets a token without a code; once their bank
    becomes Agent of a deal, that token no longer works, for reads or the Agent's writes."""
    from covenants.choices import Role
    from covenants.models import AgreementRole

    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    response = sign_in("cibc.api")
    assert response.status_code == 200
    client = with_token(response.json()["token"])
    assert client.get(AGREEMENTS).status_code == 200
    cibc = world.users["lender"].memberships.get().party
    AgreementRole.objects.create(agreement=world.seed.agreement, party=cibc, role=Role.AGENT, defined_term="Agent")
    response = client.get(AGREEMENTS)
    assert response.status_code == 401
    assert "two-factor" in response.json()["detail"]
    assert client.post(reverse("api:waiver-list"), waiver_payload(world), format="json").status_code == 401
    # An Agent's token made before the deployment required the second factor: the same.
    agent = world.client("agent")
    assert agent.get(AGREEMENTS).status_code == 401
    assert agent.post(reverse("api:waiver-list"), waiver_payload(world), format="json").status_code == 401


def test_a_token_issued_with_the_second_factor_keeps_working_where_it_is_required(world, settings):
    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    device = TOTPDevice.objects.create(user=world.users["agent"], name="phone", confirmed=True)
    response = sign_in("firstunion.api", otp=otp_for(device))
    assert response.status_code == 200, response.content
    assert with_token(response.json()["token"]).get(AGREEMENTS).status_code == 200


def test_a_password_change_revokes_every_token(world):
    tokens = [sign_in("kmc.api").json()["token"] for _ in range(2)]
    assert all(with_token(token).get(AGREEMENTS).status_code == 200 for token in tokens)
    user = world.users["borrower"]
    user.set_password("a-new-portal-password-2")
    user.save()
    assert [with_token(token).get(AGREEMENTS).status_code for token in tokens] == [401, 401]
    assert sign_in("kmc.api", password="a-new-portal-password-2").status_code == 200


def test_a_password_changed_on_the_page_revokes_every_token(world, client):
    token = sign_in("kmc.api").json()["token"]
    client.force_login(world.users["borrower"])
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-portal-password-2",
            "new_password2": "a-new-portal-password-2",
        },
    )
    assert response.status_code == 302
    assert with_token(token).get(AGREEMENTS).status_code == 401
    assert client.get(reverse("home")).status_code == 200  # the session that changed it goes on


def test_turning_on_two_factor_revokes_every_token(world, client):
    token = sign_in("cibc.api").json()["token"]
    user = world.users["lender"]
    client.force_login(user)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(reverse("two_factor_setup"), {"code": otp_for(device)}).status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    assert with_token(token).get(AGREEMENTS).status_code == 401


def test_resetting_two_factor_revokes_every_token(world):
    user = world.users["agent"]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    token = sign_in("firstunion.api", otp=otp_for(device)).json()["token"]
    assert with_token(token).get(AGREEMENTS).status_code == 200
    device.delete()  # an administrator resets it (the phone was lost)
    assert with_token(token).get(AGREEMENTS).status_code == 401
