"""
Sign-in throttling: too many failed attempts lock the account name and the address
they came from for a while. Counters live in the cache (Redis in production), so every
web process sees the same counts. Used by the sign-in page and the API's token endpoint.
"""

from __future__ import annotations

import hashlib
import logging

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

FAILURE_LIMIT = getattr(settings, "PORTAL_LOGIN_FAILURE_LIMIT", 5)
LOCKOUT_SECONDS = getattr(settings, "PORTAL_LOGIN_LOCKOUT_SECONDS", 15 * 60)


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return "unknown"
    return request.META.get("REMOTE_ADDR", "unknown")


def _keys(username: str, address: str) -> list[str]:
    # Hashed, so any characters a user types make a valid cache key.
    name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    addr = hashlib.sha256(address.encode()).hexdigest()[:32]
    return [f"login-failures:user:{name}", f"login-failures:addr:{addr}"]


def lockout_message(username: str, request: HttpRequest | None) -> str | None:
    """A sentence saying the sign-in is locked, or None if it may proceed.

    If the cache is unreachable, signing in proceeds (and is logged): an outage of the
    cache must not lock every user out."""
    try:
        counts = cache.get_many(_keys(username, client_address(request)))
    except Exception:
        logger.warning("sign-in throttling unavailable: the cache does not answer")
        return None
    for count in counts.values():
        if (count or 0) >= FAILURE_LIMIT:
            minutes = max(1, LOCKOUT_SECONDS // 60)
            return (
                f"Too many failed sign-in attempts. Signing in is locked for {minutes} minutes; "
                "ask an administrator if you need access sooner."
            )
    return None


def record_failure(username: str, request: HttpRequest | None) -> None:
    try:
        for key in _keys(username, client_address(request)):
            if cache.add(key, 1, LOCKOUT_SECONDS):
                continue
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, LOCKOUT_SECONDS)
    except Exception:
        logger.warning("sign-in throttling unavailable: the cache does not answer")


def record_success(username: str, request: HttpRequest | None) -> None:
    try:
        cache.delete(_keys(username, client_address(request))[0])
    except Exception:
        logger.warning("sign-in throttling unavailable: the cache does not answer")


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, refusing to check passwords while the account or address is locked."""

    def clean(self) -> dict:
        username = self.cleaned_data.get("username") or ""
        locked = lockout_message(username, self.request)
        if locked:
            raise forms.ValidationError(locked, code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(username, self.request)
            raise
        record_success(username, self.request)
        return cleaned
