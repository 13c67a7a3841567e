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
    assert settings.SESSION_SAVE_EVERY_REQUEST is True  # the clock restarts with each request
    user = member("session.user", "lender")
    client.force_login(user)
    session = client.session
    session.set_expiry(-1)  # as if the inactivity period had passed
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
