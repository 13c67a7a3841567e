"""
Who sees and does what with executions and conditions, registered with the one access rule
(``covenants.access``) when the app is ready.

- ``execute`` a signature block: only a named signatory, by the user's authorised signatory
  records holding today (:class:`syndicate.models.AuthorisedSignatory`): the person of record
  on one of its lines, or one an administrator authorised for the block's party (or the party
  it signs through) with the authority recorded; on a document they may see. Administrators
  and Agents do not sign for others.
- ``upload_counterpart`` for a block: its signatory, or the agreement's Agents and
  administrators (they receive the originals).
- ``revoke`` an execution: the user who signed it, or the agreement's Agents and administrators.
- executions, revocations, conditions and recorded satisfactions are seen by whoever sees the
  agreement; an agent of another agreement sees none of it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from covenants.access import may_administer, register, visible
from covenants.access.rule import holds_agent_powers
from covenants.models import Agreement
from execution.choices import CertificateStatus
from execution.models import (
    ComplianceCertificate,
    Execution,
    ExecutionCondition,
    ExecutionRevocation,
    RecordedSatisfaction,
    SignerRequirement,
)
from parties.models import SignatureBlock
from syndicate.models import AuthorisedSignatory


def authorised_signatories_of(user: Any) -> QuerySet[AuthorisedSignatory]:
    """The user's authorised signatory records holding today."""
    today = timezone.localdate()
    return AuthorisedSignatory.objects.filter(
        Q(holds_from__isnull=True) | Q(holds_from__lte=today),
        Q(holds_to__isnull=True) | Q(holds_to__gte=today),
        user_id=user.pk,
    )


def blocks_signed_by(user: Any) -> QuerySet[SignatureBlock]:
    """Blocks the user signs (see the module's docstring)."""
    records = authorised_signatories_of(user)
    mine = (
        Q(signatures__person_id__in=records.filter(person__isnull=False).values("person_id"))
        | Q(party_id__in=records.values("party_id"))
        | Q(through_party_id__in=records.values("party_id"))
    )
    named = SignatureBlock.objects.filter(mine).values("pk")
    return SignatureBlock.objects.filter(pk__in=named).filter(pk__in=visible(user, SignatureBlock).values("pk"))


def _administered_blocks(user: Any) -> QuerySet[SignatureBlock]:
    return visible(user, SignatureBlock, "change")


register(SignatureBlock, "execute", scope=blocks_signed_by)
register(
    SignatureBlock,
    "upload_counterpart",
    scope=lambda user: SignatureBlock.objects.filter(
        Q(pk__in=blocks_signed_by(user).values("pk")) | Q(pk__in=_administered_blocks(user).values("pk"))
    ),
)

register(Execution, scope=lambda user: Execution.objects.filter(block__in=visible(user, SignatureBlock).values("pk")))
register(Execution, "download", scope=lambda user: visible(user, Execution))
register(
    Execution,
    "revoke",
    scope=lambda user: Execution.objects.filter(
        Q(pk__in=visible(user, Execution).filter(signed_by_id=user.pk).values("pk"))
        | Q(block__in=_administered_blocks(user).values("pk"))
    ),
)
register(
    ExecutionRevocation,
    scope=lambda user: ExecutionRevocation.objects.filter(execution__in=visible(user, Execution).values("pk")),
)


def _condition_rows(model: type, lookup: str) -> None:
    """Rows of a condition precedent: seen with the agreement; written by its Agents and administrators."""

    def agreement_of(obj: Any) -> Agreement | None:
        target = obj
        for step in lookup.split("__"):
            target = getattr(target, step, None)
        return target

    register(model, scope=lambda user: model._default_manager.filter(**{f"{lookup}__in": visible(user, Agreement)}))
    register(
        model,
        "change",
        scope=lambda user: model._default_manager.filter(**{f"{lookup}__in": visible(user, Agreement, "administer")}),
        check=lambda user, obj: (agreement := agreement_of(obj)) is not None and may_administer(user, agreement),
        anywhere=holds_agent_powers,
    )


_condition_rows(ExecutionCondition, "condition__amendment__agreement")
_condition_rows(SignerRequirement, "terms__condition__amendment__agreement")
_condition_rows(RecordedSatisfaction, "condition__amendment__agreement")


def certificates_visible_to(user: Any) -> QuerySet[ComplianceCertificate]:
    """Certificates of the agreements the user sees: once signed, by all their parties (Lenders
    see the signed certificate and its status); while only prepared, by those who prepare and
    sign them (the Borrowers' users, the Agents, administrators)."""
    seen = ComplianceCertificate.objects.filter(agreement__in=visible(user, Agreement))
    drafts = Q(agreement__in=visible(user, Agreement, "submit"))
    return seen.filter(~Q(status=CertificateStatus.PREPARED) | drafts)


register(ComplianceCertificate, scope=certificates_visible_to)
register(
    ComplianceCertificate,
    "review",
    scope=lambda user: visible(user, ComplianceCertificate).filter(
        agreement__in=visible(user, Agreement, "administer")
    ),
)
