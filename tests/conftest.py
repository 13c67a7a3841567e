"""
Suite-wide fixtures. In CI every service a test needs must be there: no skips.

The suite runs on several processes at once (pytest-xdist: ``make test`` uses every core).
Each process has its own test database (pytest-django names it after the process; SQLite's is
in memory) and, when the cache is in Redis, a Redis database of its own for the cache, so that
one process emptying the cache never wipes another's counters. Tests that share something
bigger than a database run on one process, one after another (``--dist loadgroup``: the
groups are set here, see ``pytest_collection_modifyitems``):

- ``services``: the fault tests' private PostgreSQL, Redis and Celery workers (tests/reliability);
- ``redis``: the tests that use the Redis of ``REDIS_URL`` itself (fixed databases of their own);
- ``browser``: the browser tests, which share one Chromium.

The suite touches no Redis it was not pointed at: without ``REDIS_URL`` the tests that need
one are skipped (failed in CI).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: "gw0", "gw1", ... in a pytest-xdist process; empty when the suite runs in one process.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
#: Redis databases a process's cache may take: the cache's own database plus the process's
#: number. The worker tests use 11, 13 and 14 (tests/alerts, tests/security, ``celery_worker``).
CACHE_DATABASES = range(1, 11)


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI:
        db = os.environ.get("DATABASE_URL", "")
        if not db.startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI runs the suite on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("CI runs the suite with Redis: set REDIS_URL.")


def xdist_group_of(item: pytest.Item) -> str | None:
    """The group of tests that must share one process, if the test belongs to one."""
    if item.get_closest_marker("reliability"):
        return "services"
    if item.get_closest_marker("browser"):
        return "browser"
    uses_redis = "redis_url" in getattr(item, "fixturenames", ())
    # A test may also ask for it as it runs (request.getfixturevalue("redis_url")).
    if uses_redis or "redis_url" in _module_text(Path(str(item.path))):
        return "redis"
    return None


_texts: dict[Path, str] = {}


def _module_text(path: Path) -> str:
    if path not in _texts:
        _texts[path] = path.read_text(errors="replace") if path.suffix == ".py" else ""
    return _texts[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a pytest-xdist process: each test's node id made distinct, and ended with ``@GROUP``
    for the tests of a group, which is what ``--dist loadgroup`` schedules by. (pytest-xdist's
    own ``xdist_group`` marker writes the old node id attribute, which pytest 9 no longer reads:
    its groups were split over the processes.)"""
    if not hasattr(config, "workerinput"):
        return
    distinct_node_ids(items)
    if config.getvalue("loadgroup"):
        for item in items:
            group = xdist_group_of(item)
            if group is not None:
                set_node_id(item, f"{item.nodeid}@{group}")


def distinct_node_ids(items: list[pytest.Item]) -> None:
    """Give each test a node id of its own. Schemathesis names its tests after the operation
    (``test_x[GET /api/v1/agreements/]``) but gives all of them the function's node id, and
    pytest-xdist's group scheduling keys tests by node id: it ran one operation in 41."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1 and "[" in item.name and not item.nodeid.endswith("]"):
            set_node_id(item, item.nodeid + item.name[item.name.index("[") :])
    repeated = [node_id for node_id, count in Counter(item.nodeid for item in items).items() if count > 1]
    if repeated:
        raise pytest.UsageError(f"Tests sharing a node id would run once under pytest-xdist: {repeated[:5]}")


def set_node_id(item: pytest.Item, node_id: str) -> None:
    """pytest 9 keeps a node id as a ``NodeId`` (``_id``); pytest 8 kept the string (``_nodeid``)."""
    current = getattr(item, "_id", None)
    if current is not None and hasattr(type(current), "parse"):
        item._id = type(current).parse(node_id)
    else:
        item._nodeid = node_id
    if item.nodeid != node_id:
        raise pytest.UsageError(f"This pytest no longer lets the suite set node ids: {item.nodeid!r}")


def service_unavailable(what: str) -> None:
    """Fail in CI, skip elsewhere: a newcomer without Redis still gets a green run."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI and is not available.")
    pytest.skip(f"{what} is not available.")


def xdist_worker_number() -> int:
    return int(XDIST_WORKER.removeprefix("gw")) if XDIST_WORKER.startswith("gw") else 0


def redis_database_url(url: str, database: int) -> str:
    """``url`` (redis://host:port[/db]) pointing at another database of the same server."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{database}"


@pytest.fixture(scope="session", autouse=True)
def _a_cache_of_this_process():
    """With the cache in Redis and the suite on several processes, each process's cache is a
    Redis database of its own: tests empty the cache (``cache.clear()`` empties the database)
    and count sign-in failures in it."""
    from django.conf import settings
    from django.test import override_settings

    cache = settings.CACHES["default"]
    if not XDIST_WORKER or "redis" not in cache["BACKEND"].lower():
        yield
        return
    location = str(cache["LOCATION"])
    database = int(urlsplit(location).path.strip("/") or 0) + xdist_worker_number()
    if database not in CACHE_DATABASES:
        pytest.exit(
            f"The cache of test process {XDIST_WORKER} would be Redis database {database}, outside"
            f" {CACHE_DATABASES.start} to {CACHE_DATABASES.stop - 1}: run fewer processes (-n) or move CACHE_URL.",
            returncode=4,
        )
    location = redis_database_url(location, database)
    with override_settings(CACHES={**settings.CACHES, "default": {**cache, "LOCATION": location}}):
        yield


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis of ``REDIS_URL``, if it answers. Without ``REDIS_URL`` the test is skipped
    (failed in CI): the suite never uses a Redis it was not pointed at, not even a local default."""
    import redis

    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_unavailable("Redis (REDIS_URL is not set: e.g. REDIS_URL=redis://127.0.0.1:6379/0 make test)")
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
    """A real Celery worker consuming from Redis (database 14 of ``REDIS_URL``'s server, emptied
    first; the tests that use it share one process, see ``xdist_group_of``).

    Use with ``django_db(transaction=True)``: the worker's thread has its own database
    connection and sees only committed rows."""
    import redis
    from celery.contrib.testing.worker import start_worker

    app = celery_in_process
    url = redis_database_url(redis_url, 14)
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
