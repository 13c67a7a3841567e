"""
Real servers on loopback for the alert tests: an SMTP server (aiosmtpd) that keeps what it
receives, an HTTP server that answers webhooks with the status codes a test gives it, and a
Celery worker on Redis that a test can stop and start again.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest

from tests.conftest import drop_broker_pools


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Test users need no strong hashing; the suite's builders create several per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- SMTP ---------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    envelope_to: list[str]
    message: email.message.EmailMessage
    received_at: float  # time.monotonic()


class _Collector:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(ReceivedMail(list(envelope.rcpt_tos), message, time.monotonic()))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: _Collector

    @property
    def received(self) -> list[ReceivedMail]:
        with self.collector.lock:
            return list(self.collector.received)

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.received if address in m.envelope_to]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1, with Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    collector = _Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield SmtpServer("127.0.0.1", port, collector)
    finally:
        controller.stop()


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookServer:
    """Answers each POST with the next status in ``statuses`` (the last one repeats)."""

    port: int
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    received: list[ReceivedPost] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/portal"

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def posts(self) -> list[ReceivedPost]:
        with self.lock:
            return list(self.received)


@pytest.fixture
def webhook_server(settings):
    """A real HTTP server on 127.0.0.1 that records every POST it receives (webhooks to
    loopback allowed, as in development)."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    state = WebhookServer(port=free_port())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.received.append(ReceivedPost(self.path, dict(self.headers.items()), body, time.monotonic()))
            if state.delay:
                time.sleep(state.delay)
            status = state.next_status()
            payload = b'{"ok": true}' if status < 300 else b"server error"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- A Celery worker that can be stopped and started ------------------------------------


class WorkerControl:
    """A real Celery worker on Redis, started and stopped on demand, so a test can raise alerts
    while no worker runs. Its keys carry a prefix of their own (kombu's ``global_keyprefix``):
    several test runs sharing one Redis never take each other's messages."""

    def __init__(self, app, url: str, prefix: str) -> None:
        self.app = app
        self.url = url
        self.prefix = prefix
        self._context = None

    @property
    def running(self) -> bool:
        return self._context is not None

    def start(self) -> None:
        from celery.contrib.testing.worker import start_worker

        assert self._context is None
        self._context = start_worker(
            self.app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30
        )
        self._context.__enter__()

    def stop(self) -> None:
        if self._context is not None:
            context, self._context = self._context, None
            context.__exit__(None, None, None)

    def _redis(self):
        import redis

        return redis.Redis.from_url(self.url)

    def queued(self, queue: str = "celery") -> int:
        """Messages waiting in the broker's queue."""
        return self._redis().llen(self.prefix + queue)

    def queued_tasks(self, queue: str = "celery") -> Counter:
        """The names of the tasks waiting in the broker's queue, counted."""
        messages = self._redis().lrange(self.prefix + queue, 0, -1)
        return Counter(json.loads(m)["headers"]["task"] for m in messages)

    def unacknowledged(self) -> int:
        """Messages a worker has taken and not yet acknowledged."""
        return self._redis().hlen(self.prefix + "unacked")

    def point_broker_at(self, url: str) -> None:
        self.app.conf.broker_url = url
        drop_broker_pools(self.app)

    def forget(self) -> None:
        client = self._redis()
        keys = list(client.scan_iter(match=self.prefix + "*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def worker(redis_url, celery_in_process):
    """A controllable worker, stopped at first, on Redis database 11 under a prefix of its own."""
    app = celery_in_process
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    url = f"{base}/11"
    prefix = f"alerts-test-{uuid.uuid4().hex[:12]}:"
    keys = ("broker_url", "result_backend", "task_always_eager", "broker_transport_options")
    saved = {k: app.conf[k] for k in keys}
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_always_eager=False,
        broker_transport_options={**saved["broker_transport_options"], "global_keyprefix": prefix},
    )
    drop_broker_pools(app)
    control = WorkerControl(app, url, prefix)
    try:
        yield control
    finally:
        control.stop()
        app.conf.update(saved)
        drop_broker_pools(app)
        control.forget()
