"""
A schedule row whose printed date is incomplete ("June, 2019": no day) is stored with the reading
taken and flagged wherever the row is used: every result it decides (its own test date and, as a
row that holds thereafter, the later ones) says so in its explanation and inputs, on the
agreement page, through the API and in the compliance exports; the row itself is flagged in the
page's schedule and the API's.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from compliance.models import CovenantTestResult
from parties.choices import MembershipRole
from parties.models import Party
from tests.compliance import form_scenarios as forms
from tests.compliance.form_models import build
from tests.factories import member

pytestmark = pytest.mark.django_db
D = dt.date
READING = "no day printed: read as the last day of June 2019"
PRINTED = "June, 2019"
IN_EXPLANATION = f"date as printed: '{PRINTED}', read as June 30, 2019"
ON_PAGE = f"date as printed: {PRINTED} ({READING})"
LENDER = "Acme Bank N.A."

SCENARIO = forms.Scenario(
    name="printed date",
    others=((LENDER, "lender"),),
    terms=(
        forms.Terms(
            "6.1",
            (
                forms.Row(D(2019, 3, 31), "900000"),
                forms.Row(
                    D(2019, 6, 30), "1000000", applies_thereafter=True, date_as_printed=PRINTED, date_reading=READING
                ),
            ),
            line_item="revenues",
        ),
    ),
    statements=tuple((forms.ACME, day, {"revenues": "1500000"}) for day in (D(2019, 3, 31), D(2019, 6, 30))),
    as_of=D(2019, 12, 31),
    expect=(),
)
FLAGGED = (D(2019, 6, 30), D(2019, 9, 30), D(2019, 12, 31))  # the row's date, and those it holds thereafter


@pytest.fixture
def agreement():
    return build(SCENARIO)


def test_each_result_the_row_decides_is_flagged_and_no_other(agreement) -> None:
    results = {r.test_date: r for r in CovenantTestResult.objects.filter(agreement=agreement, is_current=True)}
    for day in FLAGGED:
        assert IN_EXPLANATION in results[day].explanation, day
        assert (results[day].inputs["date_as_printed"], results[day].inputs["date_reading"]) == (PRINTED, READING)
    assert "date as printed" not in results[D(2019, 3, 31)].explanation
    assert "date_reading" not in results[D(2019, 3, 31)].inputs


def test_the_api_flags_the_row_and_its_results(agreement) -> None:
    client = APIClient()
    user = member("acme.bank", MembershipRole.LENDER, Party.objects.get(legal_name=LENDER))
    _, token = AuthToken.objects.create(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    (covenant,) = client.get(reverse("api:covenant-list"), {"agreement": agreement.pk}).json()["results"]
    (version,) = client.get(reverse("api:covenant-detail", args=[covenant["id"]])).json()["versions"]
    flagged = [(r["test_date"], r["date_as_printed"], r["date_reading"]) for r in version["schedule"]]
    assert flagged == [("2019-03-31", "", ""), ("2019-06-30", PRINTED, READING)]
    rows = client.get(reverse("api:covenanttest-list"), {"agreement": agreement.pk}).json()["results"]
    by_date = {dt.date.fromisoformat(r["test_date"]): r for r in rows}
    for day in FLAGGED:
        assert IN_EXPLANATION in by_date[day]["explanation"]
        assert by_date[day]["inputs"]["date_reading"] == READING
    assert "date_reading" not in by_date[D(2019, 3, 31)]["inputs"]


def test_the_agreement_page_and_the_exports_flag_them(client, agreement) -> None:
    client.force_login(member("acme.bank", MembershipRole.LENDER, Party.objects.get(legal_name=LENDER)))
    page = client.get(reverse("covenants:agreement_detail", args=[agreement.pk])).content.decode()
    # The schedule's row once, and each result it decides.
    assert page.count(ON_PAGE) == 1 + len(FLAGGED)
    csv = client.get(reverse("covenants:compliance_csv", args=[agreement.pk])).content.decode()
    assert csv.count(IN_EXPLANATION) == len(FLAGGED)
