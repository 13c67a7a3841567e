"""Settings come from the environment, and production refuses unsafe defaults."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import Context, Template

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="portal.settings.production", ALLOWED_HOSTS="portal.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        ALLOWED_HOSTS="portal.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("debug", ["False", "0"])
def test_base_settings_refuse_a_missing_secret_key_when_debug_is_off(debug):
    result = run_manage("check", DEBUG=debug)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_celery_settings_are_in_force():
    from django.conf import settings

    from portal.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
    # The nightly re-evaluation is registered exactly once.
    nightly = [e for e in app.conf.beat_schedule.values() if e["task"] == "covenants.tasks.reevaluate_all_agreements"]
    assert len(nightly) == 1


def test_alert_tasks_are_scheduled_once_and_retries_wait_less_than_the_visibility_timeout():
    from django.conf import settings

    from portal.celery import app

    # The tasks a worker registers as it starts (autodiscovery), whichever modules this test
    # process happened to import before.
    app.loader.import_default_modules()
    for task in (
        "covenants.tasks.raise_late_financials",
        "covenants.tasks.raise_overdue_amendments",
        "covenants.tasks.sweep_undelivered_alerts",
    ):
        entries = [e for e in app.conf.beat_schedule.values() if e["task"] == task]
        assert len(entries) == 1, task
        assert task in app.tasks
    assert "covenants.tasks.deliver_alert" in app.tasks
    # A retry's countdown must end before Redis would hand the waiting task to another worker.
    assert app.conf.broker_transport_options["visibility_timeout"] > settings.ALERT_RETRY_MAX_SECONDS * 2
    # One attempt (a webhook POST or an SMTP exchange) ends well within the task's time limit.
    assert app.conf.task_soft_time_limit > settings.ALERT_WEBHOOK_TIMEOUT_SECONDS + settings.EMAIL_TIMEOUT
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    assert processors.count("portal.pages.context_processors.unread_alerts") == 1


def test_links_in_alerts_point_at_the_port_the_portal_serves():
    """``PORT=8001 make run`` serves on 8001 (bin/run-portal exports PORTAL_PORT): e-mail and
    webhook links must point there, not at 8000."""
    code = "import django; django.setup(); from django.conf import settings; print(settings.PORTAL_BASE_URL)"
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings.base", PORTAL_PORT="8123")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "http://127.0.0.1:8123"
    assert "PORTAL_PORT=$port" in (ROOT / "bin" / "run-portal").read_text()


def test_times_are_written_with_their_zone():
    """Readers sit in several time zones: a moment on a page says which zone it is in."""
    moment = dt.datetime(2000, 1, 14, 17, 5, tzinfo=dt.UTC)
    rendered = Template('{{ t|date:"DATETIME_FORMAT" }} / {{ t|date:"SHORT_DATETIME_FORMAT" }}').render(
        Context({"t": moment})
    )
    assert rendered == "January 14, 2000, 12:05 EST / 2000-01-14 12:05 EST"


def test_the_broker_url_names_its_host_so_runs_without_redis_log_no_kombu_warning(caplog):
    import logging

    from django.conf import settings
    from kombu import Connection

    with caplog.at_level(logging.WARNING, logger="kombu"):
        Connection(settings.CELERY_BROKER_URL).info()
    assert not [r for r in caplog.records if r.name.startswith("kombu")]
