"""
The portfolio dashboard, a Borrower's home and the agreement page, on the seed Loan Agreement
with the demo figures: what a credit team reads there, and the query counts of both pages,
which must not grow with the number of agreements or quarters.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from compliance import services
from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from covenants import access
from covenants.choices import Role
from covenants.models import AgreementRole
from parties.choices import MembershipRole
from parties.models import Party
from portal.pages import selectors as page_selectors
from statements import services as statement_services
from statements.models import FinancialStatement, StatementUpload
from tests.covenants.helpers import combined_rows, csv_bytes, seed_loan
from tests.factories import administrator, member, second_facility

pytestmark = pytest.mark.django_db

LEASING_II = "KMC Telecom Leasing II LLC"


@pytest.fixture
def borrower(loan):
    return member("kmc.controller", MembershipRole.BORROWER, *loan.borrowers.values())


class Controls(HTMLParser):
    """The form controls of a page and the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)

    def unlabelled(self) -> list[dict]:
        return [
            c
            for c in self.controls
            if c.get("id") not in self.labelled and not c.get("aria-label") and not c.get("aria-labelledby")
        ]


def unlabelled_controls(html: str) -> list[dict]:
    parser = Controls()
    parser.feed(html)
    assert parser.controls, "the page has no form controls to check"
    return parser.unlabelled()


def scripts_of(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html)


# --- The dashboard ---------------------------------------------------------------------------------


def test_the_dashboard_shows_each_covenants_latest_result_as_colour_and_word(client, lender):
    client.force_login(lender)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    board = response.context["board"]
    latest = {(row.covenant.section, row.view.result.test_date, row.status) for row in board.rows}
    assert latest == {
        ("7.01(b)", dt.date(2001, 3, 31), ResultStatus.BREACH),
        ("7.01(c)(i)", dt.date(2000, 12, 31), page_selectors.NEAR_BREACH),
        ("7.01(c)(ii)", dt.date(2001, 3, 31), ResultStatus.COMPLIANT),
    }
    page = response.content.decode()
    # Colour (the class) and word together, never colour alone.
    assert re.search(r'class="status status-breach">.*?Breach</span>', page)
    assert re.search(r'class="status status-near_breach">.*?Near breach</span>', page)
    assert re.search(r'class="status status-compliant">.*?Compliant</span>', page)
    for figure in ("$53,940,000", "$54,678,000", "($738,000)", "-1.35%", "($3,750,000)", "($4,157,000)", "9.79%"):
        assert figure in page
    assert board.breaches == 1 and board.near_breaches == 1
    assert [(item.borrower, item.period_end) for item in board.late] == [(LEASING_II, dt.date(2000, 6, 30))]
    assert re.search(r'card-breach"[^>]*>\s*<span class="card-figure">1</span>', page)
    assert re.search(r'card-late"[^>]*>\s*<span class="card-figure">1</span>', page)


def test_the_dashboard_filters_by_status_and_agreement_and_sorts_by_headroom(client, lender):
    client.force_login(lender)
    url = reverse("home")

    def sections(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return [row.covenant.section for row in response.context["board"].rows]

    assert sections(status="breach") == ["7.01(b)"]
    assert sections(status="near_breach") == ["7.01(c)(i)"]
    assert sections(status="waived") == []
    assert sections(sort="headroom") == ["7.01(b)", "7.01(c)(i)", "7.01(c)(ii)"]
    assert sections(sort="-headroom") == ["7.01(c)(ii)", "7.01(c)(i)", "7.01(b)"]
    agreement = AgreementRole.objects.filter(role=Role.LENDER).first().agreement
    assert sections(agreement=agreement.pk) == ["7.01(b)", "7.01(c)(i)", "7.01(c)(ii)"]
    # The counts stay those of the whole portfolio whatever the filter.
    assert client.get(url, {"status": "compliant"}).context["board"].breaches == 1


def test_a_filter_naming_an_agreement_the_user_is_not_in_is_refused_not_shown(client, lender):
    other = second_facility()
    client.force_login(lender)
    response = client.get(reverse("home"), {"agreement": other.agreement.pk, "status": "bogus"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "Harbor" not in page
    assert len(response.context["board"].rows) == 3  # unfiltered


def test_every_dashboard_control_has_a_label_and_no_script_is_inline(client, lender):
    client.force_login(lender)
    page = client.get(reverse("home")).content.decode()
    assert unlabelled_controls(page) == []
    assert all(" src=" in tag or 'type="application/json"' in tag for tag in scripts_of(page))


def test_a_borrowers_home_leads_with_submitting_figures(client, borrower, loan):
    client.force_login(borrower)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "portal/borrower_home.html" in [t.name for t in response.templates]
    page = response.content.decode()
    upload = reverse("covenants:statement_upload", args=[loan.agreement.pk])
    assert f'class="button button-primary" href="{upload}"' in page
    assert "Submit financials" in page
    assert "Fiscal quarter ending June 30, 2000 (due August 14, 2000): KMC Telecom Leasing II LLC" in page


def test_the_agreements_a_user_may_submit_to_follow_the_access_rule(loan, borrower, lender):
    harbor = second_facility()
    agent = member("fu.agent", MembershipRole.AGENT, Party.objects.get(legal_name="First Union National Bank"))
    admin = administrator()
    for user in (borrower, lender, agent, admin, harbor.users["borrower"], harbor.users["lender"]):
        listed = set(page_selectors.agreements_user_may_submit_to(user).values_list("pk", flat=True))
        expected = {
            a.pk for a in access.agreements_visible_to(user) if access.borrowers_user_may_submit_for(user, a).exists()
        }
        assert listed == expected, user.username


# --- The agreement page -----------------------------------------------------------------------------


def test_the_agreement_page_shows_parties_in_roles_and_the_amendment_chain(client, lender, loan):
    client.force_login(lender)
    response = client.get(reverse("covenants:agreement_detail", args=[loan.agreement.pk]))
    page = response.content.decode()
    roles = dict(response.context["page"].roles)
    assert sorted(r.party.legal_name for r in roles["Borrower"]) == sorted(
        p.legal_name for p in loan.borrowers.values()
    )
    assert [r.party.legal_name for r in roles["Agent"]] == ["First Union National Bank"]
    assert [r.party.legal_name for r in roles["Collateral Agent"]] == ["Newcourt Commercial Finance Corporation"]
    assert len(roles["Lender"]) == 12
    timeline = response.context["page"].timeline
    assert [(e.title, e.dated, e.status_label) for e in timeline] == [
        ("Loan and Security Agreement", dt.date(1998, 12, 22), "Signed"),
        ("Amendment No. 1", dt.date(1999, 3, 3), "Effective"),
        ("Amendment No. 2", dt.date(1999, 8, 13), "Effective"),
        ("Waiver and Amendment No. 3", dt.date(1999, 10, 29), "Effective"),
        ("Amendment No. 4 to Loan and Security Agreement", dt.date(1999, 12, 31), "Pending"),
    ]
    assert "not stated (“January __, 2000” in the original)" in page
    assert "Results computed under its terms are marked provisional" in page


def test_each_covenants_terms_in_force_are_shown_with_their_section(client, lender, loan):
    client.force_login(lender)
    page = client.get(reverse("covenants:agreement_detail", args=[loan.agreement.pk])).content.decode()
    assert "Section 7.01(b), as added by Amendment No. 4 to Loan and Security Agreement" in page
    assert "Section 7.01(c)(i), as replaced by Amendment No. 4 to Loan and Security Agreement" in page
    assert "must be at least $1,688,000" in page  # 7.01(c)(ii)'s reading
    assert "($25,001,000)" in page  # a schedule row as printed


def test_each_figure_is_explained_by_its_statements_entities_and_quarters(client, lender, loan):
    client.force_login(lender)
    response = client.get(reverse("covenants:agreement_detail", args=[loan.agreement.pk]))
    panels = {p.covenant.section: p for p in response.context["page"].covenants}
    ebitda = next(v for v in panels["7.01(c)(i)"].results if v.result.test_date == dt.date(2000, 12, 31))
    assert ebitda.window == [dt.date(2000, 9, 30), dt.date(2000, 12, 31)]
    assert len(ebitda.figures) == 10  # five Borrowers, two quarters
    assert sum(f.amount for f in ebitda.figures) == ebitda.result.value == -3_750_000
    assert {f.filename for f in ebitda.figures} == {
        "kmc-financials-2000-09-30.csv",
        "kmc-financials-2000-12-31.csv",
    }
    incomplete = next(v for v in panels["7.01(b)"].results if v.result.test_date == dt.date(2000, 6, 30))
    assert [(m["name"], m["period_end"]) for m in incomplete.missing] == [(LEASING_II, dt.date(2000, 6, 30))]
    page = response.content.decode()
    assert "<summary>Explain" in page
    assert f"<li>{LEASING_II}, fiscal quarter ending 2000-06-30 (Revenues)</li>" in page
    statement = FinancialStatement.objects.get(
        borrower=loan.borrowers["KMC"], period_end=dt.date(2001, 3, 31), status="current"
    )
    assert f"#{statement.pk} version 1" in page


def test_a_restated_figure_is_explained_as_the_restated_version(client, lender, loan):
    rows = combined_rows(loan, dt.date(2001, 3, 31), revenues=55_000_000, ebitda=2_900_000)
    outcome = statement_services.statement_file_submit(
        agreement=loan.agreement, user=None, filename="restated.csv", content=csv_bytes(rows)
    )
    assert outcome.ok and outcome.restatements
    services.agreement_evaluate(agreement_id=loan.agreement.pk)
    client.force_login(lender)
    page = client.get(reverse("covenants:agreement_detail", args=[loan.agreement.pk])).content.decode()
    assert "version 2 (restated)" in page
    assert "restated.csv" in page


def test_the_charts_data_reaches_the_page_as_json_for_its_script(client, lender, loan):
    client.force_login(lender)
    page = client.get(reverse("covenants:agreement_detail", args=[loan.agreement.pk])).content.decode()
    data = json.loads(re.search(r'<script id="covenant-charts" type="application/json">(.*?)</script>', page).group(1))
    revenues = next(c for c in data if c["section"] == "7.01(b)")
    points = {p["date"]: p for p in revenues["series"][0]["points"]}
    assert points["2001-03-31"] == {
        "date": "2001-03-31",
        "value": "53940000",
        "threshold": "54678000",
        "headroom": "-738000",
        "status": "breach",
        "status_label": "Breach",
    }
    assert points["2000-06-30"]["value"] is None  # incomplete: no value, the threshold still shown
    assert "1999-09-30" not in points  # not tested: neither value nor threshold
    assert page.count('data-chart="value"') == page.count('data-chart="headroom"') == 3
    assert all(" src=" in tag or 'type="application/json"' in tag for tag in scripts_of(page))
    assert "vendor/chartjs/chart.umd.min.js" in page and "js/agreement-charts.js" in page


# --- Demo figures ------------------------------------------------------------------------------------


def test_the_demo_figures_show_every_status_and_load_only_once(loan):
    statuses = set(
        CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).values_list("status", flat=True)
    )
    assert statuses == {"compliant", "breach", "incomplete", "not_tested"}
    counts = (StatementUpload.objects.count(), FinancialStatement.objects.count(), CovenantTestResult.objects.count())
    assert counts[1] == 7 * 5 - 1  # seven quarters, five Borrowers, Leasing II missing once
    out = StringIO()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=True):
        call_command("load_demo_figures", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert (
        StatementUpload.objects.count(),
        FinancialStatement.objects.count(),
        CovenantTestResult.objects.count(),
    ) == counts


def test_demo_figures_are_refused_where_demo_accounts_are():
    from django.core.management.base import CommandError

    seed_loan()
    with override_settings(PORTAL_ALLOW_DEMO_ACCOUNTS=False), pytest.raises(CommandError, match="not allowed"):
        call_command("load_demo_figures", stdout=StringIO())
    assert FinancialStatement.objects.count() == 0


# --- Query counts ------------------------------------------------------------------------------------

# What each request costs. Four queries wrap every page: the session, the user with its two-factor
# device check, and the savepoint pair of ATOMIC_REQUESTS (and, at most once a minute, three more
# to renew the session: the first request after signing in is not counted). Then the page's own,
# beginning with the user's memberships (read once, for every access decision):
#   dashboard (8): memberships, agreements, the covenants table (its counts and one page, one
#              statement), the covenants' terms with their schedule dates, the Borrowers missing a
#              statement, the page's covenants and results, unread alerts.
#   agreement (16): memberships, agreement (with whether it has signature blocks of its own),
#              roles (which also decide the right to submit and to review imported texts),
#              amendments + conditions, covenants + terms + schedules, results, the statements'
#              files, the Borrowers missing a statement, the defined terms, the stored documents,
#              the spans values were read from (none asked without stored texts), the
#              reaffirmations signed on their own pages, unread alerts.
DASHBOARD_QUERIES = 12
AGREEMENT_QUERIES = 20


def more_agreements_for(lender, count: int) -> None:
    """More agreements the lender's party lends under, each with figures and results."""
    party = lender.memberships.get().party
    for index in range(count):
        facility = second_facility(prefix=f"Extra{index}")
        AgreementRole.objects.create(agreement=facility.agreement, party=party, role=Role.LENDER)
        rows = [
            (borrower.legal_name, quarter, item, amount)
            for quarter in ("2020-03-31", "2020-06-30")
            for borrower in facility.borrowers
            for item, amount in (("Revenues", "700,000"), ("EBITDA", "90,000"), ("Total Debt", "2,000,000"))
        ]
        outcome = statement_services.statement_file_submit(
            agreement=facility.agreement, user=None, filename="f.csv", content=csv_bytes(rows)
        )
        assert outcome.ok
        services.agreement_evaluate(agreement_id=facility.agreement.pk)


LATER_QUARTERS = [dt.date(2001, 6, 30), dt.date(2001, 9, 30), dt.date(2001, 12, 31), dt.date(2002, 3, 31)]


def more_quarters(loan, quarters: int) -> None:
    """Figures for later quarters: not tested by the seed schedules, but results on the page all the same."""
    rows = []
    for day in LATER_QUARTERS[:quarters]:
        rows += combined_rows(loan, day, revenues=60_000_000, ebitda=3_000_000)
    outcome = statement_services.statement_file_submit(
        agreement=loan.agreement, user=None, filename="q.csv", content=csv_bytes(rows)
    )
    assert outcome.ok, [str(e) for e in outcome.errors]
    services.agreement_evaluate(agreement_id=loan.agreement.pk)


def test_the_dashboard_query_count_is_fixed(client, lender, loan, django_assert_num_queries):
    client.force_login(lender)
    url = reverse("home")
    client.get(url)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        assert len(client.get(url).context["board"].summaries) == 1
    more_agreements_for(lender, 3)
    more_quarters(loan, 4)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(url)
    assert len(response.context["board"].summaries) == 4
    assert len(response.context["board"].rows) == 3 + 3 * 2


def test_the_agreement_page_query_count_is_fixed(client, lender, loan, django_assert_num_queries):
    client.force_login(lender)
    url = reverse("covenants:agreement_detail", args=[loan.agreement.pk])
    client.get(url)
    with django_assert_num_queries(AGREEMENT_QUERIES):
        client.get(url)
    before = CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).count()
    more_quarters(loan, 4)
    more_agreements_for(lender, 2)
    assert CovenantTestResult.objects.filter(agreement=loan.agreement, is_current=True).count() == before + 3 * 4
    with django_assert_num_queries(AGREEMENT_QUERIES):
        response = client.get(url)
    assert sum(len(p.results) for p in response.context["page"].covenants) == before + 3 * 4
