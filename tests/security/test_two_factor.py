"""Two-factor authentication: set up with a TOTP app, required at sign-in, recovery codes,
and required of agents and administrators where the deployment says so."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..factories import PASSWORD, member

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def turn_on(client, user) -> list[str]:
    client.force_login(user)
    assert client.get(reverse("two_factor_setup")).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("two_factor_setup"), {"code": current_code(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{12})</code></li>", response.content.decode())
    assert len(codes) == 10
    return codes


def test_a_user_turns_it_on_and_then_needs_a_code_after_the_password(client):
    user = member("totp.user", "lender")
    turn_on(client, user)
    client.logout()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    # Every page now sends the user to the code step.
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("two_factor_verify") in response["Location"]
    response = client.post(reverse("two_factor_verify"), {"code": "000000", "next": "/"})
    assert "not valid" in response.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    device.refresh_from_db()
    # A failed code throttles the device for a second (doubling with each failure).
    time.sleep(1.1)
    # The setup used this time step's code and a code is never accepted twice, so enter the
    # next step's code (within the device's tolerance of one step).
    response = client.post(reverse("two_factor_verify"), {"code": current_code(device, drift=1), "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_recovery_code_works_once(client):
    user = member("recovery.user", "lender")
    codes = turn_on(client, user)
    client.logout()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = client.post(reverse("two_factor_verify"), {"code": codes[0], "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.logout()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = client.post(reverse("two_factor_verify"), {"code": codes[0], "next": "/"})
    assert response.status_code == 200 and "not valid" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "required"), [("agent", True), ("administrator", True), ("lender", False), ("borrower", False)]
)
def test_the_deployment_can_require_it_of_agents_and_administrators(client, settings, role, required):
    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    from parties.models import Party

    user = member(f"required.{role}", role, Party.objects.create(legal_name=f"{role.title()} Party Inc."))
    client.force_login(user)
    response = client.get(reverse("home"))
    if required:
        assert response.status_code == 302 and reverse("two_factor_setup") in response["Location"]
        api = client.get("/api/v1/agreements/")
        assert api.status_code == 403 and "two-factor" in api.json()["detail"]
    else:
        assert response.status_code == 200


def test_production_settings_require_it_and_the_demo_does_not():
    from portal.settings import base

    assert base.PORTAL_REQUIRE_TWO_FACTOR is False
    source = (base.BASE_DIR / "portal" / "settings" / "production.py").read_text()
    assert 'PORTAL_REQUIRE_TWO_FACTOR = env.bool("PORTAL_REQUIRE_TWO_FACTOR", default=True)' in source
