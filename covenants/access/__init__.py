"""
The one access rule: what each user may see and do, per deal.

A user sees an agreement when a party they belong to holds any role in it (Borrower,
Lender, Agent, Collateral Agent, Guarantor, ...); administrators (superusers, and users with
an Administrator membership) see all. Being staff is not being an administrator: a staff
user only opens the admin, where they see what this rule lets them see, and act on it only
where their Django model permissions allow as well.

Two questions, asked the same way by every surface (pages, the API, the admin, exports and
file downloads):

- ``visible(user, Model, action="view")``: the rows of ``Model`` on which the user may do
  ``action``, as a queryset (lists, choices, prefetches, and loading one row through it);
- ``may(user, action, obj)``: whether the user may do ``action`` on one row (or, given a
  model class, on some row of it).

Actions per model are registered in :mod:`covenants.access.scopes`: ``view``; ``change`` (add,
change or delete); ``administer`` and ``submit`` on an agreement; ``waive`` on a covenant;
``download`` of an original file or an export; ``manage_webhooks`` and ``add`` on parties.
Everything is per deal (user, deal, action), never per party alone: a party sits in many
deals. A model or action without a rule fails closed (an error, not an empty answer).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from covenants.access.rule import (
    AGENT_ROLES,
    LENDER_SIDE_ROLES,
    REPORTING_PARTY,
    actions_of,
    acts_as_agent,
    administrator_q,
    agreement_roles_for_submitting,
    agreements_administered_by,
    agreements_visible_to,
    belongs_to,
    holds_agent_powers,
    is_administrator,
    may,
    may_administer,
    memberships_of,
    parties_of,
    register,
    register_scope,
    reporting_roles,
    signature_blocks_on,
    submits_for,
    submittable_agreement_ids,
    submittable_borrower_ids,
    visible,
)
from covenants.access.scopes import (
    agreement_of,
    in_agreements,
    may_change_party,
    may_change_person,
    may_manage_webhooks_of,
    parties_attachable_by,
    parties_visible_to,
    people_visible_to,
    register_agreement_rows,
    signature_blocks_visible_to,
)
from parties.models import Party

# --- Names older callers use: each is the rule above, asked one way ----------------------


def may_manage_parties(user: Any) -> bool:
    """Record new parties and signatories: ``may(user, "add", Party)`` (an Agent's powers somewhere)."""
    return may(user, "add", Party)


def borrowers_user_may_submit_for(user: Any, agreement: Any) -> QuerySet[Party]:
    """The agreement's Borrowers the user may submit figures for (:func:`submits_for`), as parties."""
    return Party.objects.filter(pk__in=submittable_borrower_ids(user, agreement))


def may_submit_given_roles(user: Any, roles: Any, reporting_party_ids: Any = ()) -> bool:
    """``may(user, "submit", agreement)`` from the agreement's roles (and the reporting parties of
    its consolidated terms) when the caller has them loaded (the agreement page): no query beyond
    the user's memberships."""
    pairs = [(role.party_id, role.role) for role in roles]
    pairs.extend((party_id, REPORTING_PARTY) for party_id in reporting_party_ids)
    return bool(submits_for(user, pairs))


__all__ = [
    "AGENT_ROLES",
    "REPORTING_PARTY",
    "agreement_roles_for_submitting",
    "reporting_roles",
    "LENDER_SIDE_ROLES",
    "actions_of",
    "acts_as_agent",
    "administrator_q",
    "agreement_of",
    "agreements_administered_by",
    "agreements_visible_to",
    "belongs_to",
    "borrowers_user_may_submit_for",
    "holds_agent_powers",
    "in_agreements",
    "is_administrator",
    "may",
    "may_administer",
    "may_change_party",
    "may_change_person",
    "may_manage_parties",
    "may_manage_webhooks_of",
    "may_submit_given_roles",
    "memberships_of",
    "parties_attachable_by",
    "parties_of",
    "parties_visible_to",
    "people_visible_to",
    "register",
    "register_agreement_rows",
    "register_scope",
    "signature_blocks_on",
    "signature_blocks_visible_to",
    "submits_for",
    "submittable_agreement_ids",
    "submittable_borrower_ids",
    "visible",
]
