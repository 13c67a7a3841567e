"""
Writes to what was agreed, by the Agents and administrators: new versions of a covenant's
terms with their schedules, an amendment's status, roles, covenants, waivers and parties.
Each is re-evaluated on commit, and a refused or invalid write saves nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import AmendmentStatus
from covenants.models import Covenant, CovenantTerms, ThresholdStep, Waiver
from statements.services import statement_records_submit

from .conftest import AS_OF, seed_records

pytestmark = pytest.mark.django_db


def test_an_agent_records_a_new_version_of_the_terms_with_its_schedule(world, django_capture_on_commit_callbacks):
    covenant = world.seed.covenants["7.01(b)"]
    client = world.client("agent")
    payload = {
        "effective_from": "2001-06-30",
        "action": "replace",
        "line_item": "revenues",
        "window_periods": 1,
        "direction": "at_least",
        "text_as_printed": "Minimum revenues of $60,000,000 for each fiscal quarter thereafter.",
        "schedule": [
            {"test_date": "2001-06-30", "threshold": "60000000", "amount_as_printed": "$60,000,000"},
            {"test_date": "2001-09-30", "threshold_state": "to_be_set", "threshold": None, "applies_thereafter": True},
        ],
    }
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("api:covenant-add-terms", args=[covenant.pk]), payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["effective_from"] == "2001-06-30" and body["action"] == "replace"
    assert [(r["test_date"], r["threshold"], r["threshold_state"]) for r in body["schedule"]] == [
        ("2001-06-30", "60000000.000000", "set"),
        ("2001-09-30", None, "to_be_set"),
    ]
    assert queued, "the agreement's re-evaluation is queued on commit"
    terms = CovenantTerms.objects.get(pk=body["id"])
    assert terms.history.get().history_user == world.users["agent"]
    assert ThresholdStep.history.filter(terms_id=terms.pk).count() == 2
    in_force = client.get(reverse("api:covenant-terms-in-force", args=[covenant.pk]), {"date": "2001-12-31"}).json()
    assert in_force["id"] == terms.pk
    earlier = client.get(reverse("api:covenant-terms-in-force", args=[covenant.pk]), {"date": "2000-03-31"}).json()
    assert earlier["id"] != terms.pk and earlier["amendment_title"].startswith("Amendment No. 4")
    detail = client.get(reverse("api:covenant-detail", args=[covenant.pk])).json()
    assert [v["effective_from"] for v in detail["versions"]] == ["1999-12-31", "2001-06-30"]


def test_invalid_terms_are_refused_with_each_problem_and_nothing_is_saved(world):
    covenant = world.seed.covenants["7.01(b)"]
    before = (CovenantTerms.objects.count(), ThresholdStep.objects.count())
    response = world.client("admin").post(
        reverse("api:covenant-add-terms", args=[covenant.pk]),
        {
            "effective_from": "1999-12-31",  # the date of the version already recorded
            "action": "add",
            "schedule": [
                {"test_date": "2001-06-30", "threshold": "1"},
                {"test_date": "2001-06-30", "threshold": "2"},
                {"test_date": "2001-09-30"},  # set, but no amount
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    messages = " ".join(errors["schedule"])
    assert "Row 2 (test_date): 2001-06-30 is given twice (row 1 too)." in messages
    assert "Row 3" in messages and "needs an amount" in messages
    assert "already has terms taking effect on this date" in " ".join(errors["non_field_errors"])
    assert "must name its line item" in " ".join(errors["non_field_errors"])
    assert (CovenantTerms.objects.count(), ThresholdStep.objects.count()) == before


def test_terms_in_force_before_any_version_is_a_404_that_says_so(world):
    covenant = world.seed.covenants["7.01(b)"]
    client = world.client("lender")
    response = client.get(reverse("api:covenant-terms-in-force", args=[covenant.pk]), {"date": "1999-01-01"})
    assert response.status_code == 404
    assert response.json()["detail"] == "No terms of 7.01(b) are in force on 1999-01-01."
    response = client.get(reverse("api:covenant-terms-in-force", args=[covenant.pk]), {"date": "31 March 2000"})
    assert response.status_code == 400 and "date" in response.json()


def test_marking_amendment_no_4_effective_makes_its_results_final(world, django_capture_on_commit_callbacks):
    amendment = world.seed.agreement.amendments.get(number=4)
    assert amendment.status == AmendmentStatus.PENDING
    agreement = world.seed.agreement
    assert CovenantTestResult.objects.filter(agreement=agreement, is_current=True, provisional=True).exists()
    url = reverse("api:amendment-detail", args=[amendment.pk])
    assert world.client("lender").patch(url, {"status": "effective"}, format="json").status_code == 403
    # Its condition precedent (originals executed by the Borrowers, the Requisite Lenders and the
    # Agents) is not satisfied yet: refused, with the condition named, and nothing changed.
    response = world.client("collateral_agent").patch(url, {"status": "effective"}, format="json")
    assert response.status_code == 400
    message = response.json()["status"][0]
    assert message.startswith("Amendment No. 4") and "not satisfied" in message
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING
    amendment.conditions_precedent.update(satisfied_on=dt.date(2000, 2, 1))
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("collateral_agent").patch(url, {"status": "effective"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "effective"
    assert not CovenantTestResult.objects.filter(agreement=agreement, is_current=True, provisional=True).exists()
    response = world.client("admin").patch(url, {"status": "void"}, format="json")
    assert response.status_code == 400 and "status" in response.json()


def test_an_agent_creates_a_party_and_gives_it_a_role(world):
    client = world.client("agent")
    response = client.post(
        reverse("api:party-list"), {"legal_name": "Fleet National Bank", "kind": "national_bank"}, format="json"
    )
    assert response.status_code == 201
    party_id = response.json()["id"]
    # Nothing names it yet: not listed, but the agent may attach it to its agreement.
    listed = {p["id"] for p in client.get(reverse("api:party-list"), {"page_size": 500}).json()["results"]}
    assert party_id not in listed
    agreement = world.seed.agreement
    response = client.post(
        reverse("api:agreement-add-role", args=[agreement.pk]),
        {"party": party_id, "role": "lender", "defined_term": "Lenders", "holds_from": "2000-01-15"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["party"] == {"id": party_id, "legal_name": "Fleet National Bank"}
    listed = {p["id"] for p in client.get(reverse("api:party-list"), {"page_size": 500}).json()["results"]}
    assert party_id in listed
    # The same role twice is refused with the constraint's sentence.
    again = client.post(
        reverse("api:agreement-add-role", args=[agreement.pk]), {"party": party_id, "role": "lender"}, format="json"
    )
    assert again.status_code == 400
    assert "already holds this role" in str(again.json())
    role_id = agreement.roles.get(party_id=party_id).pk
    assert (
        world.client("lender").delete(reverse("api:agreement-remove-role", args=[agreement.pk, role_id])).status_code
        == 403
    )
    response = client.delete(reverse("api:agreement-remove-role", args=[agreement.pk, role_id]))
    assert response.status_code == 204
    assert not agreement.roles.filter(party_id=party_id).exists()
    # Harbor's parties cannot be named in the seed agreement.
    harbor_party = world.harbor.borrowers[0]
    response = client.post(
        reverse("api:agreement-add-role", args=[agreement.pk]),
        {"party": harbor_party.pk, "role": "lender"},
        format="json",
    )
    assert response.status_code == 400 and "party" in response.json()


def test_a_party_update_by_a_lender_is_refused_and_by_an_agent_recorded_with_history(world):
    harbor_borrower = world.harbor.borrowers[0]
    url = reverse("api:party-detail", args=[harbor_borrower.pk])
    assert world.client("harbor_borrower").patch(url, {"jurisdiction": "Maine"}, format="json").status_code == 200
    response = world.client("harbor_agent").patch(url, {"jurisdiction": "New Jersey"}, format="json")
    assert response.status_code == 200
    assert response.json()["jurisdiction"] == "New Jersey"
    harbor_borrower.refresh_from_db()
    assert harbor_borrower.history.latest().history_user == world.users["harbor_agent"]
    # KMC is a party to the KMC-Lucent General Agreement too, which First Union does not
    # administer: its record is its own users' and the administrators' to change.
    kmc = world.seed.borrowers["KMC"]
    url = reverse("api:party-detail", args=[kmc.pk])
    assert world.client("lender").patch(url, {"jurisdiction": "New York"}, format="json").status_code == 403
    assert world.client("agent").patch(url, {"jurisdiction": "New Jersey"}, format="json").status_code == 403
    assert world.client("borrower").patch(url, {"jurisdiction": "Georgia"}, format="json").status_code == 200
    duplicate = world.client("admin").patch(url, {"legal_name": "KMC Telecom II, Inc."}, format="json")
    assert duplicate.status_code == 400 and "legal_name" in duplicate.json()


def test_a_waiver_is_recorded_by_an_agent_and_the_test_shows_waived(world, django_capture_on_commit_callbacks):
    loan = world.seed
    covenant = loan.covenants["7.01(c)(i)"]
    # Two-quarter EBITDA at 2000-03-31: -20,000,000 + -20,000,000 is below the -38,700,000 allowed.
    outcome = statement_records_submit(
        agreement=loan.agreement, user=None, records=seed_records(loan, dt.date(2000, 3, 31), 24_000_000, -20_000_000)
    )
    assert outcome.ok
    agreement_evaluate(agreement_id=loan.agreement.pk, as_of=AS_OF)
    result = CovenantTestResult.objects.get(covenant=covenant, test_date=dt.date(2000, 3, 31), is_current=True)
    assert result.status == ResultStatus.BREACH
    payload = {"covenant": covenant.pk, "test_date": "2000-03-31", "instrument": "Waiver No. 5"}
    assert world.client("lender").post(reverse("api:waiver-list"), payload, format="json").status_code == 403
    assert world.client("borrower").post(reverse("api:waiver-list"), payload, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("agent").post(reverse("api:waiver-list"), payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == "firstunion.api"
    result = CovenantTestResult.objects.get(covenant=covenant, test_date=dt.date(2000, 3, 31), is_current=True)
    assert result.status == ResultStatus.WAIVED
    again = world.client("agent").post(reverse("api:waiver-list"), payload, format="json")
    assert again.status_code == 400
    assert again.json()["non_field_errors"] == ["7.01(c)(i) on 2000-03-31 is already waived."]
    harbor_borrower = world.harbor.borrowers[0]
    response = world.client("admin").post(
        reverse("api:waiver-list"),
        {**payload, "test_date": "2000-06-30", "borrower": harbor_borrower.pk},
        format="json",
    )
    assert response.status_code == 400 and "is not a Borrower under" in response.json()["borrower"][0]
    assert Waiver.objects.filter(agreement=loan.agreement).count() == 2


def test_an_agent_adds_a_covenant_to_its_agreement_only(world):
    payload = {"agreement": world.seed.agreement.pk, "section": "7.01(d)", "name": "Minimum liquidity"}
    response = world.client("agent").post(reverse("api:covenant-list"), payload, format="json")
    assert response.status_code == 201
    assert response.json()["terms_in_force"] is None and response.json()["versions"] == []
    again = world.client("agent").post(reverse("api:covenant-list"), payload, format="json")
    assert again.status_code == 400
    # First Union cannot name an agreement it is not a party to.
    harbor = world.client("agent").post(
        reverse("api:covenant-list"), {**payload, "agreement": world.harbor.agreement.pk}, format="json"
    )
    assert harbor.status_code == 400
    assert Covenant.objects.filter(section="7.01(d)").count() == 1
    # A Lender cannot add one.
    lender = world.client("lender").post(reverse("api:covenant-list"), {**payload, "section": "7.02"}, format="json")
    assert lender.status_code == 403
