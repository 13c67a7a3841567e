"""
The portfolio dashboard of a Lender in many agreements: its tables a page at a time, with the
counts of the whole portfolio; the filter's select of every agreement; and late financials that
are those the covenants need and nobody sent, whatever way they are read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest
from django import forms
from django.urls import reverse

from covenants import engine, page_selectors, selectors
from covenants.choices import MetricKind, Role, StatementStatus
from covenants.models import Agreement, AgreementRole, FinancialStatement
from portal.views import ManyOptionsSelect

from .test_dashboard_and_agreement_pages import DASHBOARD_QUERIES, more_agreements_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of two rows, so that a handful of agreements spans several."""
    monkeypatch.setattr(page_selectors, "PAGE_SIZE", 2)


def table(client, **query) -> tuple[list[tuple], object]:
    response = client.get(reverse("home"), query)
    assert response.status_code == 200
    board = response.context["board"]
    return [(row.agreement.name, row.covenant.section, row.view and row.view.result.pk) for row in board.rows], board


def every_page(client, **query) -> list[tuple]:
    rows, board = table(client, **query)
    for number in range(2, board.table.pages + 1):
        rows += table(client, page=number, **query)[0]
    return rows


def test_the_covenants_table_is_paged_and_its_pages_make_the_whole_table(client, lender, small_pages):
    more_agreements_for(lender, 3)
    client.force_login(lender)
    first, board = table(client)
    assert len(first) == 2
    assert board.table.total == 3 + 3 * 2 and board.table.pages == 5
    # The cards count the whole portfolio, on every page.
    assert table(client, page=3)[1].breaches == board.breaches == 1
    whole = every_page(client)
    assert len(whole) == len(set(whole)) == 9
    assert [name for name, _, _ in whole] == sorted(name for name, _, _ in whole)
    # A page beyond the last is the last; a page that is not a number is the first.
    assert table(client, page=99)[0] == whole[-1:]
    assert table(client, page="x")[0] == first


def test_filters_and_sort_apply_to_the_whole_table_before_it_is_paged(client, lender, small_pages):
    more_agreements_for(lender, 3)
    client.force_login(lender)
    by_headroom = every_page(client, sort="headroom")
    assert sorted(by_headroom) == sorted(every_page(client))
    headrooms = [
        row.headroom_percent
        for number in range(1, 6)
        for row in client.get(reverse("home"), {"sort": "headroom", "page": number}).context["board"].rows
    ]
    known = [h for h in headrooms if h is not None]
    assert known == sorted(known) and headrooms[: len(known)] == known
    compliant, board = table(client, status="compliant")
    assert board.table.total == board.counts["compliant"]
    agreement = Agreement.objects.get(name="Extra1 Credit Agreement")
    assert {name for name, _, _ in every_page(client, agreement=agreement.pk)} == {agreement.name}


def test_the_page_links_keep_the_filters_and_the_other_tables_pages(client, lender, small_pages):
    more_agreements_for(lender, 3)
    client.force_login(lender)
    page = client.get(reverse("home"), {"sort": "headroom", "agreements_page": "2"}).content.decode()
    links = set(re.findall(r'href="(\?[^"]*)"', page))
    assert "?sort=headroom&amp;agreements_page=2&amp;page=2" in links
    assert "?sort=headroom&amp;agreements_page=2&amp;page=5" in links
    assert "?sort=headroom" in links  # the agreements' first page
    assert "Page 1 of 5" in page and "9 results; 1 to 2 below." in page


def test_the_agreements_are_listed_a_page_at_a_time_with_their_counts(client, lender, small_pages):
    more_agreements_for(lender, 3)
    client.force_login(lender)
    response = client.get(reverse("home"), {"agreements_page": 2})
    board = response.context["board"]
    assert board.summaries_page.total == 4 and board.summaries_page.number == 2
    assert [s.agreement.name for s in board.summaries] == [
        "Extra2 Credit Agreement",
        "KMC Telecom Loan and Security Agreement",
    ]
    kmc = board.summaries[1]
    assert kmc.covenants == 3 and kmc.counts["breach"] == 1 and kmc.counts["near_breach"] == 1
    assert len(kmc.late) == 1
    # The filter still lists every agreement.
    assert len(response.context["form"].fields["agreement"].choices) == 1 + 4


def test_the_query_count_is_the_same_on_every_page_and_with_filters(
    client, lender, small_pages, django_assert_num_queries
):
    more_agreements_for(lender, 3)
    client.force_login(lender)
    client.get(reverse("home"))  # the session's renewal after signing in, not counted
    for query in (
        {},
        {"page": 3},
        {"status": "compliant", "sort": "-headroom"},
        {"agreements_page": 2, "late_page": 2},
    ):
        with django_assert_num_queries(DASHBOARD_QUERIES):
            client.get(reverse("home"), query)


def test_the_agreement_select_writes_what_djangos_select_writes():
    choices = [("", "Every agreement"), (1, "A & B Credit Agreement"), (2, "<Harbor>")]
    fast = ManyOptionsSelect(attrs={"id": "id_agreement"}, choices=choices)
    standard = forms.Select(attrs={"id": "id_agreement"}, choices=choices)

    def normal(html: str) -> str:
        return re.sub(r">\s+<", "><", html.strip())

    for value in (None, "", 2, "2"):
        assert normal(fast.render("agreement", value)) == normal(standard.render("agreement", value))


# --- Late financials -------------------------------------------------------------------------------


def late_as_the_covenants_say(agreements: list[Agreement], today: dt.date) -> list[tuple]:
    """Every Borrower holding on a quarter that a covenant tested up to today needs, past its
    deadline, without a current statement: from the schedules and statements, one by one."""
    late = []
    for agreement in sorted(agreements, key=lambda a: a.name):
        fye = agreement.fiscal_year_end_month
        needed: set[dt.date] = set()
        for covenant in selectors.covenants_with_terms().filter(agreement=agreement):
            spec = selectors.covenant_spec(covenant)
            for day in engine.test_dates_for(spec, as_of=today, figure_dates=(), fiscal_year_end_month=fye):
                terms = engine.terms_in_force(spec.versions, day)
                if terms is None or engine.schedule_row_for(terms, day) is None:
                    continue
                needed.update(
                    engine.quarter_ends_in_window(
                        day, terms.window_quarters, kind=terms.window_kind, fiscal_year_end_month=fye
                    )
                )
                if terms.metric_kind == MetricKind.RATIO:
                    needed.update(
                        engine.quarter_ends_in_window(
                            day,
                            terms.denominator_window_quarters or terms.window_quarters,
                            kind=terms.denominator_window_kind or engine.TRAILING,
                            fiscal_year_end_month=fye,
                        )
                    )
        roles = AgreementRole.objects.filter(agreement=agreement, role=Role.BORROWER).order_by("party__legal_name")
        for quarter in sorted(needed):
            due = quarter + dt.timedelta(days=agreement.reporting_deadline_days)
            if due >= today:
                continue
            for role in roles:
                filed = FinancialStatement.objects.filter(
                    agreement=agreement, borrower=role.party, period_end=quarter, status=StatementStatus.CURRENT
                ).exists()
                if role.holds_on(quarter) and not filed:
                    late.append((agreement.name, role.party.legal_name, quarter, due))
    return late


@pytest.mark.parametrize("today", [dt.date(2000, 8, 15), dt.date(2000, 12, 1), dt.date(2020, 11, 20)])
def test_late_financials_are_those_the_covenants_need_and_nobody_sent(lender, loan, today):
    more_agreements_for(lender, 2)
    harbor = Agreement.objects.get(name="Extra0 Credit Agreement")
    # A Borrower that stopped being one, and a statement missing from another.
    AgreementRole.objects.filter(
        agreement=harbor, role=Role.BORROWER, party__legal_name__startswith="Extra0 Parts"
    ).update(holds_to=dt.date(2020, 3, 31))
    FinancialStatement.objects.filter(
        agreement__name="Extra1 Credit Agreement", period_end=dt.date(2020, 3, 31)
    ).filter(borrower__legal_name__startswith="Extra1 Widgets").delete()
    agreements = list(Agreement.objects.filter(roles__party__memberships__user=lender).distinct())
    expected = late_as_the_covenants_say(agreements, today)

    board = page_selectors.portfolio_dashboard(lender, today=today)
    assert [(i.agreement_name, i.borrower, i.period_end, i.due_on) for i in board.late] == expected
    by_agreement = defaultdict(list)
    for name, *rest in expected:
        by_agreement[name].append((name, *rest))
    for agreement in agreements:
        page = page_selectors.agreement_page(lender, agreement.pk, today=today)
        assert [(i.agreement_name, i.borrower, i.period_end, i.due_on) for i in page.late] == by_agreement[
            agreement.name
        ]
