"""Sign-in: throttled after repeated failures, sessions that expire, CSRF on the form."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from ..factories import PASSWORD, member, outsider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_counters():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_failures_lock_the_account_even_with_the_right_password(client, settings):
    user = outsider("locked.user")
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT):
        response = sign_in(client, user.username, "wrong-password")
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_for_other_usernames_from_one_address_lock_nobody_else(settings):
    """The attack: one wrong password for each of five usernames from one address locked the
    next users out, although their passwords were right. Behind a reverse proxy every user
    shares that address."""
    proxy = Client(REMOTE_ADDR="10.0.0.7")
    for attempt in range(settings.PORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(proxy, f"guess{attempt}", "wrong-password")
    for name in ("first.user", "second.user", "third.user"):
        user = outsider(name)
        response = sign_in(Client(REMOTE_ADDR="10.0.0.7"), user.username, PASSWORD)
        assert response.status_code == 302, response.content.decode()


def test_failures_lock_the_username_from_every_address(settings):
    user = outsider("targeted.user")
    for attempt in range(settings.PORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(Client(REMOTE_ADDR=f"10.0.2.{attempt}"), user.username, "wrong-password")
    response = sign_in(Client(REMOTE_ADDR="10.0.2.99"), user.username, PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_behind_the_trusted_proxy_each_client_address_has_its_own_count(settings):
    """Per username and address: with a per-username limit set higher, failures from one
    client (named by the proxy's header) lock that client, not another behind the same proxy."""
    settings.PORTAL_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    settings.PORTAL_LOGIN_USERNAME_FAILURE_LIMIT = 50
    user = outsider("shared.proxy.user")
    guesser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(guesser, user.username, "wrong-password")
    assert "Too many failed sign-in attempts" in sign_in(guesser, user.username, PASSWORD).content.decode()
    owner = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.20")
    assert sign_in(owner, user.username, PASSWORD).status_code == 302


def test_the_client_address_comes_from_the_configured_proxy_header_only(settings, rf):
    from portal.login_throttle import client_address

    spoofed = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7"}
    settings.PORTAL_TRUSTED_PROXY_HEADER = ""
    assert client_address(rf.post("/", **spoofed)) == "10.0.0.1"  # no proxy configured: header ignored
    settings.PORTAL_TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw: what the client wrote before it is not trusted.
    assert client_address(rf.post("/", **spoofed)) == "198.51.100.7"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 2
    assert client_address(rf.post("/", **spoofed)) == "1.2.3.4"
    # Fewer hops than trusted proxies: the request did not come through them.
    assert client_address(rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "10.0.0.1"


def test_sign_in_is_refused_with_a_clear_message_when_the_cache_does_not_answer(client):
    from django.test import override_settings

    user = outsider("cache.down.user")
    unreachable = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with override_settings(CACHES=unreachable):
        response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "Signing in is unavailable for a moment: try again shortly." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_admin_sign_in_counts_towards_the_same_lock(settings):
    """Every password check goes through the throttle, not only the sign-in page's."""
    user = outsider("admin.page.user")
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT):
        Client().post(reverse("admin:login"), {"username": user.username, "password": "wrong-password"})
    response = sign_in(Client(), user.username, PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_a_success_before_the_limit_resets_the_account_count(settings):
    user = outsider("careful.user")
    client = Client(REMOTE_ADDR="10.0.1.1")
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    # From another address (the first address keeps its own count), the account starts afresh.
    client = Client(REMOTE_ADDR="10.0.1.2")
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_sign_in_form_requires_its_csrf_token():
    user = outsider("csrf.user")
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403


def test_a_session_expires_after_inactivity(client, settings):
    from portal.settings import base

    assert settings.SESSION_COOKIE_AGE == base.SESSION_COOKIE_AGE <= 60 * 60
    # The clock restarts with activity (renewed at most once a minute, see below).
    middleware = settings.MIDDLEWARE
    renewal = middleware.index("portal.security.SessionRenewalMiddleware")
    assert renewal == middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    user = member("session.user", "lender")
    client.force_login(user)
    session = client.session
    session.set_expiry(-1)  # as if the inactivity period had passed
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def _stored_expiry(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def _idle_for_25_minutes(client):
    """The stored session as if it was last saved 25 of its 30 minutes ago."""
    import datetime as dt

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + dt.timedelta(minutes=5))


def test_a_session_in_use_is_renewed_at_most_once_a_minute(client, settings):
    """Activity keeps a session alive: a request more than a minute after the last renewal
    saves it with a fresh expiry and cookie; requests within the minute write nothing."""
    import datetime as dt
    import time

    from django.utils import timezone

    user = member("renewed.user", "lender")
    client.force_login(user)
    session = client.session
    session["_renewed_at"] = int(time.time()) - settings.PORTAL_SESSION_RENEWAL_SECONDS - 1
    session.save()
    _idle_for_25_minutes(client)
    soon = _stored_expiry(client)

    response = client.get(reverse("home"))
    assert response.status_code == 200
    renewed = _stored_expiry(client)
    assert renewed > soon + dt.timedelta(minutes=20)
    assert settings.SESSION_COOKIE_NAME in response.cookies  # the browser's cookie renewed too

    _idle_for_25_minutes(client)
    soon = _stored_expiry(client)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert _stored_expiry(client) == soon  # renewed less than a minute ago: not written again
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert soon > timezone.now()


def test_with_two_factor_the_counts_start_afresh_only_once_the_code_is_right(settings):
    """A right password alone does not reset the counts of an account with a device: guesses
    of the code must not be free. The right code does."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = outsider("coded.user")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client(REMOTE_ADDR="10.0.3.1")
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT - 2):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username, PASSWORD).status_code == 302  # to the code step
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post(reverse("two_factor_verify"), {"code": code, "next": "/"}).status_code == 302
    client.logout()
    for _ in range(settings.PORTAL_LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
