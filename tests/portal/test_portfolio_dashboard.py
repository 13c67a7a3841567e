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

from compliance.late_financials import late_financials
from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from portal.pages import selectors as page_selectors
from portal.views import ManyOptionsSelect
from statements.models import FinancialStatement

from .test_dashboard_and_agreement_pages import DASHBOARD_QUERIES, more_agreements_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of two rows, so that a handful of agreements spans several."""
    monkeypatch.setattr(page_selectors.portfolio, "PAGE_SIZE", 2)


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
    assert kmc.late_count == 1
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

KMC = "KMC Telecom Loan and Security Agreement"
EXTRA0 = "Extra0 Credit Agreement"
EXTRA1 = "Extra1 Credit Agreement"
Q3_2019, Q4_2019 = dt.date(2019, 9, 30), dt.date(2019, 12, 31)
Q1_2020, Q3_2020 = dt.date(2020, 3, 31), dt.date(2020, 9, 30)

# Worked out by hand from the agreements' terms (every agreement here reports within 45 days of
# a quarter's end, and closes its fiscal year in December):
# - The Loan Agreement's demo figures lack Leasing II's statement for the quarter ended June 30,
#   2000, which 7.01(b) tests; it fell due on August 14, 2000. Its schedules end in 2001, so no
#   later quarter is ever needed.
# - Each Extra facility (second_facility) tests minimum revenues every quarter from September 30,
#   2019 (one quarter each), and leverage from June 30, 2020 (debt over the four quarters' EBITDA
#   to that date): by November 20, 2020 they need the quarters of September 30, 2019 to September
#   30, 2020. Both Borrowers sent only March 31 and June 30, 2020; the test takes Extra0 Parts out
#   of its agreement after March 31, 2020, and Extra1 Widgets' March 31, 2020 statement away.
LATE = {
    dt.date(2000, 8, 15): [(KMC, "KMC Telecom Leasing II LLC", dt.date(2000, 6, 30), dt.date(2000, 8, 14))],
    dt.date(2000, 12, 1): [(KMC, "KMC Telecom Leasing II LLC", dt.date(2000, 6, 30), dt.date(2000, 8, 14))],
    dt.date(2020, 11, 20): [
        (EXTRA0, "Extra0 Parts LLC", Q3_2019, dt.date(2019, 11, 14)),
        (EXTRA0, "Extra0 Widgets Inc.", Q3_2019, dt.date(2019, 11, 14)),
        (EXTRA0, "Extra0 Parts LLC", Q4_2019, dt.date(2020, 2, 14)),
        (EXTRA0, "Extra0 Widgets Inc.", Q4_2019, dt.date(2020, 2, 14)),
        (EXTRA0, "Extra0 Widgets Inc.", Q3_2020, dt.date(2020, 11, 14)),
        (EXTRA1, "Extra1 Parts LLC", Q3_2019, dt.date(2019, 11, 14)),
        (EXTRA1, "Extra1 Widgets Inc.", Q3_2019, dt.date(2019, 11, 14)),
        (EXTRA1, "Extra1 Parts LLC", Q4_2019, dt.date(2020, 2, 14)),
        (EXTRA1, "Extra1 Widgets Inc.", Q4_2019, dt.date(2020, 2, 14)),
        (EXTRA1, "Extra1 Widgets Inc.", Q1_2020, dt.date(2020, 5, 15)),
        (EXTRA1, "Extra1 Parts LLC", Q3_2020, dt.date(2020, 11, 14)),
        (EXTRA1, "Extra1 Widgets Inc.", Q3_2020, dt.date(2020, 11, 14)),
        (KMC, "KMC Telecom Leasing II LLC", dt.date(2000, 6, 30), dt.date(2000, 8, 14)),
    ],
}


@pytest.mark.parametrize("today", sorted(LATE))
def test_late_financials_are_those_the_covenants_need_and_nobody_sent(lender, loan, today):
    more_agreements_for(lender, 2)
    harbor = Agreement.objects.get(name=EXTRA0)
    # A Borrower that stopped being one, and a statement missing from another.
    AgreementRole.objects.filter(
        agreement=harbor, role=Role.BORROWER, party__legal_name__startswith="Extra0 Parts"
    ).update(holds_to=dt.date(2020, 3, 31))
    FinancialStatement.objects.filter(agreement__name=EXTRA1, period_end=Q1_2020).filter(
        borrower__legal_name__startswith="Extra1 Widgets"
    ).delete()
    agreements = list(Agreement.objects.filter(roles__party__memberships__user=lender).distinct())
    expected = LATE[today]

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


def test_the_late_financials_are_counted_whole_and_their_pages_make_the_whole_list(lender, small_pages):
    """Counted and paged in the database: the card counts every late statement, each page shows
    its groups (agreement and quarter), and the pages together are every late statement the rule
    lists one by one; each agreement on the list is counted."""
    more_agreements_for(lender, 2)
    today = dt.date(2020, 11, 20)
    agreements = page_selectors.portfolio_agreements(lender)
    by_agreement = late_financials(agreements, as_of=today)
    every = [item for a in agreements for item in by_agreement.get(a.pk, [])]

    board = page_selectors.portfolio_dashboard(lender, today=today)
    # The Loan Agreement's one; each Extra facility's two Borrowers for three quarters.
    assert board.late_count == len(every) == 1 + 2 * 2 * 3
    assert board.late_page.total == 1 + 2 * 3 and board.late_page.pages == 4
    shown = []
    for number in range(1, board.late_page.pages + 1):
        page = page_selectors.portfolio_dashboard(lender, today=today, late_page=number)
        assert page.late_page.number == number and len(page.late_by_quarter) == (2 if number < 4 else 1)
        shown += page.late
    assert shown == every
    # Beyond the last page: the last.
    assert page_selectors.portfolio_dashboard(lender, today=today, late_page=99).late == page.late
    for listed in (1, 2):
        for summary in page_selectors.portfolio_dashboard(lender, today=today, agreements_page=listed).summaries:
            assert summary.late_count == len(by_agreement.get(summary.agreement.pk, []))
