"""
The dashboard counts from each agreement's stored standing (compliance.standings): its figures
are those the rules give live, for the seed and a portfolio of several agreements, after every
kind of change (figures filed or restated, a waiver, an amendment, a new day), whether the
standing has been written again yet or not (then the agreement is counted live).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance import services
from compliance.choices import ResultStatus
from compliance.models import AgreementStanding, CovenantTestResult
from compliance.standings import standings_refresh
from covenants.models import Agreement, Waiver
from portal.pages import selectors as page_selectors
from statements import services as statement_services
from tests.covenants.helpers import csv_bytes

from .test_dashboard_and_agreement_pages import DASHBOARD_QUERIES, more_agreements_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of two rows, so that a handful of agreements spans several of each table."""
    monkeypatch.setattr(page_selectors.portfolio, "PAGE_SIZE", 2)


def figures(user, today: dt.date) -> dict:
    """Everything the dashboard shows, over every page of each table, and some filters and sorts."""
    board = page_selectors.portfolio_dashboard(user, today=today)
    shown: dict = {
        "counts": board.counts,
        "late": board.late_count,
        "late certificates": board.late_certificates,
        "late items": [],
        "agreements": [],
    }
    for number in range(1, board.late_page.pages + 1):
        shown["late items"] += page_selectors.portfolio_dashboard(user, today=today, late_page=number).late
    for number in range(1, board.summaries_page.pages + 1):
        page = page_selectors.portfolio_dashboard(user, today=today, agreements_page=number)
        shown["agreements"] += [
            (s.agreement.pk, s.counts, s.covenants, s.late_count, s.late_certificates) for s in page.summaries
        ]
    for query in ({}, {"status": ResultStatus.COMPLIANT}, {"status": ResultStatus.BREACH}, {"sort": "headroom"}):
        first = page_selectors.portfolio_dashboard(user, today=today, **query)
        rows = []
        for number in range(1, first.table.pages + 1):
            page = page_selectors.portfolio_dashboard(user, today=today, page=number, **query)
            rows += [(r.covenant.pk, r.view and r.view.result.pk, r.earlier_breach) for r in page.rows]
        shown[f"table {query}"] = (first.table.total, rows)
    return shown


def stored(user, today: dt.date) -> set[int]:
    """The agreements whose stored standing the dashboard reads today."""
    return {a.pk for a in page_selectors.portfolio_agreements(user) if a.standing_on(today) is not None}


def assert_stored_equals_live(user, today: dt.date, *, counted_live: set[int] = frozenset()) -> dict:
    """The dashboard from the standings says what it says with every agreement counted live;
    every agreement but ``counted_live`` is read from its standing."""
    every = {a.pk for a in page_selectors.portfolio_agreements(user)}
    assert stored(user, today) == every - set(counted_live)
    from_standings = figures(user, today)
    with transaction.atomic():
        point = transaction.savepoint()
        AgreementStanding.objects.all().delete()
        assert not stored(user, today)
        live = figures(user, today)
        transaction.savepoint_rollback(point)
    assert from_standings == live
    return live


def evaluate(agreement_id: int) -> None:
    services.agreement_evaluate(agreement_id=agreement_id)


def file(agreement: Agreement, borrower: str, quarter: str, revenues: str = "700,000") -> None:
    rows = [
        (borrower, quarter, item, amount)
        for item, amount in (("Revenues", revenues), ("EBITDA", "90,000"), ("Total Debt", "2,000,000"))
    ]
    outcome = statement_services.statement_file_submit(
        agreement=agreement, user=None, filename="f.csv", content=csv_bytes(rows)
    )
    assert outcome.ok, outcome


def test_the_seed_and_a_portfolio_read_from_their_standings_as_live(lender, small_pages):
    today = timezone.localdate()
    seed = assert_stored_equals_live(lender, today)
    assert seed["late"] > 0 and seed["counts"][ResultStatus.BREACH] > 0
    more_agreements_for(lender, 3)
    portfolio = assert_stored_equals_live(lender, today)
    assert len(portfolio["agreements"]) == 4 and portfolio["late"] > seed["late"]


def test_figures_filed_then_evaluated(lender, small_pages):
    today = timezone.localdate()
    more_agreements_for(lender, 2)
    before = assert_stored_equals_live(lender, today)
    late = before["late items"][0]
    agreement = Agreement.objects.get(pk=late.agreement_id)
    # Filed: the evaluation is outstanding, so the agreement is counted live until it has run.
    file(agreement, late.borrower, late.period_end.isoformat())
    filed = assert_stored_equals_live(lender, today, counted_live={agreement.pk})
    assert filed["late"] == before["late"] - 1
    evaluate(agreement.pk)
    assert assert_stored_equals_live(lender, today) == filed


def test_figures_restated_a_waiver_and_an_amendment(lender, loan, small_pages):
    today = timezone.localdate()
    more_agreements_for(lender, 2)
    extra = Agreement.objects.get(name="Extra0 Credit Agreement")
    borrower = extra.roles.filter(role="borrower").order_by("pk").first().party.legal_name
    # Restated into a breach.
    file(extra, borrower, "2020-06-30", revenues="1")
    assert_stored_equals_live(lender, today, counted_live={extra.pk})
    evaluate(extra.pk)
    restated = assert_stored_equals_live(lender, today)
    # A breach waived.
    breach = (
        CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True, status=ResultStatus.BREACH)
        .order_by("test_date")
        .first()
    )
    Waiver.objects.create(
        agreement=loan.agreement,
        covenant=breach.covenant,
        test_date=breach.test_date,
        instrument="Waiver Letter",
        recorded_by=get_user_model().objects.create_user(username="agent", password="x" * 20),
    )
    assert_stored_equals_live(lender, today, counted_live={loan.agreement.pk})
    evaluate(loan.agreement.pk)
    waived = assert_stored_equals_live(lender, today)
    assert waived["counts"][ResultStatus.WAIVED] == restated["counts"][ResultStatus.WAIVED] + 1
    # An amendment saved again (any change of one asks for an evaluation, which writes the standing).
    amendment = loan.agreement.amendments.order_by("pk").first()
    amendment.title = f"{amendment.title} (as recorded)"
    amendment.save()
    assert_stored_equals_live(lender, today, counted_live={loan.agreement.pk})
    evaluate(loan.agreement.pk)
    assert_stored_equals_live(lender, today)


def test_a_new_day_is_counted_live_until_the_daily_refresh(lender, small_pages):
    more_agreements_for(lender, 2)
    later = timezone.localdate() + dt.timedelta(days=400)
    every = {a.pk for a in page_selectors.portfolio_agreements(lender)}
    live = assert_stored_equals_live(lender, later, counted_live=every)
    assert standings_refresh(as_of=later) == Agreement.objects.count()
    assert assert_stored_equals_live(lender, later) == live
    # A reporting deadline changed: the agreement's standing is not its own until written again.
    extra = Agreement.objects.get(name="Extra1 Credit Agreement")
    extra.reporting_deadline_days += 30
    extra.save()
    assert_stored_equals_live(lender, later, counted_live={extra.pk})


def test_agreements_counted_live_cost_three_queries_more_however_many(client, lender, django_assert_num_queries):
    """The table's counts and the late rule's two queries, for every such agreement at once."""
    client.force_login(lender)
    client.get(reverse("home"))  # the session's renewal after signing in, not counted
    AgreementStanding.objects.all().delete()
    with django_assert_num_queries(DASHBOARD_QUERIES + 3):
        one = client.get(reverse("home")).context["board"]
    more_agreements_for(lender, 3)
    AgreementStanding.objects.all().delete()
    with django_assert_num_queries(DASHBOARD_QUERIES + 3):
        four = client.get(reverse("home")).context["board"]
    assert len(one.summaries) == 1 and len(four.summaries) == 4
