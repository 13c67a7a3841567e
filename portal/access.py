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
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole, Amendment, Reaffirmation
from parties.choices import MembershipRole
from parties.models import Party, Person, Signature, SignatureBlock

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
    """Record parties and signatories at all: whoever holds an Agent's powers somewhere
    (:func:`holds_agent_powers`: the powers, not the membership's label). Which existing party
    or person they may change is :func:`may_change_party` / :func:`may_change_person`: per deal."""
    return holds_agent_powers(user)


def belongs_to(user: AbstractBaseUser | AnonymousUser, party_id: int) -> bool:
    """The user is one of the party's own users (any membership role)."""
    return any(pk == party_id for pk, _ in memberships_of(user))


def may_change_party(user: AbstractBaseUser | AnonymousUser, party: Party) -> bool:
    """Change a party's own record (legal name, kind, jurisdiction), which every deal it is in
    shares: administrators, the party's own users, or an Agent's user only where every
    agreement the party holds a role in is one they administer. A bank that is a Lender in
    another deal is not an Agent's to rename."""
    if not user.is_authenticated:
        return False
    if is_administrator(user) or belongs_to(user, party.pk):
        return True
    if not may_manage_parties(user):
        return False
    deals = AgreementRole.objects.filter(party=party).values("agreement_id")
    return not deals.exclude(agreement_id__in=agreements_administered_by(user).values("pk")).exists()


def signature_blocks_on(agreements: QuerySet[Agreement]) -> QuerySet[SignatureBlock]:
    """Signature blocks on the documents of these agreements: the agreements themselves, their
    amendments, and the reaffirmations of guaranties given under them."""
    types = ContentType.objects.get_for_models(Agreement, Amendment, Reaffirmation)
    return SignatureBlock.objects.filter(
        Q(document_type=types[Agreement], document_id__in=agreements.values("pk"))
        | Q(
            document_type=types[Amendment],
            document_id__in=Amendment.objects.filter(agreement__in=agreements).values("pk"),
        )
        | Q(
            document_type=types[Reaffirmation],
            document_id__in=Reaffirmation.objects.filter(guaranty__in=agreements).values("pk"),
        )
    )


def may_change_person(user: AbstractBaseUser | AnonymousUser, person: Person) -> bool:
    """Change a signatory's name or e-mail, which every document they sign shares:
    administrators, or an Agent's user only where every document the person signs belongs to
    an agreement they administer (a person who signs nothing yet: any Agent's user)."""
    if not user.is_authenticated:
        return False
    if is_administrator(user):
        return True
    if not may_manage_parties(user):
        return False
    administered = signature_blocks_on(agreements_administered_by(user))
    # Every signature, not the person's related manager: a page may have prefetched only the
    # signatures this user sees, and the rule is about the ones they do not.
    signatures = Signature.objects.filter(person_id=person.pk)
    return not signatures.exclude(block__in=administered.values("pk")).exists()


def may_manage_webhooks_of(user: AbstractBaseUser | AnonymousUser, party: Party | int) -> bool:
    """A party's webhook subscriptions (its integration, its signing secrets) are managed by
    the party's own users and administrators only: never by the Agent of a deal the party is
    in, since the party is in other deals too."""
    if not user.is_authenticated:
        return False
    party_id = party if isinstance(party, int) else party.pk
    return is_administrator(user) or belongs_to(user, party_id)


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
