"""The broker settings the fault tests rely on are the ones Celery reads (a misspelt name is ignored)."""

from __future__ import annotations

from portal.celery import app


def test_a_dead_workers_messages_come_back_within_a_minute_of_the_visibility_timeout():
    options = app.conf.broker_transport_options
    assert options["visibility_timeout"] > app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert options["unacked_restore_throttle"] == 1
    assert 0 < options["unacked_restore_interval"] <= 60


def test_queuing_a_task_gives_up_quickly_when_redis_does_not_answer():
    assert app.conf.task_publish_retry_policy["max_retries"] <= 1
    assert app.conf.result_backend_transport_options["retry_policy"]["max_retries"] <= 1
    assert app.conf.redis_socket_connect_timeout <= 2
    assert app.conf.broker_transport_options["socket_connect_timeout"] <= 2


def test_tasks_are_acknowledged_late_and_requeued_when_their_process_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
