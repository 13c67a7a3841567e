"""
The rows each user may see and act on, per model and action, registered in one place.

Actions: ``view`` (every model); ``change`` (add, change or delete a row: for a row of an
agreement, its Agents and administrators; for a party, person or its details, as shared
rows, only where every deal they are in is one the user administers); ``administer`` and
``submit`` on an agreement; ``waive`` on a covenant; ``download`` of a file or an export;
``manage_webhooks`` of a party; ``add`` of a party or person. Everything is per deal.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from covenants.access.rule import (
    agreements_administered_by,
    agreements_visible_to,
    belongs_to,
    holds_agent_powers,
    is_administrator,
    may_administer,
    register,
    register_scope,
    signature_blocks_on,
    submittable_agreement_ids,
    submittable_borrower_ids,
    visible,
)
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    DefinedMetric,
    LineItem,
    Reaffirmation,
    ThresholdStep,
    Waiver,
)
from parties.models import (
    Address,
    FormerName,
    Membership,
    Party,
    PartyRelationship,
    Person,
    Signature,
    SignatureBlock,
)

User = get_user_model()


# --- Agreements and the rows that belong to one ------------------------------------------------


def agreement_of(obj: Any) -> Agreement | None:
    """The agreement a row belongs to (an agreement is its own; a reaffirmation its guaranty's;
    a signature block or line its document's)."""
    if isinstance(obj, Agreement):
        return obj
    if isinstance(obj, Reaffirmation):
        return obj.guaranty if obj.guaranty_id else None
    if isinstance(obj, SignatureBlock):
        return agreement_of(obj.document) if obj.document_id else None
    if isinstance(obj, Signature):
        return agreement_of(obj.block) if obj.block_id else None
    for parent in ("agreement", "covenant", "amendment", "terms"):
        if getattr(obj, f"{parent}_id", None) is not None:
            return agreement_of(getattr(obj, parent))
    return None


def administers_row(user: Any, obj: Any) -> bool:
    """Change a row of an agreement: its Agents and administrators."""
    agreement = agreement_of(obj)
    return agreement is not None and may_administer(user, agreement)


register(Agreement, scope=agreements_visible_to)
register(Agreement, "administer", scope=agreements_administered_by, check=may_administer, anywhere=holds_agent_powers)
# A new agreement names no one yet, so nobody but an administrator would see it.
register(Agreement, "add", scope=lambda user: agreements_administered_by(user), anywhere=is_administrator)
register(Agreement, "change", scope=agreements_administered_by, check=may_administer, anywhere=holds_agent_powers)
register(
    Agreement,
    "submit",
    scope=lambda user: Agreement.objects.filter(pk__in=submittable_agreement_ids(user)),
    check=lambda user, agreement: bool(submittable_borrower_ids(user, agreement)),
)
register(Agreement, "download", scope=lambda user: visible(user, Agreement))


def in_agreements(model: type, lookup: str, action: str = "view") -> Any:
    def scope(user: Any) -> QuerySet:
        return model._default_manager.filter(**{f"{lookup}__in": visible(user, Agreement, action)})

    return scope


def register_agreement_rows(rows: dict[type, str]) -> None:
    """Rows that belong to one agreement (through ``lookup``): seen by whoever sees the
    agreement, changed by whoever administers it. Each app registers its own models."""
    for model, lookup in rows.items():
        register(model, scope=in_agreements(model, lookup))
        register(
            model,
            "change",
            scope=in_agreements(model, lookup, "administer"),
            check=administers_row,
            anywhere=holds_agent_powers,  # a new row, in an agreement the user administers
        )


register_agreement_rows(
    {
        AgreementRole: "agreement",
        Amendment: "agreement",
        ConditionPrecedent: "amendment__agreement",
        Reaffirmation: "guaranty",
        Covenant: "agreement",
        DefinedMetric: "agreement",
        CovenantTerms: "covenant__agreement",
        ThresholdStep: "terms__covenant__agreement",
        Waiver: "agreement",
    }
)

register(
    Covenant,
    "waive",
    scope=in_agreements(Covenant, "agreement", "administer"),
    check=administers_row,
    anywhere=holds_agent_powers,
)
# Reference data: every deal's statements name the same line items; only administrators change them.
register(LineItem, scope=lambda user: LineItem.objects.all())
register(
    LineItem,
    "change",
    scope=lambda user: LineItem.objects.all() if is_administrator(user) else LineItem.objects.none(),
    check=lambda user, obj: is_administrator(user),
    anywhere=is_administrator,
)


# --- Signature pages ----------------------------------------------------------------------------


@register_scope(SignatureBlock)
def signature_blocks_visible_to(user: Any) -> QuerySet[SignatureBlock]:
    """Signature blocks on the documents the user may see: agreements, their amendments, reaffirmations."""
    return signature_blocks_on(visible(user, Agreement))


register(
    SignatureBlock,
    "change",
    scope=lambda user: signature_blocks_on(visible(user, Agreement, "administer")),
    check=administers_row,
    anywhere=holds_agent_powers,
)
register(Signature, scope=lambda user: Signature.objects.filter(block__in=visible(user, SignatureBlock).values("pk")))
register(
    Signature,
    "change",
    scope=lambda user: Signature.objects.filter(block__in=visible(user, SignatureBlock, "change").values("pk")),
    check=administers_row,
    anywhere=holds_agent_powers,
)


# --- Parties and people: rows every deal they are in shares ----------------------------------


def _orphan_parties() -> QuerySet[Party]:
    """Parties no agreement, signature or relationship names yet: just created, to be attached."""
    return Party.objects.exclude(pk__in=AgreementRole.objects.values("party_id")).exclude(
        Q(pk__in=SignatureBlock.objects.values("party_id"))
        | Q(pk__in=SignatureBlock.objects.filter(through_party__isnull=False).values("through_party_id"))
        | Q(pk__in=Signature.objects.filter(for_party__isnull=False).values("for_party_id"))
        | Q(pk__in=PartyRelationship.objects.values("party_id"))
        | Q(pk__in=PartyRelationship.objects.values("other_id"))
    )


@register_scope(Party)
def parties_visible_to(user: Any) -> QuerySet[Party]:
    """
    Parties the user may see: those holding a role in an agreement they see, those named
    on its signature pages, and those related to them (an affiliate, a sole member).
    """
    if is_administrator(user):
        return Party.objects.all()
    in_agreements = visible(user, AgreementRole).values("party_id")
    blocks = visible(user, SignatureBlock)
    return Party.objects.filter(
        Q(pk__in=in_agreements)
        | Q(pk__in=blocks.values("party_id"))
        | Q(pk__in=blocks.filter(through_party__isnull=False).values("through_party_id"))
        | Q(pk__in=Signature.objects.filter(block__in=blocks.values("pk"), for_party__isnull=False).values("for_party"))
        | Q(pk__in=PartyRelationship.objects.filter(party_id__in=in_agreements).values("other_id"))
        | Q(pk__in=PartyRelationship.objects.filter(other_id__in=in_agreements).values("party_id"))
    )


def parties_attachable_by(user: Any) -> QuerySet[Party]:
    """Parties a user may give a role: those they see, and, for those who administer an agreement,
    parties nothing names yet (just created: invisible to lists until given a role)."""
    if user is None or not user.is_authenticated:
        return Party.objects.none()
    if is_administrator(user):
        return Party.objects.all()
    if not holds_agent_powers(user):
        return visible(user, Party)
    return Party.objects.filter(Q(pk__in=visible(user, Party).values("pk")) | Q(pk__in=_orphan_parties().values("pk")))


def may_change_party(user: Any, party: Party) -> bool:
    """Change a party's own record (legal name, kind, jurisdiction), which every deal it is in
    shares: administrators, the party's own users, or an Agent's user only where every
    agreement the party holds a role in is one they administer. A bank that is a Lender in
    another deal is not an Agent's to rename."""
    if not user.is_authenticated:
        return False
    if is_administrator(user) or belongs_to(user, party.pk):
        return True
    if not holds_agent_powers(user):
        return False
    deals = AgreementRole.objects.filter(party=party).values("agreement_id")
    return not deals.exclude(agreement_id__in=agreements_administered_by(user).values("pk")).exists()


def parties_changeable_by(user: Any) -> QuerySet[Party]:
    """:func:`may_change_party` for every party at once."""
    if is_administrator(user):
        return Party.objects.all()
    own = Q(pk__in=Membership.objects.filter(user_id=user.pk).values("party_id"))
    if not holds_agent_powers(user):
        return Party.objects.filter(own)
    elsewhere = AgreementRole.objects.exclude(agreement_id__in=agreements_administered_by(user).values("pk"))
    return Party.objects.filter(own | ~Q(pk__in=elsewhere.values("party_id")))


def may_manage_webhooks_of(user: Any, party: Party | int) -> bool:
    """A party's webhook subscriptions (its integration, its signing secrets) are managed by
    the party's own users and administrators only: never by the Agent of a deal the party is
    in, since the party is in other deals too."""
    if not user.is_authenticated:
        return False
    party_id = party if isinstance(party, int) else party.pk
    return is_administrator(user) or belongs_to(user, party_id)


def _own_parties(user: Any) -> QuerySet[Party]:
    if is_administrator(user):
        return Party.objects.all()
    return Party.objects.filter(pk__in=Membership.objects.filter(user_id=user.pk).values("party_id"))


register(Party, "change", scope=parties_changeable_by, check=may_change_party)
register(Party, "add", scope=parties_changeable_by, anywhere=holds_agent_powers)
register(Party, "manage_webhooks", scope=_own_parties, check=may_manage_webhooks_of)


def _party_detail(model: type, *parties: str) -> None:
    """A party's details (former names, addresses, relationships): seen with the party, changed
    by whoever may change every party they name."""
    register(model, scope=lambda user: model._default_manager.filter(**{f"{parties[0]}__in": visible(user, Party)}))
    register(
        model,
        "change",
        scope=lambda user: model._default_manager.filter(
            **{f"{name}__in": visible(user, Party, "change") for name in parties}
        ),
        check=lambda user, obj: all(
            getattr(obj, f"{name}_id") is not None and may_change_party(user, getattr(obj, name)) for name in parties
        ),
        anywhere=lambda user: visible(user, Party, "change").exists(),
    )


_party_detail(FormerName, "party")
_party_detail(Address, "party")
_party_detail(PartyRelationship, "party", "other")


@register_scope(Person)
def people_visible_to(user: Any) -> QuerySet[Person]:
    """People who sign on documents the user may see."""
    if is_administrator(user):
        return Person.objects.all()
    return Person.objects.filter(pk__in=visible(user, Signature).filter(person__isnull=False).values("person_id"))


def may_change_person(user: Any, person: Person) -> bool:
    """Change a signatory's name or e-mail, which every document they sign shares:
    administrators, or an Agent's user only where every document the person signs belongs to
    an agreement they administer (a person who signs nothing yet: any Agent's user)."""
    if not user.is_authenticated:
        return False
    if is_administrator(user):
        return True
    if not holds_agent_powers(user):
        return False
    administered = signature_blocks_on(agreements_administered_by(user))
    # Every signature, not the person's related manager: a page may have prefetched only the
    # signatures this user sees, and the rule is about the ones they do not.
    signatures = Signature.objects.filter(person_id=person.pk)
    return not signatures.exclude(block__in=administered.values("pk")).exists()


def _people_changeable_by(user: Any) -> QuerySet[Person]:
    if is_administrator(user):
        return Person.objects.all()
    if not holds_agent_powers(user):
        return Person.objects.none()
    administered = signature_blocks_on(agreements_administered_by(user))
    elsewhere = Signature.objects.filter(person__isnull=False).exclude(block__in=administered.values("pk"))
    return Person.objects.exclude(pk__in=elsewhere.values("person_id"))


register(Person, "change", scope=_people_changeable_by, check=may_change_person)
register(Person, "add", scope=_people_changeable_by, anywhere=holds_agent_powers)


# --- Users and memberships: who sees what is decided here, so only administrators change it ----


def _administrators_only(model: type) -> Any:
    return lambda user: model._default_manager.all() if is_administrator(user) else model._default_manager.none()


register(
    Membership,
    scope=lambda user: Membership.objects.filter(
        party_id__in=Membership.objects.filter(user_id=user.pk).values("party_id")
    ),
)
register(
    Membership,
    "change",
    scope=_administrators_only(Membership),
    check=lambda user, obj: is_administrator(user),
    anywhere=is_administrator,
)
register(
    User,
    scope=lambda user: User.objects.filter(
        Q(pk=user.pk) | Q(memberships__party_id__in=Membership.objects.filter(user_id=user.pk).values("party_id"))
    ).distinct(),
)
register(
    User,
    "change",
    scope=_administrators_only(User),
    check=lambda user, obj: is_administrator(user),
    anywhere=is_administrator,
)
