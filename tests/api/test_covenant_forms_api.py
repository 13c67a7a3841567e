"""
The forms real agreements write (tests/compliance/form_scenarios.py), each onboarded through
/api/v1/ only, as an integration would: parties, the agreement with its fiscal calendar and
reporting frequency, roles, line items, defined terms, an amendment, covenants, their terms and
schedules; the figures submitted as JSON records; the evaluation run as the product runs it
(queued on commit); the results read back through the API. The same scenarios, to the cent and
the 0.000001, as tests/compliance/test_covenant_forms.py checks through the service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.compliance import form_scenarios as forms
from tests.factories import administrator

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(administrator())
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post(client: APIClient, route: str, payload: dict, *args: Any, expect: int = 201) -> dict:
    response = client.post(reverse(f"api:{route}", args=args), payload, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _line_items(client: APIClient, scenario: forms.Scenario) -> None:
    for code in scenario.line_items():
        if not client.get(reverse("api:lineitem-list"), {"code": code}).json()["count"]:
            post(client, "lineitem-list", {"code": code, "name": forms.ITEMS[code]})


def _parties(client: APIClient, scenario: forms.Scenario, agreement: int) -> dict[str, int]:
    named = [(name, "borrower", f"Borrower {i + 1}") for i, name in enumerate(scenario.borrowers)]
    named += [(name, role, "") for name, role in scenario.others]
    ids = {}
    for name, role, term in named:
        ids[name] = post(client, "party-list", {"legal_name": name, "kind": "corporation"})["id"]
        post(client, "agreement-add-role", {"party": ids[name], "role": role, "defined_term": term}, agreement)
    return ids


def _terms_payload(terms: forms.Terms, ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "effective_from": terms.effective_from.isoformat(),
        "amendment": ids["amendment"] if terms.by_amendment else None,
        "action": "replace" if terms.by_amendment else "add",
        "metric": ids["metrics"].get(terms.metric),
        "line_item": terms.line_item,
        "frequency": terms.frequency,
        "window_periods": terms.window_periods,
        "direction": terms.direction,
        "basis": terms.basis,
        "reporting_party": ids["parties"].get(terms.reporting_party),
        "threshold_relative_to": terms.threshold_relative_to,
        "schedule": [{k: _json(v) for k, v in row.fields().items()} for row in terms.rows],
    }


def onboard(client: APIClient, scenario: forms.Scenario) -> dict[str, Any]:
    """The scenario's agreement from nothing, through the API; returns the ids made."""
    _line_items(client, scenario)
    agreement = post(
        client,
        "agreement-list",
        {
            "kind": "credit_agreement",
            "title": "Credit Agreement",
            "name": f"{scenario.borrowers[0]} Credit Agreement",
            "dated_as_of": "2016-12-31",
            "governing_law": "New York",
            "fiscal_calendar": scenario.calendar,
            "reporting_frequency": scenario.reporting,
            "required_line_items": list(scenario.required),
        },
    )["id"]
    ids: dict[str, Any] = {"agreement": agreement, "parties": _parties(client, scenario, agreement), "metrics": {}}
    if scenario.amendment is not None:
        made = dataclasses.asdict(scenario.amendment)
        ids["amendment"] = post(
            client, "amendment-list", {"agreement": agreement, **{k: _json(v) for k, v in made.items()}}
        )["id"]
    for metric in scenario.metrics:
        fields = {"agreement": agreement, **dataclasses.asdict(metric)}
        ids["metrics"][metric.name] = post(client, "definedmetric-list", fields)["id"]
    covenants: dict[str, int] = {}
    for terms in scenario.terms:
        if terms.section not in covenants:
            payload = {"agreement": agreement, "section": terms.section, "name": terms.section}
            covenants[terms.section] = post(client, "covenant-list", payload)["id"]
        post(client, "covenant-add-terms", _terms_payload(terms, ids), covenants[terms.section])
    return ids


def submit(client: APIClient, scenario: forms.Scenario, agreement: int) -> None:
    records = [
        {"entity": party, "period_end": day.isoformat(), "line_item": forms.ITEMS[code], "amount": amount}
        for party, day, amounts in scenario.statements
        for code, amount in amounts.items()
    ]
    post(client, "financialstatement-list", {"agreement": agreement, "records": records})


def results(client: APIClient, agreement: int, as_of: dt.date) -> dict[tuple[str, dt.date], dict]:
    """The current results up to the scenario's date, by (section, test date), read through the API."""
    url = reverse("api:covenanttest-list")
    query: dict[str, Any] = {"agreement": agreement, "test_date_before": as_of.isoformat(), "page_size": 500}
    found: dict[tuple[str, dt.date], dict] = {}
    page = client.get(url, query).json()
    while True:
        for row in page["results"]:
            if row["borrower"] is None:
                found[(row["covenant"]["section"], dt.date.fromisoformat(row["test_date"]))] = row
        if not page["next"]:
            return found
        page = client.get(page["next"]).json()


def run(client: APIClient, scenario: forms.Scenario, capture: Any) -> dict[str, Any]:
    """Onboard, submit the figures and let the evaluation queued on commit run."""
    with capture(execute=True):
        ids = onboard(client, scenario)
        submit(client, scenario, ids["agreement"])
    return ids


@pytest.mark.parametrize("scenario", forms.SCENARIOS, ids=lambda s: s.name)
def test_each_form_through_the_api(admin, scenario: forms.Scenario, django_capture_on_commit_callbacks) -> None:
    ids = run(admin, scenario, django_capture_on_commit_callbacks)
    forms.check(scenario, results(admin, ids["agreement"], scenario.as_of))


@pytest.mark.parametrize("scenario", forms.SCENARIOS[-3:], ids=lambda s: s.name)
def test_an_amendments_new_effective_date_through_the_api(
    admin, scenario: forms.Scenario, django_capture_on_commit_callbacks
) -> None:
    ids = run(admin, scenario, django_capture_on_commit_callbacks)
    url = reverse("api:amendment-detail", args=[ids["amendment"]])
    follows = forms.AMENDMENT_MOVES["follows"].isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.patch(url, {"effective_on": follows}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["effective_on"] == follows
    (covenant,) = admin.get(reverse("api:covenant-list"), {"agreement": ids["agreement"]}).json()["results"]
    versions = admin.get(reverse("api:covenant-detail", args=[covenant["id"]])).json()["versions"]
    assert sorted(v["effective_from"] for v in versions) == ["2017-01-01", follows]
    # The results follow: June 30, 2023 is tested again under the original terms.
    now = results(admin, ids["agreement"], scenario.as_of)
    forms.check(dataclasses.replace(scenario, expect=(forms.AMENDMENT_MOVED,)), now)
    moved = tuple(e for e in scenario.expect if e.test_date != forms.AMENDMENT_MOVED.test_date)
    forms.check(dataclasses.replace(scenario, expect=moved), now)
    # A date the terms cannot follow is refused, naming them; nothing changes.
    response = admin.patch(url, {"effective_on": forms.AMENDMENT_MOVES["refused"].isoformat()}, format="json")
    assert response.status_code == 400, response.content
    assert forms.AMENDMENT_REFUSAL in response.json()["effective_on"][0]
    assert admin.get(url).json()["effective_on"] == follows
