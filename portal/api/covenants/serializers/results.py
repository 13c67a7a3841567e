"""Serializers of covenant test results and the Lenders' waivers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from compliance.models import CovenantTestResult
from covenants.choices import Role
from covenants.models import Amendment, Covenant, Waiver
from parties.models import Party
from portal.api.base import ScopedPrimaryKeyRelatedField
from portal.api.covenants.serializers.references import CovenantRefSerializer, UsernameField
from portal.api.parties.serializers import PartyRefSerializer


class CovenantTestResultSerializer(serializers.ModelSerializer):
    """
    The outcome of testing a covenant on a test date (for one Borrower on an each-Borrower
    basis). ``is_current`` is false once a later evaluation replaced it; ``provisional``
    when computed under an amendment still pending; ``near_breach`` when compliant with
    headroom under the covenant's warning band, as the engine decided it (the pages, exports
    and alerts say "Near breach" for exactly these).
    """

    covenant = CovenantRefSerializer(read_only=True)
    borrower = PartyRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CovenantTestResult
        fields = [
            "id",
            "agreement",
            "covenant",
            "terms",
            "test_date",
            "borrower",
            "status",
            "value",
            "threshold",
            "headroom",
            "headroom_percent",
            "provisional",
            "near_breach",
            "explanation",
            "inputs",
            "is_current",
            "evaluated_at",
            "superseded_at",
        ]
        read_only_fields = fields


class WaiverSerializer(serializers.ModelSerializer):
    """The Lenders' waiver of one covenant's test on one test date."""

    covenant = CovenantRefSerializer(read_only=True)
    borrower = PartyRefSerializer(read_only=True, allow_null=True)
    recorded_by = UsernameField()

    class Meta:
        model = Waiver
        fields = [
            "id",
            "agreement",
            "covenant",
            "test_date",
            "borrower",
            "instrument",
            "amendment",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class WaiverWriteSerializer(serializers.Serializer):
    """Record a waiver: the covenant, the test date (and the Borrower, on an each-Borrower basis), and the
    instrument that grants it."""

    covenant = ScopedPrimaryKeyRelatedField(Covenant)
    test_date = serializers.DateField()
    borrower = ScopedPrimaryKeyRelatedField(Party, required=False, allow_null=True, default=None)
    instrument = serializers.CharField(max_length=255)
    amendment = ScopedPrimaryKeyRelatedField(Amendment, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        covenant: Covenant = attrs["covenant"]
        borrower = attrs.get("borrower")
        if borrower is not None and not covenant.agreement.roles.filter(party=borrower, role=Role.BORROWER).exists():
            raise serializers.ValidationError(
                {"borrower": [f"{borrower} is not a Borrower under {covenant.agreement}."]}
            )
        return attrs
