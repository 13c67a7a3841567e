"""
Sign-in throttling under parallel attempts: an attempt is counted before its password is
checked, atomically in the shared cache, so however many wrong passwords arrive at once no
more than the limit are ever checked. Real threads against the real views, with a password
hasher slow enough that every attempt overlaps the others; on Redis too when one runs here.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from ..factories import PASSWORD, outsider

ATTEMPTS = 24


class SlowCountingHasher(MD5PasswordHasher):
    """Counts every password checked, and takes a while over each, as a real hasher does."""

    algorithm = "slow_counting_md5"
    checked = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with SlowCountingHasher.lock:
            SlowCountingHasher.checked += 1
        time.sleep(0.3)
        return super().verify(password, encoded)


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"{base}/13",
                "KEY_PREFIX": "login-concurrency-test",
            }
        }
    settings.PASSWORD_HASHERS = ["tests.security.test_login_concurrency.SlowCountingHasher"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000000/hour", "anon": "1000000/hour"},
    }
    cache.clear()
    SlowCountingHasher.checked = 0
    yield request.param
    cache.clear()


def in_parallel(attempt, count: int = ATTEMPTS) -> list:
    """Run ``attempt(i)`` in ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = attempt(index)
        except Exception as error:  # reported by the assertion below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_on_the_sign_in_page_check_no_more_than_the_limit(shared_cache, settings):
    user = outsider("parallel.page.user")
    assert user.password.startswith("slow_counting_md5$")

    def attempt(index: int) -> int:
        response = Client(REMOTE_ADDR="10.9.0.1").post(
            reverse("login"), {"username": user.username, "password": f"wrong-{index}"}
        )
        return response.status_code

    assert in_parallel(attempt) == [200] * ATTEMPTS
    assert SlowCountingHasher.checked == settings.PORTAL_LOGIN_FAILURE_LIMIT
    # And the right password is refused now: the account is locked.
    response = Client(REMOTE_ADDR="10.9.0.1").post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert SlowCountingHasher.checked == settings.PORTAL_LOGIN_FAILURE_LIMIT


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_from_many_addresses_on_the_token_endpoint_check_no_more_than_the_limit(
    shared_cache, settings
):
    user = outsider("parallel.api.user")

    def attempt(index: int) -> int:
        client = APIClient(REMOTE_ADDR=f"10.9.1.{index}")
        response = client.post(
            reverse("api:auth-token"), {"username": user.username, "password": f"wrong-{index}"}, format="json"
        )
        return response.status_code

    statuses = in_parallel(attempt)
    assert sorted(set(statuses)) == [400, 429], statuses
    assert statuses.count(400) == settings.PORTAL_LOGIN_FAILURE_LIMIT
    assert SlowCountingHasher.checked == settings.PORTAL_LOGIN_FAILURE_LIMIT
