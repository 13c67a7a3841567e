"""
Filtersets of the parties app, shared by the API and the pages. Filters that name an
agreement or a party accept only those the requesting user may see, and filters on roles
and signatures look only at agreements and documents the user may see.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from parties.choices import EntityKind
from parties.models import Party, Person, Signature
from portal.api.base import scoped_choices, visible

__all__ = ["PartyFilterSet", "PersonFilterSet"]


class PartyFilterSet(filters.FilterSet):
    """Parties by words of their name (or a former name), kind, and role in an agreement."""

    q = filters.CharFilter(method="search", help_text="Words of the legal name or a former name.")
    kind = filters.ChoiceFilter(choices=EntityKind.choices)
    agreement = filters.ModelChoiceFilter(
        queryset=scoped_choices(Agreement), method="in_agreement", help_text="Parties holding a role in it."
    )
    role = filters.ChoiceFilter(choices=Role.choices, method="in_agreement", help_text="Parties holding this role.")

    class Meta:
        model = Party
        fields = ["q", "kind", "agreement", "role"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(legal_name__icontains=value) | Q(former_names__name__icontains=value)).distinct()

    def in_agreement(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        # Both filters in one condition (the role held in that agreement), and only over
        # agreements the user may see: a role elsewhere is not the user's business.
        if name == "role" and self.form.cleaned_data.get("agreement"):
            return queryset  # applied with the agreement
        roles = AgreementRole.objects.filter(agreement__in=visible(Agreement, getattr(self.request, "user", None)))
        if name == "agreement":
            roles = roles.filter(agreement=value)
            if self.form.cleaned_data.get("role"):
                roles = roles.filter(role=self.form.cleaned_data["role"])
        else:
            roles = roles.filter(role=value)
        return queryset.filter(pk__in=roles.values("party_id"))


class PersonFilterSet(filters.FilterSet):
    """Signatories by name, or by the party they sign for on documents the user may see."""

    q = filters.CharFilter(field_name="full_name", lookup_expr="icontains", help_text="Words of the name.")
    party = filters.ModelChoiceFilter(
        queryset=scoped_choices(Party), method="signs_for", help_text="People who sign for this party."
    )

    class Meta:
        model = Person
        fields = ["q", "party"]

    def signs_for(self, queryset: QuerySet, name: str, value: Party) -> QuerySet:
        signatures = visible(Signature, getattr(self.request, "user", None)).filter(
            Q(block__party=value) | Q(for_party=value)
        )
        return queryset.filter(pk__in=signatures.values("person_id"))
