"""
Writes to the parties and the people who sign for them. Only administrators and the users
of an agent may make them (``portal.access.may_manage_parties``). Each service is
keyword-only and runs in one transaction; the history of each change records who made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from portal.access import may_manage_parties

from .models import Party, Person

__all__ = ["party_create", "party_update", "person_create", "person_update"]

REFUSED = "Only administrators and the Agents' users may create or change parties and signatories."
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
    _require_manager(user)
    _apply(party, changes, PARTY_FIELDS)
    party.full_clean()
    party.save()
    return party


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
    _require_manager(user)
    _apply(person, changes, PERSON_FIELDS)
    person.full_clean()
    person.save()
    return person
