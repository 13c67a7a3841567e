"""A served process, once started, keeps what its start loaded out of the garbage collector's
full collections (portal/wsgi.py calls portal.startup.freeze_what_startup_loaded)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from django.conf import settings
from django.urls import get_resolver

from portal.startup import freeze_what_startup_loaded


def test_what_startup_loaded_is_frozen_and_the_urlconf_loaded():
    try:
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        freeze_what_startup_loaded()
        assert gc.get_freeze_count() > 10_000  # modules, classes, models, URL patterns
        assert get_resolver()._populated
        # Objects made afterwards (a request's) are collected as before.
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_wsgi_entry_point_freezes_what_it_loaded():
    # In a process of its own, as gunicorn loads it (this one's objects are not the point).
    loaded = subprocess.run(
        [sys.executable, "-c", "import gc, portal.wsgi; print(gc.get_freeze_count())"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings.base")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert int(loaded.stdout.strip().splitlines()[-1]) > 10_000
