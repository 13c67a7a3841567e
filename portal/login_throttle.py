"""
Sign-in throttling: too many failed attempts lock a username, from every address and from
each address, for a while.

- Every password check goes through :class:`ThrottledModelBackend` (the only authentication
  backend): the sign-in page, the admin's sign-in, the API's token endpoint, ``client.login``.
- An attempt is counted *before* its password is checked, with the cache's atomic add and
  increment: however many attempts arrive at once, no more than the limit are checked, and
  the rest are refused as locked. A correct password resets the username's counts (after the
  second factor, for an account that uses one).
- Counts are kept per username (``PORTAL_LOGIN_USERNAME_FAILURE_LIMIT``, from every address)
  and per username and client address (``PORTAL_LOGIN_FAILURE_LIMIT``), never per address
  alone: behind a reverse proxy every user shares an address, and one guesser would lock all
  of them out. The client's address is read from the trusted proxy's header only when one is
  configured (``PORTAL_TRUSTED_PROXY_HEADER``, ``PORTAL_TRUSTED_PROXY_COUNT``).
- Counters live in the cache (Redis in production), so every web process sees the same
  counts. If the cache does not answer, signing in is refused with a message saying so (fail
  closed): a throttle that turns itself off when the cache is down invites guessing then.

Why not django-axes: it checks the lock before the password and records the failure after,
so parallel attempts all pass the check (the attack had 8 passwords checked against a limit
of 5); reserving the attempt first is what bounds them.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import HAS_DEVICE, user_has_device, with_device_check

logger = logging.getLogger(__name__)

# The attribute of the request carrying why an attempt was refused without checking its password.
REFUSAL_ATTRIBUTE = "portal_sign_in_refused"
UNAVAILABLE_MESSAGE = "Signing in is unavailable for a moment: try again shortly."


def failure_limit() -> int:
    """Failed attempts per username from one address before it is locked."""
    return settings.PORTAL_LOGIN_FAILURE_LIMIT


def username_failure_limit() -> int:
    """Failed attempts per username from all addresses before it is locked."""
    return getattr(settings, "PORTAL_LOGIN_USERNAME_FAILURE_LIMIT", None) or failure_limit()


def lockout_seconds() -> int:
    return settings.PORTAL_LOGIN_LOCKOUT_SECONDS


class Refused(Exception):
    """A sign-in refused before its password was checked: locked, or the counters unavailable."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def locked(self) -> bool:
        return self.code == "locked"


def _header_name(header: str) -> str:
    """``X-Forwarded-For`` or ``HTTP_X_FORWARDED_FOR``: the request.META key."""
    name = header.strip().upper().replace("-", "_")
    return name if name.startswith("HTTP_") or name == "REMOTE_ADDR" else f"HTTP_{name}"


def client_address(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, unless a trusted proxy's header is configured.

    A proxy appends the address it received the request from to X-Forwarded-For, after
    whatever the client wrote there; with N trusted proxies in front, the client is the Nth
    entry from the right. A request with fewer entries did not come through them, and is
    known by REMOTE_ADDR."""
    if request is None:
        return "unknown"
    header = getattr(settings, "PORTAL_TRUSTED_PROXY_HEADER", "")
    if header:
        hops = [hop.strip() for hop in request.META.get(_header_name(header), "").split(",") if hop.strip()]
        count = max(1, int(getattr(settings, "PORTAL_TRUSTED_PROXY_COUNT", 1)))
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _digest(text: str) -> str:
    # Hashed, so any characters a user types make a valid cache key.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _keys(username: str, request: HttpRequest | None) -> list[tuple[str, int]]:
    """The counters an attempt counts towards, each with its limit."""
    name = (username or "").strip().lower()
    return [
        (f"login-failures:user:{_digest(name)}", username_failure_limit()),
        (f"login-failures:user-addr:{_digest(name + chr(0) + client_address(request))}", failure_limit()),
    ]


def _count(key: str, limit: int) -> int:
    """Add one attempt to a counter, atomically; the count including it."""
    seconds = lockout_seconds()
    if cache.add(key, 1, seconds):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        if cache.add(key, 1, seconds):
            return 1
        count = cache.incr(key)
    # An increment that created the key (Redis, when it expired just then) has no expiry; and
    # the attempt that reaches the limit starts the full lockout.
    if count in (1, limit):
        cache.touch(key, seconds)
    return count


def reserve_attempt(username: str, request: HttpRequest | None) -> None:
    """Count an attempt to sign in as ``username`` before its password is checked.

    Raises :class:`Refused` when a limit is passed (the password must not be checked) or
    when the cache does not answer."""
    # One counter after the other, the next only for an attempt the first let through: so
    # parallel attempts that one counter admits are the ones the next counts, and exactly the
    # limit get through (counting both first, each could refuse a different few).
    for key, limit in _keys(username, request):
        try:
            count = _count(key, limit)
        except Exception:
            logger.warning("sign-in refused: the throttling cache does not answer")
            raise Refused(UNAVAILABLE_MESSAGE, "unavailable") from None
        if count > limit:
            minutes = max(1, lockout_seconds() // 60)
            raise Refused(
                f"Too many failed sign-in attempts. Signing in is locked for {minutes} minutes; "
                "ask an administrator if you need access sooner.",
                "locked",
            )


def record_success(username: str, request: HttpRequest | None) -> None:
    """The user proved who they are: their counts start afresh (this address's and overall)."""
    try:
        cache.delete_many([key for key, _ in _keys(username, request)])
    except Exception:
        logger.warning("sign-in throttling: the cache does not answer; counts are left to expire")


def refusal(request: HttpRequest | None) -> Refused | None:
    """Why the last sign-in attempt on this request was refused before its password was checked."""
    return getattr(request, REFUSAL_ATTRIBUTE, None) if request is not None else None


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, with every password check counted first (see the module).

    A user with a confirmed two-factor device has their counts reset only once the code is
    verified too (the verify page, the token endpoint), so guesses of the code count. Loads
    the user with their security stamp, which ``portal.security.SessionStampMiddleware``
    compares with the session's, in the same query."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            reserve_attempt(username, request)
        except Refused as refused:
            if request is not None:
                setattr(request, REFUSAL_ATTRIBUTE, refused)
            raise PermissionDenied(refused.message) from None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not user_has_device(user):
            record_success(username, request)
        return user

    def get_user(self, user_id: Any):
        UserModel = get_user_model()
        try:
            user = (
                UserModel._default_manager.select_related("portal_security")
                .annotate(**{HAS_DEVICE: with_device_check()})
                .get(pk=user_id)
            )
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form: says why when an attempt was refused without checking the password."""

    refused: Refused | None = None

    def clean(self) -> dict:
        try:
            return super().clean()
        except forms.ValidationError:
            self.refused = refusal(self.request)
            if self.refused is not None:
                raise forms.ValidationError(self.refused.message, code=self.refused.code) from None
            raise
