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


@pytest.fixture(autouse=True)
def celery_in_process():
    """Tasks run in-process unless a test starts a real worker (see ``celery_worker``)."""
    from portal.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = saved


@pytest.fixture
def celery_worker(redis_url, celery_in_process):
    """A real Celery worker consuming from Redis (a database of its own, emptied first).

    Use with ``django_db(transaction=True)``: the worker's thread has its own database
    connection and sees only committed rows."""
    import redis
    from celery.contrib.testing.worker import start_worker

    app = celery_in_process
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    url = f"{base}/14"
    redis.Redis.from_url(url).flushdb()
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    drop_broker_pools(app)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        app.conf.update(saved)
        drop_broker_pools(app)


def drop_broker_pools(app) -> None:
    """Forget connections made to the previous broker and result backend, so producers and
    ``AsyncResult.get`` use the new URLs. Celery keeps a result backend per thread (one, if
    thread-safe), made on first use: without this, a run on SQLite (results in memory until a
    test points them at Redis) waited for results in the old backend while the worker stored
    them in the new one."""
    app._pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
