"""
Site-wide protections: a strict Content Security Policy, sessions that end after inactivity
or after a security change of their account, API tokens revoked when the password changes,
and log redaction.

The policy allows scripts only from the portal itself (no inline script, no eval), so
an injected <script> cannot run; styles may be inline because Chart.js sizes its canvas
with inline styles.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

# Imported by the logging configuration, before the apps are ready: models are imported
# where they are used.

DEFAULT_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy() -> str:
    policy = {**DEFAULT_POLICY, **getattr(settings, "PORTAL_CSP_OVERRIDES", {})}
    return "; ".join(f"{directive} {value}" for directive, value in policy.items())


class SessionRenewalMiddleware:
    """Keeps a session in use alive: a session ends SESSION_COOKIE_AGE after it was last saved,
    and this saves it (with a fresh cookie) when it was last renewed more than
    PORTAL_SESSION_RENEWAL_SECONDS ago. A session idle for the whole age still ends on time;
    one in use ends at most that many seconds early, and pages do not each write the session
    row. Put right after SessionMiddleware, whose response phase then does the saving."""

    KEY = "_renewed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session that exists (signed in, or holding something), never a new empty one.
        if session is not None and session.session_key is not None and not session.is_empty():
            now = int(time.time())
            renewed = session.get(self.KEY, 0)
            if not isinstance(renewed, int) or now - renewed >= settings.PORTAL_SESSION_RENEWAL_SECONDS:
                session[self.KEY] = now
        return response


class SessionStampMiddleware:
    """Ends a session signed in before its account's last security change (two-factor
    authentication turned on or reset, see :mod:`portal.models`): the stamp the session
    recorded at sign-in is no longer the user's. Put right after AuthenticationMiddleware.
    The stamp is read with the user (no query of its own)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and session is not None and user.is_authenticated:
            from django.contrib.auth import logout
            from django.contrib.auth.views import redirect_to_login

            from .models import STAMP_SESSION_KEY, stamp_of

            if session.get(STAMP_SESSION_KEY, "") != stamp_of(user):
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Your session ended when your account's security changed: sign in again."},
                        status=401,
                    )
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class RevokeTokensOnPasswordChange:
    """Not a rule for passwords: Django calls ``password_changed`` of every configured
    validator whenever a user's password is set and saved (the password page, a reset, the
    admin, ``changepassword``), so listed in AUTH_PASSWORD_VALIDATORS this revokes the user's
    API tokens on every change. Other sessions end through Django's session hash; the one
    that made the change is kept by the password page."""

    def validate(self, password: str, user: object = None) -> None:
        return None

    def password_changed(self, password: str, user: object = None) -> None:
        if user is not None and getattr(user, "pk", None) is not None:
            from .models import revoke_tokens

            revoke_tokens(user.pk)

    def get_help_text(self) -> str:
        return "Changing your password revokes your API tokens and signs out your other sessions."


class ContentSecurityPolicyMiddleware:
    """Sets Content-Security-Policy (and a few companion headers) on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


_SECRET_FIELDS = r"password|passwd|secret|token|api[_-]?key|authorization|otp|sessionid|csrf\w*"
# key=value, key: value, "key": "value" — the value is replaced, the key kept.
_SECRET_PAIR = re.compile(rf"""(?i)(["']?(?:{_SECRET_FIELDS})["']?\s*[:=]\s*)(["']?)([^\s"',;&}}]+)""")
_AUTH_HEADER = re.compile(r"(?i)\b(Token|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_AMOUNT_FIELDS = re.compile(r"""(?i)(["']?amount["']?\s*[:=]\s*)(["']?)([^\s"',;&}}]+)""")


def redact(text: str) -> str:
    """Remove secrets and figures from a log line, keeping what they were called."""
    text = _AUTH_HEADER.sub(r"\1 [redacted]", text)
    text = _SECRET_PAIR.sub(r"\1\2[redacted]", text)
    return _AMOUNT_FIELDS.sub(r"\1\2[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """A logging filter that scrubs passwords, tokens, secrets and amounts from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is rather than lost
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
