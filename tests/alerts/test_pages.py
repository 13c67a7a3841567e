"""The alert pages: the inbox with its unread count, read and acknowledged state; an alert;
notification preferences; a party's webhook subscriptions; the Agents' waiver form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse

from alerts.choices import AlertChannel, AlertKind
from alerts.models import Alert, AlertDelivery, NotificationPreference, WebhookSubscription
from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from covenants.models import Waiver
from parties.choices import MembershipRole
from portal.pages.context_processors import unread_alerts
from tests.factories import member, outsider, second_facility

from .helpers import Q3_2019, Q4_2019, minimum_revenues, revenues

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhook_hosts_not_resolved(settings):
    """The example hosts below do not exist: do not look them up (the check is tested in test_webhooks)."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def harbor():
    facility = second_facility("Harbor")
    revenues(facility, Q3_2019, 900_000)
    revenues(facility, Q4_2019, 1_050_000)
    return facility


def entry(user, kind=AlertKind.BREACH) -> AlertDelivery:
    return AlertDelivery.objects.get(user=user, channel=AlertChannel.IN_APP, alert__kind=kind)


# --- Inbox ------------------------------------------------------------------------------


def test_the_inbox_lists_the_users_alerts_with_the_unread_count(client, harbor):
    client.force_login(harbor.users["lender"])
    page = client.get(reverse("alerts:inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 unread." in html
    assert "Breach of Section 6.1 (Minimum revenues) as of September 30, 2019" in html
    assert "Near breach of Section 6.1 (Minimum revenues) as of December 31, 2019" in html
    assert html.count('class="alert-row unread"') == 2


def test_a_user_sees_only_their_own_entries(client, harbor):
    cove = second_facility("Cove")
    client.force_login(cove.users["lender"])
    html = client.get(reverse("alerts:inbox")).content.decode()
    assert "No alerts yet." in html
    assert client.get(reverse("alerts:detail", args=[entry(harbor.users["lender"]).pk])).status_code == 404
    response = client.post(reverse("alerts:acknowledge", args=[entry(harbor.users["lender"]).pk]))
    assert response.status_code == 404
    assert entry(harbor.users["lender"]).acknowledged_at is None


def test_a_user_who_leaves_the_agreements_parties_no_longer_reads_its_alerts(client, harbor):
    user = harbor.users["lender"]
    breach = entry(user)
    user.memberships.all().delete()
    client.force_login(user)
    assert "No alerts yet." in client.get(reverse("alerts:inbox")).content.decode()
    assert client.get(reverse("alerts:detail", args=[breach.pk])).status_code == 404


def test_mark_read_and_the_unread_filter(client, harbor):
    user = harbor.users["lender"]
    client.force_login(user)
    breach = entry(user)
    client.post(reverse("alerts:mark_read"), {"entry": [breach.pk]})
    breach.refresh_from_db()
    assert breach.read_at is not None
    unread = client.get(reverse("alerts:inbox"), {"show": "unread"}).content.decode()
    assert "1 unread." in unread
    assert "Near breach of Section 6.1" in unread and "Breach of Section 6.1" not in unread
    client.post(reverse("alerts:mark_read"), {"all": "1"})
    assert "No unread alerts." in client.get(reverse("alerts:inbox"), {"show": "unread"}).content.decode()
    # Marking read is the user's own: their colleagues' entries stay unread.
    assert entry(harbor.users["agent"]).read_at is None


def test_acknowledging_shows_who_and_when_to_the_users_team(client, harbor):
    colleague = member("harbor.lender2", MembershipRole.LENDER, harbor.lender)
    revenues(harbor, Q3_2019, 2_000_000)  # cured by a restatement,
    revenues(harbor, Q3_2019, 800_000)  # then breached again: this alert reaches the colleague too
    user = harbor.users["lender"]
    client.force_login(user)
    breach = AlertDelivery.objects.get(user=user, channel=AlertChannel.IN_APP, alert__value=800_000)
    response = client.post(reverse("alerts:acknowledge", args=[breach.pk]))
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.acknowledged_by == user and breach.acknowledged_at is not None and breach.read_at is not None
    theirs = AlertDelivery.objects.get(user=colleague, alert=breach.alert, channel=AlertChannel.IN_APP)
    assert theirs.acknowledged_by == user and theirs.read_at is None  # acknowledged for the team, still unread
    # Other parties acknowledge for themselves.
    agent_entry = AlertDelivery.objects.get(user=harbor.users["agent"], alert=breach.alert, channel=AlertChannel.IN_APP)
    assert agent_entry.acknowledged_at is None

    client.force_login(colleague)
    html = client.get(reverse("alerts:inbox")).content.decode()
    assert "By Harbor on" in html  # the first name of harbor.lender


def test_opening_an_alert_marks_it_read_and_links_to_the_agreement(client, harbor):
    user = harbor.users["lender"]
    client.force_login(user)
    breach = entry(user)
    page = client.get(reverse("alerts:detail", args=[breach.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{reverse("covenants:agreement_detail", args=[harbor.agreement.pk])}"' in html
    assert "$900,000" in html and "$1,000,000" in html and "($100,000)" in html
    assert "Record a waiver" not in html  # a Lender does not record waivers
    breach.refresh_from_db()
    assert breach.read_at is not None


def test_the_agent_is_offered_the_waiver_form_from_a_breach(client, harbor):
    agent = harbor.users["agent"]
    client.force_login(agent)
    html = client.get(reverse("alerts:detail", args=[entry(agent).pk])).content.decode()
    covenant = minimum_revenues(harbor)
    assert f"{reverse('alerts:waiver_new')}?covenant={covenant.pk}&amp;test_date=2019-09-30" in html


def test_the_unread_count_counts_only_what_the_inbox_lists(harbor):
    """A user who no longer sees an agreement neither reads its alerts nor counts them unread."""
    from alerts.inbox import inbox_for, unread_count

    user = harbor.users["lender"]
    assert unread_count(user) == inbox_for(user, unread_only=True).count() > 0
    user.memberships.all().delete()
    fresh = type(user).objects.get(pk=user.pk)  # a new request's user
    assert list(inbox_for(fresh)) == []
    assert unread_count(fresh) == 0


def test_the_unread_count_for_the_header_takes_one_query_and_none_when_unused(harbor, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = harbor.users["lender"]
    context = unread_alerts(request)
    with django_assert_num_queries(0):
        Template("nothing").render(Context(context))
    with django_assert_num_queries(1):
        assert Template("{{ unread_alert_count }}").render(Context(context)) == "2"
    # Registered for every page.
    assert Template("{{ unread_alert_count }}").render(RequestContext(request)) == "2"


# --- Preferences ------------------------------------------------------------------------


def test_preferences_default_to_inbox_and_email_and_are_saved_per_kind(client, harbor):
    user = harbor.users["lender"]
    client.force_login(user)
    form = client.get(reverse("alerts:preferences")).context["form"]
    assert form["breach"].initial == ["in_app", "email"]
    data = {kind: ["in_app", "email"] for kind in AlertKind.values}
    data["cure"] = ["in_app"]
    data["financials_late"] = []
    response = client.post(reverse("alerts:preferences"), data)
    assert response.status_code == 302
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channels"))
    assert stored["cure"] == ["in_app"] and stored["financials_late"] == []
    assert stored["breach"] == ["in_app", "email"]
    # The next cure reaches this user's inbox only, and the others' by e-mail too.
    revenues(harbor, Q3_2019, 2_000_000)
    cure = Alert.objects.get(kind=AlertKind.CURE)
    assert set(cure.deliveries.filter(user=user).values_list("channel", flat=True)) == {"in_app"}
    assert set(cure.deliveries.filter(user=harbor.users["agent"]).values_list("channel", flat=True)) == {
        "in_app",
        "email",
    }


def test_a_channel_that_does_not_exist_is_refused(client, harbor):
    client.force_login(harbor.users["lender"])
    response = client.post(reverse("alerts:preferences"), {"breach": ["carrier_pigeon"]})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()


# --- Webhook subscriptions -------------------------------------------------------------


def test_a_partys_user_adds_pauses_resumes_and_deletes_its_webhook(client, harbor):
    user = harbor.users["lender"]
    client.force_login(user)
    response = client.post(
        reverse("alerts:webhook_add"),
        {"party": harbor.lender.pk, "url": "https://hooks.harbor-life.example/portal", "kinds": ["breach", "cure"]},
    )
    assert response.status_code == 200, response.content.decode()
    subscription = WebhookSubscription.objects.get()
    assert subscription.party == harbor.lender and subscription.kinds == ["breach", "cure"]
    assert len(subscription.secret) == 64 and subscription.created_by == user
    # The secret is shown once, on the answer to the POST that made it, and never cached.
    assert subscription.secret in response.content.decode() and response["Cache-Control"] == "no-store"
    listing = client.get(reverse("alerts:webhooks")).content.decode()
    assert "https://hooks.harbor-life.example/portal" in listing and subscription.secret not in listing

    client.post(reverse("alerts:webhook_pause", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.paused_at is not None
    client.post(reverse("alerts:webhook_resume", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.paused_at is None
    client.post(reverse("alerts:webhook_delete", args=[subscription.pk]))
    assert not WebhookSubscription.objects.exists()


def test_a_lost_secret_is_replaced_and_shown_once(client, harbor):
    client.force_login(harbor.users["lender"])
    client.post(
        reverse("alerts:webhook_add"),
        {"party": harbor.lender.pk, "url": "https://hooks.harbor-life.example/portal", "kinds": ["breach"]},
    )
    subscription = WebhookSubscription.objects.get()
    old = subscription.secret
    response = client.post(reverse("alerts:webhook_rotate_secret", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.secret != old and len(subscription.secret) == 64
    assert subscription.secret in response.content.decode() and old not in response.content.decode()
    assert subscription.secret not in client.get(reverse("alerts:webhooks")).content.decode()


def test_a_user_cannot_subscribe_or_see_another_partys_webhooks(client, harbor):
    theirs = WebhookSubscription.objects.create(
        party=harbor.lender, url="https://hooks.harbor-life.example/portal", secret="s" * 64, kinds=["breach"]
    )
    borrower = harbor.users["borrower"]
    client.force_login(borrower)
    assert theirs.url not in client.get(reverse("alerts:webhooks")).content.decode()
    response = client.post(
        reverse("alerts:webhook_add"),
        {"party": harbor.lender.pk, "url": "https://evil.example/hook", "kinds": ["breach"]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    for action in ("webhook_pause", "webhook_delete"):
        assert client.post(reverse(f"alerts:{action}", args=[theirs.pk])).status_code == 404
    assert WebhookSubscription.objects.get() == theirs and theirs.paused_at is None

    client.force_login(outsider())
    assert client.get(reverse("alerts:webhook_add")).status_code == 403


def test_an_agent_does_not_manage_the_webhooks_of_its_agreements_other_parties(client, harbor):
    """A Lender of this deal is a party to other deals too: its integration is its own."""
    theirs = WebhookSubscription.objects.create(
        party=harbor.lender, url="https://hooks.harbor-life.example/portal", secret="s" * 64, kinds=["breach"]
    )
    client.force_login(harbor.users["agent"])
    response = client.post(
        reverse("alerts:webhook_add"),
        {"party": harbor.lender.pk, "url": "https://hooks.evil.example/portal", "kinds": ["breach"]},
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    listing = client.get(reverse("alerts:webhooks")).content.decode()
    assert theirs.url not in listing and theirs.secret not in listing
    for action in ("webhook_pause", "webhook_delete", "webhook_rotate_secret", "webhook_replay"):
        assert client.post(reverse(f"alerts:{action}", args=[theirs.pk])).status_code == 404
    assert WebhookSubscription.objects.get() == theirs and theirs.paused_at is None
    # Its own party's webhooks it manages.
    response = client.post(
        reverse("alerts:webhook_add"),
        {"party": harbor.agent.pk, "url": "https://hooks.harbor-agent.example/portal", "kinds": ["breach"]},
    )
    assert response.status_code == 200 and WebhookSubscription.objects.filter(party=harbor.agent).exists()


def test_a_webhook_url_must_be_http_and_the_same_url_only_once(client, harbor):
    client.force_login(harbor.users["lender"])
    data = {"party": harbor.lender.pk, "url": "ftp://hooks.example/portal", "kinds": ["breach"]}
    assert "Enter a valid URL" in client.post(reverse("alerts:webhook_add"), data).content.decode()
    data["url"] = "https://hooks.example/portal"
    assert client.post(reverse("alerts:webhook_add"), data).status_code == 200
    assert WebhookSubscription.objects.filter(url="https://hooks.example/portal").exists()
    again = client.post(reverse("alerts:webhook_add"), data).content.decode()
    assert "Harbor Life Insurance Company already subscribes https://hooks.example/portal." in again
    data["kinds"] = []
    assert "Choose at least one kind of alert" in client.post(reverse("alerts:webhook_add"), data).content.decode()


# --- Waivers ----------------------------------------------------------------------------


def waiver_data(harbor, **overrides):
    data = {
        "covenant": minimum_revenues(harbor).pk,
        "test_date": "2019-09-30",
        "instrument": "Waiver and Amendment No. 3",
        "note": "Granted by the Requisite Lenders.",
    }
    data.update(overrides)
    return data


def test_the_agent_records_a_waiver_and_the_result_shows_waived(client, harbor, django_capture_on_commit_callbacks):
    agent = harbor.users["agent"]
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("alerts:waiver_new"), waiver_data(harbor))
    assert response.status_code == 302
    waiver = Waiver.objects.get()
    assert (waiver.test_date.isoformat(), waiver.instrument, waiver.recorded_by) == (
        "2019-09-30",
        "Waiver and Amendment No. 3",
        agent,
    )
    result = CovenantTestResult.objects.get(covenant=waiver.covenant, test_date=Q3_2019, is_current=True)
    assert result.status == ResultStatus.WAIVED
    breach = Alert.objects.get(kind=AlertKind.BREACH)
    assert breach.stopped_reason == "Waived by Waiver and Amendment No. 3."
    assert "Waived by Waiver and Amendment No. 3." in client.get(reverse("alerts:inbox")).content.decode()


def test_only_agents_and_administrators_record_waivers(client, harbor):
    for role in ("lender", "borrower"):
        client.force_login(harbor.users[role])
        assert client.get(reverse("alerts:waiver_new")).status_code == 403
        assert client.post(reverse("alerts:waiver_new"), waiver_data(harbor)).status_code == 403
    assert not Waiver.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"test_date": "2019-09-15"}, "2019-09-15 is not the last day of a fiscal quarter of Harbor Credit Agreement."),
        ({"instrument": ""}, "This field is required."),
    ],
)
def test_a_waiver_form_with_bad_input_says_what_is_wrong(client, harbor, overrides, message):
    client.force_login(harbor.users["agent"])
    response = client.post(reverse("alerts:waiver_new"), waiver_data(harbor, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Waiver.objects.exists()


def test_a_second_waiver_of_the_same_test_is_refused(client, harbor):
    client.force_login(harbor.users["agent"])
    assert client.post(reverse("alerts:waiver_new"), waiver_data(harbor)).status_code == 302
    response = client.post(reverse("alerts:waiver_new"), waiver_data(harbor, instrument="Another waiver"))
    assert "6.1 on 2019-09-30 is already waived." in response.content.decode()
    assert Waiver.objects.count() == 1


def test_the_agent_of_another_agreement_cannot_waive_harbors_covenant(client, harbor):
    cove = second_facility("Cove")
    client.force_login(cove.users["agent"])
    response = client.post(reverse("alerts:waiver_new"), waiver_data(harbor))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Waiver.objects.exists()


def test_every_kind_of_alert_has_its_colour():
    """The inbox labels each alert with ``status alert-<kind>``: each kind needs its rule."""
    css = (Path(settings.BASE_DIR) / "static" / "css" / "portal.css").read_text()
    for kind in AlertKind.values:
        assert re.search(rf"\.alert-{kind}\b[^{{]*\{{[^}}]*color:", css), kind
