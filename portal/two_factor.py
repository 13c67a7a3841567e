"""
Two-factor authentication with time-based one-time passwords (TOTP), and recovery codes.

Every user may turn it on. A deployment can require it of everyone holding an Agent's
powers (PORTAL_REQUIRE_TWO_FACTOR, on in production settings): decided by the access rule
(:func:`covenants.access.holds_agent_powers`: a user of a party that is Agent or Collateral
Agent in some agreement, whatever their membership says, or an administrator), so it
applies from the moment a user's party becomes an Agent. Such a user who has not set it up
is sent to set it up before anything else, and their API tokens issued without a code stop
working. A user with a confirmed device must enter a code after the password before
reaching any page.

Turning it on (or a device being removed) revokes the user's tokens and ends their other
sessions (:mod:`portal.models`).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable

import django_otp
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from covenants.access import holds_agent_powers, memberships_of
from parties.choices import MembershipRole
from portal import login_throttle
from portal.models import HAS_DEVICE, TokenSecondFactor, lock_account, restamp_session, user_has_device

RECOVERY_CODE_COUNT = 10
SETUP_DEVICE_NAME = "Authenticator app"


def two_factor_required(user) -> bool:
    """Whether this deployment requires two-factor authentication of this user: staff, and
    anyone holding an Agent's powers by the access rule (and, as before, anyone whose
    membership says Agent or Administrator, powers or not)."""
    if not getattr(settings, "PORTAL_REQUIRE_TWO_FACTOR", False):
        return False
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    if any(role in (MembershipRole.AGENT, MembershipRole.ADMINISTRATOR) for _, role in memberships_of(user)):
        return True
    return holds_agent_powers(user)


def verify_code(user, code: str) -> bool:
    """Check a TOTP or recovery code for a user (used by the API's token endpoint too)."""
    code = (code or "").strip().replace(" ", "")
    return bool(code) and django_otp.match_token(user, code) is not None


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    if request.user.is_verified():
        return redirect(_safe_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["code"].strip().replace(" ", ""))
        if device is not None:
            django_otp.login(request, device)
            # Password and code both right: the sign-in counts start afresh.
            login_throttle.record_success(request.user.get_username(), request)
            return redirect(_safe_next(request))
        form.add_error("code", "That code is not valid. Codes change every 30 seconds; try the current one.")
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _safe_next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Turn on two-factor authentication: scan the key, confirm a code, keep the recovery codes."""
    if user_has_device(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('two_factor_verify')}?next={reverse('two_factor_setup')}")
    device, _ = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": SETUP_DEVICE_NAME}
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            codes = _confirm(request.user, device)
            django_otp.login(request, device)
            # Turning it on ended every other session and revoked every token; this one goes on.
            restamp_session(request)
            return render(request, "registration/two_factor_recovery_codes.html", {"codes": codes})
        form.add_error("code", "That code does not match. Check the time on your phone and enter the current code.")
    context = {
        "form": form,
        "secret": _base32(device),
        "qr_svg": _qr_svg(device.config_url),
        "enabled": user_has_device(request.user),
    }
    return render(request, "registration/two_factor_setup.html", context)


@transaction.atomic
def _confirm(user, device: TOTPDevice) -> list[str]:
    """Make the new device the user's only one and issue fresh recovery codes. Confirming it
    revokes the user's tokens and ends their sessions (receivers in :mod:`portal.models`)."""
    lock_account(user)
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    if hasattr(user, HAS_DEVICE):  # read with the user, before it had one
        delattr(user, HAS_DEVICE)
    static, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes"})
    static.token_set.all().delete()
    codes = [f"{secrets.token_hex(4)}{secrets.token_hex(2)}" for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def _base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _qr_svg(data: str) -> str:
    from django_otp.qr import write_qrcode_image

    out = io.BytesIO()
    write_qrcode_image(data, out)
    return out.getvalue().decode()


class TwoFactorMiddleware:
    """Sends signed-in users who must verify (or must set up) two-factor authentication to
    do so before any other page. Put after django_otp's OTPMiddleware."""

    ALWAYS_ALLOWED = ("two_factor_verify", "two_factor_setup", "logout")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._exempt(request):
            # Each question asked once, and only when the answer matters.
            if user.is_verified():
                needs_code = False
                needs_setup = two_factor_required(user) and not user_has_device(user)
            else:
                needs_code = user_has_device(user)
                needs_setup = not needs_code and two_factor_required(user)
            if needs_code or needs_setup:
                if request.path.startswith("/api/"):
                    what = "enter your two-factor code" if needs_code else "set up two-factor authentication"
                    return JsonResponse({"detail": f"Sign in through the portal and {what} first."}, status=403)
                name = "two_factor_verify" if needs_code else "two_factor_setup"
                return redirect(f"{reverse(name)}?next={request.get_full_path()}")
        return self.get_response(request)

    def _exempt(self, request: HttpRequest) -> bool:
        if request.path.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"):
            return True
        # Token-authenticated API calls are checked by PortalTokenAuthentication, on every request.
        if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Token "):
            return True
        match = getattr(request, "resolver_match", None)
        if match is None:
            from django.urls import Resolver404, resolve

            try:
                match = resolve(request.path_info)
            except Resolver404:
                return False
        return match.url_name in self.ALWAYS_ALLOWED


class PortalTokenAuthentication(TokenAuthentication):
    """The API's tokens (knox's: expiring, stored hashed), refused once their user must use
    two-factor authentication (their party became an Agent, or the deployment started to
    require it) unless the token was issued after a verified code. Asks nothing more of a
    user the requirement does not apply to."""

    def validate_user(self, auth_token):
        user, auth_token = super().validate_user(auth_token)
        if two_factor_required(user) and not TokenSecondFactor.objects.filter(token=auth_token).exists():
            raise AuthenticationFailed(
                "This token was issued without two-factor authentication, which this account now requires: "
                "set it up in the portal, then request a new token with the code."
            )
        return user, auth_token
