"""
Real Celery workers for the benchmark: separate processes started as an operator would
(``celery -A portal worker --concurrency=1``), on Redis, consuming a queue of their own,
with task events on so the benchmark sees when each task starts and how long it runs.
Stopped by process id when the benchmark is done with them.

A workload whose tasks are queued by the portal itself (an upload queues its evaluation on
the default queue) gives the workers a Redis database of its own (``redis``) and the queue
they consume (``queues="celery"``); the benchmark then pings them and listens to their
events on that database, and the web side it starts is pointed at it too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.database import QUEUE, ROOT, child_environment, redis_url


@dataclass
class TaskTiming:
    """What the workers' events said about one task."""

    uuid: str
    received: float | None = None
    started: float | None = None
    succeeded: float | None = None
    runtime: float | None = None
    hostname: str = ""
    failed: bool = False
    name: str = ""  # the task's name, from its task-received event


@dataclass
class Workers:
    """``count`` worker processes, each ``celery -A portal worker --concurrency=1``."""

    count: int = 2
    concurrency: int = 1
    # The benchmark's own queue: tasks sent to it with apply_async(queue=QUEUE). A workload that
    # needs the portal's default queue (tasks it queues itself) must run on a Redis of its own.
    queues: str = QUEUE
    names: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    tasks: dict[str, TaskTiming] = field(default_factory=dict)
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-bench-workers-")))
    # A Redis database of the workers' own (broker and results), None for the benchmark's; its
    # queues are emptied before and after (so it must be one nothing else uses).
    redis: str | None = None
    # More of the workers' environment (e.g. CACHE_URL, EMAIL_BACKEND).
    environment: dict[str, str] = field(default_factory=dict)

    def __enter__(self) -> Workers:
        if self.redis is None:
            from portal.celery import app

            self.app = app
        else:
            self.app = control_app(self.redis)
        self._clear()
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        host = socket.gethostname()
        for number in range(1, self.count + 1):
            name = f"portal_bench{number}.{os.getpid()}@{host}"
            self.names.append(name)
            log = open(self.logs / f"worker{number}.log", "w")  # noqa: SIM115 (closed with the process)
            self.processes.append(
                subprocess.Popen(
                    [
                        *command, "-A", "portal", "worker", f"--concurrency={self.concurrency}",
                        "-Q", self.queues, "-n", name, "-E", "--loglevel=INFO",
                        "--without-gossip", "--without-mingle",
                    ],
                    cwd=ROOT,
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        try:
            self._start_events()
            self._wait_until_ready()
        except BaseException as exc:
            self.__exit__(type(exc))
            raise
        return self

    def __exit__(self, exc_type: object = None, *exc: object) -> None:
        receiver = getattr(self, "_receiver", None)
        if receiver is not None:
            receiver.should_stop = True
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown: running tasks finish
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join(timeout=5)
        self._clear()
        if exc_type is None:  # the logs are kept only to explain a failure
            shutil.rmtree(self.logs, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """The workers' environment: the benchmark's, on their own Redis if they have one."""
        env = child_environment()
        if self.redis is not None:
            env["REDIS_URL"] = self.redis
        env.update(self.environment)
        return env

    def _clear(self) -> None:
        if self.redis is None:
            _clear_queue()
        else:
            _clear_queue(self.redis, [q.strip() for q in self.queues.split(",") if q.strip()])

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in sorted(self.logs.glob("worker*.log")):
            parts.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)

    def _wait_until_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"A Celery worker exited while starting:\n{self.log_tail()}")
            replies = self.app.control.ping(destination=self.names, timeout=1.0) or []
            answered = {name for reply in replies for name in reply}
            if answered >= set(self.names):
                return
        raise RuntimeError(f"The Celery workers did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def _start_events(self) -> None:
        """Listen to the workers' task events (only ours: other workers may share the Redis)."""
        ready = threading.Event()

        def on_event(event: dict) -> None:
            if event.get("hostname") not in self.names or "uuid" not in event:
                return
            timing = self.tasks.setdefault(event["uuid"], TaskTiming(event["uuid"]))
            kind, stamp = event.get("type"), event.get("timestamp")
            timing.hostname = event.get("hostname", timing.hostname)
            if kind == "task-received":
                timing.received = stamp
                timing.name = event.get("name") or timing.name
            elif kind == "task-started":
                timing.started = stamp
            elif kind == "task-succeeded":
                timing.succeeded, timing.runtime = stamp, event.get("runtime")
            elif kind in ("task-failed", "task-rejected", "task-revoked"):
                timing.failed = True

        def listen() -> None:
            with self.app.connection_for_read() as connection:
                self._receiver = self.app.events.Receiver(connection, handlers={"*": on_event})
                ready.set()
                self._receiver.capture(limit=None, timeout=None, wakeup=False)

        self._thread = threading.Thread(target=listen, name="bench-events", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)


def _clear_queue(url: str | None = None, queues: list[str] | None = None) -> None:
    """Drop messages left in the benchmark's own queue (never another queue), or in the named
    queues of a Redis database of the benchmark's own."""
    import redis

    redis.Redis.from_url(url or redis_url(), socket_connect_timeout=3).delete(*(queues or [QUEUE]))


def control_app(url: str):
    """A Celery app on ``url`` only to ping workers and hear their events (this process's own
    app stays on the benchmark's Redis)."""
    from celery import Celery

    return Celery("portal-bench-control", broker=url, set_as_current=False)
