"""The seed Loan Agreement evaluated end to end: figures around every threshold of its
three covenants, missing Borrowers, restatements, pending amendments, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from compliance.choices import ResultStatus
from compliance.models import ComplianceEvent, CovenantTestResult, EvaluatedInputs
from compliance.services import agreement_evaluate
from covenants.choices import AmendmentStatus
from statements.choices import StatementStatus
from statements.models import FinancialStatement
from statements.services import statement_file_submit
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan

pytestmark = pytest.mark.django_db

D = dt.date
AS_OF = D(2026, 11, 23)
REVENUE_MINIMUMS = {
    D(1999, 12, 31): 18_000_000,
    D(2000, 3, 31): 23_821_000,
    D(2000, 6, 30): 31_338_000,
    D(2000, 9, 30): 37_803_000,
    D(2000, 12, 31): 44_482_000,
    D(2001, 3, 31): 54_678_000,
}
EBITDA_LOSS_CAPS = {  # two-quarter EBITDA must be at least the negative of the printed cap
    D(1999, 12, 31): -50_400_000,
    D(2000, 3, 31): -38_700_000,
    D(2000, 6, 30): -25_001_000,
    D(2000, 9, 30): -13_823_000,
    D(2000, 12, 31): -4_157_000,
}
MIN_EBITDA = {D(2001, 3, 31): 1_688_000}
# Quarterly combined EBITDA chosen so that every two-quarter sum equals its threshold exactly.
EXACT_EBITDA = {
    D(1999, 9, 30): -25_200_000,
    D(1999, 12, 31): -25_200_000,
    D(2000, 3, 31): -13_500_000,
    D(2000, 6, 30): -11_501_000,
    D(2000, 9, 30): -2_322_000,
    D(2000, 12, 31): -1_835_000,
    D(2001, 3, 31): 3_523_000,
}
EXACT_REVENUES = {D(1999, 9, 30): 15_000_000, **REVENUE_MINIMUMS}


def submit(loan, rows, user=None):
    outcome = statement_file_submit(
        agreement=loan.agreement, user=user, filename="figures.csv", content=csv_bytes(rows), source="command"
    )
    assert outcome.ok, [str(e) for e in outcome.errors]
    return outcome


def exact_rows(loan, revenues=None, ebitda=None, skip_for=None):
    revenues = {**EXACT_REVENUES, **(revenues or {})}
    ebitda = {**EXACT_EBITDA, **(ebitda or {})}
    rows = []
    for quarter in sorted(ebitda):
        skip = skip_for.get(quarter, ()) if skip_for else ()
        rows += combined_rows(loan, quarter, revenues=revenues[quarter], ebitda=ebitda[quarter], skip=skip)
    return rows


def current(loan, section, test_date):
    return CovenantTestResult.objects.get(
        covenant=loan.covenants[section], test_date=test_date, is_current=True, borrower__isnull=True
    )


@pytest.fixture
def loan():
    return seed_loan()


def test_equality_passes_at_every_threshold(loan):
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    for section, schedule in (
        ("7.01(b)", REVENUE_MINIMUMS),
        ("7.01(c)(i)", EBITDA_LOSS_CAPS),
        ("7.01(c)(ii)", MIN_EBITDA),
    ):
        for test_date, threshold in schedule.items():
            result = current(loan, section, test_date)
            assert result.status == ResultStatus.COMPLIANT, (section, test_date, result.explanation)
            assert result.value == threshold
            assert result.threshold == threshold
            assert result.headroom == 0


@pytest.mark.parametrize("test_date", sorted(REVENUE_MINIMUMS))
def test_one_dollar_under_a_revenue_minimum_breaches(loan, test_date):
    submit(loan, exact_rows(loan, revenues={test_date: REVENUE_MINIMUMS[test_date] - 1}))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    result = current(loan, "7.01(b)", test_date)
    assert result.status == ResultStatus.BREACH
    assert result.value == REVENUE_MINIMUMS[test_date] - 1
    assert result.headroom == -1
    others = [d for d in REVENUE_MINIMUMS if d != test_date]
    assert all(current(loan, "7.01(b)", d).status == ResultStatus.COMPLIANT for d in others)


@pytest.mark.parametrize("test_date", sorted(EBITDA_LOSS_CAPS))
def test_one_dollar_more_ebitda_loss_than_a_cap_breaches(loan, test_date):
    # Lowering the test quarter's EBITDA by a dollar pushes the two-quarter loss past the cap.
    submit(loan, exact_rows(loan, ebitda={test_date: EXACT_EBITDA[test_date] - 1}))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    result = current(loan, "7.01(c)(i)", test_date)
    assert result.status == ResultStatus.BREACH
    assert result.value == EBITDA_LOSS_CAPS[test_date] - 1
    assert result.threshold == EBITDA_LOSS_CAPS[test_date]


def test_one_dollar_under_the_minimum_ebitda_breaches(loan):
    submit(loan, exact_rows(loan, ebitda={D(2001, 3, 31): EXACT_EBITDA[D(2001, 3, 31)] - 1}))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    result = current(loan, "7.01(c)(ii)", D(2001, 3, 31))
    assert result.status == ResultStatus.BREACH
    assert result.value == 1_687_999


def test_a_missing_leasing_ii_statement_makes_the_combined_test_incomplete(loan):
    quarter = D(2000, 3, 31)
    submit(loan, exact_rows(loan, skip_for={quarter: ("Leasing II",)}))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    leasing_ii = loan.borrowers["Leasing II"].legal_name
    for section in ("7.01(b)", "7.01(c)(i)"):
        result = current(loan, section, quarter)
        assert result.status == ResultStatus.INCOMPLETE
        assert result.value is None
        assert leasing_ii in result.explanation
        missing = result.inputs["missing"]
        assert {m["name"] for m in missing} == {leasing_ii}
        assert {m["period_end"] for m in missing} == {"2000-03-31"}
    # The next quarter's two-quarter EBITDA test needs 2000-03-31 too.
    assert current(loan, "7.01(c)(i)", D(2000, 6, 30)).status == ResultStatus.INCOMPLETE
    assert current(loan, "7.01(b)", D(2000, 6, 30)).status == ResultStatus.COMPLIANT


def test_a_quarter_outside_every_schedule_is_not_tested(loan):
    rows = exact_rows(loan) + combined_rows(loan, D(2001, 6, 30), revenues=60_000_000, ebitda=5_000_000)
    submit(loan, rows)
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    for section in ("7.01(b)", "7.01(c)(i)", "7.01(c)(ii)"):
        result = current(loan, section, D(2001, 6, 30))
        assert result.status == ResultStatus.NOT_TESTED
        assert result.threshold is None


def test_a_restatement_flips_a_breach_to_compliant_and_both_results_remain(loan):
    quarter = D(2000, 6, 30)
    submit(loan, exact_rows(loan, revenues={quarter: REVENUE_MINIMUMS[quarter] - 1}))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    breach = current(loan, "7.01(b)", quarter)
    assert breach.status == ResultStatus.BREACH

    # KMC restates its revenues one dollar up; the other Borrowers send the same figures again.
    rows = combined_rows(loan, quarter, revenues=REVENUE_MINIMUMS[quarter] - 1, ebitda=EXACT_EBITDA[quarter])
    entity, period_end, item, amount = rows[0]
    assert item == "Revenues"
    rows[0] = (entity, period_end, item, str(Decimal(amount.replace(",", "")) + 1))
    outcome = submit(loan, rows)
    # Only the Borrower whose figure changed is restated; the others are unchanged.
    assert [s.version for s in outcome.statements] == [2]
    assert len(outcome.unchanged) == 4
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)

    cured = current(loan, "7.01(b)", quarter)
    assert cured.status == ResultStatus.COMPLIANT
    breach.refresh_from_db()
    assert breach.is_current is False and breach.status == ResultStatus.BREACH
    # Each result still names the statement versions it was computed from.
    restated = outcome.statements[0]
    old_version = restated.supersedes
    assert old_version.status == StatementStatus.SUPERSEDED
    assert {f["statement_id"] for f in breach.inputs["figures"]} >= {old_version.pk}
    assert restated.pk in {f["statement_id"] for f in cured.inputs["figures"]}
    assert old_version.pk not in {f["statement_id"] for f in cured.inputs["figures"]}
    event = ComplianceEvent.objects.get(
        covenant=loan.covenants["7.01(b)"], test_date=quarter, from_status=ResultStatus.BREACH
    )
    assert event.to_status == ResultStatus.COMPLIANT
    assert event.previous_result == breach and event.result == cured
    assert FinancialStatement.objects.filter(agreement=loan.agreement, period_end=quarter).count() == 6


def test_an_amendment_left_pending_marks_its_results_provisional(loan):
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    amendment = loan.agreement.amendments.get(number=4)
    assert amendment.status == AmendmentStatus.PENDING
    tested = CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).exclude(
        status=ResultStatus.NOT_TESTED
    )
    assert tested.count() == 12
    assert all(r.provisional for r in tested)

    amendment.status = AmendmentStatus.EFFECTIVE
    amendment.save()
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    tested = CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).exclude(
        status=ResultStatus.NOT_TESTED
    )
    assert tested.count() == 12
    assert not any(r.provisional for r in tested)


def test_re_evaluating_unchanged_figures_writes_nothing_new(loan):
    submit(loan, exact_rows(loan))
    first = agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    assert first.changed == first.results > 0
    again = agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    assert again.changed == 0 and again.events == []


@pytest.mark.parametrize("quarters", [1, 3, 7])
def test_evaluation_takes_a_fixed_number_of_queries(loan, django_assert_num_queries, quarters):
    """The same queries whatever the number of quarters of figures: savepoint, lock, agreements,
    covenants, terms, schedules, Borrowers, figures, waivers, current results, results,
    events, the alerts raised for them (a fixed five: covenants, their latest tests, alerts
    inserted with their ids returned, recipients, subscriptions), the compliance certificates the results may
    supersede (one: execution.certificates), the agreements' standings (five: the agreements
    locked, the table's counts, the covenants' terms, the late counts, the upsert:
    compliance.standings), request mark, release; and one more to
    retire replaced results. Before the lock, the digests of the inputs (one query on PostgreSQL,
    two elsewhere: compliance.input_digests); after the results, the new digest stored. On
    PostgreSQL results and events go in with COPY, their ids taken from the sequences first: one
    query more."""
    ids_taken = 1 if connection.vendor == "postgresql" else 0
    digests = (1 if connection.vendor == "postgresql" else 2) + 1
    chosen = sorted(EXACT_EBITDA)[-quarters:]
    rows = [r for r in exact_rows(loan) if dt.date.fromisoformat(r[1]) in chosen]
    submit(loan, rows)
    with django_assert_num_queries(25 + ids_taken + digests):
        agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    last = chosen[-1]
    submit(loan, combined_rows(loan, last, revenues=1, ebitda=EXACT_EBITDA[last]))
    with django_assert_num_queries(26 + ids_taken + digests):
        agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)


def test_results_written_in_bulk_explain_their_inputs(loan):
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    result = current(loan, "7.01(c)(i)", D(2000, 3, 31))
    assert result.inputs["window"] == ["1999-12-31", "2000-03-31"]
    figures = result.inputs["figures"]
    assert {f["period_end"] for f in figures} == {"1999-12-31", "2000-03-31"}
    assert {f["line_item"] for f in figures} == {"ebitda"}
    assert len(figures) == 10  # five Borrowers x two quarters
    assert sum(Decimal(f["amount"]) for f in figures) == EBITDA_LOSS_CAPS[D(2000, 3, 31)]


def test_a_re_evaluation_where_nothing_changed_reads_and_writes_no_more_than_it_must(loan, django_assert_num_queries):
    """Evaluated although its inputs are unchanged (``skip_unchanged=False``; skipping them is
    tests/compliance/test_skip_unchanged.py's): savepoint, the digests (one query on PostgreSQL,
    two elsewhere), lock, agreements, covenants, terms, schedules, Borrowers, figures, waivers,
    current results (their fingerprints), certificates (one), the agreement's standing as of
    the day (five: compliance.standings), release: no result, event, alert or digest written,
    and no request mark cleared, none being set."""
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    digests = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(17 + digests):
        again = agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF, skip_unchanged=False)
    assert again.changed == 0 and again.events == []


def test_every_result_is_stored_with_the_fingerprint_of_what_was_computed(loan):
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    stored = CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True)
    assert stored.count() > 0
    assert all(len(r.fingerprint) == 32 for r in stored)
    assert len({r.fingerprint for r in stored}) == stored.count()  # each test says something different


def test_a_result_stored_without_a_fingerprint_is_compared_field_by_field(loan):
    """Results stored before fingerprints: one that says the same is kept and given its
    fingerprint; one that differs is replaced, the old one kept as history."""
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    same = current(loan, "7.01(b)", D(2000, 3, 31))
    differing = current(loan, "7.01(b)", D(2000, 6, 30))
    fingerprint = same.fingerprint
    CovenantTestResult.objects.filter(pk__in=[same.pk, differing.pk]).update(fingerprint="")
    CovenantTestResult.objects.filter(pk=differing.pk).update(explanation="An explanation the engine never wrote.")
    EvaluatedInputs.objects.all().delete()  # results stored before fingerprints were before digests too

    again = agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)

    assert again.changed == 1 and again.events == []  # same status: a new result, no event
    same.refresh_from_db()
    assert same.is_current and same.fingerprint == fingerprint
    differing.refresh_from_db()
    assert not differing.is_current and differing.superseded_at is not None
    replacement = current(loan, "7.01(b)", D(2000, 6, 30))
    assert replacement.status == differing.status and replacement.explanation != differing.explanation
    assert agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF).changed == 0


def test_a_replaced_result_is_cited_by_its_event_with_the_status_it_had(loan):
    submit(loan, exact_rows(loan))
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    before = current(loan, "7.01(b)", D(2000, 3, 31))
    submit(loan, combined_rows(loan, D(2000, 3, 31), revenues=1, ebitda=EXACT_EBITDA[D(2000, 3, 31)]))
    summary = agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    event = next(e for e in summary.events if e.covenant_id == before.covenant_id and e.test_date == before.test_date)
    assert event.previous_result_id == before.pk
    assert (event.from_status, event.to_status) == (ResultStatus.COMPLIANT, ResultStatus.BREACH)
    stored = ComplianceEvent.objects.get(pk=event.pk)
    assert stored.previous_result.explanation == before.explanation  # the whole result, read back
