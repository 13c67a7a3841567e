"""
The forms real agreements write (tests/compliance/form_scenarios.py), stored as models and
evaluated through compliance.services.agreement_evaluate: monthly liquidity over monthly
statements, a 52/53-week retailer, a quarterly fixed charge coverage ratio over monthly
statements, capped add-backs, a consolidated test, a threshold at 85% of a budget, an
amendment whose effective date changes. Each at equality (passes), a cent or 0.000001 either
side, with figures missing and with the threshold unknown (never compliant); and the queries
stay as many whatever the number of covenants and periods. tests/api/test_covenant_forms_api.py
runs the same scenarios through /api/v1/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.services import agreement_evaluate
from covenants.models import Amendment, CovenantTerms
from tests.compliance import form_scenarios as forms
from tests.compliance.form_models import build, results

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("scenario", forms.SCENARIOS, ids=lambda s: s.name)
def test_each_form_through_the_service(scenario: forms.Scenario) -> None:
    forms.check(scenario, results(build(scenario)))


@pytest.mark.parametrize("scenario", forms.SCENARIOS[-3:], ids=lambda s: s.name)
def test_an_amendments_terms_follow_its_new_effective_date_or_the_move_is_refused(scenario: forms.Scenario) -> None:
    agreement = build(scenario)
    amendment = Amendment.objects.get(agreement=agreement)
    amendment.effective_on = forms.AMENDMENT_MOVES["follows"]
    amendment.save()
    raised = CovenantTerms.objects.get(amendment=amendment)
    assert raised.effective_from == forms.AMENDMENT_MOVES["follows"]
    assert [h.effective_from for h in raised.history.order_by("history_id")][-2:] == [
        forms.AMENDMENT_NO_1.effective_on,
        forms.AMENDMENT_MOVES["follows"],
    ]
    agreement_evaluate(agreement_id=agreement.pk, as_of=scenario.as_of)
    moved = dataclasses.replace(
        scenario, expect=tuple(e for e in scenario.expect if e.test_date != forms.AMENDMENT_MOVED.test_date)
    )
    forms.check(moved, results(agreement))
    forms.check(dataclasses.replace(scenario, expect=(forms.AMENDMENT_MOVED,)), results(agreement))
    amendment.effective_on = forms.AMENDMENT_MOVES["refused"]
    with pytest.raises(ValidationError) as caught:
        amendment.save()
    assert forms.AMENDMENT_REFUSAL in caught.value.message_dict["effective_on"][0]
    raised.refresh_from_db()
    assert raised.effective_from == forms.AMENDMENT_MOVES["follows"]


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def _queries(covenants: int, quarters: int) -> int:
    name = f"Acme {covenants} {quarters} Inc."
    days = [dt.date(2022, 3, 31), dt.date(2022, 6, 30), dt.date(2022, 9, 30), dt.date(2022, 12, 31)][:quarters]
    tested = tuple(
        forms.Terms(f"8.{index}", (forms.Row(days[0], "1", applies_thereafter=True),), metric="fccr")
        for index in range(covenants)
    )
    scenario = forms.Scenario(
        name="queries",
        borrowers=(name,),
        metrics=(forms.Metric("fccr", "Fixed Charge Coverage Ratio", "(ebitda - capex) / fixed_charges"),),
        terms=(*tested, forms.Terms("9.0", (forms.Row(days[0], "1"),), line_item="ebitda")),
        statements=tuple(
            (name, day, {"ebitda": "600000", "capex": "100000", "fixed_charges": "400000"}) for day in days
        ),
        expect=(),
        as_of=dt.date(2023, 1, 31),
    )
    agreement = build(scenario)
    with CaptureQueriesContext(connection) as captured:
        agreement_evaluate(agreement_id=agreement.pk, as_of=scenario.as_of, skip_unchanged=False)
    return len(captured)


def test_defined_terms_cost_one_query_whatever_the_number_of_covenants_and_quarters() -> None:
    # Re-evaluating unchanged figures (not skipped): the queries of the seed's re-evaluation
    # (tests/compliance/test_evaluation.py: seventeen and the input digests, one query on
    # PostgreSQL, two elsewhere), and one for the agreements' defined terms.
    digests = 1 if connection.vendor == "postgresql" else 2
    assert _queries(1, 1) == _queries(3, 4) == 18 + digests
