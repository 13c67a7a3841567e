"""
The parties API: parties and people (signatories with their capacities). Reads start from
the user's scope (``portal.api.PortalViewSet``); writes go through ``covenants.party_services``.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from covenants import party_services
from covenants.models import AgreementRole
from parties.models import Party, PartyRelationship, Person, Signature
from portal.api.base import PortalViewSet
from portal.api.parties import serializers as s
from portal.api.parties.filtersets import PartyFilterSet, PersonFilterSet
from portal.api.parties.permissions import ManagesParties


class PartyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Parties to the agreements the user sees, with their roles there. Administrators and agents' users
    create and change them."""

    model = Party
    serializer_class = s.PartySerializer
    filterset_class = PartyFilterSet
    permission_classes = [IsAuthenticated, ManagesParties]
    ordering_fields = ["id", "legal_name"]
    ordering = ["legal_name"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        roles = self.visible(AgreementRole).select_related("agreement").order_by("agreement__name", "role", "id")
        parties = self.visible(Party)
        return queryset.prefetch_related(
            "former_names",
            "addresses",
            Prefetch("agreement_roles", queryset=roles),
            Prefetch(
                "relationships",
                queryset=PartyRelationship.objects.filter(other__in=parties).select_related("party", "other"),
            ),
            Prefetch(
                "inverse_relationships",
                queryset=PartyRelationship.objects.filter(party__in=parties).select_related("party", "other"),
            ),
        )

    def _respond(self, party: Party) -> Response:
        party = self.get_queryset().get(pk=party.pk)
        return Response(self.get_serializer(party).data)

    @extend_schema(request=s.PartyWriteSerializer, responses={201: s.PartySerializer})
    def create(self, request: Request) -> Response:
        """Record a party (administrators and agents' users). It is listed once given a role at
        agreements/{id}/roles/."""
        serializer = s.PartyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        party = party_services.party_create(user=request.user, **serializer.validated_data)
        # New: nothing names it yet, so it has no roles or relationships to prefetch.
        return Response(self.get_serializer(party).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PartyWriteSerializer(partial=True), responses={200: s.PartySerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change a party's legal name, kind or jurisdiction (administrators and agents' users)."""
        party = self.get_object()
        serializer = s.PartyWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        party = party_services.party_update(user=request.user, party=party, changes=serializer.validated_data)
        return self._respond(party)


class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """People who sign for parties, with the capacities they sign in on documents the user sees."""

    model = Person
    serializer_class = s.PersonSerializer
    filterset_class = PersonFilterSet
    permission_classes = [IsAuthenticated, ManagesParties]
    ordering_fields = ["id", "full_name"]
    ordering = ["full_name"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        signatures = (
            self.visible(Signature)
            .select_related("block__party", "for_party")
            .order_by("block__document_type_id", "block__document_id", "block__position", "position")
        )
        return queryset.prefetch_related(Prefetch("signatures", queryset=signatures))

    def _respond(self, person: Person) -> Response:
        person = self.get_queryset().get(pk=person.pk)
        return Response(self.get_serializer(person).data)

    @extend_schema(request=s.PersonWriteSerializer, responses={201: s.PersonSerializer})
    def create(self, request: Request) -> Response:
        """Record a signatory (administrators and agents' users)."""
        serializer = s.PersonWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = party_services.person_create(user=request.user, **serializer.validated_data)
        # New: no signature names the person yet.
        return Response(self.get_serializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PersonWriteSerializer(partial=True), responses={200: s.PersonSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change a signatory's name or e-mail (administrators and agents' users)."""
        person = self.get_object()
        serializer = s.PersonWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        person = party_services.person_update(user=request.user, person=person, changes=serializer.validated_data)
        return self._respond(person)
