"""
Settings shared by every environment, read from the environment (django-environ).

The defaults make a newcomer's first run work with no server: SQLite in the project
folder and Celery tasks run in-process. Production overrides what must never default
(see ``production.py``).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is convenient in development; the real environment always wins.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)

# A development key only when DEBUG is on: a deployment that forgets SECRET_KEY must
# fail loudly rather than sign sessions with a key published in this repository.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "parties",
    "covenants",
    "documents",
    "statements",
    "compliance",
    "alerts",
    "syndicate",
    "execution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.security.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends sessions signed in before their account's last security change (2FA on or reset).
    "portal.security.SessionStampMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change for the history of parties, terms and figures.
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.pages.context_processors.unread_alerts",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------
# SQLite by default so the first run needs no server; PostgreSQL in production and CI.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Every request is one transaction: a failed upload leaves nothing half-saved.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# A served process keeps its connection for a minute rather than opening one per request (a
# PostgreSQL backend started, authenticated and set up each time: measured in docs/benchmarks.md,
# workload 6); checked before reuse, so a restarted server costs one failed request nothing.
# Off under DEBUG (the development server and the tests), where a connection per request is simplest.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and sessions ------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: revokes the user's API tokens whenever their password changes.
    {"NAME": "portal.security.RevokeTokensOnPasswordChange"},
]
# Every password check is counted first by the sign-in throttle (portal.login_throttle).
AUTHENTICATION_BACKENDS = ["portal.login_throttle.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sessions end after 30 minutes without activity: figures are confidential. The clock
# restarts with activity: portal.security.SessionRenewalMiddleware saves a signed-in session
# (and resets its cookie) at most once a minute, rather than writing it on every request.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
PORTAL_SESSION_RENEWAL_SECONDS = env.int("PORTAL_SESSION_RENEWAL_SECONDS", default=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Two-factor authentication is open to every user; a deployment may require it of everyone
# holding an Agent's powers (a user of a party that is Agent or Collateral Agent in some
# agreement, whatever their membership says) and administrators: production does. The demo
# leaves it optional.
PORTAL_REQUIRE_TWO_FACTOR = env.bool("PORTAL_REQUIRE_TWO_FACTOR", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Lender portal")
# Sign-in throttling (portal.login_throttle): failed attempts per username from one client
# address, and per username from every address, before the username is locked for the
# lockout period. Never per address alone: behind a proxy every user shares one. If the
# cache holding the counts does not answer, signing in is refused until it does.
PORTAL_LOGIN_FAILURE_LIMIT = env.int("PORTAL_LOGIN_FAILURE_LIMIT", default=5)
PORTAL_LOGIN_USERNAME_FAILURE_LIMIT = env.int("PORTAL_LOGIN_USERNAME_FAILURE_LIMIT", default=PORTAL_LOGIN_FAILURE_LIMIT)
PORTAL_LOGIN_LOCKOUT_SECONDS = env.int("PORTAL_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# The client's address for those counts: REMOTE_ADDR, unless the portal runs behind trusted
# reverse proxies, named here by the header they append the client's address to (e.g.
# X-Forwarded-For) and how many of them there are: the client is that many entries from the
# right. Set it only when every request comes through them, or clients could name any address.
PORTAL_TRUSTED_PROXY_HEADER = env.str("PORTAL_TRUSTED_PROXY_HEADER", default="")
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", default=1)
# The history of terms, figures, waivers and parties is a record: never reverted in the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en-us"
# Date-time display with its zone, in one place (portal/formats/en/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------
# Every asset is served by the app itself (no CDN): whitenoise in production.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"
# Uploaded statements are refused above this size, checked by the upload parser itself
# (Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not limit files).
STATEMENT_UPLOAD_MAX_BYTES = env.int("STATEMENT_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
STATEMENT_UPLOAD_MAX_ROWS = env.int("STATEMENT_UPLOAD_MAX_ROWS", default=20_000)
# Statements (one per Borrower and fiscal quarter) one file or one API submission may carry.
STATEMENT_UPLOAD_MAX_STATEMENTS = env.int("STATEMENT_UPLOAD_MAX_STATEMENTS", default=500)
# A statement's quarter must end within a window around the agreement's life: from this many
# years before the earliest of its dates (its own, its amendments', its terms' and test dates)
# to this many years after the latest (statements.limits).
STATEMENT_PERIOD_YEARS_BEFORE = env.int("STATEMENT_PERIOD_YEARS_BEFORE", default=10)
STATEMENT_PERIOD_YEARS_AFTER = env.int("STATEMENT_PERIOD_YEARS_AFTER", default=10)
# A workbook is streamed and counted before anything is built from it (statements.xlsx_workbook):
# these bound the work one upload can cost, whatever its byte size.
STATEMENT_XLSX_MAX_STYLE_ENTRIES = env.int("STATEMENT_XLSX_MAX_STYLE_ENTRIES", default=100_000)
STATEMENT_XLSX_MAX_SHARED_STRINGS = env.int("STATEMENT_XLSX_MAX_SHARED_STRINGS", default=50_000)
STATEMENT_XLSX_MAX_CELLS_PER_ROW = env.int("STATEMENT_XLSX_MAX_CELLS_PER_ROW", default=1_000)
STATEMENT_XLSX_MAX_CELLS = env.int("STATEMENT_XLSX_MAX_CELLS", default=250_000)
STATEMENT_UPLOAD_MAX_PARSE_SECONDS = env.float("STATEMENT_UPLOAD_MAX_PARSE_SECONDS", default=20.0)

# --- E-mail -----------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lender portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Alerts -----------------------------------------------------------------------
# Links in e-mails and webhook bodies point here (the e-mail has no request to build them from);
# by default the port `make run` serves (bin/run-portal sets PORTAL_PORT).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default=f"http://127.0.0.1:{env.int('PORTAL_PORT', default=8000)}")
# A delivery that fails is retried with exponential backoff and jitter, up to this many
# attempts in all. The longest wait stays well below the broker's visibility timeout (900 s),
# or Redis would hand the waiting task to a second worker.
ALERT_DELIVERY_MAX_ATTEMPTS = env.int("ALERT_DELIVERY_MAX_ATTEMPTS", default=6)
ALERT_RETRY_BASE_SECONDS = env.int("ALERT_RETRY_BASE_SECONDS", default=30)
ALERT_RETRY_MAX_SECONDS = env.int("ALERT_RETRY_MAX_SECONDS", default=300)
ALERT_WEBHOOK_TIMEOUT_SECONDS = env.int("ALERT_WEBHOOK_TIMEOUT_SECONDS", default=10)
# Webhooks to private, loopback or link-local addresses: allowed in development (a receiver
# on this machine), refused in production, where they would reach the portal's own network.
ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# A subscription whose deliveries fail every retry this many times in a row is paused.
ALERT_WEBHOOK_PAUSE_AFTER_FAILURES = env.int("ALERT_WEBHOOK_PAUSE_AFTER_FAILURES", default=5)
# The sweep re-queues deliveries still pending this long after they fell due.
ALERT_SWEEP_AFTER_SECONDS = env.int("ALERT_SWEEP_AFTER_SECONDS", default=60)
# Late financials are looked for in this many most recent fiscal quarters past their deadline.
ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS = env.int("ALERT_LATE_FINANCIALS_LOOKBACK_QUARTERS", default=8)

# --- Celery -----------------------------------------------------------------------
# Redis is broker and result backend. Without REDIS_URL, tasks run in-process (eager)
# so the portal works on a laptop with no server; CI and production always set it.
REDIS_URL = env.str("REDIS_URL", default="")
# With a host named, kombu does not warn "No hostname was supplied" on every run without Redis.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so a task whose worker dies is redelivered rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Both limits, deliberately: a stuck evaluation must not hold a worker forever.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Redelivery of unacknowledged messages after this long; longer than any task runs
# and longer than any countdown we schedule, or a task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900),
    # A running worker looks this often for messages whose worker died (visibility timeout
    # passed) and puts them back on the queue. kombu's default looks only every 10th tick
    # of 10 s; scanning each tick keeps a redelivery within a minute of the timeout.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=60),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With Redis down, queuing a task from a request (an upload's evaluation) gives up within
# about a second instead of holding the upload: the work is already marked in the database
# and the sweep queues it once Redis is back. Celery's defaults retry the result backend's
# connection 20 times, a second apart, which held each upload for 20 s.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# The sweep (every minute) queues evaluations requested this many seconds ago or more and not run.
EVALUATION_SWEEP_AFTER_SECONDS = env.int("EVALUATION_SWEEP_AFTER_SECONDS", default=30)
# Keep Django's logging (and its redaction filter) in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "re-evaluate-every-agreement-nightly": {
        "task": "covenants.tasks.reevaluate_all_agreements",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    "queue-evaluations-the-broker-missed": {
        "task": "covenants.tasks.sweep_evaluation_requests",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # The dashboard's stored standings, as of the new day (compliance.standings).
    "refresh-standings-daily": {
        "task": "execution.tasks.refresh_standings",
        "schedule": crontab(hour=0, minute=1),
        "options": {"expires": 6 * 60 * 60},
    },
    "raise-late-financials-daily": {
        "task": "covenants.tasks.raise_late_financials",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    "raise-overdue-amendments-daily": {
        "task": "covenants.tasks.raise_overdue_amendments",
        "schedule": crontab(hour=6, minute=10),
        "options": {"expires": 6 * 60 * 60},
    },
    "queue-alert-deliveries-the-broker-missed": {
        "task": "covenants.tasks.sweep_undelivered_alerts",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Consent requests: remind the Lenders once as a deadline nears; close what is past it.
    "remind-consent-deadlines-hourly": {
        "task": "syndicate.tasks.remind_consent_deadlines",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    "close-consent-requests-past-their-deadline": {
        "task": "syndicate.tasks.close_due_consent_requests",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".celerybeat-schedule"))

# --- Cache ------------------------------------------------------------------------
# Shared by every web process (sign-in throttling counts must be): Redis, in a database
# of its own so clearing the cache never touches queued tasks. Local memory otherwise.
CACHE_URL = env.str("CACHE_URL", default="")
if not CACHE_URL and REDIS_URL:
    CACHE_URL = REDIS_URL.rsplit("/", 1)[0] + "/1" if REDIS_URL.count("/") > 2 else REDIS_URL + "/1"
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "portal"}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST framework ---------------------------------------------------------------
# Integrations authenticate with expiring tokens (knox: stored hashed); the browsable API
# uses the site's session. Reads and writes are scoped by portal.api, once, for every view.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's tokens, refused once their user must use 2FA unless issued with a code.
        "portal.two_factor.PortalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON numbers become Decimal, never float: money stays exact from the request on.
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.conventions.DecimalJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.api.conventions.PortalPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "portal.api.conventions.PortalOrderingFilter",
    ],
    # Per user (per address for the anonymous token request): a runaway script slows
    # itself down, not the portal. Generous by default; tune from the environment.
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.conventions.PortalUserRateThrottle",
        "portal.api.conventions.PortalAnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="5000/hour"),
        "anon": env.str("API_THROTTLE_ANON", default="200/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "portal.api.base.PortalAutoSchema",
    "EXCEPTION_HANDLER": "portal.api.conventions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Tokens expire after API_TOKEN_TTL_HOURS; a script signs in again rather than holding a
# token forever. Only the digest is stored.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "AUTO_REFRESH": False,
    # Unlimited unless set: a cap makes a script that never signs out fail after N runs.
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=None),
}

# The schema at /api/schema/ and its Swagger UI at /api/docs/, every asset served by the
# app itself (the sidecar), never a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Lender portal API",
    "DESCRIPTION": (
        "Compliance out, financials in: agreements, parties, covenants and their terms, financial "
        "statements and covenant test results, under the same access rule as the pages. "
        "Money is a string of decimals; dates are ISO dates. See docs/api.md for a worked example."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AmendmentStatusEnum": "covenants.choices.AmendmentStatus",
        "StatementStatusEnum": "statements.choices.StatementStatus",
        "ResultStatusEnum": "compliance.choices.ResultStatus",
        "RoleEnum": "covenants.choices.Role",
        "AgreementKindEnum": "covenants.choices.AgreementKind",
        "EntityKindEnum": "parties.choices.EntityKind",
        "WindowKindEnum": "covenants.choices.WindowKind",
        "FrequencyEnum": "covenants.choices.Frequency",
        "UploadFormatEnum": "statements.choices.UploadFormat",
        "ConsentRequestKindEnum": "syndicate.choices.RequestKind",
        # A covenant's basis and a vote's (commitments or loans) share a field name.
        "BasisEnum": "covenants.choices.Basis",
        "ShareBasisEnum": "syndicate.choices.ShareBasis",
        "VoteNeededEnum": "syndicate.choices.VoteNeeded",
    },
}

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Passwords, tokens, secrets and amounts are scrubbed from every line before it is written.
    "filters": {"redact": {"()": "portal.security.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Portal -----------------------------------------------------------------------
# Demo accounts are created by `make run` only; production refuses to create them.
PORTAL_ALLOW_DEMO_ACCOUNTS = env.bool("PORTAL_ALLOW_DEMO_ACCOUNTS", default=DEBUG)
