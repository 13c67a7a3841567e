"""Skipping agreements whose inputs have not changed since their last evaluation: every kind
of input change is seen (the agreement is evaluated again and its results change where they
should), nothing is written when nothing changed, and the skip never hides a result: after
every step, an evaluation that skips nothing finds nothing to write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from alerts.models import Alert
from compliance.choices import ResultStatus
from compliance.input_digests import agreements_inputs_digests, latest_period_end
from compliance.models import ComplianceEvent, CovenantTestResult, EvaluatedInputs
from compliance.services import agreement_evaluate, agreements_evaluate
from covenants.choices import AmendmentStatus, Role
from covenants.models import Agreement, Amendment, CovenantTerms, ThresholdStep, Waiver
from tests.compliance.test_evaluation import (
    AS_OF,
    EXACT_EBITDA,
    EXACT_REVENUES,
    REVENUE_MINIMUMS,
    current,
    exact_rows,
    submit,
)
from tests.covenants.helpers import combined_rows, seed_loan

pytestmark = pytest.mark.django_db

D = dt.date
LAST = max(EXACT_EBITDA)  # the last quarter with figures
BREACHED = D(2000, 6, 30)  # revenues one dollar under the minimum, in the fixture


@pytest.fixture
def loan():
    """The seed Loan Agreement with figures for every quarter but the last, one of them a
    revenue breach, evaluated once."""
    loan = seed_loan()
    rows = [r for r in exact_rows(loan, revenues={BREACHED: REVENUE_MINIMUMS[BREACHED] - 1}) if r[1] != str(LAST)]
    submit(loan, rows)
    evaluate(loan)
    return loan


def evaluate(loan, *, as_of=AS_OF, skip_unchanged=True):
    return agreement_evaluate(agreement_id=loan.agreement.pk, as_of=as_of, skip_unchanged=skip_unchanged)


def written() -> tuple[int, int, int, int]:
    return (
        CovenantTestResult.objects.count(),
        ComplianceEvent.objects.count(),
        Alert.objects.count(),
        EvaluatedInputs.objects.count(),
    )


def assert_evaluated_and_nothing_hidden(loan, summary, *, as_of=AS_OF) -> None:
    """The change was seen (the agreement evaluated), and an evaluation skipping nothing finds
    the results stored to be exactly what the inputs give now."""
    assert summary.skipped == 0 and summary.results > 0
    before = written()
    forced = evaluate(loan, as_of=as_of, skip_unchanged=False)
    assert (forced.changed, forced.events) == (0, [])
    assert written() == before
    assert evaluate(loan, as_of=as_of).skipped == 1  # and now the digest is the new one


def test_an_unchanged_agreement_is_skipped_and_nothing_is_written(loan):
    Agreement.objects.filter(pk=loan.agreement.pk).update(evaluation_requested_at=None)
    before = written()
    again = evaluate(loan)
    assert (again.agreements, again.skipped, again.results, again.changed, again.events) == (1, 1, 0, 0, [])
    assert written() == before
    # Skipped, yet it is the same as evaluating: nothing to write either way.
    forced = evaluate(loan, skip_unchanged=False)
    assert (forced.skipped, forced.changed, forced.events) == (0, 0, [])
    assert forced.results > 0


def test_an_evaluation_where_nothing_changed_takes_a_fixed_number_of_queries(loan, django_assert_num_queries):
    """Savepoint, the digests (one query on PostgreSQL; elsewhere the rows, then the agreements
    with their stored digests), release. No lock and no write: the agreement is neither changed
    nor requested."""
    Agreement.objects.filter(pk=loan.agreement.pk).update(evaluation_requested_at=None)
    digests = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(2 + digests):
        evaluate(loan)


def test_a_requested_evaluation_found_unchanged_clears_the_request_and_writes_nothing_else(loan):
    Agreement.objects.filter(pk=loan.agreement.pk).update(evaluation_requested_at=timezone.now())
    before = written()
    assert evaluate(loan).skipped == 1
    assert written() == before
    assert Agreement.objects.get(pk=loan.agreement.pk).evaluation_requested_at is None


def test_new_figures_are_seen(loan):
    assert not CovenantTestResult.objects.filter(test_date=LAST, is_current=True).exclude(
        status=ResultStatus.INCOMPLETE
    )
    submit(loan, combined_rows(loan, LAST, revenues=EXACT_REVENUES[LAST], ebitda=EXACT_EBITDA[LAST]))
    summary = evaluate(loan)
    assert current(loan, "7.01(b)", LAST).status == ResultStatus.COMPLIANT
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_a_restatement_is_seen(loan):
    assert current(loan, "7.01(b)", BREACHED).status == ResultStatus.BREACH
    submit(loan, combined_rows(loan, BREACHED, revenues=REVENUE_MINIMUMS[BREACHED], ebitda=EXACT_EBITDA[BREACHED]))
    summary = evaluate(loan)
    assert current(loan, "7.01(b)", BREACHED).status == ResultStatus.COMPLIANT
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_a_change_of_terms_is_seen_even_when_made_without_a_request(loan):
    covenant = loan.covenants["7.01(c)(i)"]
    before = current(loan, "7.01(c)(i)", D(2000, 3, 31)).value
    # An update straight to the table: no signal, no request; the digest sees it all the same.
    CovenantTerms.objects.filter(covenant=covenant).update(window_periods=1)
    summary = evaluate(loan)
    assert current(loan, "7.01(c)(i)", D(2000, 3, 31)).value != before
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_a_change_of_schedule_is_seen(loan):
    test_date = D(2000, 3, 31)
    assert current(loan, "7.01(b)", test_date).status == ResultStatus.COMPLIANT
    ThresholdStep.objects.filter(terms__covenant=loan.covenants["7.01(b)"], test_date=test_date).update(
        threshold=REVENUE_MINIMUMS[test_date] + 1
    )
    summary = evaluate(loan)
    assert current(loan, "7.01(b)", test_date).status == ResultStatus.BREACH
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_a_waiver_is_seen(loan):
    user = get_user_model().objects.create_user(username="agent", password="x" * 20)
    Waiver.objects.create(
        agreement=loan.agreement,
        covenant=loan.covenants["7.01(b)"],
        test_date=BREACHED,
        instrument="Waiver Letter",
        recorded_by=user,
    )
    summary = evaluate(loan)
    assert current(loan, "7.01(b)", BREACHED).status == ResultStatus.WAIVED
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_a_change_of_roles_is_seen(loan):
    before = current(loan, "7.01(b)", D(2000, 3, 31))
    # One Borrower joins only after the quarter: the combined test no longer counts its figures.
    role = loan.agreement.roles.filter(role=Role.BORROWER).order_by("pk").first()
    type(role).objects.filter(pk=role.pk).update(holds_from=D(2000, 4, 1))
    summary = evaluate(loan)
    assert current(loan, "7.01(b)", D(2000, 3, 31)).value < before.value
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_an_amendment_becoming_effective_is_seen(loan):
    amendment = loan.agreement.amendments.get(number=4)
    assert amendment.status == AmendmentStatus.PENDING
    provisional = CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True, provisional=True)
    assert provisional.exists()
    Amendment.objects.filter(pk=amendment.pk).update(status=AmendmentStatus.EFFECTIVE)
    summary = evaluate(loan)
    assert not provisional.exists()
    assert_evaluated_and_nothing_hidden(loan, summary)


def test_the_passing_of_a_period_end_is_seen_and_days_between_period_ends_are_not(loan):
    """Tests fall due on period ends: a later evaluation date within the same month changes no
    result and is skipped; one past the next scheduled test date tests it (no figures yet:
    incomplete)."""
    quarter_end = D(2026, 12, 31)
    terms = CovenantTerms.objects.filter(covenant=loan.covenants["7.01(b)"]).order_by("effective_from", "pk").last()
    ThresholdStep.objects.create(
        terms=terms, test_date=quarter_end, threshold=60_000_000, amount_as_printed="$60,000,000"
    )
    evaluate(loan)  # the schedule changed: evaluated, and the new date is not due yet
    assert not CovenantTestResult.objects.filter(test_date=quarter_end).exists()
    assert latest_period_end("{}", 12, AS_OF) == latest_period_end("{}", 12, D(2026, 11, 29)) == "2026-10-31"
    assert latest_period_end("{}", 12, D(2026, 11, 30)) == "2026-11-30"
    assert evaluate(loan, as_of=D(2026, 11, 29)).skipped == 1
    later = D(2027, 1, 15)
    summary = evaluate(loan, as_of=later)
    assert current(loan, "7.01(b)", quarter_end).status == ResultStatus.INCOMPLETE
    assert_evaluated_and_nothing_hidden(loan, summary, as_of=later)


def test_a_change_to_one_agreement_evaluates_that_agreement_alone(loan):
    other = Agreement.objects.exclude(pk=loan.agreement.pk).order_by("pk").first()
    ids = [loan.agreement.pk, other.pk]
    agreements_evaluate(agreement_ids=ids, as_of=AS_OF)
    assert agreements_evaluate(agreement_ids=ids, as_of=AS_OF).skipped == 2
    digests = agreements_inputs_digests(ids, as_of=AS_OF)
    submit(loan, combined_rows(loan, LAST, revenues=EXACT_REVENUES[LAST], ebitda=EXACT_EBITDA[LAST]))
    after = agreements_inputs_digests(ids, as_of=AS_OF)
    assert after[other.pk] == digests[other.pk] and after[other.pk].unchanged
    assert after[loan.agreement.pk].digest != digests[loan.agreement.pk].digest
    summary = agreements_evaluate(agreement_ids=ids, as_of=AS_OF)
    assert (summary.agreements, summary.skipped) == (2, 1)


def test_a_first_evaluation_is_never_skipped():
    loan = seed_loan()
    submit(loan, exact_rows(loan))
    assert not EvaluatedInputs.objects.exists()
    summary = evaluate(loan)
    assert summary.skipped == 0 and summary.changed == summary.results > 0
    assert EvaluatedInputs.objects.get(agreement=loan.agreement).as_of == AS_OF


def state(loan) -> tuple[set, set]:
    """The seed agreement's current results and its alerts, as a user would read them."""
    results = set(
        CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).values_list(
            "covenant_id", "test_date", "borrower_id", "status", "value", "provisional", "fingerprint"
        )
    )
    alerts = set(Alert.objects.filter(agreement=loan.agreement).values_list("key", "kind", "transition", "message"))
    return results, alerts


def test_the_seed_agreements_results_and_alerts_are_the_same_with_and_without_the_skip():
    """Through a history of uploads, a restatement, an amendment becoming effective and the
    calendar moving on, evaluated as the portal does (skipping when unchanged, and evaluating
    twice where nothing changed in between); after every step, an evaluation that skips nothing
    changes no result and raises no alert."""
    loan = seed_loan()
    steps = [
        lambda: submit(loan, [r for r in exact_rows(loan) if r[1] < "2000-06-30"]),
        lambda: None,  # nothing changed
        lambda: submit(loan, [r for r in exact_rows(loan) if r[1] >= "2000-06-30"]),
        lambda: submit(loan, combined_rows(loan, BREACHED, revenues=1, ebitda=EXACT_EBITDA[BREACHED])),
        lambda: Amendment.objects.filter(agreement=loan.agreement, number=4).update(status=AmendmentStatus.EFFECTIVE),
    ]
    skipped = []
    for step in steps:
        step()
        skipped.append(evaluate(loan).skipped)
        with_skip = state(loan)
        forced = evaluate(loan, skip_unchanged=False)
        assert (forced.changed, forced.events) == (0, [])
        assert state(loan) == with_skip
    later = D(2027, 1, 15)
    assert evaluate(loan, as_of=later).skipped == 0
    with_skip = state(loan)
    assert evaluate(loan, as_of=later, skip_unchanged=False).changed == 0
    assert state(loan) == with_skip
    assert skipped == [0, 1, 0, 0, 0]
    assert with_skip[1], "the history raised alerts"
