"""
Writes to the parties and the people who sign for them. A party or person sits in many deals,
so a change is allowed per deal (``covenants.access.may_change_party`` / ``may_change_person``):
an Agent changes only what no other deal shares. Each service is keyword-only and runs in one
transaction; the history of each change records who made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from covenants.access import may_change_party, may_change_person, may_manage_parties
from parties.models import FormerName, Party, Person

__all__ = ["party_create", "party_former_name_record", "party_update", "person_create", "person_update"]

REFUSED = "Only administrators and the Agents' users may create or change parties and signatories."
SHARED_PARTY = (
    "{party} is also a party to agreements you do not administer: only an administrator or "
    "{party}'s own users may change its record."
)
SHARED_PERSON = (
    "{person} also signs documents of agreements you do not administer: only an administrator may change "
    "this signatory's record."
)
PARTY_FIELDS = ("legal_name", "kind", "jurisdiction")
PERSON_FIELDS = ("full_name", "email")


def _require_manager(user: AbstractBaseUser) -> None:
    if not may_manage_parties(user):
        raise PermissionDenied(REFUSED)


def _apply(instance: Any, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def party_create(*, user: AbstractBaseUser, legal_name: str, kind: str = "other", jurisdiction: str = "") -> Party:
    """Record a legal entity; it sees nothing until it is given a role in an agreement."""
    _require_manager(user)
    party = Party()
    _apply(party, {"legal_name": legal_name, "kind": kind, "jurisdiction": jurisdiction}, PARTY_FIELDS)
    party.full_clean()
    party.save()
    return party


@transaction.atomic
def party_update(*, user: AbstractBaseUser, party: Party, changes: Mapping[str, Any]) -> Party:
    """Change a party's legal name, kind or jurisdiction (the former name is not kept here:
    record it as a former name)."""
    if not may_change_party(user, party):
        raise PermissionDenied(SHARED_PARTY.format(party=party.legal_name))
    old_name = Party.objects.filter(pk=party.pk).values_list("legal_name", flat=True).get()
    _apply(party, changes, PARTY_FIELDS)
    party.full_clean()
    party.save()
    party_former_name_record(party=party, old_name=old_name)
    return party


def party_former_name_record(*, party: Party, old_name: str) -> None:
    """A renamed party keeps its old name as a former name ("formerly known as"), so documents
    that print it, and a second load of the seed documents, still find the party."""
    if old_name and old_name != party.legal_name:
        FormerName.objects.get_or_create(party=party, name=old_name)


@transaction.atomic
def person_create(*, user: AbstractBaseUser, full_name: str, email: str = "") -> Person:
    """Record a person who signs for parties."""
    _require_manager(user)
    person = Person()
    _apply(person, {"full_name": full_name, "email": email}, PERSON_FIELDS)
    person.full_clean()
    person.save()
    return person


@transaction.atomic
def person_update(*, user: AbstractBaseUser, person: Person, changes: Mapping[str, Any]) -> Person:
    """Change a person's name or e-mail."""
    if not may_change_person(user, person):
        raise PermissionDenied(SHARED_PERSON.format(person=person.full_name))
    _apply(person, changes, PERSON_FIELDS)
    person.full_clean()
    person.save()
    return person
