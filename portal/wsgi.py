"""WSGI entry point (gunicorn portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()

from portal.startup import freeze_what_startup_loaded  # noqa: E402 - needs the application set up

freeze_what_startup_loaded()
