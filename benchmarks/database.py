"""
The benchmark's own PostgreSQL database and Redis: where they are, and how the process is set up.

The benchmark never touches development or test data: it runs in a database of its own
(``portal_bench`` by default) on the server DATABASE_URL points at, dropped and recreated
by the generator. Migrating it took minutes on a loaded machine, so the migrated schema is kept
as a template database (``<name>_tpl_schema_<digest of the migrations>``) and copied; the
generated portfolio likewise (``<name>_tpl_p<agreements>_<digest of schema and generator>``).
Templates of older digests are dropped when a new one is made. Its Celery tasks go to a queue
of their own, so no other worker on the same Redis picks them up.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
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


def schema_fingerprint() -> str:
    """A digest of what the migrated schema depends on: every migration file of the project and
    uv.lock (the installed packages' own migrations). Unchanged, the migrated template is reused."""
    digest = hashlib.sha256()
    paths = sorted(p for p in ROOT.glob("*/migrations/*.py") if ".venv" not in p.parts)
    for path in [*paths, ROOT / "uv.lock"]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def portfolio_fingerprint() -> str:
    """A digest of what a generated portfolio depends on: the schema and the generator's code."""
    source = (ROOT / "benchmarks" / "generate.py").read_bytes()
    return hashlib.sha256(schema_fingerprint().encode() + source).hexdigest()[:12]


def _template_name(kind: str, fingerprint: str) -> str:
    # The benchmark database's name, so that templates are dropped by the same rule as it is
    # (a name containing 'bench') and two benchmark databases never share one.
    return f"{database_name(bench_database_url())}_tpl_{kind}_{fingerprint}"[:63]


def _databases(conn, prefix: str) -> list[str]:
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix.replace("_", r"\_") + "%"])
    return [name for (name,) in rows.fetchall()]


def _clone(conn, source: str, target: str) -> None:
    """CREATE DATABASE target TEMPLATE source: the files copied as they are (tables, indexes,
    visibility maps, planner statistics), no row written again."""
    from psycopg import sql

    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
    # FILE_COPY: a checkpoint and a copy of the files, much cheaper than WAL-logging every block
    # of a portfolio of hundreds of megabytes (PostgreSQL 15's default strategy).
    strategy = sql.SQL(" STRATEGY FILE_COPY") if conn.info.server_version >= 150000 else sql.SQL("")
    conn.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target), sql.Identifier(source)) + strategy
    )


def _save_template(conn, source: str, kind: str, fingerprint: str) -> str:
    """Copy ``source`` as the template of its kind and fingerprint, dropping older ones of the kind.
    Built under a temporary name and renamed, so an interrupted copy is never taken for a template."""
    from psycopg import sql

    name = _template_name(kind, fingerprint)
    building = f"{name[:54]}_building"
    _clone(conn, source, building)
    for stale in set(_databases(conn, _template_name(kind, ""))) - {building}:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stale)))
    conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name)))
    return name


def recreate_database(log: Callable[[str], None] | None = None) -> None:
    """Drop and recreate the benchmark's database, migrated: a copy of the migrated template of
    the current migrations (made once with manage.py migrate, then reused while they are unchanged)."""
    import psycopg

    url = bench_database_url()
    name = database_name(url)
    fingerprint = schema_fingerprint()
    template = _template_name("schema", fingerprint)
    say = log or (lambda message: None)
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        if template in _databases(conn, template):
            say(f"  schema from the migrated template {template} (migrations unchanged)")
            _clone(conn, template, name)
            return
        say(f"  no template for these migrations ({fingerprint}): migrating, then keeping it as {template}")
        # From template0: never connected to, so the copy cannot fail because someone is (a
        # session on template1 makes CREATE DATABASE from it fail).
        _clone(conn, "template0", name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--skip-checks", "--verbosity", "0"],
        cwd=ROOT,
        env=child_environment(url),
        check=True,
    )
    if schema_fingerprint() != fingerprint:
        say("  the migrations changed while migrating: no template kept")
        return
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        _save_template(conn, name, "schema", fingerprint)


def restore_portfolio(agreements: int) -> bool:
    """Replace the benchmark's database by the template holding the portfolio of ``agreements``
    made by this generator on this schema, if there is one. Django's connections are closed first
    (the next query reconnects); nothing else may be connected (no worker, no child running)."""
    import psycopg
    from django.db import connections

    template = _template_name(f"p{agreements}", portfolio_fingerprint())
    url = bench_database_url()
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        if template not in _databases(conn, template):
            return False
        connections.close_all()
        _clone(conn, template, database_name(url))
    return True


def save_portfolio(agreements: int) -> str:
    """Keep the benchmark's database, holding the portfolio just generated (and VACUUM ANALYZEd),
    as the template ``restore_portfolio`` copies on the next run."""
    import psycopg
    from django.db import connections

    url = bench_database_url()
    connections.close_all()
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        return _save_template(conn, database_name(url), f"p{agreements}", portfolio_fingerprint())


def commit() -> str:
    """The commit the benchmark's tree is at, for its report."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
