"""The syndicate API beyond the access matrix: a signatory votes only for its own Lender, the
tally answers by commitment, and the beat runs each consent task once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from syndicate.models import Vote

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_signatory_votes_for_its_own_lender_only_and_the_tally_weighs_commitments(syndicate):
    agent = as_user(syndicate.deal.users["agent"])
    opened = agent.post(
        reverse("api:consentrequest-list"),
        {"agreement": syndicate.agreement.pk, "document": syndicate.document.pk, "title": "Amendment No. 1",
         "vote_needed": "requisite", "deadline": (timezone.now() + dt.timedelta(days=3)).isoformat(),
         "record_date": "2000-01-10"},
        format="json",
    )  # fmt: skip
    assert opened.status_code == 201, opened.json()
    request_id = opened.json()["id"]
    signer = as_user(syndicate.signatories["life"])
    for_another = {"request": request_id, "lender": syndicate.lenders["mutual"].pk, "answer": "consent"}
    assert signer.post(reverse("api:vote-list"), for_another, format="json").status_code == 403
    own = {"request": request_id, "lender": syndicate.lenders["life"].pk, "answer": "consent"}
    assert signer.post(reverse("api:vote-list"), own, format="json").status_code == 201
    assert Vote.objects.count() == 1
    tally = agent.get(reverse("api:consentrequest-tally", args=[request_id])).json()
    assert (tally["held"], tally["aggregate"], tally["percent"], tally["outcome"]) == (
        "35000000.00", "100000000.00", "35.0000", "not_reached",
    )  # fmt: skip
    assert [line["name"] for line in tally["not_answered"]] == ["Vale National Bank", "Vale Mutual Bank"]
    borrower = as_user(syndicate.deal.users["borrower"])
    assert borrower.get(reverse("api:consentrequest-tally", args=[request_id])).status_code == 403
    assert borrower.get(reverse("api:vote-list")).json()["results"] == []


def test_the_consent_tasks_are_scheduled_once():
    from portal.celery import app
    from syndicate.tasks import CLOSE_TASK, REMIND_TASK

    for task in (REMIND_TASK, CLOSE_TASK):
        assert [e for e in app.conf.beat_schedule.values() if e["task"] == task], task
        assert len([e for e in app.conf.beat_schedule.values() if e["task"] == task]) == 1
        assert task in app.tasks
