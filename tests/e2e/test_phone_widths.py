"""
Every page each kind of user reaches, on a 390 px phone: nothing makes the page wider than the
screen (a wide table scrolls inside its own box). The pages are enumerated per role from the demo
data: the home page or dashboard, the agreement page, the upload page with a preview, a submission,
the alerts inbox and an alert, webhooks, preferences, the waiver form and the certificate.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from alerts.models import Alert
from covenants.choices import Role
from parties.choices import MembershipRole
from parties.models import Membership
from portal.management.commands.create_demo_accounts import DEMO_PASSWORD
from portal.management.commands.load_demo_figures import quarter_file
from statements.models import StatementUpload
from tests.covenants.helpers import seed_loan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ROLES = ("kmc.finance", "cibc.lender", "firstunion.agent", "collateral.agent", "admin")


@pytest.fixture
def demo():
    loan = seed_loan()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True):
        call_command("load_demo_figures", stdout=StringIO())
        call_command("create_demo_accounts", stdout=StringIO())
    collateral = loan.agreement.roles.filter(role=Role.COLLATERAL_AGENT).select_related("party").first()
    user = get_user_model().objects.create_user("collateral.agent", password=DEMO_PASSWORD)
    Membership.objects.create(user=user, party=collateral.party, role=MembershipRole.AGENT)
    return loan


def pages(loan) -> list[str]:
    pk = loan.agreement.pk
    upload = StatementUpload.objects.filter(agreement=loan.agreement).order_by("-pk").first()
    alert = Alert.objects.filter(agreement=loan.agreement).order_by("-pk").first()
    return [
        "/",
        f"/agreements/{pk}/",
        f"/agreements/{pk}/statements/upload/",
        f"/agreements/{pk}/statements/{upload.pk}/",
        f"/agreements/{pk}/statements/{upload.pk}/progress/",
        f"/agreements/{pk}/certificate/",
        f"/agreements/{pk}/certificate/?test_date=2001-03-31&officer_name=Roscoe+Young&officer_title=Chief+Financial+Officer",
        "/alerts/",
        f"/alerts/{alert.pk}/",
        "/alerts/preferences/",
        "/alerts/webhooks/",
        "/alerts/webhooks/new/",
        f"/alerts/waivers/new/?covenant={alert.covenant_id or ''}&test_date=2001-03-31",
        "/accounts/password/",
        "/accounts/two-factor/",
    ]


def overflow(page) -> int:
    """How many pixels the page is wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("username", ROLES)
def test_no_page_is_wider_than_a_phone(chromium, live_server, demo, username, tmp_path):
    context = chromium.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        too_wide, seen = {}, []
        for path in pages(demo):
            response = page.goto(live_server.url + path)
            if response.status in (403, 404, 405):
                continue  # not a page this user has
            assert response.status == 200, (path, response.status)
            seen.append(path)
            if overflow(page) > 0:
                too_wide[path] = overflow(page)
            # Open every explanation and schedule: they are part of the page too.
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            if overflow(page) > 0:
                too_wide[path + " (details open)"] = overflow(page)
            if path.endswith("/statements/upload/") and page.locator("input[type=file]").count():
                file = tmp_path / "q1-2001.csv"
                file.write_bytes(quarter_file(dt.date(2001, 3, 31)))
                page.locator("input[type=file]").set_input_files(str(file))
                page.get_by_role("button", name="Check the file").click()
                page.wait_for_load_state()
                seen.append(path + " (preview)")
                if overflow(page) > 0:
                    too_wide[path + " (preview)"] = overflow(page)
        assert "/" in seen and len(seen) >= 6, seen
        assert too_wide == {}, f"{username}: pages wider than a 390 px phone (px too wide): {too_wide}"
    finally:
        context.close()
