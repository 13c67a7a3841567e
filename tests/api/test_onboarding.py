"""
Onboarding a facility from nothing through the API: parties, the agreement, roles, line
items, a defined term, covenants and their terms with schedules, with the admin's checks
(each row's full_clean) and the access rule. A refused or invalid write saves nothing, and
each error names its field (a schedule row's, its position).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from compliance.models import CovenantTestResult
from covenants.models import Agreement, AgreementRole, CovenantTerms, DefinedMetric, LineItem, ThresholdStep
from parties.models import Party

pytestmark = pytest.mark.django_db

LINE_ITEMS = {
    "net_income": "Net Income",
    "interest_expense": "Interest Expense",
    "income_taxes": "Income Taxes",
    "depreciation": "Depreciation",
    "total_debt": "Total Debt",
    "tangible_net_worth": "Tangible Net Worth",
}
EBITDA = "net_income + interest_expense + income_taxes + depreciation"


def post(client: Any, route: str, payload: dict, *args: Any, expect: int = 201) -> dict:
    response = client.post(reverse(f"api:{route}", args=args), payload, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def line_items(client: Any) -> None:
    for code, name in LINE_ITEMS.items():
        found = client.get(reverse("api:lineitem-list"), {"code": code}).json()
        if not found["count"]:
            post(client, "lineitem-list", {"code": code, "name": name})


def onboard(client: Any) -> dict[str, Any]:
    """A two-covenant facility from nothing, as an administrator; returns its ids."""
    borrower = post(client, "party-list", {"legal_name": "Cobalt Widgets, Inc.", "kind": "corporation"})
    bank = Party.objects.get(legal_name="First Union National Bank")  # the seed's Agent: an existing party
    line_items(client)
    agreement = post(
        client,
        "agreement-list",
        {
            "kind": "credit_agreement",
            "title": "Credit Agreement",
            "name": "Cobalt Widgets Credit Agreement",
            "dated_as_of": "2025-01-15",
            "fiscal_calendar": {"kind": "calendar_months", "year_end_month": 12},
            "reporting_frequency": "quarter",
            "required_line_items": list(LINE_ITEMS),
        },
    )
    pk = agreement["id"]
    post(client, "agreement-add-role", {"party": borrower["id"], "role": "borrower", "defined_term": "Borrower"}, pk)
    for role in ("agent", "lender"):
        post(client, "agreement-add-role", {"party": bank.pk, "role": role}, pk)
    metric = post(
        client,
        "definedmetric-list",
        {"agreement": pk, "name": "consolidated_ebitda", "label": "Consolidated EBITDA", "formula": EBITDA},
    )
    ebitda = post(client, "covenant-list", {"agreement": pk, "section": "6.1", "name": "Minimum Consolidated EBITDA"})
    leverage = post(client, "covenant-list", {"agreement": pk, "section": "6.2", "name": "Maximum Leverage Ratio"})
    post(client, "covenant-add-terms", ebitda_terms(metric["id"]), ebitda["id"])
    post(client, "covenant-add-terms", leverage_terms(), leverage["id"])
    return {"agreement": pk, "borrower": borrower["id"], "metric": metric["id"], "ebitda": ebitda["id"],
            "leverage": leverage["id"]}  # fmt: skip


def ebitda_terms(metric: int, **changes: Any) -> dict[str, Any]:
    return {
        "effective_from": "2025-03-31",
        "metric": metric,
        "frequency": "quarter",
        "direction": "at_least",
        "text_as_printed": "Consolidated EBITDA for each fiscal quarter shall be at least the amount set out below.",
        "schedule": [
            {"test_date": "2025-03-31", "threshold": "2000000", "amount_as_printed": "$2,000,000"},
            {"test_date": "2025-06-30", "threshold": "2500000", "applies_thereafter": True},
        ],
    } | changes


def leverage_terms() -> dict[str, Any]:
    return {
        "effective_from": "2025-03-31",
        "metric_kind": "ratio",
        "line_item": "total_debt",
        "denominator_line_item": "tangible_net_worth",
        "denominator_window_periods": 1,
        "direction": "at_most",
        "schedule": [{"test_date": "2025-03-31", "threshold": "3.00", "applies_thereafter": True}],
    }


def test_an_administrator_onboards_a_facility_and_its_agent_keeps_it(world, django_capture_on_commit_callbacks):
    admin = world.client("admin")
    ids = onboard(admin)
    agreement = Agreement.objects.get(pk=ids["agreement"])
    assert sorted(agreement.required_line_items.values_list("code", flat=True)) == sorted(LINE_ITEMS)
    assert agreement.calendar().kind == "calendar_months"
    assert set(agreement.roles.values_list("role", flat=True)) == {"borrower", "agent", "lender"}
    assert DefinedMetric.objects.get(pk=ids["metric"]).formula == EBITDA
    ebitda = admin.get(reverse("api:covenant-detail", args=[ids["ebitda"]])).json()
    (version,) = ebitda["versions"]
    assert version["metric"] == ids["metric"] and version["line_item"] is None and version["frequency"] == "quarter"
    assert [(r["test_date"], r["threshold"]) for r in version["schedule"]] == [
        ("2025-03-31", "2000000.000000"),
        ("2025-06-30", "2500000.000000"),
    ]
    # The Agent named in the deal now sees it and keeps it; a Lender elsewhere does not see it.
    agent = world.client("agent")
    url = reverse("api:agreement-detail", args=[ids["agreement"]])
    response = agent.patch(url, {"governing_law": "New York", "reporting_deadline_days": 60}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["governing_law"] == "New York" and response.json()["reporting_deadline_days"] == 60
    response = agent.patch(
        reverse("api:definedmetric-detail", args=[ids["metric"]]), {"label": "EBITDA"}, format="json"
    )
    assert response.status_code == 200 and response.json()["label"] == "EBITDA"
    assert world.client("harbor_agent").patch(url, {"governing_law": "Texas"}, format="json").status_code == 404
    # The Agent names its figures; the results follow.
    records = [
        {"entity": "Borrower", "period_end": "2025-03-31", "line_item": name, "amount": amount}
        for name, amount in zip(
            LINE_ITEMS.values(), ("1,200,000", "400,000", "300,000", "350,000", "9,000,000", "4,000,000"), strict=True
        )  # fmt: skip
    ]
    with django_capture_on_commit_callbacks(execute=True):
        post(agent, "financialstatement-list", {"agreement": ids["agreement"], "records": records})
    leverage = CovenantTestResult.objects.get(covenant_id=ids["leverage"], is_current=True, test_date="2025-03-31")
    assert (leverage.status, leverage.value) == ("compliant", 2.25)
    minimum = CovenantTestResult.objects.get(covenant_id=ids["ebitda"], is_current=True, test_date="2025-03-31")
    assert (minimum.status, minimum.value) == ("compliant", 2_250_000)
    # A definition changed is a covenant tested again: 1,600,000 is under the 2,000,000 minimum.
    with django_capture_on_commit_callbacks(execute=True):
        response = agent.patch(
            reverse("api:definedmetric-detail", args=[ids["metric"]]),
            {"formula": "net_income + interest_expense"},
            format="json",
        )
    assert response.status_code == 200, response.content
    minimum = CovenantTestResult.objects.get(covenant_id=ids["ebitda"], is_current=True, test_date="2025-03-31")
    assert (minimum.status, minimum.value) == ("breach", 1_600_000)


def test_only_administrators_create_agreements_and_line_items(world):
    payload = {"kind": "credit_agreement", "title": "Credit Agreement", "name": "Refused Credit Agreement"}
    for role in ("agent", "borrower", "outsider"):
        assert world.client(role).post(reverse("api:agreement-list"), payload, format="json").status_code == 403
        line_item = {"code": "refused_item", "name": "Refused Item"}
        assert world.client(role).post(reverse("api:lineitem-list"), line_item, format="json").status_code == 403
    assert not Agreement.objects.filter(name=payload["name"]).exists()
    assert not LineItem.objects.filter(code="refused_item").exists()
    # A line item's code is unique: the answer names the field.
    response = world.client("admin").post(reverse("api:lineitem-list"), {"code": "revenues", "name": "Sales"})
    assert response.status_code == 400 and "code" in response.json()


def test_a_fiscal_calendar_the_portal_cannot_read_is_refused_naming_the_field(world):
    payload = {
        "kind": "credit_agreement",
        "title": "Credit Agreement",
        "name": "Odd Calendar Credit Agreement",
        "fiscal_calendar": {"kind": "lunar"},
    }
    response = world.client("admin").post(reverse("api:agreement-list"), payload, format="json")
    assert response.status_code == 400
    assert "fiscal_calendar" in response.json(), response.json()
    assert not Agreement.objects.filter(name=payload["name"]).exists()


def test_a_formula_naming_an_unknown_figure_is_refused_naming_formula(world):
    agreement = world.seed.agreement
    before = DefinedMetric.objects.count()
    response = world.client("agent").post(
        reverse("api:definedmetric-list"),
        {
            "agreement": agreement.pk,
            "name": "adjusted_ebitda",
            "label": "Adjusted EBITDA",
            "formula": "ebitda + addbaks",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["formula"] and "addbaks" in body["formula"][0], body
    assert DefinedMetric.objects.count() == before
    # As docs/api.md shows it.
    ids = onboard(world.client("admin"))
    response = world.client("agent").patch(
        reverse("api:definedmetric-detail", args=[ids["metric"]]),
        {"formula": "net_incme + interest_expense"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "formula": ["in 'consolidated_ebitda': unknown name 'net_incme' at position 1 (did you mean 'net_income'?)."]
    }
    assert DefinedMetric.objects.get(pk=ids["metric"]).formula == EBITDA
    # Only the deal's Agents and administrators define its terms.
    response = world.client("lender").post(
        reverse("api:definedmetric-list"),
        {"agreement": agreement.pk, "name": "adjusted_ebitda", "label": "Adjusted EBITDA", "formula": "ebitda"},
        format="json",
    )
    assert response.status_code == 403


def test_a_terms_version_and_its_rows_are_saved_together_or_not_at_all(world):
    admin = world.client("admin")
    ids = onboard(admin)
    before = (CovenantTerms.objects.count(), ThresholdStep.objects.count())
    payload = ebitda_terms(ids["metric"], effective_from="2026-03-31", action="replace")
    payload["schedule"] = [
        {"test_date": "2026-03-31", "threshold": "3000000"},
        {"test_date": "2026-06-30"},  # set, but no amount
    ]
    response = admin.post(reverse("api:covenant-add-terms", args=[ids["ebitda"]]), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"schedule": ["Row 2: A set threshold needs an amount; an unknown one must have none."]}
    assert (CovenantTerms.objects.count(), ThresholdStep.objects.count()) == before


def test_terms_name_only_rows_of_their_own_agreement(world):
    admin = world.client("admin")
    ids = onboard(admin)
    seed_metric = DefinedMetric.objects.create(
        agreement=world.seed.agreement, name="seed_ebitda", label="EBITDA", formula="ebitda"
    )
    url = reverse("api:covenant-add-terms", args=[ids["ebitda"]])
    payload = ebitda_terms(seed_metric.pk, effective_from="2026-03-31", action="replace")
    payload["schedule"] = [{"test_date": "2026-03-31", "threshold": "1"}]
    response = admin.post(url, payload, format="json")
    assert response.status_code == 400 and "is not a defined term of" in response.json()["metric"][0]
    outsider = Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    payload = ebitda_terms(
        ids["metric"], effective_from="2026-03-31", basis="consolidated", reporting_party=outsider.pk
    )
    response = admin.post(url, payload, format="json")
    assert response.status_code == 400 and "holds no role" in response.json()["reporting_party"][0]
    # The Agent of another deal cannot name this facility's covenant at all.
    assert world.client("harbor_agent").post(url, payload, format="json").status_code == 404
    assert AgreementRole.objects.filter(agreement_id=ids["agreement"]).count() == 3


# The rule that a schedule's test date ends a period of the agreement's calendar is the model's
# (ThresholdStep.clean); the API applies it through full_clean, as the admin does.
def test_a_schedule_row_on_a_date_that_ends_no_period_is_refused_naming_the_row(world):
    admin = world.client("admin")
    ids = onboard(admin)
    before = (CovenantTerms.objects.count(), ThresholdStep.objects.count())
    payload = ebitda_terms(ids["metric"], effective_from="2026-03-31", action="replace")
    payload["schedule"] = [
        {"test_date": "2026-03-31", "threshold": "3000000"},
        {"test_date": "2026-06-29", "threshold": "3000000"},  # not a fiscal quarter's end
    ]
    response = admin.post(reverse("api:covenant-add-terms", args=[ids["ebitda"]]), payload, format="json")
    assert response.status_code == 400, response.content
    (message,) = response.json()["schedule"]
    assert message.startswith("Row 2 (test_date): ") and "2026-06-29" in message, message
    assert "2026-06-30" in message, "the message names the nearest quarter end"
    assert (CovenantTerms.objects.count(), ThresholdStep.objects.count()) == before
