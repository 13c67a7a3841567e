"""
Site-wide protections: a strict Content Security Policy, sessions that end after inactivity,
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
from django.http import HttpRequest, HttpResponse

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
