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


# --- The requirement follows the powers held; sessions end with security changes -------


def agent_deal(prefix: str = "Harbor"):
    """A deal whose Agent is ``<prefix> National Bank``."""
    from ..factories import second_facility

    return second_facility(prefix)


def test_a_lender_membership_in_a_deals_agent_must_use_it(client, settings):
    """Agent powers come from the party's role in the agreement, not the membership's label:
    a Lender's membership in the Agent bank administers the deal, so it needs the second factor."""
    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    facility = agent_deal()
    user = member("agent.bank.lender", "lender", facility.agent)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("two_factor_setup") in response["Location"]
    api = client.get("/api/v1/agreements/")
    assert api.status_code == 403 and "two-factor" in api.json()["detail"]
    # A Lender's user of a party that is Lender only is not asked.
    plain = member("plain.lender", "lender", facility.lender)
    client.force_login(plain)
    assert client.get(reverse("home")).status_code == 200


def test_holds_agent_powers_follows_the_access_rule():
    from django.contrib.auth.models import AnonymousUser

    from covenants.access import holds_agent_powers

    facility = agent_deal()
    assert holds_agent_powers(member("powers.agent", "lender", facility.agent))
    assert holds_agent_powers(member("powers.collateral", "borrower", facility.collateral_agent))
    assert not holds_agent_powers(member("powers.lender", "agent", facility.lender))
    assert not holds_agent_powers(member("powers.borrower", "borrower", facility.borrowers[0]))
    from parties.models import Party

    assert holds_agent_powers(member("powers.admin", "administrator", Party.objects.create(legal_name="Admin Co")))
    assert not holds_agent_powers(AnonymousUser())


def test_a_session_must_set_it_up_once_the_requirement_starts_to_apply(client, settings):
    from covenants.choices import Role
    from covenants.models import AgreementRole

    settings.PORTAL_REQUIRE_TWO_FACTOR = True
    facility = agent_deal()
    user = member("promoted.lender", "lender", facility.lender)
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200
    # The bank becomes Agent of another deal: the session signed in without a second factor
    # may do nothing more until the user sets it up.
    other = agent_deal("Bay")
    AgreementRole.objects.create(agreement=other.agreement, party=facility.lender, role=Role.AGENT)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("two_factor_setup") in response["Location"]


def sign_in_with_code(client, user, device, drift: int = 0) -> None:
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = client.post(reverse("two_factor_verify"), {"code": current_code(device, drift), "next": "/"})
    assert response.status_code == 302, response.content.decode()
    assert client.get(reverse("home")).status_code == 200


def test_turning_it_on_ends_the_other_sessions_and_keeps_this_one(client):
    from django.test import Client

    user = member("enrolling.user", "lender")
    elsewhere = Client()
    elsewhere.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert elsewhere.get(reverse("home")).status_code == 200
    turn_on(client, user)
    assert client.get(reverse("home")).status_code == 200
    response = elsewhere.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in elsewhere.session


def test_resetting_it_ends_every_session_verified_with_the_old_device(client):
    """An administrator resets a lost phone's device: a session verified with it (the thief's,
    say) must not go on, nor be offered to set up a device of its own."""
    user = member("reset.user", "lender")
    turn_on(client, user)
    client.logout()
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    sign_in_with_code(client, user, device, drift=1)
    TOTPDevice.objects.filter(user=user).delete()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("two_factor_setup")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(client):
    from django.test import Client

    user = member("changing.user", "lender")
    elsewhere = Client()
    elsewhere.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    new = "a-new-portal-password-3"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    response = elsewhere.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
