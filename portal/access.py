"""
The one access rule: which agreements a user may see.

A user sees an agreement when a party they belong to holds any role in it (Borrower,
Lender, Agent, Collateral Agent, Guarantor, ...); administrators and staff see all. Every
page, the API and the tasks that notify users read through this, so no view can forget it.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from covenants.choices import Role
from covenants.models import Agreement
from parties.choices import MembershipRole
from parties.models import Party

# Membership roles and the agreement roles they act for.
LENDER_SIDE_ROLES = (Role.LENDER, Role.AGENT, Role.COLLATERAL_AGENT)
AGENT_ROLES = (Role.AGENT, Role.COLLATERAL_AGENT)


def is_administrator(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Administrators see and manage every agreement."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.memberships.filter(role=MembershipRole.ADMINISTRATOR).exists()


def parties_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Party]:
    """The parties a user belongs to."""
    if not user.is_authenticated:
        return Party.objects.none()
    return Party.objects.filter(memberships__user=user).distinct()


def agreements_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Agreement]:
    """Agreements the user may see: those where one of their parties holds a role."""
    if not user.is_authenticated:
        return Agreement.objects.none()
    if is_administrator(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(pk__in=Agreement.objects.filter(roles__party__memberships__user=user).values("pk"))


def borrowers_user_may_submit_for(user: AbstractBaseUser | AnonymousUser, agreement: Agreement) -> QuerySet[Party]:
    """Borrowers of the agreement for whom the user may submit figures.

    A borrower's user submits for the Borrowers they belong to; agents and administrators
    may submit for any Borrower of the agreement (they often key figures in for them).
    """
    borrowers = Party.objects.filter(agreement_roles__agreement=agreement, agreement_roles__role=Role.BORROWER)
    if not user.is_authenticated:
        return Party.objects.none()
    if is_administrator(user):
        return borrowers.distinct()
    if acts_as_agent(user, agreement):
        return borrowers.distinct()
    return borrowers.filter(memberships__user=user, memberships__role=MembershipRole.BORROWER).distinct()


def acts_as_agent(user: AbstractBaseUser | AnonymousUser, agreement: Agreement) -> bool:
    """The user belongs to the agreement's Agent or Collateral Agent."""
    if not user.is_authenticated:
        return False
    return agreement.roles.filter(role__in=AGENT_ROLES, party__memberships__user=user).exists()


def may_administer(user: AbstractBaseUser | AnonymousUser, agreement: Agreement) -> bool:
    """Change covenant terms, amendments and roles, and record waivers: Agents and administrators."""
    return is_administrator(user) or acts_as_agent(user, agreement)


def may_manage_parties(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Create and edit parties and signatories: administrators and users of an agent."""
    if not user.is_authenticated:
        return False
    return is_administrator(user) or user.memberships.filter(role=MembershipRole.AGENT).exists()


def agreements_administered_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Agreement]:
    """Agreements whose terms the user may change: all for administrators, else those they are Agent in."""
    if not user.is_authenticated:
        return Agreement.objects.none()
    if is_administrator(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(
        pk__in=Agreement.objects.filter(roles__role__in=AGENT_ROLES, roles__party__memberships__user=user).values("pk")
    )
