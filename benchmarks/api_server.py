"""
The portal served over HTTP for a workload: gunicorn (as deployed: ``gunicorn portal.wsgi``)
in a process of its own on a free loopback port, with the benchmark's environment (its
database, ``DEBUG`` off) plus what the workload adds (a Redis database of its own). Stopped
by process id when the workload is done with it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.database import ROOT, child_environment


def free_port() -> int:
    """A TCP port nothing listens on, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class WebServer:
    """``gunicorn portal.wsgi`` with ``workers`` sync workers on 127.0.0.1:``port``."""

    workers: int = 1
    environment: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-bench-web-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> WebServer:
        env = child_environment()
        env.update(self.environment)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
        log = open(self.logs / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [
                *command, "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "120",
                "--log-level", "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            self._wait_until_listening()
        except BaseException as exc:
            self.__exit__(type(exc))
            raise
        return self

    def __exit__(self, exc_type: object = None, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the request in progress finishes
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if exc_type is None:  # the log is kept only to explain a failure
            shutil.rmtree(self.logs, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        path = self.logs / "gunicorn.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait_until_listening(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited while starting:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not listen within {timeout:.0f} s:\n{self.log_tail()}")
