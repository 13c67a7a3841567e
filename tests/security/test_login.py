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


def test_failures_from_one_address_lock_other_account_names_too(settings):
    first = Client(REMOTE_ADDR="10.0.0.7")
    for attempt in range(settings.PORTAL_LOGIN_FAILURE_LIMIT):
        sign_in(first, f"guess{attempt}", "wrong-password")
    user = outsider("other.user")
    response = sign_in(first, user.username, PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Another address is not locked out of the same account.
    second = Client(REMOTE_ADDR="10.0.0.8")
    assert sign_in(second, user.username, PASSWORD).status_code == 302


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
