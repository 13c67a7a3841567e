"""
What keeps sign-ins in step with an account's security: a stamp per user that changes when
two-factor authentication is turned on or reset, and a mark on each API token issued after a
verified second factor.

- A session records the stamp it signed in with (:func:`remember_stamp`); one whose stamp is
  no longer the user's ends (``portal.security.SessionStampMiddleware``). The session that
  made the change is stamped afresh (:func:`restamp_session`). A password change ends other
  sessions through Django's own session hash.
- Tokens are deleted when the password changes (``portal.security.RevokeTokensOnPasswordChange``)
  and when two-factor authentication is turned on or reset (the receivers below, on the
  devices themselves: the setup page, the admin, a shell). A token without the mark stops
  working once its user must use two-factor authentication (``portal.api.PortalTokenAuthentication``).
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger(__name__)

# Where a session keeps the stamp it signed in with.
STAMP_SESSION_KEY = "_portal_security_stamp"


class AccountSecurity(models.Model):
    """A user's security stamp: changes when two-factor authentication is turned on or reset,
    ending every session signed in before. No row: never changed (the stamp is empty)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="portal_security"
    )
    stamp = models.CharField(max_length=32, blank=True, default="")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "account security"
        verbose_name_plural = "account security"

    def __str__(self) -> str:
        return f"Security of {self.user}"


class TokenSecondFactor(models.Model):
    """Marks an API token issued after a verified two-factor code."""

    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.CASCADE, primary_key=True, related_name="portal_second_factor"
    )
    verified_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Second factor verified at {self.verified_at:%Y-%m-%d %H:%M}"


def stamp_of(user) -> str:
    """The user's current stamp (loaded with the user by ``portal.login_throttle.ThrottledModelBackend``)."""
    try:
        return user.portal_security.stamp
    except AccountSecurity.DoesNotExist:
        return ""


def current_stamp(user_id: int) -> str:
    return AccountSecurity.objects.filter(user_id=user_id).values_list("stamp", flat=True).first() or ""


def lock_account(user) -> AccountSecurity:
    """Lock the user's security row until the transaction ends: issuing a token and turning on
    two-factor authentication take it, so neither misses the other."""
    row, _ = AccountSecurity.objects.select_for_update().get_or_create(user_id=user.pk)
    return row


def revoke_tokens(user_id: int) -> int:
    """Delete every API token of the user."""
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(user_id=user_id).delete()
    return deleted


def security_changed(user_id: int, reason: str) -> None:
    """Revoke the user's tokens and end their sessions (a new stamp)."""
    tokens = revoke_tokens(user_id)
    AccountSecurity.objects.update_or_create(
        user_id=user_id, defaults={"stamp": secrets.token_hex(16), "changed_at": timezone.now()}
    )
    logger.info("security change for user %s (%s): %s token(s) revoked, sessions ended", user_id, reason, tokens)


def restamp_session(request) -> None:
    """Keep the session that made a security change: give it the user's new stamp."""
    request.session[STAMP_SESSION_KEY] = current_stamp(request.user.pk)


@receiver(user_logged_in)
def remember_stamp(sender, request, user, **kwargs) -> None:
    """A session signing in records the user's stamp (not the API's token endpoint: no session)."""
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) is not None:
        session[STAMP_SESSION_KEY] = current_stamp(user.pk)


def _deleting_the_user(origin) -> bool:
    """The deletion started from the user itself (the device goes with it): nothing to revoke."""
    User = get_user_model()
    return isinstance(origin, User) or (isinstance(origin, QuerySet) and issubclass(origin.model, User))


@receiver(post_init, sender=TOTPDevice)
def _remember_confirmed(sender, instance: TOTPDevice, **kwargs) -> None:
    instance._portal_was_confirmed = instance.__dict__.get("confirmed", False)


@receiver(post_save, sender=TOTPDevice)
def _device_confirmed(sender, instance: TOTPDevice, created: bool, **kwargs) -> None:
    """Two-factor authentication turned on (a device confirmed, from any path): tokens and
    sessions from before it end."""
    if instance.confirmed and (created or not getattr(instance, "_portal_was_confirmed", False)):
        security_changed(instance.user_id, "two-factor authentication turned on")
    instance._portal_was_confirmed = instance.confirmed


@receiver(post_delete, sender=TOTPDevice)
@receiver(post_delete, sender=StaticDevice)
def _device_removed(sender, instance, origin=None, **kwargs) -> None:
    """Two-factor authentication reset (a device removed): tokens and sessions verified with it end."""
    if isinstance(instance, TOTPDevice) and not instance.confirmed:
        return
    if _deleting_the_user(origin):
        return
    security_changed(instance.user_id, "two-factor device removed")


#: The attribute of a user read with its device check (:func:`with_device_check`).
HAS_DEVICE = "portal_has_device"


def with_device_check() -> Exists:
    """Whether a user has a confirmed TOTP device, as an expression to read with the user: the
    request's user is loaded with it (``portal.login_throttle.ThrottledModelBackend``), so the
    two-factor middleware asks no query of its own on every page."""
    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def user_has_device(user: models.Model) -> bool:
    """The user has a confirmed TOTP device: signing in takes a code as well as the password.
    Read with the user when it was loaded with :func:`with_device_check` (the request's user)."""
    known = getattr(user, HAS_DEVICE, None)  # through the request's lazy user too
    if known is not None:
        return bool(known)
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
