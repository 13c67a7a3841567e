"""
The benchmark's own PostgreSQL database and Redis: where they are, and how the process is set up.

The benchmark never touches development or test data: it runs in a database of its own
(``portal_bench`` by default) on the server DATABASE_URL points at, dropped and recreated
by the generator. Its Celery tasks go to a queue of their own, so no other worker on the
same Redis picks them up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
BENCH_DATABASE_NAME = "portal_bench"
QUEUE = "portal_bench"


class BenchSetupError(RuntimeError):
    """The benchmark cannot run here; the message says what is missing."""


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def bench_database_url() -> str:
    """
    The benchmark's database: BENCH_DATABASE_URL if given; else the PostgreSQL server of
    DATABASE_URL with the database ``portal_bench``; else the local default.

    The database is dropped and recreated, so its name must say it is the benchmark's.
    """
    explicit = os.environ.get("BENCH_DATABASE_URL", "")
    if explicit:
        url = explicit
    else:
        source = os.environ.get("DATABASE_URL", "")
        if not _is_postgres(source):
            return DEFAULT_DATABASE_URL
        parts = urlsplit(source)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DATABASE_NAME}", parts.query, ""))
    if not _is_postgres(url):
        raise BenchSetupError(f"The benchmark runs on PostgreSQL; {url.split('@')[-1]} is not a PostgreSQL URL.")
    if "bench" not in database_name(url):
        raise BenchSetupError(
            f"The benchmark drops and recreates its database; '{database_name(url)}' does not look like one "
            "made for it (its name must contain 'bench')."
        )
    return url


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def server_url(url: str, database: str = "postgres") -> str:
    """The same server, another database (to create or drop the benchmark's)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.replace("pgsql", "postgresql"), parts.netloc, f"/{database}", parts.query, ""))


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def child_environment(database_url: str | None = None) -> dict[str, str]:
    """The environment of the benchmark and of every process it starts (workers, children)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url or bench_database_url(),
        REDIS_URL=redis_url(),
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        # Measured as deployed: no debug query log (it would also grow with the portfolio).
        DEBUG="False",
        SECRET_KEY=env.get("SECRET_KEY") or "benchmark-only-key-" + "x" * 40,
        LOG_LEVEL=env.get("BENCH_LOG_LEVEL", "WARNING"),
        PYTHONPATH=str(ROOT),
    )
    if "statement_timeout" not in env.get("PGOPTIONS", ""):
        # No statement of the benchmark outlives it by more than 15 minutes, even if it is killed.
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c statement_timeout=900000".strip()
    return env


def configure_process() -> None:
    """Point this process at the benchmark's database and Redis, then set Django up."""
    os.environ.update(child_environment())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def check_services() -> None:
    """PostgreSQL and Redis must answer; say which does not."""
    import psycopg
    import redis

    url = bench_database_url()
    try:
        psycopg.connect(server_url(url), connect_timeout=5).close()
    except Exception as exc:
        raise BenchSetupError(f"PostgreSQL at {url.split('@')[-1]} does not answer: {exc}") from exc
    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=3).ping()
    except Exception as exc:
        raise BenchSetupError(f"Redis at {redis_url()} does not answer: {exc}") from exc


def recreate_database() -> None:
    """Drop and recreate the benchmark's database, then migrate it with manage.py."""
    import psycopg
    from psycopg import sql

    url = bench_database_url()
    name = database_name(url)
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--skip-checks", "--verbosity", "0"],
        cwd=ROOT,
        env=child_environment(url),
        check=True,
    )
