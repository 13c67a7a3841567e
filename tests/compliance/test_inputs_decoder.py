"""A result's inputs read back through orjson (compliance.inputs_json.InputsDecoder) say what
the standard library would have read: the same document, and the same for what orjson refuses."""

from __future__ import annotations

import json
import math

import pytest

from compliance.inputs_json import InputsDecoder
from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from tests.alerts.helpers import Q3_2019, Q4_2019, D, revenue_rows, submit
from tests.factories import second_facility


@pytest.mark.django_db
def test_stored_inputs_read_back_as_the_standard_library_reads_them():
    harbor = second_facility("Harbor")
    for quarter in (Q3_2019, Q4_2019):
        submit(harbor, revenue_rows(harbor, quarter, 2_000_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=D(2020, 5, 1))
    results = list(CovenantTestResult.objects.exclude(inputs={}))
    assert results and any(r.inputs["figures"] for r in results)
    for result in results:
        text = json.dumps(result.inputs)
        assert result.inputs == json.loads(text)
        assert CovenantTestResult._meta.get_field("inputs").decoder is InputsDecoder


def test_what_orjson_refuses_is_read_by_the_standard_library():
    text = '{"big": 123456789012345678901234567890, "nan": NaN, "amount": "12.50"}'
    read = json.loads(text, cls=InputsDecoder)
    assert read["big"] == 123456789012345678901234567890 and math.isnan(read["nan"]) and read["amount"] == "12.50"
    with pytest.raises(json.JSONDecodeError):
        json.loads("{not json", cls=InputsDecoder)
