"""Alerts and webhooks through the API: each user reads and acknowledges only their own
inbox; a party's webhook subscriptions are managed only by those who may manage them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.choices import AlertChannel
from alerts.models import AlertDelivery, WebhookSubscription
from compliance.services import agreement_evaluate
from covenants.choices import Role
from statements.services import statement_file_submit

from ..covenants.helpers import combined_rows, csv_bytes, seed_loan
from ..factories import member, outsider, second_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    loan = seed_loan()
    cibc = loan.agreement.roles.get(role=Role.LENDER, party__legal_name="Canadian Imperial Bank of Commerce").party
    users = {
        "borrower": member("api.kmc", "borrower", *loan.borrowers.values()),
        "lender": member("api.cibc", "lender", cibc),
        "outsider": outsider("api.outsider"),
    }
    harbor = second_facility()
    users |= {f"harbor_{k}": v for k, v in harbor.users.items()}
    # A breach in each agreement, so both inboxes have alerts.
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=1, ebitda=-1)
    rows += combined_rows(loan, dt.date(1999, 9, 30), revenues=1, ebitda=-1)
    assert statement_file_submit(agreement=loan.agreement, user=None, filename="s.csv", content=csv_bytes(rows)).ok
    # Evaluated while the breaches are news (history long past is recorded, not alerted).
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=dt.date(2000, 3, 1))
    harbor_rows = [
        (b.legal_name, "2019-09-30", item, "1")
        for b in harbor.borrowers
        for item in ("Revenues", "EBITDA", "Total Debt")
    ]
    assert statement_file_submit(
        agreement=harbor.agreement, user=None, filename="h.csv", content=csv_bytes(harbor_rows)
    ).ok
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=dt.date(2019, 12, 1))
    return loan, cibc, harbor, users


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_each_user_lists_only_their_own_alerts(world):
    loan, _, harbor, users = world
    for name, user in users.items():
        listed = client_for(user).get(reverse("api:alert-list"), {"page_size": 500}).json()["results"]
        own = set(AlertDelivery.objects.filter(user=user, channel=AlertChannel.IN_APP).values_list("pk", flat=True))
        assert {row["id"] for row in listed} == own, name
        if name in ("borrower", "lender"):
            assert own and {row["agreement"] for row in listed} == {loan.agreement.pk}, name
        if name.startswith("harbor_"):
            assert {row["agreement"] for row in listed} <= {harbor.agreement.pk}, name
    assert client_for(users["outsider"]).get(reverse("api:alert-list")).json()["results"] == []


def test_another_users_alert_cannot_be_read_or_acknowledged(world):
    _, _, _, users = world
    theirs = AlertDelivery.objects.filter(user=users["lender"], channel=AlertChannel.IN_APP).first()
    for name in ("borrower", "outsider", "harbor_agent"):
        client = client_for(users[name])
        assert client.get(reverse("api:alert-detail", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("api:alert-acknowledge", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("api:alert-mark-read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.acknowledged_at is None and theirs.read_at is None


def test_a_user_reads_and_acknowledges_their_alert(world):
    _, _, _, users = world
    client = client_for(users["lender"])
    entry = AlertDelivery.objects.filter(user=users["lender"], channel=AlertChannel.IN_APP).first()
    detail = client.get(reverse("api:alert-detail", args=[entry.pk])).json()
    assert detail["kind"] == "breach" and detail["title"] and detail["link"].startswith("/")
    assert detail["read_at"] is None
    assert client.post(reverse("api:alert-mark-read", args=[entry.pk])).json()["read_at"]
    acknowledged = client.post(reverse("api:alert-acknowledge", args=[entry.pk])).json()
    assert acknowledged["acknowledged_by"] == users["lender"].username and acknowledged["acknowledged_at"]


def test_webhook_subscriptions_are_the_partys_own(world):
    _, cibc, harbor, users = world
    lender = client_for(users["lender"])
    response = lender.post(
        reverse("api:webhook-list"),
        {"party": cibc.pk, "url": "http://127.0.0.1:9/hook", "kinds": ["breach", "cure"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert len(created["secret"]) == 64
    hook = created["id"]
    assert "secret" not in lender.get(reverse("api:webhook-detail", args=[hook])).json()
    assert lender.post(reverse("api:webhook-pause", args=[hook])).json()["paused_at"]
    assert lender.post(reverse("api:webhook-resume", args=[hook])).json()["paused_at"] is None
    for name in ("borrower", "outsider", "harbor_agent", "harbor_lender"):
        client = client_for(users[name])
        assert hook not in {row["id"] for row in client.get(reverse("api:webhook-list")).json()["results"]}, name
        assert client.get(reverse("api:webhook-detail", args=[hook])).status_code == 404, name
        assert client.post(reverse("api:webhook-pause", args=[hook])).status_code == 404, name
        assert client.delete(reverse("api:webhook-detail", args=[hook])).status_code == 404, name
    # Nobody outside CIBC (or the Loan Agreement's Agents) may subscribe for CIBC.
    refused = client_for(users["harbor_agent"]).post(
        reverse("api:webhook-list"),
        {"party": cibc.pk, "url": "http://127.0.0.1:9/x", "kinds": ["breach"]},
        format="json",
    )
    assert refused.status_code == 400 and "party" in refused.json()
    assert WebhookSubscription.objects.count() == 1
    assert lender.delete(reverse("api:webhook-detail", args=[hook])).status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_a_bad_webhook_is_refused_with_the_field_named(world):
    _, cibc, _, users = world
    response = client_for(users["lender"]).post(
        reverse("api:webhook-list"), {"party": cibc.pk, "url": "not a url", "kinds": []}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert "url" in body and "kinds" in body
