"""
Serializers of the parties API: parties with their names, addresses, roles and
relationships, and people with their signing capacities. Nested rows are those the
viewset prefetched from the user's scope, so a party's role in an agreement the user
may not see is never listed.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from covenants.models import AgreementRole
from parties.choices import EntityKind
from parties.models import Address, Party, PartyRelationship, Person, Signature


class PartyRefSerializer(serializers.ModelSerializer):
    """A party named by another resource."""

    class Meta:
        model = Party
        fields = ["id", "legal_name"]
        read_only_fields = fields


class AddressSerializer(serializers.ModelSerializer):
    """An office address as a document gives it."""

    class Meta:
        model = Address
        fields = ["label", "street", "suite", "city", "region", "postal_code", "country"]
        read_only_fields = fields


class PartyRoleSerializer(serializers.ModelSerializer):
    """The party's role in an agreement the user may see."""

    agreement_name = serializers.CharField(source="agreement.name", read_only=True)

    class Meta:
        model = AgreementRole
        fields = ["id", "agreement", "agreement_name", "role", "defined_term", "holds_from", "holds_to"]
        read_only_fields = fields


class RelationshipSerializer(serializers.ModelSerializer):
    """``party`` is ``kind`` ``other``: e.g. KMC Telecom Inc. is the sole member of Leasing I."""

    party = PartyRefSerializer(read_only=True)
    other = PartyRefSerializer(read_only=True)

    class Meta:
        model = PartyRelationship
        fields = ["party", "kind", "other"]
        read_only_fields = fields


class PartySerializer(serializers.ModelSerializer):
    """A legal entity that holds roles in agreements, with its former names and addresses."""

    former_names = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    addresses = AddressSerializer(many=True, read_only=True)
    roles = PartyRoleSerializer(source="agreement_roles", many=True, read_only=True)
    relationships = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = [
            "id",
            "legal_name",
            "kind",
            "jurisdiction",
            "description",
            "former_names",
            "addresses",
            "roles",
            "relationships",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RelationshipSerializer(many=True))
    def get_relationships(self, party: Party) -> list:
        """Relationships either way with parties the user may see."""
        rows = [*party.relationships.all(), *party.inverse_relationships.all()]
        return RelationshipSerializer(rows, many=True).data


class PartyWriteSerializer(serializers.Serializer):
    """A party's legal name, kind and jurisdiction."""

    legal_name = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=EntityKind.choices, default=EntityKind.OTHER)
    jurisdiction = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class CapacitySerializer(serializers.ModelSerializer):
    """One signature: for which party, with what title, on which document, as printed."""

    party = PartyRefSerializer(source="block.party", read_only=True)
    party_name_as_printed = serializers.CharField(source="block.party_name_as_printed", read_only=True)
    capacity_as_printed = serializers.CharField(source="block.capacity_as_printed", read_only=True)
    for_party = PartyRefSerializer(read_only=True, allow_null=True)
    document_type = serializers.SerializerMethodField()
    document_id = serializers.IntegerField(source="block.document_id", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "party",
            "party_name_as_printed",
            "capacity_as_printed",
            "title",
            "title_as_printed",
            "for_party",
            "for_party_capacity",
            "conformed",
            "document_type",
            "document_id",
        ]
        read_only_fields = fields

    def get_document_type(self, signature: Signature) -> str:
        """agreement, amendment or reaffirmation."""
        return ContentType.objects.get_for_id(signature.block.document_type_id).model


class PersonSerializer(serializers.ModelSerializer):
    """A person who signs for parties, with each capacity they sign in on documents the user may see."""

    capacities = CapacitySerializer(source="signatures", many=True, read_only=True)
    # Empty when not known, so not declared as an e-mail address in the schema.
    email = serializers.CharField(read_only=True, help_text="The person's e-mail address; empty when not known.")

    class Meta:
        model = Person
        fields = ["id", "full_name", "email", "capacities", "created_at", "updated_at"]
        read_only_fields = fields


class PersonWriteSerializer(serializers.Serializer):
    """A signatory's name and e-mail."""

    full_name = serializers.CharField(max_length=255)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
