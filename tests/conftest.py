"""Suite-wide fixtures. In CI every service a test needs must be there: no skips."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI:
        db = os.environ.get("DATABASE_URL", "")
        if not db.startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI runs the suite on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("CI runs the suite with Redis: set REDIS_URL.")


def service_unavailable(what: str) -> None:
    """Fail in CI, skip elsewhere: a newcomer without Redis still gets a green run."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI and is not available.")
    pytest.skip(f"{what} is not available.")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis that answers: REDIS_URL, or the local default if one runs here."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        service_unavailable(f"Redis at {url}")
    return url
