"""
A private stack for fault tests: a PostgreSQL cluster, a Redis server and Celery workers,
each a real process this test session starts, breaks and stops.

Nothing here touches the machine's shared PostgreSQL or Redis: every port is a free one
picked at start, every file lives in a temporary folder, and only processes started here
are ever signalled. The same code runs in CI while the shared services serve other tests.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import psycopg

PROJECT = Path(__file__).resolve().parents[2]
PYTHON = str(Path(sys.executable))
CELERY = str(Path(sys.executable).with_name("celery"))
#: Redelivery of an unacknowledged message after this long: short, so a test sees it.
VISIBILITY_TIMEOUT = 15
#: Both time limits stay under the visibility timeout, as in production (360 s < 900 s).
TIME_LIMIT = 12
SOFT_TIME_LIMIT = 10
#: How often a running worker looks for messages whose visibility timeout has passed.
RESTORE_INTERVAL = 1
#: The sweep queues evaluations requested this many seconds ago (30 in production): a test
#: need not wait half a minute for an evaluation to be old enough.
SWEEP_AFTER = 1

T = TypeVar("T")


class StackUnavailable(Exception):
    """A program the private stack needs (initdb, redis-server) is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll until ``condition()`` is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _postgres_bindir() -> Path:
    """The newest installed PostgreSQL's programs (Debian layout), else those on PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise StackUnavailable("PostgreSQL's initdb is not installed.")


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder, on a free port.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres``
    user. Durability is off (fsync, synchronous commit): a crash of this test cluster loses
    nothing anyone needs, and a restart with ``-m fast`` still shuts down cleanly."""

    def __init__(self, root: Path) -> None:
        self.bindir = _postgres_bindir()
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.log = root / "postgres.log"
        self.port = free_port()
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise StackUnavailable("runuser is needed to run PostgreSQL as the postgres user.")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [*self._as_postgres, str(self.bindir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def init(self) -> None:
        self.socket_dir.mkdir(parents=True)
        if self._as_postgres:
            import pwd

            owner = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "log_min_messages": "warning",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# private test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def restart(self) -> None:
        """Restart the server: ``-m fast`` ends every session, as a failover or upgrade would."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-m", "fast", "stop", timeout=60)

    def url(self, database: str, **options: str) -> str:
        query = "&".join(f"{key}={value}" for key, value in options.items())
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}" + (f"?{query}" if query else "")

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.connect() as conn:
            if template:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PrivateRedis:
    """A Redis server of our own on a free port, without persistence; stopped and started at will."""

    def __init__(self, root: Path) -> None:
        program = shutil.which("redis-server")
        if program is None:
            raise StackUnavailable("redis-server is not installed.")
        self.program = program
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - held by the server process
        self.process = subprocess.Popen(
            [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            start_new_session=True,
        )
        log.close()
        wait_for(self.ping, timeout=20, what="the private Redis to answer")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def flush(self) -> None:
        """Empty this private server (never the shared one) between tests."""
        import redis

        redis.Redis(port=self.port).flushall()


class Worker:
    """A Celery worker (prefork, concurrency 1 unless told) running as a process group of its own."""

    def __init__(self, env: Mapping[str, str], log: Path, *, concurrency: int = 1, name: str = "worker") -> None:
        self.log = log
        self.name = name
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    CELERY,
                    "-A",
                    "portal",
                    "worker",
                    f"--concurrency={concurrency}",
                    "-P",
                    "prefork",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
                ],
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=PROJECT,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(lambda: " ready." in self.text() or self.process.poll() is not None, timeout=timeout, what="worker")
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.text()[-3000:]}")

    def children(self) -> list[int]:
        """The pool's child processes (the ones that run tasks)."""
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.text()))

    def kill_children(self) -> list[int]:
        """SIGKILL the pool's children: the tasks they run die mid-way; the main process lives."""
        pids = self.children()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and children, as a lost machine or container would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


class ResultWritesHeld:
    """The session holding the results table (``Stack.hold_result_writes``)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def release(self) -> None:
        """End the holding transaction; harmless if the server already ended it (a restart)."""
        with contextlib.suppress(psycopg.Error):
            self.conn.execute("ROLLBACK")
        with contextlib.suppress(psycopg.Error):
            self.conn.close()


class Stack:
    """One test's view of the private services: a database of its own, the shared private
    Redis, and the environment every process of the test runs with."""

    def __init__(self, postgres: PrivatePostgres, redis: PrivateRedis, database: str, root: Path) -> None:
        self.postgres = postgres
        self.redis = redis
        self.database = database
        self.root = root
        self.workers: list[Worker] = []
        self.background: list[subprocess.Popen] = []

    def env(self, *, application: str = "portal-script", **extra: str) -> dict[str, str]:
        """The environment of a process of this stack. ``application`` names its database
        sessions, so a test can tell the worker's session from its own."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "REDIS_", "CELERY_", "CACHE_", "PYTEST_", "DJANGO_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings.base",
            DEBUG="False",
            SECRET_KEY="reliability-tests-only-not-a-secret-0123456789abcdefghijklmnop",
            DATABASE_URL=self.postgres.url(self.database, application_name=application),
            REDIS_URL=self.redis.url,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            CELERY_TASK_TIME_LIMIT=str(TIME_LIMIT),
            CELERY_TASK_SOFT_TIME_LIMIT=str(SOFT_TIME_LIMIT),
            CELERY_UNACKED_RESTORE_INTERVAL=str(RESTORE_INTERVAL),
            EVALUATION_SWEEP_AFTER_SECONDS=str(SWEEP_AFTER),
            CELERY_BEAT_SCHEDULE_FILENAME=str(self.root / "celerybeat-schedule"),
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def manage(self, *args: str, timeout: float = 180, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        """Run ``manage.py`` against this stack and return what it printed."""
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            env=self.env(**extra),
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done

    def script(self, *args: str, timeout: float = 180, **extra: str) -> str:
        """Run a command of :mod:`tests.reliability.scenario` against this stack; returns its output."""
        done = subprocess.run(
            [PYTHON, "-m", "tests.reliability.scenario", *args],
            env=self.env(**extra),
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"scenario {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done.stdout

    def start_script(self, *args: str, **extra: str) -> subprocess.Popen:
        """A long-lived scenario process talking JSON lines over stdin and stdout."""
        with open(self.root / "web.log", "ab") as log:
            process = subprocess.Popen(
                [PYTHON, "-m", "tests.reliability.scenario", *args],
                env=self.env(application="portal-web", **extra),
                cwd=PROJECT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        self.background.append(process)
        return process

    def call_task(self, name: str) -> None:
        """Send a task by name, as beat does (``celery call``)."""
        done = subprocess.run(
            [CELERY, "-A", "portal", "call", name],
            env=self.env(),
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"celery call {name} failed:\n{done.stderr[-3000:]}")

    def broker_idle(self) -> bool:
        """No message waits in the queue and none is held by a worker (unacknowledged)."""
        import redis

        client = redis.Redis(port=self.redis.port)
        return client.llen("celery") == 0 and client.hlen("unacked") == 0

    def start_worker(self, *, concurrency: int = 1, name: str = "worker", **extra: str) -> Worker:
        index = len(self.workers)
        worker = Worker(
            self.env(application="portal-worker", **extra),
            self.root / f"{name}-{index}.log",
            concurrency=concurrency,
            name=name,
        )
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def start_beat(self) -> subprocess.Popen:
        log = open(self.root / "beat.log", "ab")  # noqa: SIM115 - held by the beat process
        beat = subprocess.Popen(
            [CELERY, "-A", "portal", "beat", "--loglevel=INFO"],
            env=self.env(application="portal-beat"),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT,
            start_new_session=True,
        )
        log.close()
        self.background.append(beat)
        return beat

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.postgres.connect(self.database) as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple = ()):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def worker_in_transaction(self) -> bool:
        """A worker's database session is inside a transaction: an evaluation is under way."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'portal-worker'"
                " AND xact_start IS NOT NULL AND state <> 'idle'",
                (self.database,),
            )
        )

    def hold_result_writes(self) -> ResultWritesHeld:
        """Hold the results table in SHARE mode from a session of the test's own: readers go on,
        but an evaluation blocks at its first write of a result, inside its transaction, until
        the hold is released. A fault is then always injected into an evaluation under way, however
        fast the evaluation has become, never after it committed."""
        conn = self.postgres.connect(self.database)
        conn.execute("BEGIN")
        conn.execute("LOCK TABLE compliance_covenanttestresult IN SHARE MODE")
        return ResultWritesHeld(conn)

    def worker_waiting_on_a_lock(self) -> bool:
        """A worker's session is inside a transaction and waits for a lock (the hold above)."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'portal-worker'"
                " AND xact_start IS NOT NULL AND wait_event_type = 'Lock'",
                (self.database,),
            )
        )

    def close(self) -> None:
        """Stop every process this test started: all asked at once, then waited for."""
        processes = [worker.process for worker in self.workers] + self.background
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            # A pool child outlives its killed parent only until it notices; make sure.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


@contextlib.contextmanager
def private_services() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    """Start a private PostgreSQL cluster and Redis server in a temporary folder of their own
    (one the cluster's owner can reach: pytest's are private to root); stop and remove both
    whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="portal-private-stack-"))
    root.chmod(0o755)
    try:
        postgres = PrivatePostgres(root / "postgres")
        postgres.root.mkdir()
        redis = PrivateRedis(root)
        try:
            postgres.init()
            postgres.start()
            redis.start()
            yield postgres, redis
        finally:
            redis.stop()
            postgres.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
