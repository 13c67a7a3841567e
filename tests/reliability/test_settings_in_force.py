"""
The broker settings the fault tests rely on are in force, read from the running Celery app:
every ``CELERY_`` setting is one Celery reads (a misspelt name is ignored without a word), every
broker transport option is one the Redis transport reads, and queuing a task while the broker
does not answer gives up after the few attempts the retry policies allow.
"""

from __future__ import annotations

import socket

import pytest
from celery.app.defaults import DEFAULTS
from django.conf import settings
from kombu.transport.redis import Channel

from covenants import evaluation_requests
from portal.celery import app
from tests.conftest import drop_broker_pools

#: Set by the suite itself (``celery_in_process``): tasks run in-process unless a test starts a worker.
CHANGED_BY_THE_SUITE = {"task_always_eager"}


def test_every_celery_setting_is_one_celery_reads_and_runs_with():
    names = [name for name in dir(settings) if name.startswith("CELERY_")]
    assert names
    for name in names:
        key = name.removeprefix("CELERY_").lower()
        assert key in DEFAULTS, f"{name} is no Celery setting: Celery ignores it"
        if key not in CHANGED_BY_THE_SUITE:
            assert app.conf[key] == getattr(settings, name), name


def test_every_broker_transport_option_is_one_the_redis_transport_reads():
    options = app.conf.broker_transport_options
    assert {"visibility_timeout", "unacked_restore_interval"} <= set(options)
    assert set(options) <= set(Channel.from_transport_options), set(options) - set(Channel.from_transport_options)


def test_a_dead_workers_messages_come_back_within_a_minute_of_the_visibility_timeout_and_no_sooner():
    options = app.conf.broker_transport_options
    # A task is stopped by its time limits before the broker would hand it to a second worker.
    assert options["visibility_timeout"] > app.conf.task_time_limit > app.conf.task_soft_time_limit
    # Every running worker looks for expired messages at least once a minute, each time it may.
    assert 0 < options["unacked_restore_interval"] <= 60
    assert options["unacked_restore_throttle"] <= 1


def test_every_task_is_acknowledged_after_it_ran_and_requeued_when_its_process_dies():
    app.loader.import_default_modules()  # every app's tasks module, as a worker imports them
    tasks = [task for name, task in app.tasks.items() if name.startswith("covenants.")]
    assert tasks
    for task in tasks:
        assert task.acks_late and task.reject_on_worker_lost, task.name
    assert app.conf.worker_prefetch_multiplier == 1  # a worker holds no message it is not running


@pytest.fixture
def unreachable_broker(celery_in_process):
    """Broker and result backend on a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    drop_broker_pools(app)
    yield
    app.conf.update(saved)
    drop_broker_pools(app)


def test_queuing_a_task_gives_up_after_the_attempts_the_retry_policies_allow(unreachable_broker, monkeypatch):
    from redis.connection import Connection

    attempts = []
    connect = Connection._connect

    def counted(self, *args, **kwargs):
        attempts.append(self.port)
        return connect(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "_connect", counted)
    evaluation_requests.queue_evaluations([1])  # logged, not raised: the sweep queues it later

    publish = app.conf.task_publish_retry_policy["max_retries"]
    backend = app.conf.result_backend_transport_options["retry_policy"]["max_retries"]
    # A first attempt and the retries allowed, for the message and for the result backend
    # (Celery's own policies try 22 times over 19 seconds).
    assert 0 < len(attempts) <= (1 + publish) + (1 + backend)
    assert publish <= 1 and backend <= 1
    # A host that does not answer at all (no refusal) is given up on after the connect timeout.
    assert app.conf.redis_socket_connect_timeout <= 2
    assert app.conf.broker_transport_options["socket_connect_timeout"] <= 2
