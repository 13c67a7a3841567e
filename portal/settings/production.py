"""
Production settings: no defaults for secrets, HTTPS everywhere, static files hashed.

Passes ``python manage.py check --deploy --fail-level WARNING`` once SECRET_KEY,
ALLOWED_HOSTS and DATABASE_URL are set.
"""

import os

# DEBUG off before base is read, so base refuses to start without a SECRET_KEY.
os.environ.setdefault("DEBUG", "False")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

DEBUG = False
# Refuse the development key even if DEBUG was forced on in the environment.
if not os.environ.get("SECRET_KEY"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# --- HTTPS ------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Static -----------------------------------------------------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Mail -------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

# Everyone holding an Agent's powers, and administrators, must use two-factor authentication.
PORTAL_REQUIRE_TWO_FACTOR = env.bool("PORTAL_REQUIRE_TWO_FACTOR", default=True)

# Production runs behind one reverse proxy (see SECURE_PROXY_SSL_HEADER), which appends the
# client's address to X-Forwarded-For: sign-in throttling counts per username and that address.
PORTAL_TRUSTED_PROXY_HEADER = env.str("PORTAL_TRUSTED_PROXY_HEADER", default="X-Forwarded-For")
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", default=1)

# Never create demo accounts in production.
PORTAL_ALLOW_DEMO_ACCOUNTS = False
