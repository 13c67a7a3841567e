"""What queues a re-evaluation: figures, terms, amendment status, roles; and the sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance import tasks
from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from covenants.choices import AmendmentStatus
from covenants.models import Agreement
from statements.services import statement_file_submit
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan():
    return seed_loan()


def queued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(tasks.evaluate_agreement, "delay", lambda agreement_id: calls.append(agreement_id))
    return calls


def test_a_committed_statement_queues_one_evaluation_after_commit(
    loan, monkeypatch, django_capture_on_commit_callbacks
):
    calls = queued(monkeypatch)
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_000_000, ebitda=-1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        statement_file_submit(agreement=loan.agreement, user=None, filename="q.csv", content=csv_bytes(rows))
        assert calls == []  # never inside the transaction
    for callback in callbacks:
        callback()
    assert calls == [loan.agreement.pk]
    assert Agreement.objects.get(pk=loan.agreement.pk).evaluation_requested_at is not None


@pytest.mark.parametrize("change", ["threshold", "amendment_status", "role_dates"])
def test_changes_to_terms_amendments_and_roles_queue_an_evaluation(
    loan, monkeypatch, change, django_capture_on_commit_callbacks
):
    calls = queued(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "threshold":
            row = loan.covenants["7.01(b)"].terms.get().schedule.get(test_date=dt.date(2000, 3, 31))
            row.threshold = 23_000_000
            row.save()
        elif change == "amendment_status":
            amendment = loan.agreement.amendments.get(number=4)
            amendment.status = AmendmentStatus.EFFECTIVE
            amendment.save()
        else:
            role = loan.agreement.roles.get(defined_term="Leasing II")
            role.holds_to = dt.date(2000, 6, 30)
            role.save()
    assert calls == [loan.agreement.pk]


def test_a_changed_threshold_changes_the_result(loan, django_capture_on_commit_callbacks):
    rows = combined_rows(loan, dt.date(2000, 3, 31), revenues=23_500_000, ebitda=-1)
    rows += combined_rows(loan, dt.date(1999, 12, 31), revenues=18_000_000, ebitda=-1)
    with django_capture_on_commit_callbacks(execute=True):
        statement_file_submit(agreement=loan.agreement, user=None, filename="q.csv", content=csv_bytes(rows))
    covenant = loan.covenants["7.01(b)"]
    result = CovenantTestResult.objects.get(covenant=covenant, test_date=dt.date(2000, 3, 31), is_current=True)
    assert result.status == ResultStatus.BREACH
    with django_capture_on_commit_callbacks(execute=True):
        row = covenant.terms.get().schedule.get(test_date=dt.date(2000, 3, 31))
        row.threshold = 23_000_000
        row.save()
    result = CovenantTestResult.objects.get(covenant=covenant, test_date=dt.date(2000, 3, 31), is_current=True)
    assert result.status == ResultStatus.COMPLIANT


def test_the_sweep_queues_evaluations_the_broker_never_received(loan, monkeypatch):
    calls = queued(monkeypatch)
    stale = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    Agreement.objects.filter(pk=loan.agreement.pk).update(evaluation_requested_at=stale)
    assert tasks.sweep_evaluation_requests() == 1
    assert calls == [loan.agreement.pk]


def test_a_broker_that_is_down_does_not_fail_the_upload(loan, monkeypatch, django_capture_on_commit_callbacks):
    def refuse(agreement_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.evaluate_agreement, "delay", refuse)
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_000_000, ebitda=-1)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = statement_file_submit(agreement=loan.agreement, user=None, filename="q.csv", content=csv_bytes(rows))
    assert outcome.ok and len(outcome.statements) == 5
    # The request is remembered for the sweep.
    assert Agreement.objects.get(pk=loan.agreement.pk).evaluation_requested_at is not None


def test_the_nightly_task_evaluates_every_agreement(loan):
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_000_000, ebitda=-1)
    statement_file_submit(agreement=loan.agreement, user=None, filename="q.csv", content=csv_bytes(rows))
    count = tasks.reevaluate_all_agreements()
    assert count == Agreement.objects.count()
    assert CovenantTestResult.objects.filter(
        agreement=loan.agreement, test_date=dt.date(1999, 12, 31), covenant=loan.covenants["7.01(b)"], is_current=True
    ).exists()
