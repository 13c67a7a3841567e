"""Requests for evaluation: each agreement is queued once per transaction, however often one
transaction asks for it; a rolled-back request queues nothing, and the next transaction's
request queues again. An evaluation with nothing left to do is a DEBUG line, not an INFO one."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import transaction

from compliance import tasks
from covenants import evaluation_requests
from covenants.choices import AgreementKind
from covenants.evaluation_requests import agreement_evaluation_request
from covenants.models import Agreement


class RolledBack(Exception):
    pass


def make_agreement(name: str) -> Agreement:
    return Agreement.objects.create(
        kind=AgreementKind.CREDIT_AGREEMENT, title="Credit Agreement", name=name, dated_as_of=dt.date(2019, 6, 28)
    )


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The agreements whose evaluation tasks are sent, one entry per task."""
    sent: list[int] = []
    monkeypatch.setattr(evaluation_requests, "queue_evaluations", lambda ids: sent.extend(ids))
    return sent


@pytest.fixture
def agreements(db) -> tuple[Agreement, Agreement]:
    return make_agreement("Harbor Credit Agreement"), make_agreement("Gamma Credit Agreement")


@pytest.mark.django_db
def test_one_transaction_asking_five_times_for_one_agreement_queues_one_task(
    agreements, queued, django_capture_on_commit_callbacks
):
    harbor, _ = agreements
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(5):
            agreement_evaluation_request(agreement_ids=[harbor.pk])
    assert queued == [harbor.pk]


@pytest.mark.django_db
def test_two_agreements_asked_for_in_turn_queue_two_tasks(agreements, queued, django_capture_on_commit_callbacks):
    harbor, gamma = agreements
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(3):
            agreement_evaluation_request(agreement_ids=[harbor.pk])
            agreement_evaluation_request(agreement_ids=[gamma.pk, harbor.pk])
    assert sorted(queued) == sorted([harbor.pk, gamma.pk])


@pytest.mark.django_db
def test_a_rolled_back_request_queues_nothing_and_the_next_committed_one_queues(
    agreements, queued, django_capture_on_commit_callbacks
):
    harbor, _ = agreements
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RolledBack), transaction.atomic():
            agreement_evaluation_request(agreement_ids=[harbor.pk])
            raise RolledBack
        assert queued == []
        with transaction.atomic():
            agreement_evaluation_request(agreement_ids=[harbor.pk])
            agreement_evaluation_request(agreement_ids=[harbor.pk])
    assert queued == [harbor.pk]


@pytest.mark.django_db
def test_each_committed_transaction_queues_its_own_task(agreements, queued, django_capture_on_commit_callbacks):
    harbor, _ = agreements
    # A request whose hook never runs (a fixture's, before the test captures any) neither
    # swallows the next requests nor is queued by them.
    agreement_evaluation_request(agreement_ids=[harbor.pk])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            agreement_evaluation_request(agreement_ids=[harbor.pk])
            agreement_evaluation_request(agreement_ids=[harbor.pk])
    assert queued == [harbor.pk, harbor.pk]


@pytest.mark.django_db(transaction=True)
def test_real_commits_and_rollbacks(queued):
    harbor, gamma = make_agreement("Harbor Credit Agreement"), make_agreement("Gamma Credit Agreement")
    with transaction.atomic():
        for _ in range(5):
            agreement_evaluation_request(agreement_ids=[harbor.pk])
        with transaction.atomic():  # a savepoint
            agreement_evaluation_request(agreement_ids=[gamma.pk])
        assert queued == []
    assert sorted(queued) == sorted([harbor.pk, gamma.pk])

    with pytest.raises(RolledBack), transaction.atomic():
        agreement_evaluation_request(agreement_ids=[harbor.pk])
        with pytest.raises(RolledBack), transaction.atomic():
            agreement_evaluation_request(agreement_ids=[gamma.pk])
            raise RolledBack
        raise RolledBack
    assert sorted(queued) == sorted([harbor.pk, gamma.pk])

    with transaction.atomic():
        agreement_evaluation_request(agreement_ids=[gamma.pk])
        with pytest.raises(RolledBack), transaction.atomic():
            agreement_evaluation_request(agreement_ids=[harbor.pk])
            raise RolledBack
    assert sorted(queued) == sorted([harbor.pk, gamma.pk, gamma.pk])


@pytest.mark.django_db
def test_an_evaluation_with_nothing_to_do_is_logged_at_debug(agreements, caplog):
    harbor, _ = agreements  # never asked for: nothing to do
    caplog.set_level(logging.INFO)
    result = tasks.evaluate_agreement.apply(args=[harbor.pk]).get()
    assert result == {"agreement": harbor.pk, "skipped": tasks.ALREADY_EVALUATED}
    assert not [record for record in caplog.records if tasks.ALREADY_EVALUATED in record.getMessage()]

    caplog.clear()
    caplog.set_level(logging.DEBUG)
    tasks.evaluate_agreement.apply(args=[harbor.pk]).get()
    lines = [record for record in caplog.records if record.name.startswith(("celery", "compliance"))]
    assert lines and {record.levelno for record in lines} == {logging.DEBUG}
