"""
Who a user is in each deal, and the registry that turns it into ``visible`` and ``may``.

Everything here is per deal: a party sits in many agreements, and what its users may do in
one says nothing about another. The per-model scopes and actions are registered in
:mod:`covenants.access.scopes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, Model, Q, QuerySet

from covenants.choices import Basis, Role
from covenants.models import Agreement, AgreementRole, Amendment, CovenantTerms, Reaffirmation
from parties.choices import MembershipRole
from parties.models import Membership, Party, SignatureBlock

User = AbstractBaseUser | AnonymousUser
M = TypeVar("M", bound=Model)

# Membership roles and the agreement roles they act for.
LENDER_SIDE_ROLES = (Role.LENDER, Role.AGENT, Role.COLLATERAL_AGENT)
AGENT_ROLES = (Role.AGENT, Role.COLLATERAL_AGENT)


# --- Who the user is ----------------------------------------------------------------------


def memberships_of(user: User) -> frozenset[tuple[int, str]]:
    """The user's memberships as (party, membership role).

    Asked several times per page, they are read once per user object: each request has its
    own (the authentication middleware loads it), so a change of membership shows on the next."""
    if not user.is_authenticated:
        return frozenset()
    known = user.__dict__.get("_portal_memberships")
    if known is None:
        known = user.__dict__["_portal_memberships"] = frozenset(user.memberships.values_list("party_id", "role"))
    return known


def is_administrator(user: User) -> bool:
    """Administrators (superusers, and users with an Administrator membership) see and manage
    every agreement. Being staff is not being an administrator: staff only opens the admin."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(role == MembershipRole.ADMINISTRATOR for _, role in memberships_of(user))


def administrator_q(user: User) -> Q:
    """:func:`is_administrator` as a condition inside a query, for reads that must not spend a
    query on the user's memberships first (the header's unread count)."""
    if user.is_superuser:
        return Q(pk__isnull=False)
    return Q(Exists(Membership.objects.filter(user_id=user.pk, role=MembershipRole.ADMINISTRATOR)))


def belongs_to(user: User, party_id: int) -> bool:
    """The user is one of the party's own users (any membership role)."""
    return any(pk == party_id for pk, _ in memberships_of(user))


def parties_of(user: User) -> QuerySet[Party]:
    """The parties a user belongs to."""
    if not user.is_authenticated:
        return Party.objects.none()
    return Party.objects.filter(memberships__user=user).distinct()


def member_agreement_ids(user: User) -> QuerySet:
    """Ids of the agreements in which a party the user belongs to holds a role (a subquery)."""
    return AgreementRole.objects.filter(party__memberships__user=user).values("agreement_id")


def agreements_visible_to(user: User) -> QuerySet[Agreement]:
    """Agreements the user may see: those where one of their parties holds a role; all for administrators."""
    if not user.is_authenticated:
        return Agreement.objects.none()
    if is_administrator(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(pk__in=Agreement.objects.filter(roles__party__memberships__user=user).values("pk"))


def agreements_administered_by(user: User) -> QuerySet[Agreement]:
    """Agreements whose terms the user may change: all for administrators, else those they are Agent in."""
    if not user.is_authenticated:
        return Agreement.objects.none()
    if is_administrator(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(
        pk__in=Agreement.objects.filter(roles__role__in=AGENT_ROLES, roles__party__memberships__user=user).values("pk")
    )


def acts_as_agent(user: User, agreement: Agreement, *, roles: Iterable[AgreementRole] | None = None) -> bool:
    """The user belongs to the agreement's Agent or Collateral Agent (read once per user
    object and agreement, as :func:`is_administrator` is). ``roles``: every role of the
    agreement, when the caller has them loaded (the agreement page), decided from them and the
    user's memberships without a query of its own."""
    if not user.is_authenticated:
        return False
    known: dict[int, bool] = user.__dict__.setdefault("_portal_acts_as_agent", {})
    if agreement.pk not in known:
        if roles is None:
            known[agreement.pk] = agreement.roles.filter(role__in=AGENT_ROLES, party__memberships__user=user).exists()
        else:
            mine = {party_id for party_id, _ in memberships_of(user)}
            known[agreement.pk] = any(role.role in AGENT_ROLES and role.party_id in mine for role in roles)
    return known[agreement.pk]


def may_administer(user: User, agreement: Agreement, *, roles: Iterable[AgreementRole] | None = None) -> bool:
    """Change covenant terms, amendments and roles, and record waivers: Agents and administrators
    (``roles``: as :func:`acts_as_agent` takes them)."""
    return is_administrator(user) or acts_as_agent(user, agreement, roles=roles)


def holds_agent_powers(user: User) -> bool:
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


# --- Submitting figures: the one rule ----------------------------------------------------


#: Not a role an agreement gives, but what consolidated terms make a party: the one whose
#: consolidated statement stands for the group (a parent or guarantor, often no Borrower). Its
#: users submit that statement, for the agreements where it is so named only.
REPORTING_PARTY = "reporting_party"


def reporting_roles(agreements: QuerySet[Agreement] | list[int]) -> QuerySet:
    """(agreement id, party id, REPORTING_PARTY) for the reporting parties of the consolidated
    terms of these agreements (a query, as a list of rows like the agreements' roles)."""
    return (
        CovenantTerms.objects.filter(
            covenant__agreement__in=agreements, basis=Basis.CONSOLIDATED, reporting_party__isnull=False
        )
        .values_list("covenant__agreement_id", "reporting_party_id")
        .distinct()
        .order_by()
    )


def submits_for(user: User, roles: Iterable[tuple[int, str]]) -> set[int]:
    """The reporting entities of one agreement the user may submit figures for, from the
    agreement's roles as (party, role), its Borrowers and the reporting parties of its
    consolidated terms (role :data:`REPORTING_PARTY`): every one of them for administrators and for
    the users of its Agent or Collateral Agent (they often key figures in for them); for a
    Borrower's or reporting party's own users (Borrower membership), that party. Decided from the
    user's memberships: no query of its own."""
    if not user.is_authenticated:
        return set()
    roles = list(roles)
    reporting = {party for party, role in roles if role in (Role.BORROWER, REPORTING_PARTY)}
    if not reporting:
        return set()
    if is_administrator(user):
        return reporting
    mine = memberships_of(user)
    parties = {party for party, _ in mine}
    if any(role in AGENT_ROLES and party in parties for party, role in roles):
        return reporting
    return {party for party in reporting if (party, MembershipRole.BORROWER) in mine}


def agreement_roles_for_submitting(agreement: Agreement) -> list[tuple[int, str]]:
    """The agreement's roles as (party, role), with its consolidated terms' reporting parties:
    what :func:`submits_for` decides from. Two queries."""
    roles = list(AgreementRole.objects.filter(agreement=agreement).values_list("party_id", "role"))
    roles.extend((party, REPORTING_PARTY) for _, party in reporting_roles([agreement.pk]))
    return roles


def submittable_borrower_ids(user: User, agreement: Agreement) -> set[int]:
    """:func:`submits_for` on the agreement's roles and reporting parties: two queries, once per
    user object and agreement (a submission asks at the door and again for each row's party)."""
    if not user.is_authenticated:
        return set()
    known: dict[int, set[int]] = user.__dict__.setdefault("_portal_submits_for", {})
    if agreement.pk not in known:
        known[agreement.pk] = submits_for(user, agreement_roles_for_submitting(agreement))
    return known[agreement.pk]


def submittable_agreement_ids(user: User) -> set[int]:
    """The visible agreements the user may submit to, by :func:`submits_for`: two queries for all."""
    visible = agreements_visible_to(user)
    roles: dict[int, list[tuple[int, str]]] = {}
    for agreement_id, party_id, role in AgreementRole.objects.filter(agreement__in=visible).values_list(
        "agreement_id", "party_id", "role"
    ):
        roles.setdefault(agreement_id, []).append((party_id, role))
    for agreement_id, party_id in reporting_roles(visible):
        roles.setdefault(agreement_id, []).append((party_id, REPORTING_PARTY))
    return {agreement_id for agreement_id, its_roles in roles.items() if submits_for(user, its_roles)}


# --- The registry: scopes and actions per model -------------------------------------------

Scope = Callable[[Any], QuerySet]
Check = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Rule:
    """What one action on one model allows: ``scope(user)`` gives the rows the user may act on;
    ``check(user, obj)``, where given, decides one row without a query of its own (and works on
    a row not saved yet); ``anywhere(user)``, where given, whether the user may do it at all."""

    scope: Scope | None = None
    check: Check | None = None
    anywhere: Callable[[Any], bool] | None = None


_RULES: dict[tuple[type[Model], str], Rule] = {}


def register(model: type[Model], action: str = "view", *, scope: Scope | None = None, check: Check | None = None,
             anywhere: Callable[[Any], bool] | None = None) -> None:  # fmt: skip
    """Register the rule of ``action`` on ``model``; registering one twice is a mistake."""
    key = (model, action)
    rule = Rule(scope=scope, check=check, anywhere=anywhere)
    if key in _RULES and _RULES[key] != rule:
        raise ImproperlyConfigured(f"{model.__name__} already has an access rule for {action!r}.")
    if scope is None and check is None:
        raise ImproperlyConfigured(f"The rule for {action!r} on {model.__name__} needs a scope or a check.")
    _RULES[key] = rule


def register_scope(model: type[Model], action: str = "view") -> Callable[[Scope], Scope]:
    """Decorator form of :func:`register` for a scope: ``scope(user) -> QuerySet``."""

    def decorator(scope: Scope) -> Scope:
        register(model, action, scope=scope)
        return scope

    return decorator


def _rule(model: type[Model], action: str) -> Rule:
    try:
        return _RULES[(model, action)]
    except KeyError:
        raise ImproperlyConfigured(
            f"No access scope is registered for {action!r} on {model.__name__}: register it in the app's scopes."
        ) from None


def actions_of(model: type[Model]) -> list[str]:
    """The actions registered for ``model``."""
    return sorted(action for registered, action in _RULES if registered is model)


def visible(user: User | None, model: type[M], action: str = "view") -> QuerySet[M]:
    """The rows of ``model`` on which the user may do ``action``; fails closed (an error) for a
    model or action without a rule.

    Memoised on the user object (one per request): a request asks for the same scope for its
    queryset, related fields, filter choices and prefetches, and each would repeat the
    membership checks. The querysets are lazy, so reuse reads current rows."""
    rule = _rule(model, action)
    if user is None or not user.is_authenticated:
        return model._default_manager.none()
    cache = user.__dict__.setdefault("_portal_scopes", {})
    key = model if action == "view" else (model, action)
    if key not in cache:
        if rule.scope is not None:
            cache[key] = rule.scope(user)
        else:  # a check only: the rows it passes, decided row by row (small tables only)
            rows = model._default_manager.all()
            cache[key] = rows.filter(pk__in=[row.pk for row in rows if rule.check(user, row)])
    return cache[key].all()


def may(user: User | None, action: str, obj: Model | type[Model]) -> bool:
    """Whether the user may do ``action`` on ``obj``; with a model class, on some row of it."""
    if user is None or not user.is_authenticated:
        return False
    if isinstance(obj, type):
        rule = _rule(obj, action)
        if rule.anywhere is not None:
            return rule.anywhere(user)
        return visible(user, obj, action).exists()
    model = type(obj)._meta.concrete_model
    rule = _rule(model, action)
    if rule.check is not None:
        return rule.check(user, obj)
    if obj.pk is None:
        return False
    return visible(user, model, action).filter(pk=obj.pk).exists()
