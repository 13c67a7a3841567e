"""
``covenant-tests/`` lists are shaped from ``.values()`` rows (portal.api.covenants.rows): the body
must be exactly what the serializer gives for the same results, byte for byte, whatever the
filter, ordering or page, including each-Borrower results, nulls, replaced results and times
in the portal's time zone. A serializer the rows cannot shape is refused, never served
differently.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from portal.api.covenants.rows import ValuesRepresentation
from portal.api.covenants.serializers.results import CovenantTestResultSerializer

pytestmark = pytest.mark.django_db

RESULTS = reverse("api:covenanttest-list")


def serialized(ids: list[int]) -> bytes:
    """The serializer's representation of these results, in this order, as the API renders it."""
    instances = CovenantTestResult.objects.select_related("covenant", "borrower").in_bulk(ids)
    data = CovenantTestResultSerializer([instances[pk] for pk in ids], many=True).data
    return JSONRenderer().render(data)


def odd_rows(world) -> None:
    """Results the seed evaluation does not make: one Borrower's, with nulls and odd decimals, and a
    replaced one with its time of replacement."""
    loan = world.seed
    covenant = loan.covenants["7.01(b)"]
    borrower = next(iter(loan.borrowers.values()))
    now = timezone.now()
    common = {"agreement": loan.agreement, "covenant": covenant, "evaluated_at": now}
    CovenantTestResult.objects.create(
        **common,
        test_date=dt.date(1998, 3, 31),
        borrower=borrower,
        status=ResultStatus.BREACH,
        value=Decimal("-0.5"),
        threshold=Decimal("12.3456"),
        headroom=Decimal("0"),
        headroom_percent=None,
        explanation='Ünïcode, a line separator \u2028 and a quote ".',
        inputs={"figures": [{"amount": "1.10", "nested": {"b": None, "a": [1, 2.5, True]}}]},
    )
    CovenantTestResult.objects.create(
        **common,
        test_date=dt.date(1998, 6, 30),
        status=ResultStatus.INCOMPLETE,
        is_current=False,
        superseded_at=now.replace(microsecond=0),
        inputs={},
    )


@pytest.mark.parametrize("role", ["lender", "borrower", "admin"])
@pytest.mark.parametrize(
    "query",
    [
        {"page_size": 500},
        {"page_size": 500, "is_current": "all"},
        {"page_size": 3, "page": 2, "ordering": "-test_date"},
        {"page_size": 500, "is_current": "all", "status": ["breach", "incomplete"]},
        {"page_size": 500, "ordering": "headroom_percent"},
    ],
)
def test_the_list_body_is_the_serializers_byte_for_byte(world, role, query):
    odd_rows(world)
    response = world.client(role).get(RESULTS, query)
    assert response.status_code == 200
    body = response.json()
    ids = [row["id"] for row in body["results"]]
    assert ids, "the page has rows to compare"
    assert serialized(ids) in response.content
    assert response.content.endswith(serialized(ids) + b"}")


def test_each_borrower_nulls_and_replaced_results_come_out_as_the_serializer_gives_them(world):
    odd_rows(world)
    rows = world.client("admin").get(RESULTS, {"is_current": "all", "page_size": 500}).json()["results"]
    each = next(r for r in rows if r["test_date"] == "1998-03-31")
    assert each["borrower"] == {"id": each["borrower"]["id"], "legal_name": each["borrower"]["legal_name"]}
    assert (each["value"], each["threshold"], each["headroom"], each["headroom_percent"]) == (
        "-0.500000",
        "12.345600",
        "0.000000",
        None,
    )
    replaced = next(r for r in rows if r["test_date"] == "1998-06-30")
    assert replaced["borrower"] is None and replaced["is_current"] is False and replaced["inputs"] == {}
    assert dt.datetime.fromisoformat(replaced["superseded_at"]).utcoffset() is not None


def test_the_rows_need_no_more_queries_than_the_serializer(world, django_assert_max_num_queries):
    client = world.client("lender")
    client.get(RESULTS, {"page_size": 1})  # the content types, cached as on a running server
    with django_assert_max_num_queries(8):
        assert client.get(RESULTS, {"page_size": 500}).status_code == 200


class _WithMethod(serializers.ModelSerializer):
    shown = serializers.SerializerMethodField()

    class Meta:
        model = CovenantTestResult
        fields = ["id", "shown"]

    def get_shown(self, result: CovenantTestResult) -> str:
        return "x"


class _Dotted(serializers.ModelSerializer):
    section = serializers.CharField(source="covenant.section")

    class Meta:
        model = CovenantTestResult
        fields = ["id", "section"]


class _Reverse(serializers.ModelSerializer):
    events = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CovenantTestResult
        fields = ["id", "events"]


@pytest.mark.parametrize("serializer", [_WithMethod, _Dotted, _Reverse])
def test_a_serializer_the_rows_cannot_shape_is_refused(serializer):
    with pytest.raises(ImproperlyConfigured):
        ValuesRepresentation(serializer())
