"""Serializers of agreements, their parties' roles and their amendment chain."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from covenants.choices import AmendmentStatus, Role
from covenants.models import Agreement, AgreementRole, Amendment, ConditionPrecedent
from covenants.onboarding import AGREEMENT_FIELDS
from covenants.terms_services import AMENDMENT_FIELDS
from parties.models import Party
from portal.api.base import ScopedPrimaryKeyRelatedField, parties_attachable_by
from portal.api.covenants.serializers.references import CovenantRefSerializer
from portal.api.parties.serializers import PartyRefSerializer


class AgreementRoleSerializer(serializers.ModelSerializer):
    """A party's role in an agreement, under its defined term, for a span of dates."""

    party = PartyRefSerializer(read_only=True)

    class Meta:
        model = AgreementRole
        fields = [
            "id",
            "party",
            "role",
            "defined_term",
            "capacity_as_printed",
            "holds_from",
            "holds_to",
            "added_by",
        ]
        read_only_fields = fields


class AgreementRoleWriteSerializer(serializers.Serializer):
    """Give a party a role in the agreement."""

    party = ScopedPrimaryKeyRelatedField(Party, scope=parties_attachable_by)
    role = serializers.ChoiceField(choices=Role.choices)
    defined_term = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    capacity_as_printed = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    holds_from = serializers.DateField(required=False, allow_null=True, default=None)
    holds_to = serializers.DateField(required=False, allow_null=True, default=None)
    added_by = ScopedPrimaryKeyRelatedField(Amendment, required=False, allow_null=True, default=None)


class ConditionPrecedentSerializer(serializers.ModelSerializer):
    """A condition an amendment's effectiveness waits on; a deadline left blank is null, with the text as printed."""

    class Meta:
        model = ConditionPrecedent
        fields = ["id", "description", "deadline", "deadline_as_printed", "satisfied_on"]
        read_only_fields = fields


class AmendmentSerializer(serializers.ModelSerializer):
    """An amendment in the agreement's chain; pending until its conditions precedent are satisfied."""

    conditions_precedent = ConditionPrecedentSerializer(many=True, read_only=True)

    class Meta:
        model = Amendment
        fields = [
            "id",
            "agreement",
            "number",
            "title",
            "defined_term",
            "contract_number",
            "dated_as_of",
            "effective_on",
            "status",
            "conditions_precedent",
        ]
        read_only_fields = fields


class AmendmentWriteSerializer(serializers.ModelSerializer):
    """A new amendment of an agreement, as its text records it; the terms it makes follow at
    ``covenants/{id}/terms/`` with ``amendment`` set."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    # Declared, so the schema's bounds are the model's on every database (not the backend's).
    number = serializers.IntegerField(min_value=0, max_value=32767)

    class Meta:
        model = Amendment
        fields = ["agreement", *AMENDMENT_FIELDS]
        validators: list = []  # the model's own checks run in the service, with the admin's messages


class AmendmentChangeSerializer(serializers.ModelSerializer):
    """Change an amendment: mark it effective or pending again (results under a pending amendment
    are provisional), or correct its particulars. A new effective date moves the terms it made."""

    status = serializers.ChoiceField(choices=AmendmentStatus.choices, required=False)
    number = serializers.IntegerField(min_value=0, max_value=32767, required=False)

    class Meta:
        model = Amendment
        fields = ["status", *AMENDMENT_FIELDS]
        extra_kwargs = {name: {"required": False} for name in AMENDMENT_FIELDS}
        validators: list = []


class AgreementSerializer(serializers.ModelSerializer):
    """An agreement with its parties' roles, its amendment chain and its covenants."""

    guaranteed_agreement = serializers.SerializerMethodField()
    required_line_items = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    roles = AgreementRoleSerializer(many=True, read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)
    covenants = CovenantRefSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            *AGREEMENT_FIELDS,
            "required_line_items",
            "roles",
            "amendments",
            "covenants",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_guaranteed_agreement(self, agreement: Agreement) -> int | None:
        """For a guaranty, the agreement it guarantees, when the user may see that one too."""
        pk = agreement.guaranteed_agreement_id
        return pk if pk is not None and pk in self.context.get("visible_agreement_ids", ()) else None
