"""
The dashboards' covenants table says what its rows are: each covenant's latest tested result,
and any earlier breach not yet waived, which stands until it is waived or restated away (so a
covenant can have two rows after an upload for an earlier quarter, and the older one says why).
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from parties.choices import MembershipRole
from parties.models import Party
from statements import services as statement_services
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.factories import member

pytestmark = pytest.mark.django_db


def submit(loan, quarter: dt.date, revenues: int) -> None:
    outcome = statement_services.statement_file_submit(
        agreement=loan.agreement,
        user=None,
        filename=f"{quarter}.csv",
        content=csv_bytes(combined_rows(loan, quarter, revenues=revenues, ebitda=-1_000_000)),
        source="command",
    )
    assert outcome.ok


@pytest.fixture
def loan_with_an_earlier_breach(django_capture_on_commit_callbacks):
    loan = seed_loan()
    with django_capture_on_commit_callbacks(execute=True):  # each submission evaluated as it commits
        submit(loan, dt.date(2000, 6, 30), revenues=60_000_000)  # 7.01(b) met at June 30, 2000
    with django_capture_on_commit_callbacks(execute=True):
        submit(loan, dt.date(2000, 3, 31), revenues=23_000_000)  # then the earlier quarter: short of $23,821,000
    return loan


def rows_of(response, section: str) -> list[tuple[dt.date, str, bool]]:
    board = response.context["board"] if "board" in response.context else response.context["home"].dashboard
    return [
        (row.view.result.test_date, row.status, row.earlier_breach)
        for row in board.rows
        if row.covenant.section == section and row.view
    ]


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_portfolio_dashboard_says_an_earlier_breach_stands_beside_the_latest_result(
    client, loan_with_an_earlier_breach
):
    cibc = Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    client.force_login(member("cibc.credit", MembershipRole.LENDER, cibc))
    response = client.get(reverse("home"))
    latest, earlier = rows_of(response, "7.01(b)")  # two rows for one covenant, and the older says why
    assert latest[0] > dt.date(2000, 3, 31) and latest[2] is False
    assert earlier == (dt.date(2000, 3, 31), "breach", True)
    page = text(response)
    assert "Each covenant's latest tested result, and any earlier breach not yet waived" in page
    assert page.count("Earlier breach, not waived") == 1


def test_a_borrowers_home_says_the_same(client, loan_with_an_earlier_breach):
    client.force_login(
        member("kmc.controller", MembershipRole.BORROWER, *loan_with_an_earlier_breach.borrowers.values())
    )
    response = client.get(reverse("home"))
    latest, earlier = rows_of(response, "7.01(b)")  # two rows for one covenant, and the older says why
    assert latest[0] > dt.date(2000, 3, 31) and latest[2] is False
    assert earlier == (dt.date(2000, 3, 31), "breach", True)
    page = text(response)
    assert "Each covenant's latest tested result, and any earlier breach not yet waived" in page
    assert page.count("Earlier breach, not waived") == 1
