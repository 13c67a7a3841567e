"""
The execution API on the seed: a signatory executes a block (created, never changed: no update
or delete), the condition says what is missing, the Agent records Leasing II's paper original
and the amendment is effective; another agreement's Agent sees nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from covenants.models import ConditionPrecedent
from parties.models import Party
from tests.factories import PASSWORD, second_facility

pytestmark = pytest.mark.django_db


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_block_executed_through_the_api_is_never_changed_and_the_condition_says_what_is_missing(deal):
    block = deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE")
    signer = client_of(deal.signer_of(block))
    url = reverse("api:execution-list")
    body = {"block": block.pk, "document_sha256": deal.document.sha256, "password": PASSWORD}
    assert client_of(deal.agent).post(url, body, format="json").status_code == 403
    response = signer.post(url, body, format="json")
    assert response.status_code == 201, response.content
    row = response.json()
    assert row["party"] == "Canadian Imperial Bank of Commerce" and row["document_sha256"] == deal.document.sha256
    assert "password" not in row and row["revocation"] is None
    detail = reverse("api:execution-detail", args=[row["id"]])
    for method in ("put", "patch", "delete"):
        assert getattr(signer, method)(detail, {"capacity": "x"}, format="json").status_code == 405
    again = signer.post(url, body, format="json")
    assert again.status_code == 400 and "already executed" in str(again.json())

    condition = ConditionPrecedent.objects.get(amendment=deal.amendment)
    found = client_of(deal.agent).get(reverse("api:condition-detail", args=[condition.pk])).json()
    assert found["met"] is False
    assert "KMC Telecom Leasing II LLC: no signature block in the document as printed" in found["missing"]
    harbor = second_facility()
    assert client_of(harbor.users["agent"]).get(detail).status_code == 404
    assert client_of(harbor.users["agent"]).get(reverse("api:condition-detail", args=[condition.pk])).status_code == 404
    recorded = client_of(deal.agent).post(
        reverse("api:condition-record", args=[condition.pk]),
        {
            "party": Party.objects.get(legal_name="KMC Telecom Leasing II LLC").pk,
            "reason": "Original received on paper.",
            "satisfied_on": "2000-01-20",
        },
        format="json",
    )
    assert recorded.status_code == 201
    assert recorded.json()["recorded"][0]["party"] == "KMC Telecom Leasing II LLC"
