"""
The one access rule: which agreements a user may see.

A user sees an agreement when a party they belong to holds any role in it (Borrower,
Lender, Agent, Collateral Agent, Guarantor, ...); administrators and staff see all. Every
page, the API and the tasks that notify users read through this, so no view can forget it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole
from parties.choices import MembershipRole
from parties.models import Party

# Membership roles and the agreement roles they act for.
LENDER_SIDE_ROLES = (Role.LENDER, Role.AGENT, Role.COLLATERAL_AGENT)
AGENT_ROLES = (Role.AGENT, Role.COLLATERAL_AGENT)


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[tuple[int, str]]:
    """The user's memberships as (party, membership role).

    Asked several times per page, they are read once per user object: each request has its
    own (the authentication middleware loads it), so a change of membership shows on the next."""
    if not user.is_authenticated:
        return frozenset()
    known = user.__dict__.get("_portal_memberships")
    if known is None:
        known = user.__dict__["_portal_memberships"] = frozenset(user.memberships.values_list("party_id", "role"))
    return known


def is_administrator(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Administrators see and manage every agreement."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(role == MembershipRole.ADMINISTRATOR for _, role in memberships_of(user))


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
    """The user belongs to the agreement's Agent or Collateral Agent (read once per user
    object and agreement, as :func:`is_administrator` is)."""
    if not user.is_authenticated:
        return False
    known: dict[int, bool] = user.__dict__.setdefault("_portal_acts_as_agent", {})
    if agreement.pk not in known:
        known[agreement.pk] = agreement.roles.filter(role__in=AGENT_ROLES, party__memberships__user=user).exists()
    return known[agreement.pk]


def may_submit_given_roles(user: AbstractBaseUser | AnonymousUser, roles: Iterable[AgreementRole]) -> bool:
    """Whether ``borrowers_user_may_submit_for`` names anyone, decided from all the agreement's
    roles when the caller has them loaded (the agreement page): no query beyond the user's
    memberships."""
    if not user.is_authenticated:
        return False
    roles = list(roles)
    borrowers = [r for r in roles if r.role == Role.BORROWER]
    if not borrowers:
        return False
    if is_administrator(user):
        return True
    mine = memberships_of(user)
    parties = {party_id for party_id, _ in mine}
    if any(r.role in AGENT_ROLES and r.party_id in parties for r in roles):
        return True
    return any((r.party_id, MembershipRole.BORROWER) in mine for r in borrowers)


def may_administer(user: AbstractBaseUser | AnonymousUser, agreement: Agreement) -> bool:
    """Change covenant terms, amendments and roles, and record waivers: Agents and administrators."""
    return is_administrator(user) or acts_as_agent(user, agreement)


def may_manage_parties(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Create and edit parties and signatories: administrators and users of an agent."""
    if not user.is_authenticated:
        return False
    return is_administrator(user) or any(role == MembershipRole.AGENT for _, role in memberships_of(user))


def agreements_administered_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Agreement]:
    """Agreements whose terms the user may change: all for administrators, else those they are Agent in."""
    if not user.is_authenticated:
        return Agreement.objects.none()
    if is_administrator(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(
        pk__in=Agreement.objects.filter(roles__role__in=AGENT_ROLES, roles__party__memberships__user=user).values("pk")
    )


def holds_agent_powers(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user holds an Agent's powers anywhere: an administrator, or a user of a party
    (any membership role) that is Agent or Collateral Agent in some agreement. The powers held,
    not the membership's label: the deployment's two-factor requirement follows this
    (:mod:`portal.two_factor`). Read once per user object, as :func:`is_administrator` is."""
    if not user.is_authenticated:
        return False
    known = user.__dict__.get("_portal_holds_agent_powers")
    if known is None:
        known = is_administrator(user) or agreements_administered_by(user).exists()
        user.__dict__["_portal_holds_agent_powers"] = known
    return known
